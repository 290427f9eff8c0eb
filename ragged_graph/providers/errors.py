"""Map what providers raise onto ragged_graph's typed :class:`ProviderError`\\ s (SPEC 6).

Observed with langchain-ollama 1.1 and ollama 0.6: a missing model and server errors raise
``ollama.ResponseError`` with ``status_code`` (404, 5xx; -1 for an error line mid-stream);
a refused connection ``httpx.ConnectError`` or the builtin ``ConnectionError``; a timeout
``httpx.TimeoutException``; a connection dropped mid-stream ``httpx.RemoteProtocolError``.
An out-of-memory load is a 500 whose text says the model needs more memory.
"""

from __future__ import annotations

import re

import httpx
from ollama import ResponseError

from ragged_graph.errors import (
    BadRequestError,
    HostUnavailableError,
    ModelLoadError,
    ModelNotFoundError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitedError,
    StreamInterruptedError,
)
from ragged_graph.providers.cloud import cloud_provider_error

__all__ = ["PROVIDER_FAILURES", "is_transient", "to_provider_error"]

_OUT_OF_MEMORY = re.compile(
    r"more (?:system )?memory|out of memory|insufficient memory|cudaMalloc|failed to allocate",
    re.IGNORECASE,
)
_LOAD_FAILURE = re.compile(r"(?:failed|unable) to load model|error loading model", re.IGNORECASE)

PROVIDER_FAILURES: tuple[type[BaseException], ...] = (
    ResponseError,
    httpx.HTTPError,
    ConnectionError,
    TimeoutError,
)
"""Exceptions that mean a model call failed (as opposed to a bug in ragged_graph)."""


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same model again may succeed: timeouts, lost connections, 5xx, 429.

    LangGraph's default ``RetryPolicy`` retries every exception, a missing model included;
    use this as ``RetryPolicy(retry_on=is_transient)`` in your own nodes. The routing graph's
    ``invoke`` node applies it itself, so that after the retries it can still hand the
    request to the next model of the chain and record every attempt.
    """
    error = exc if isinstance(exc, ProviderError) else to_provider_error(exc, model="?")
    return error is not None and error.retryable


def to_provider_error(
    exc: BaseException,
    *,
    model: str,
    host: str | None = None,
    partial_text: str = "",
    streamed: bool = False,
) -> ProviderError | None:
    """The typed error for ``exc``, or None when it is not a provider failure.

    ``streamed`` says whether any chunk had arrived, which tells a first-token timeout from
    one between tokens.
    """
    if isinstance(exc, ProviderError):
        return exc
    if isinstance(exc, ResponseError):
        text = str(exc.error)
        if exc.status_code == 404:
            return ModelNotFoundError(f"not found ({text})", model=model, host=host)
        if exc.status_code == 429:
            return RateLimitedError(f"rate limited ({text})", model=model, host=host)
        if exc.status_code in (400, 422):
            return BadRequestError(f"request refused ({text})", model=model, host=host)
        if _OUT_OF_MEMORY.search(text) or _LOAD_FAILURE.search(text):
            return ModelLoadError(f"could not be loaded ({text})", model=model, host=host)
        if exc.status_code == -1:
            return StreamInterruptedError(
                f"the server reported an error mid-stream ({text})",
                model=model,
                host=host,
                partial_text=partial_text,
            )
        return ProviderServerError(
            f"server error {exc.status_code} ({text})", model=model, host=host
        )
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            stage = "while connecting"
        elif streamed:
            stage = "between tokens"
        else:
            stage = "waiting for the first token"
        return ProviderTimeoutError(
            f"timed out {stage} ({type(exc).__name__})", model=model, host=host
        )
    if isinstance(exc, httpx.ConnectError) or (
        isinstance(exc, ConnectionError) and not partial_text
    ):
        return HostUnavailableError(f"host unreachable ({exc})", model=model, host=host)
    if isinstance(exc, httpx.TransportError | ConnectionError):
        return StreamInterruptedError(
            f"connection broke during the answer ({type(exc).__name__}: {exc})",
            model=model,
            host=host,
            partial_text=partial_text,
        )
    if isinstance(exc, httpx.HTTPError):
        return ProviderServerError(f"HTTP failure ({exc})", model=model, host=host)
    # OpenAI and Anthropic SDK errors (cloud models).
    return cloud_provider_error(
        exc, model=model, host=host, partial_text=partial_text, streamed=streamed
    )
