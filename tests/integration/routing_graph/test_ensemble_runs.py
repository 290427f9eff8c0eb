"""The ensemble subgraph against the Ollama test server: each verdict scripted, failures of
each role, the policy, streaming and the routing history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from ragged_graph.config import RouterConfig
from ragged_graph.errors import AllModelsFailedError
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Context, RoutingGraph, Services, build_graph
from ragged_graph.telemetry.records import RoutingRecord
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import ChatRequest, Fault, OllamaServer

pytestmark = pytest.mark.integration

QUESTION = "Explain quicksort and compare it with mergesort"
ALWAYS = Context(ensemble="always")
REFINED = "Quicksort partitions around a pivot; mergesort splits in halves and merges."


@pytest.fixture
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


def _config(server: OllamaServer, tmp_path: Path, **extra: Any) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {"hosts": [{"name": "test", "base_url": server.base_url}]},
                "embedded": {"enabled": False},
            },
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None, "max_retries": 0},
            "history": {"url": f"sqlite:///{tmp_path / 'history.sqlite3'}"},
            # Local models cost something here, so that every role has a cost to record.
            "local_cost_per_million": 2.0,
            **extra,
        }
    )


@pytest.fixture
def services(server: OllamaServer, tmp_path: Path) -> Iterator[Services]:
    built = Services.for_router(Router(_config(server, tmp_path)))
    yield built
    built.close()


@pytest.fixture
def graph(services: Services) -> RoutingGraph:
    return build_graph(lambda _context: services)


def verdict(server: OllamaServer, **answer: Any) -> None:
    """Every model gives this verdict when asked for one (only the verifier asks)."""
    for name in server.models:
        server.update_model(name, structured_answer=answer)


def records(services: Services) -> list[RoutingRecord]:
    services.close()
    assert services.history is not None
    return HistoryStore(services.history.url).records()


def roles_of(out: dict[str, Any]) -> list[str | None]:
    return [attempt["role"] for attempt in out["attempts"]]


def test_an_accepted_answer_is_the_primarys_answer_to_the_rewritten_question(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    verdict(server, verdict="accept", reasons=["correct"])
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    ensemble = out["ensemble"]
    models = ensemble["models"]
    primary = out["decision"]["model"]
    rewriter = models["rewriter"]["model"]
    assert roles_of(out) == ["rewriter", "primary", "verifier"]
    assert ensemble["verdict"]["applied"] == "accept"
    assert ensemble["answered_by_role"] == "primary"
    rewrite = f"This is {rewriter}. You asked: {QUESTION}"
    assert ensemble["rewritten_query"] == rewrite
    assert out["answer"] == f"This is {primary}. You asked: {rewrite}"
    chats = server.chat_requests()
    assert [chat.model for chat in chats] == [rewriter, primary, models["verifier"]["model"]]
    assert chats[0].body["messages"][0]["content"].startswith("Rewrite the user's question")
    assert chats[2].body["format"] is not None, "the verifier asks for a structured verdict"
    checked = chats[2].body["messages"][-1]["content"]
    assert f"Question:\n{QUESTION}" in checked
    assert out["answer"] in checked
    routing = out["messages"][-1].response_metadata["routing"]
    assert routing["answered_by"] == primary
    assert routing["ensemble"]["verdict"]["verdict"] == "accept"


def test_the_verifier_is_a_quality_model_other_than_the_primary(graph: RoutingGraph) -> None:
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    verifier = out["ensemble"]["models"]["verifier"]
    assert verifier["model_tier"] == "quality"
    assert verifier["model"] != out["decision"]["model"]
    assert out["ensemble"]["models"]["rewriter"]["model_tier"] == "fast"


def test_a_revised_answer_replaces_the_primarys(graph: RoutingGraph, server: OllamaServer) -> None:
    verdict(server, verdict="revise", refined_answer=REFINED, reasons=["too vague"])
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    assert out["answer"] == REFINED
    ensemble = out["ensemble"]
    assert ensemble["answered_by_role"] == "verifier"
    assert ensemble["verdict"]["reasons"] == ["too vague"]
    routing = out["messages"][-1].response_metadata["routing"]
    assert routing["answered_by"] == ensemble["models"]["verifier"]["model"]
    assert len(server.chat_requests()) == 3


def test_a_revise_without_a_revision_keeps_the_answer(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    verdict(server, verdict="revise", refined_answer="  ", reasons=[])
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    assert out["ensemble"]["verdict"]["applied"] == "accept"
    assert out["answer"].startswith(f"This is {out['decision']['model']}")


def test_a_rejected_answer_escalates_to_the_best_quality_model(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    verdict(server, verdict="reject", reasons=["wrong"])
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    ensemble = out["ensemble"]
    escalation = ensemble["models"]["escalation"]["model"]
    assert escalation == "llama3.3:70b"
    assert roles_of(out) == ["rewriter", "primary", "verifier", "escalation"]
    assert ensemble["answered_by_role"] == "escalation"
    # The escalation answers the question as the caller asked it, not the rewrite.
    assert out["answer"] == f"This is {escalation}. You asked: {QUESTION}"
    assert [role["role"] for role in ensemble["roles"]] == [
        "rewriter",
        "primary",
        "verifier",
        "escalation",
    ]
    assert ensemble["roles"][2]["outcome"] == "reject"


def test_when_the_escalation_fails_everywhere_the_primarys_answer_stands(
    services: Services, server: OllamaServer
) -> None:
    def answer(request: ChatRequest) -> str:
        if request.format is not None:
            return json.dumps({"verdict": "reject", "reasons": ["wrong"]})
        if "Rewrite" in request.system:
            return "quicksort versus mergesort"
        if request.prompt == QUESTION:
            raise RuntimeError("the escalation fails")  # only it gets the original question
        return "a primary answer"

    for name in server.models:
        server.update_model(name, answer=answer)
    graph = build_graph(lambda _context: services)
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    assert out["answer"] == "a primary answer"
    ensemble = out["ensemble"]
    assert ensemble["answered_by_role"] == "primary"
    escalation = ensemble["roles"][-1]
    assert escalation["role"] == "escalation"
    assert not escalation["ok"]
    assert escalation["outcome"] == "PROVIDER_SERVER_ERROR"
    assert escalation["attempts"] == len(ensemble["models"]["escalation"]["fallbacks"]) + 1
    (record,) = records(services)
    assert record.outcome == "answered"
    assert record.answered_by == out["decision"]["model"]


def test_a_failing_verifier_leaves_the_answer_unverified(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    def answer(request: ChatRequest) -> str:
        if request.format is not None:
            raise RuntimeError("no verdicts today")
        return f"answer of {request.model}"

    for name in server.models:
        server.update_model(name, answer=answer)
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    ensemble = out["ensemble"]
    assert ensemble["verdict"]["applied"] == "unverified"
    assert ensemble["verdict"]["verdict"] is None
    assert out["answer"] == f"answer of {out['decision']['model']}"
    verifier = ensemble["roles"][2]
    assert (verifier["role"], verifier["ok"]) == ("verifier", False)
    assert verifier["attempts"] == len(ensemble["models"]["verifier"]["fallbacks"]) + 1


def test_an_unreadable_verdict_leaves_the_answer_unverified(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    verdict(server, verdict="maybe")
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    assert out["ensemble"]["verdict"]["applied"] == "unverified"
    assert out["ensemble"]["roles"][2]["outcome"] == "unreadable"
    assert out["answer"].startswith(f"This is {out['decision']['model']}")


def test_a_failing_rewriter_leaves_the_question_as_asked(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    rewriter = out["ensemble"]["models"]["rewriter"]
    for name in [rewriter["model"], *rewriter["fallbacks"]]:
        server.update_model(name, fault=Fault.NOT_FOUND)
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    primary = out["decision"]["model"]
    assert out["ensemble"]["rewritten_query"] is None
    assert out["ensemble"]["roles"][0]["ok"] is False
    assert out["answer"] == f"This is {primary}. You asked: {QUESTION}"


def test_a_rag_query_is_answered_as_asked_and_its_rewrite_is_for_retrieval(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    documents = ["The Golden Gate Bridge opened in 1937.", "It spans the Golden Gate strait."]
    question = "What year was the bridge opened?"
    out = graph.invoke({"query": question, "documents": documents}, context=ALWAYS)
    assert out["decision"]["task_type"] == "rag_query"
    rewriter, primary, verifier = server.chat_requests()[:3]
    assert "search query" in rewriter.body["messages"][0]["content"]
    assert out["ensemble"]["rewritten_query"].endswith(question)
    assert primary.body["messages"][-1]["content"] == question
    assert any("opened in 1937" in message["content"] for message in primary.body["messages"])
    assert (
        "Retrieved context:\n[1] The Golden Gate Bridge opened in 1937."
        in (verifier.body["messages"][-1]["content"])
    )


def test_the_policy_runs_the_ensemble_for_the_requests_it_names(
    server: OllamaServer, tmp_path: Path
) -> None:
    config = _config(server, tmp_path, ensemble={"enabled": True, "tiers": ["quality"]})
    services = Services.for_router(Router(config))
    graph = build_graph(lambda _context: services)
    hard = graph.invoke(
        {
            "query": "Analyse the architectural trade-offs between microservices and a monolith "
            "for a payments platform, considering consistency, latency, team structure and "
            "failure modes"
        }
    )
    assert hard["ensemble"]["reason"].startswith("the ensemble policy holds: quality tier")
    easy = graph.invoke({"query": "What is Paris?"})
    assert easy["ensemble"] is None
    assert roles_of(easy) == [None]
    never = graph.invoke({"query": QUESTION}, context=Context(ensemble="never", tier="quality"))
    assert never["ensemble"] is None
    services.close()


def test_every_role_has_its_latency_and_cost_in_the_history(
    graph: RoutingGraph, services: Services, server: OllamaServer
) -> None:
    verdict(server, verdict="accept")
    out = graph.invoke({"query": QUESTION}, context=ALWAYS)
    graph.invoke({"query": "What is Paris?"})
    ensemble_record, single_record = records(services)
    assert single_record.roles is None
    assert ensemble_record.roles is not None
    roles = {role.role: role for role in ensemble_record.roles}
    assert list(roles) == ["rewriter", "primary", "verifier"]
    for role in roles.values():
        assert role.ok
        assert role.attempts == 1
        assert role.latency_ms > 0
        assert role.tokens_in
        assert role.tokens_out
        assert role.cost_usd == pytest.approx(2.0 * (role.tokens_in + role.tokens_out) / 1e6)
    assert ensemble_record.cost_usd == pytest.approx(sum(r.cost_usd for r in roles.values()))
    assert ensemble_record.tokens_out == sum(r.tokens_out or 0 for r in roles.values())
    assert ensemble_record.answered_by == out["decision"]["model"]
    assert ensemble_record.outcome == "answered"
    assert ensemble_record.fallback_count == 0
    assert [attempt.role for attempt in ensemble_record.attempts] == list(roles)
    assert roles["verifier"].outcome == "accept"
    assert roles["primary"].model == out["decision"]["model"]


def test_a_primary_that_fails_everywhere_fails_the_request_with_its_roles_recorded(
    graph: RoutingGraph, services: Services, server: OllamaServer
) -> None:
    def answer(request: ChatRequest) -> str:
        if "Rewrite" in request.system:
            return "quicksort versus mergesort"
        raise RuntimeError("down")

    for name in server.models:
        server.update_model(name, answer=answer)
    with pytest.raises(AllModelsFailedError):
        graph.invoke({"query": QUESTION}, context=ALWAYS)
    (record,) = records(services)
    assert record.outcome == "ALL_MODELS_FAILED"
    assert record.roles is not None
    assert [(role.role, role.ok) for role in record.roles] == [
        ("rewriter", True),
        ("primary", False),
    ]


def test_the_subgraph_streams_its_nodes_and_tokens(graph: RoutingGraph) -> None:
    updates: list[tuple[tuple[str, ...], str]] = []
    token_nodes: set[str] = set()
    for namespace, mode, payload in graph.stream(
        {"query": QUESTION},
        context=ALWAYS,
        stream_mode=["updates", "messages"],
        subgraphs=True,
    ):
        if mode == "updates":
            updates.extend((namespace, node) for node in payload)
        elif payload[0].content:
            token_nodes.add(payload[1]["langgraph_node"])
    inside = [node for namespace, node in updates if namespace]
    assert inside == ["rewriter", "invoke", "verifier", "finish"]
    assert all(namespace[0].startswith("ensemble:") for namespace, _ in updates if namespace)
    assert [node for namespace, node in updates if not namespace][-2:] == ["select", "ensemble"]
    assert {"rewriter", "invoke"} <= token_nodes


def test_studio_draws_the_subgraph_inside_the_routing_graph(graph: RoutingGraph) -> None:
    drawing = graph.get_graph(xray=True).draw_mermaid()
    for node in ("rewriter", "invoke", "fallback", "verifier", "escalate", "finish"):
        assert f"ensemble\\3a{node}({node})" in drawing
    assert "subgraph ensemble" in drawing


async def test_async_runs_answer_with_the_ensemble_too(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    verdict(server, verdict="revise", refined_answer=REFINED)
    out = await graph.ainvoke({"messages": [HumanMessage(QUESTION)]}, context=ALWAYS)
    assert out["answer"] == REFINED
    assert out["messages"][-1].content == REFINED
    assert [message.type for message in out["messages"]] == ["human", "ai"]


def test_each_role_gets_the_context_window_its_own_prompt_needs(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    documents = ["Quarterly revenue rose in every region. " * 1500]
    graph.invoke({"query": "What happened to revenue?", "documents": documents}, context=ALWAYS)
    rewriter, primary, verifier = server.chat_requests()[:3]
    assert "num_ctx" not in rewriter.body.get("options", {}), "the rewriter reads no documents"
    assert primary.body["options"]["num_ctx"] >= 15_000
    assert verifier.body["options"]["num_ctx"] >= primary.body["options"]["num_ctx"]
