"""Cloud chat models: built lazily with the configured settings, their SDKs' errors typed."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from ragged_graph.config import CloudProviderSettings, RouterConfig
from ragged_graph.errors import (
    BadRequestError,
    HostUnavailableError,
    ModelNotFoundError,
    ProviderServerError,
    ProviderTimeoutError,
    RateLimitedError,
    StreamInterruptedError,
)
from ragged_graph.providers.cloud import (
    build_cloud_chat_model,
    cloud_failure_types,
    cloud_generation_kwargs,
)
from ragged_graph.providers.errors import is_transient, to_provider_error
from ragged_graph.providers.factory import ChatModelFactory

REQUEST = httpx.Request("POST", "https://api.example.test/v1/chat/completions")


def status_error(module: object, cls: str, status: int) -> BaseException:
    response = httpx.Response(status, request=REQUEST, json={"error": {"message": "nope"}})
    error_class = getattr(module, cls)
    error: BaseException = error_class("nope", response=response, body=None)
    return error


@pytest.mark.parametrize("sdk", [openai, anthropic])
@pytest.mark.parametrize(
    ("cls", "status", "typed", "transient"),
    [
        ("RateLimitError", 429, RateLimitedError, True),
        ("NotFoundError", 404, ModelNotFoundError, False),
        ("BadRequestError", 400, BadRequestError, False),
        ("AuthenticationError", 401, BadRequestError, False),
        ("PermissionDeniedError", 403, BadRequestError, False),
        ("InternalServerError", 500, ProviderServerError, True),
    ],
)
def test_status_errors_map_to_typed_provider_errors(
    sdk: object, cls: str, status: int, typed: type[Exception], transient: bool
) -> None:
    error = to_provider_error(status_error(sdk, cls, status), model="m", host="cloud")
    assert isinstance(error, typed)
    assert error.model == "m"
    assert is_transient(status_error(sdk, cls, status)) is transient


def test_an_overloaded_anthropic_is_a_server_error() -> None:
    response = httpx.Response(529, request=REQUEST, json={"error": {"message": "overloaded"}})
    error = anthropic.APIStatusError("overloaded", response=response, body=None)
    assert isinstance(to_provider_error(error, model="m"), ProviderServerError)


@pytest.mark.parametrize("sdk", [openai, anthropic])
def test_connection_and_timeout_errors(sdk: object) -> None:
    timeout = sdk.APITimeoutError(request=REQUEST)  # type: ignore[attr-defined]
    connection = sdk.APIConnectionError(request=REQUEST)  # type: ignore[attr-defined]
    assert isinstance(to_provider_error(timeout, model="m"), ProviderTimeoutError)
    assert isinstance(to_provider_error(connection, model="m"), HostUnavailableError)
    broken = to_provider_error(connection, model="m", streamed=True, partial_text="Hel")
    assert isinstance(broken, StreamInterruptedError)
    assert broken.partial_text == "Hel"


def test_other_exceptions_are_not_provider_failures() -> None:
    assert to_provider_error(KeyError("x"), model="m") is None


def test_failure_types_are_the_sdks_api_errors() -> None:
    assert cloud_failure_types("openai") == (openai.APIError,)
    assert cloud_failure_types("anthropic") == (anthropic.APIError,)
    assert cloud_failure_types("ollama") == ()


def test_generation_options_become_call_arguments() -> None:
    kwargs = cloud_generation_kwargs({"temperature": 0.2, "num_predict": 64, "num_ctx": 8192})
    assert kwargs == {"temperature": 0.2, "max_tokens": 64}
    assert cloud_generation_kwargs({"stop": ["\n"]}) == {"stop": ["\n"]}


def test_a_cloud_model_is_built_with_the_settings_and_calls_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_CLOUD_KEY", "sk-test")
    settings = CloudProviderSettings(
        base_url="http://127.0.0.1:9/v1", api_key_env="TEST_CLOUD_KEY", timeout_s=3
    )
    model = build_cloud_chat_model("openai", "gpt-4o-mini", settings)
    assert type(model).__name__ == "ChatOpenAI"
    assert model.model_name == "gpt-4o-mini"  # type: ignore[attr-defined]
    assert model.openai_api_base == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
    claude = build_cloud_chat_model("anthropic", "claude-sonnet-4-5", settings)
    assert type(claude).__name__ == "ChatAnthropic"


def test_a_missing_api_key_is_a_typed_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TEST_CLOUD_KEY", raising=False)
    settings = CloudProviderSettings(api_key_env="TEST_CLOUD_KEY")
    with pytest.raises(BadRequestError, match="TEST_CLOUD_KEY"):
        build_cloud_chat_model("openai", "gpt-4o", settings)


def test_the_factory_builds_cloud_models_lazily_and_takes_builders() -> None:
    from langchain_core.language_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    built: list[str] = []

    def fake(model: str) -> GenericFakeChatModel:
        built.append(model)
        return GenericFakeChatModel(messages=iter([AIMessage("hi")]))

    factory = ChatModelFactory(RouterConfig(), builders={"anthropic": fake})
    assert built == []
    first = factory.chat_model(provider="anthropic", model="claude-sonnet-4-5")
    again = factory.chat_model(provider="anthropic", model="claude-sonnet-4-5")
    assert first is again
    assert built == ["claude-sonnet-4-5"]


def test_the_integrations_own_error_subclasses_are_typed_too() -> None:
    from langchain_openai.chat_models.base import OpenAIRateLimitError

    response = httpx.Response(429, request=REQUEST, json={"error": {"message": "slow down"}})
    wrapped = OpenAIRateLimitError("slow down", response=response, body=None)
    assert isinstance(to_provider_error(wrapped, model="m"), RateLimitedError)
