from __future__ import annotations

import httpx
import pytest
from ollama import ResponseError

from ragged_graph.errors import (
    BadRequestError,
    ErrorCode,
    HostUnavailableError,
    ModelLoadError,
    ModelNotFoundError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitedError,
    StreamInterruptedError,
)
from ragged_graph.providers.errors import is_transient, to_provider_error

REQUEST = httpx.Request("POST", "http://127.0.0.1:11434/api/chat")
OOM = "model requires more system memory (40.2 GiB) than is available (12.1 GiB)"


@pytest.mark.parametrize(
    ("raised", "expected", "transient"),
    [
        (ResponseError("model 'x' not found", 404), ModelNotFoundError, False),
        (ResponseError(OOM, 500), ModelLoadError, False),
        (ResponseError("llama runner process has terminated", 500), ProviderServerError, True),
        (ResponseError("too many requests", 429), RateLimitedError, True),
        (ResponseError("registry.ollama.ai/x does not support tools", 400), BadRequestError, False),
        (ResponseError("unexpected EOF", -1), StreamInterruptedError, True),
        (httpx.ConnectError("refused", request=REQUEST), HostUnavailableError, True),
        (ConnectionError("refused"), HostUnavailableError, True),
        (httpx.ReadTimeout("slow", request=REQUEST), ProviderTimeoutError, True),
        (httpx.ConnectTimeout("slow", request=REQUEST), ProviderTimeoutError, True),
        (
            httpx.RemoteProtocolError("incomplete chunked read", request=REQUEST),
            StreamInterruptedError,
            True,
        ),
    ],
)
def test_provider_failures_map_to_typed_errors(
    raised: BaseException, expected: type, transient: bool
) -> None:
    error = to_provider_error(raised, model="m", host="h")
    assert isinstance(error, expected)
    assert error.model == "m"
    assert error.code in ErrorCode
    assert is_transient(raised) is transient


def test_timeouts_say_at_which_stage() -> None:
    read = httpx.ReadTimeout("slow", request=REQUEST)
    assert "first token" in str(to_provider_error(read, model="m"))
    assert "between tokens" in str(to_provider_error(read, model="m", streamed=True))
    connect = httpx.ConnectTimeout("slow", request=REQUEST)
    assert "while connecting" in str(to_provider_error(connect, model="m"))


def test_errors_are_subclasses_of_the_matching_builtins() -> None:
    assert isinstance(to_provider_error(ResponseError("x", 404), model="m"), LookupError)
    assert isinstance(to_provider_error(ResponseError(OOM, 500), model="m"), MemoryError)
    assert isinstance(to_provider_error(ConnectionError("x"), model="m"), ConnectionError)
    assert isinstance(
        to_provider_error(httpx.ReadTimeout("x", request=REQUEST), model="m"), TimeoutError
    )


def test_bugs_are_not_provider_failures() -> None:
    assert to_provider_error(KeyError("oops"), model="m") is None
    assert not is_transient(KeyError("oops"))


def test_messages_say_what_to_do() -> None:
    missing = to_provider_error(ResponseError("model 'x' not found", 404), model="x", host="h")
    assert "ollama pull" in str(missing)
    down = to_provider_error(ConnectionError("refused"), model="x", host="h")
    assert "ollama serve" in str(down)
