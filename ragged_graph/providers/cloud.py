"""Cloud chat models (OpenAI, Anthropic) and what their failures mean.

Models are built lazily, on their first call, through LangChain's ``init_chat_model`` (the
``cloud`` extra: ``langchain``, ``langchain-openai``, ``langchain-anthropic``); nothing here
imports a provider's SDK before then. ``base_url`` points a provider at another server (an
OpenAI-compatible one, or a loopback fake in tests).

The SDKs raise their own exceptions (``openai.APIError``, ``anthropic.APIError`` and their
subclasses); :func:`cloud_provider_error` maps them onto ragged_graph's typed
:class:`~ragged_graph.errors.ProviderError`\\ s by class name and HTTP status, so that
retries, cooldowns and fallbacks treat a cloud model like any other:

======================================  ==========================================
``APITimeoutError``, 408                 :class:`ProviderTimeoutError` (retried)
``APIConnectionError``                   :class:`HostUnavailableError` (retried), or
                                         :class:`StreamInterruptedError` mid-stream
429                                      :class:`RateLimitedError` (retried)
404                                      :class:`ModelNotFoundError`
400, 401, 402, 403, 413, 422             :class:`BadRequestError` (next model)
5xx, 529 (overloaded)                    :class:`ProviderServerError` (retried)
======================================  ==========================================
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ragged_graph.errors import (
    BadRequestError,
    HostUnavailableError,
    ModelNotFoundError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitedError,
    StreamInterruptedError,
)

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ragged_graph.config import CloudProviderSettings

__all__ = [
    "CLOUD_SDK_MODULES",
    "build_cloud_chat_model",
    "cloud_failure_types",
    "cloud_generation_kwargs",
    "cloud_provider_error",
]

CLOUD_SDK_MODULES: Mapping[str, str] = {"openai": "openai", "anthropic": "anthropic"}
"""The SDK module whose ``APIError`` each cloud provider raises."""

_AUTH_HINT = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


def build_cloud_chat_model(
    provider: str, model: str, settings: CloudProviderSettings
) -> BaseChatModel:
    """The chat model for cloud ``model`` of ``provider``; a typed error when it cannot be
    built (integration missing, no API key)."""
    kwargs: dict[str, Any] = {"timeout": settings.timeout_s, "max_retries": settings.max_retries}
    if settings.base_url:
        kwargs["base_url"] = settings.base_url
    if settings.api_key_env:
        key = os.environ.get(settings.api_key_env)
        if not key:
            raise BadRequestError(
                f"no API key: the environment variable {settings.api_key_env} is not set",
                model=model,
                host=provider,
            )
        kwargs["api_key"] = key
    if provider == "openai":
        # Token counts on streamed answers, for the request's cost.
        kwargs["stream_usage"] = True
    try:
        from langchain.chat_models import init_chat_model
    except ImportError as exc:
        raise BadRequestError(
            f"the `cloud` extra is not installed ({exc}): pip install 'ragged-graph[cloud]'",
            model=model,
            host=provider,
        ) from None
    try:
        chat_model: BaseChatModel = init_chat_model(model, model_provider=provider, **kwargs)
    except ImportError as exc:
        raise BadRequestError(
            f"the {provider} integration is not installed ({exc}): "
            "pip install 'ragged-graph[cloud]'",
            model=model,
            host=provider,
        ) from None
    except Exception as exc:  # the SDK refuses its settings, e.g. a missing API key
        raise BadRequestError(
            f"cannot create the {provider} client ({type(exc).__name__}: {exc}); "
            f"set {settings.api_key_env or _AUTH_HINT.get(provider, 'its API key')}",
            model=model,
            host=provider,
        ) from None
    return chat_model


def cloud_failure_types(provider: str) -> tuple[type[BaseException], ...]:
    """The exception classes that mean a call to ``provider`` failed (its SDK's
    ``APIError``); empty when the SDK is not installed."""
    module_name = CLOUD_SDK_MODULES.get(provider)
    if module_name is None:
        return ()
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return ()
    error = getattr(module, "APIError", None)
    return (error,) if isinstance(error, type) and issubclass(error, BaseException) else ()


def cloud_generation_kwargs(options: Mapping[str, Any]) -> dict[str, Any]:
    """Ollama-style generation options (``temperature``, ``num_predict``, ``stop``) as a
    cloud chat model's call arguments; ``num_ctx`` means nothing there."""
    kwargs: dict[str, Any] = {}
    if "temperature" in options:
        kwargs["temperature"] = options["temperature"]
    if "num_predict" in options:
        kwargs["max_tokens"] = options["num_predict"]
    if options.get("stop"):
        kwargs["stop"] = list(options["stop"])
    return kwargs


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def cloud_provider_error(
    exc: BaseException,
    *,
    model: str,
    host: str | None = None,
    partial_text: str = "",
    streamed: bool = False,
) -> ProviderError | None:
    """The typed error for an OpenAI or Anthropic SDK exception; None for anything else."""
    # The SDKs' own classes, or the LangChain integrations' subclasses of them.
    sdks = CLOUD_SDK_MODULES.values()
    names = {cls.__name__ for cls in type(exc).__mro__ if cls.__module__.split(".", 1)[0] in sdks}
    if "APIError" not in names:
        return None
    status = _status(exc)
    text = str(exc)
    if "APITimeoutError" in names or status == 408:
        stage = "between tokens" if streamed else "waiting for the first token"
        return ProviderTimeoutError(f"timed out {stage}", model=model, host=host)
    if "APIConnectionError" in names:
        if streamed:
            return StreamInterruptedError(
                f"connection broke during the answer ({text})",
                model=model,
                host=host,
                partial_text=partial_text,
            )
        return HostUnavailableError(f"cannot reach the provider ({text})", model=model, host=host)
    if status == 429:
        return RateLimitedError(f"rate limited ({text})", model=model, host=host)
    if status == 404:
        return ModelNotFoundError(f"not found ({text})", model=model, host=host)
    if status in (401, 403):
        return BadRequestError(f"authentication refused ({status}: {text})", model=model, host=host)
    if status is not None and 400 <= status < 500:
        return BadRequestError(f"request refused ({status}: {text})", model=model, host=host)
    if status is not None:
        return ProviderServerError(f"server error {status} ({text})", model=model, host=host)
    if streamed:
        return StreamInterruptedError(
            f"the provider reported an error mid-stream ({text})",
            model=model,
            host=host,
            partial_text=partial_text,
        )
    return ProviderServerError(f"provider error ({text})", model=model, host=host)
