"""Hybrid routing through the graph: local models on a loopback Ollama, cloud models as
LangChain fakes (through the factory's builders) or the real ``ChatOpenAI`` against a
loopback OpenAI-compatible server. Nothing reaches a real cloud.

The privacy property is checked where it matters most, at the call: however a request is
routed, a cloud model is never invoked with personal data, as first choice or fallback."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from ragged_graph.config import RouterConfig
from ragged_graph.errors import AllModelsFailedError
from ragged_graph.providers.factory import ChatModelFactory
from ragged_graph.routing.privacy import NOTHING_FOUND
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Context, RoutingGraph, Services, build_graph
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import Fault, OllamaServer
from ragged_graph.testing.openai_server import COMPLETION_TOKENS, PROMPT_TOKENS, OpenAIServer
from tests.support.cloud import CLOUD_MODELS
from tests.unit.routing.test_privacy import SAMPLES

pytestmark = pytest.mark.integration

CLOUD_NAMES = frozenset(model["name"] for model in CLOUD_MODELS)
HARD = (
    "Analyse the architectural trade-offs between microservices and a monolith for a payments "
    "platform, considering consistency, latency, team structure and failure modes"
)


USAGE = {"input_tokens": 1000, "output_tokens": 200}
"""The token counts the cloud stand-in reports (a test may make them larger)."""


class RecordingCloud(BaseChatModel):
    """A cloud chat model stand-in that records every call it gets."""

    name_: str = "cloud"
    calls: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "recording-cloud"

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> ChatResult:
        self.calls.append(list(messages))
        usage = {**USAGE, "total_tokens": USAGE["input_tokens"] + USAGE["output_tokens"]}
        message = AIMessage("An answer from the cloud.", usage_metadata=usage)  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])


class Setup:
    def __init__(self, server: OllamaServer, tmp_path: Path, **extra: Any) -> None:
        self.history_url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
        data: dict[str, Any] = {
            "providers": {
                "ollama": {"hosts": [{"name": "test", "base_url": server.base_url}]},
                "embedded": {"enabled": False},
            },
            # The 70B does not fit: a hard request's best fit is a cloud model.
            "hardware": {"memory_gb": 16},
            "fallbacks": {"max_retries": 0},
            "cloud": {"enabled": True, "models": list(CLOUD_MODELS)},
            "history": {"url": self.history_url, "flush_interval_s": 0},
            "latency": {"learn_from_history": False},
        }
        data.update(extra)
        self.config = RouterConfig.model_validate(data)
        self.router = Router(self.config)
        self.cloud: dict[str, RecordingCloud] = {}

        def build(model: str) -> RecordingCloud:
            fake = RecordingCloud(name_=model)
            self.cloud[model] = fake
            return fake

        base = Services.for_router(self.router)
        builders = {"openai": build, "anthropic": build}
        self.services = dataclasses.replace(
            base, models=ChatModelFactory(self.config, builders=builders)
        )
        self.graph: RoutingGraph = build_graph(lambda _context: self.services)

    def cloud_calls(self) -> int:
        return sum(len(fake.calls) for fake in self.cloud.values())

    def records(self) -> list[Any]:
        assert self.services.history is not None
        self.services.history.flush()
        store = HistoryStore(self.history_url)
        try:
            return store.records()
        finally:
            store.close()

    def close(self) -> None:
        self.services.close()


@pytest.fixture
def setup(ollama_server: OllamaServer, tmp_path: Path) -> Iterator[Setup]:
    built = Setup(ollama_server, tmp_path)
    yield built
    built.close()


def test_a_hard_request_without_personal_data_is_answered_in_the_cloud(setup: Setup) -> None:
    out = setup.graph.invoke({"query": HARD})
    assert out["decision"]["model"] in CLOUD_NAMES
    assert out["answer"] == "An answer from the cloud."
    assert setup.cloud_calls() == 1


def test_the_cost_of_each_request_is_recorded_in_the_history(setup: Setup) -> None:
    out = setup.graph.invoke({"query": HARD})
    setup.graph.invoke({"query": "What is Paris?"})
    cloud, local = setup.records()
    model = next(m for m in CLOUD_MODELS if m["name"] == out["decision"]["model"])
    expected = (1000 * model["input_price_per_mtok"] + 200 * model["output_price_per_mtok"]) / 1e6
    assert cloud.answered_by == model["name"]
    assert cloud.cost_usd == pytest.approx(expected)
    assert local.provider == "ollama"
    assert local.cost_usd == 0
    # The spend counts towards the budgets at once.
    assert setup.router.spend.spent_today() == pytest.approx(expected)


def test_a_local_cost_per_million_is_charged_for_local_answers(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    priced = Setup(ollama_server, tmp_path, local_cost_per_million=2.0)
    try:
        priced.graph.invoke({"query": "What is Paris?"})
        (record,) = priced.records()
        assert record.tokens_in is not None
        assert record.tokens_out is not None
        expected = (record.tokens_in + record.tokens_out) * 2.0 / 1e6
        assert record.cost_usd == pytest.approx(expected)
        assert record.cost_usd > 0
    finally:
        priced.close()


def test_a_tight_cost_limit_keeps_the_request_local(setup: Setup) -> None:
    out = setup.graph.invoke({"query": HARD}, context=Context(cost_limit=0.0001))
    assert out["decision"]["provider"] == "ollama"
    assert "cost limit $0.0001: left out" in out["decision"]["reason"]
    assert setup.cloud_calls() == 0


def test_over_the_daily_budget_requests_go_local_and_say_why(
    ollama_server: OllamaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(USAGE, "input_tokens", 100_000)
    budgeted = Setup(ollama_server, tmp_path, budgets={"daily": 0.05})
    try:
        first = budgeted.graph.invoke({"query": HARD})
        assert first["decision"]["model"] in CLOUD_NAMES
        second = budgeted.graph.invoke({"query": HARD})
        assert second["decision"]["provider"] == "ollama"
        assert "over budget (daily budget $0.05" in second["decision"]["reason"]
        assert budgeted.cloud_calls() == 1
    finally:
        budgeted.close()


def test_a_session_budget_follows_the_thread_id(
    ollama_server: OllamaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(USAGE, "input_tokens", 100_000)
    budgeted = Setup(ollama_server, tmp_path, budgets={"per_session": 0.05})
    try:
        thread_a = {"configurable": {"thread_id": "a"}}
        thread_b = {"configurable": {"thread_id": "b"}}
        assert budgeted.graph.invoke({"query": HARD}, thread_a)["decision"]["model"] in CLOUD_NAMES
        assert budgeted.graph.invoke({"query": HARD}, thread_a)["decision"]["provider"] == "ollama"
        assert budgeted.graph.invoke({"query": HARD}, thread_b)["decision"]["model"] in CLOUD_NAMES
    finally:
        budgeted.close()


PERSONAS = (None, "researcher", "developer", "casual", "writer", "private")
CONTEXTS = (
    {},
    {"cost_limit": 100.0},
    {"latency_limit": 1000.0},
    {"optimise": "latency"},
    {"optimise": "cost"},
    {"model": "gpt-4o"},
    {"tier": "quality"},
)


@pytest.mark.parametrize(("kind", "sample"), [(kind, texts[0]) for kind, texts in SAMPLES.items()])
def test_personal_data_never_reaches_a_cloud_model_through_the_graph(
    setup: Setup, kind: str, sample: str
) -> None:
    """Every persona x every per-request setting, the data in the query or in a document:
    answered locally, and no cloud model ever called."""
    for persona, settings in itertools.product(PERSONAS, CONTEXTS):
        context = Context(persona=persona, **settings)
        for graph_input in (
            {"query": f"{HARD}. {sample}"},
            {"query": HARD, "documents": [f"Notes: {sample}"]},
            {"messages": [HumanMessage(f"Earlier: {sample}"), AIMessage("ok"), HumanMessage(HARD)]},
        ):
            out = setup.graph.invoke(graph_input, context=context)
            decision = out["decision"]
            assert decision["provider"] == "ollama", (persona, settings, decision["model"])
            assert not CLOUD_NAMES & {decision["model"], *decision["fallbacks"]}
            assert [attempt["model"] for attempt in out["attempts"]][-1] not in CLOUD_NAMES
    assert setup.cloud_calls() == 0


def test_the_guard_at_the_call_stops_what_the_router_missed(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the routing-time scan to miss, the call-time one still refuses the cloud model
    and the chain moves on to a local model."""
    monkeypatch.setattr(setup.router, "screen", lambda *args, **kwargs: NOTHING_FOUND)
    out = setup.graph.invoke({"query": f"{HARD} card 4111 1111 1111 1111"})
    first = out["attempts"][0]
    assert first["model"] in CLOUD_NAMES
    assert first["error_code"] == "PRIVACY_GUARD"
    assert "card_number" in first["error"]
    assert first["latency_ms"] == 0
    assert out["attempts"][-1]["ok"]
    assert out["attempts"][-1]["model"] not in CLOUD_NAMES
    assert setup.cloud_calls() == 0


def test_a_cloud_fallback_is_refused_too(
    setup: Setup, ollama_server: OllamaServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A local first choice fails; its chain holds a cloud model (the scan 'missed'); the
    cloud model is still never called."""
    monkeypatch.setattr(setup.router, "screen", lambda *args, **kwargs: NOTHING_FOUND)
    key = SAMPLES["api_key"][0]
    query = f"Compare B-trees and LSM-trees for a write-heavy workload. my key is {key}"
    routed = setup.router.decide(query)
    chain = [routed.model, *routed.fallbacks]
    assert routed.provider == "ollama"
    assert CLOUD_NAMES & set(chain), chain
    for model in chain:
        if model not in CLOUD_NAMES:
            ollama_server.update_model(model, fault=Fault.SERVER_ERROR)
    with pytest.raises(AllModelsFailedError) as failed:
        setup.graph.invoke({"query": query})
    codes = {attempt.model: attempt.code for attempt in failed.value.attempts}
    assert {codes[model] for model in CLOUD_NAMES & set(chain)} == {"PRIVACY_GUARD"}
    assert setup.cloud_calls() == 0


def test_a_local_only_decision_is_never_sent_to_a_cloud_model(setup: Setup) -> None:
    from ragged_graph.errors import PrivacyGuardError
    from ragged_graph.routing_graph.nodes.invoke import _guard_privacy

    state: Any = {"decision": {"local_only": True}, "documents": []}
    with pytest.raises(PrivacyGuardError, match="local-only"):
        _guard_privacy(state, [HumanMessage("hello")], model="gpt-4o", host=None)
    state = {
        "decision": {"local_only": False},
        "documents": [{"page_content": "x", "metadata": {"private": True}}],
    }
    with pytest.raises(PrivacyGuardError, match="private_document"):
        _guard_privacy(state, [HumanMessage("hello")], model="gpt-4o", host=None)
    _guard_privacy(
        {"decision": {}, "documents": []}, [HumanMessage("hi")], model="gpt-4o", host=None
    )  # type: ignore[arg-type]


# --------------------------------------------------------- the real ChatOpenAI, on loopback


@pytest.fixture
def openai_setup(
    ollama_server: OllamaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, Setup]]:
    monkeypatch.setenv("RAGGED_TEST_OPENAI_KEY", "sk-test-not-a-real-key")
    with OpenAIServer() as cloud:
        models = [dict(model, provider="openai") for model in CLOUD_MODELS]
        built = Setup(
            ollama_server,
            tmp_path,
            cloud={
                "enabled": True,
                "providers": {
                    "openai": {"base_url": cloud.base_url, "api_key_env": "RAGGED_TEST_OPENAI_KEY"}
                },
                "models": models,
            },
        )
        # The real factory: no builders.
        built.services = dataclasses.replace(built.services, models=ChatModelFactory(built.config))
        yield cloud, built
        built.close()


def test_chat_openai_answers_streaming_and_its_usage_is_costed(
    openai_setup: tuple[Any, Setup],
) -> None:
    cloud, setup = openai_setup
    out = setup.graph.invoke({"query": HARD})
    model = out["decision"]["model"]
    assert model in CLOUD_NAMES
    assert out["answer"] == "Hello from the cloud."
    (request,) = cloud.requests
    assert request["model"] == model
    assert request["stream"] is True
    (record,) = setup.records()
    prices = next(m for m in CLOUD_MODELS if m["name"] == model)
    expected = (
        PROMPT_TOKENS * prices["input_price_per_mtok"]
        + COMPLETION_TOKENS * prices["output_price_per_mtok"]
    ) / 1e6
    assert (record.tokens_in, record.tokens_out) == (PROMPT_TOKENS, COMPLETION_TOKENS)
    assert record.cost_usd == pytest.approx(expected)


@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "RATE_LIMITED"), (500, "PROVIDER_SERVER_ERROR"), (401, "BAD_REQUEST")],
)
def test_cloud_failures_are_typed_and_fall_back_to_local_models(
    openai_setup: tuple[Any, Setup], status: int, code: str
) -> None:
    cloud, setup = openai_setup
    cloud.status = status
    out = setup.graph.invoke({"query": HARD})
    first = out["attempts"][0]
    assert first["model"] in CLOUD_NAMES
    assert first["error_code"] == code
    assert out["attempts"][-1]["ok"]


def test_personal_data_never_reaches_the_openai_server(openai_setup: tuple[Any, Setup]) -> None:
    cloud, setup = openai_setup
    for texts in SAMPLES.values():
        for sample in texts:
            setup.graph.invoke({"query": f"{HARD} {sample}"})
    assert cloud.requests == []
