"""Chat models for routing decisions: one client per (provider, model, host), reused.

Building a ``ChatOllama`` makes no request, but each owns an HTTP connection pool; reusing
one per model and host keeps connections alive across requests.
"""

from __future__ import annotations

import threading

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_ollama import ChatOllama

from ragged_graph.config import RouterConfig
from ragged_graph.errors import ConfigError, ConfigIssue

__all__ = ["ChatModelFactory"]


class ChatModelFactory:
    """Makes (and caches) the chat model that serves a model on a host."""

    def __init__(self, config: RouterConfig) -> None:
        ollama = config.providers.ollama
        self._timeout = httpx.Timeout(ollama.request_timeout_s, connect=ollama.connect_timeout_s)
        self._urls = {host.name: host.base_url for host in ollama.hosts}
        self._default_url = ollama.hosts[0].base_url
        self._models: dict[tuple[str, str, str], BaseChatModel] = {}
        self._lock = threading.Lock()

    def chat_model(
        self, *, provider: str, model: str, base_url: str | None = None
    ) -> BaseChatModel:
        """The chat model for ``model`` served by ``provider`` at ``base_url``."""
        url = base_url or self._default_url
        key = (provider, model, url)
        cached = self._models.get(key)
        if cached is not None:
            return cached
        with self._lock:
            if key not in self._models:
                self._models[key] = self._build(provider, model, url)
            return self._models[key]

    def url_for(self, host: str | None) -> str:
        return self._urls.get(host or "", self._default_url)

    def _build(self, provider: str, model: str, url: str) -> BaseChatModel:
        if provider == "ollama":
            return ChatOllama(model=model, base_url=url, client_kwargs={"timeout": self._timeout})
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
