"""`RaggedRouter` with a cloud model (the real ``ChatOpenAI`` against a loopback
OpenAI-compatible server) beside local ones: limits per call, and the privacy guard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ragged_graph import RaggedRouter
from ragged_graph.testing import OllamaServer, OpenAIServer
from tests.integration.chat_model.conftest import config_for

pytestmark = pytest.mark.integration

HARD = (
    "Analyse the architectural trade-offs between microservices and a monolith for a payments "
    "platform, considering consistency, latency, team structure and failure modes"
)
CLOUD = {
    "name": "gpt-4o",
    "provider": "openai",
    "input_price_per_mtok": 2.5,
    "output_price_per_mtok": 10.0,
}


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAIServer]:
    monkeypatch.setenv("RAGGED_TEST_OPENAI_KEY", "sk-test-not-a-real-key")
    with OpenAIServer() as server:
        yield server


@pytest.fixture
def router(
    ollama_server: OllamaServer, cloud: OpenAIServer, tmp_path: Path
) -> Iterator[RaggedRouter]:
    config = config_for(
        ollama_server,
        memory_gb=16,
        providers={
            "ollama": {"hosts": [{"name": "test", "base_url": ollama_server.base_url}]},
            "embedded": {"enabled": False},
        },
        cloud={
            "enabled": True,
            "providers": {
                "openai": {"base_url": cloud.base_url, "api_key_env": "RAGGED_TEST_OPENAI_KEY"}
            },
            "models": [CLOUD],
        },
        history={"url": f"sqlite:///{tmp_path / 'history.sqlite3'}"},
    )
    chat = RaggedRouter(config=config)
    yield chat
    chat.close()


def test_a_hard_question_is_answered_by_the_cloud_model(
    router: RaggedRouter, cloud: OpenAIServer
) -> None:
    message = router.invoke(HARD)
    routing = message.response_metadata["routing"]
    assert routing["model"] == "gpt-4o"
    assert routing["answered_by"] == "gpt-4o"
    assert routing["estimated_cost_usd"] > 0
    assert message.content == "Hello from the cloud."
    assert len(cloud.requests) == 1


def test_streaming_from_the_cloud_model(router: RaggedRouter) -> None:
    text = "".join(str(chunk.content) for chunk in router.stream(HARD))
    assert text == "Hello from the cloud."


def test_a_cost_limit_per_call_keeps_it_local(router: RaggedRouter, cloud: OpenAIServer) -> None:
    message = router.invoke(HARD, config={"configurable": {"cost_limit": 0.0001}})
    assert message.response_metadata["routing"]["provider"] == "ollama"
    limited = RaggedRouter(config=router.config, cost_limit=0.0001)
    try:
        assert limited.route(HARD).provider == "ollama"
    finally:
        limited.close()
    assert cloud.requests == []


def test_personal_data_stays_local_in_invoke_and_stream(
    router: RaggedRouter, cloud: OpenAIServer
) -> None:
    question = f"{HARD}. Reply to jane.doe@example.org"
    routing = router.invoke(question).response_metadata["routing"]
    assert routing["provider"] == "ollama"
    assert routing["privacy"] == ["email"]
    assert routing["local_only"]
    chunks = list(router.stream(f"{HARD}. My card is 4111 1111 1111 1111"))
    assert chunks[-1].response_metadata["routing"]["privacy"] == ["card_number"]
    assert cloud.requests == []


def test_a_call_with_personal_data_is_redacted_in_traces(router: RaggedRouter) -> None:
    assert router._holds_private_data(f"{HARD} sk-abcdefghijklmnopqrstuvwxyz123456")
    assert not router._holds_private_data(HARD)
