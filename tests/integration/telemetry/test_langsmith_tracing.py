"""LangSmith traces of routed requests, as the real `langsmith` client sends them.

Every test here runs with tracing on towards a loopback receiver (`langsmith_receiver`),
and reads what arrived after flushing the client.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.tracers.langchain import wait_for_all_tracers
from langsmith.utils import tracing_is_enabled

from ragged_graph import RaggedRouter
from ragged_graph.config import RouterConfig
from ragged_graph.errors import AllModelsFailedError
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Context, RoutingGraph, Services, build_graph
from ragged_graph.telemetry import tracing
from ragged_graph.telemetry.tracing import redacting_config
from ragged_graph.testing import Fault, LangSmithReceiver, OllamaServer, ReceivedRun

pytestmark = pytest.mark.integration

NODES = ["classify", "complexity", "persona", "select", "invoke"]
SECRET = "Zanzibar-7431"
"""A word that appears only in the query, to look for in everything the receiver got."""


def config_for(server: OllamaServer, **settings: Any) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {"hosts": [{"name": "t", "base_url": server.base_url}]},
                # Failing everywhere must stay a failure: no embedded model as the last resort.
                "embedded": {"enabled": False},
            },
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None},
            **settings,
        }
    )


@pytest.fixture
def graph(ollama_server: OllamaServer) -> RoutingGraph:
    services = Services.for_router(Router(config_for(ollama_server)))
    return build_graph(lambda _context: services)


def received(receiver: LangSmithReceiver) -> list[ReceivedRun]:
    wait_for_all_tracers()
    return receiver.runs()


def names(runs: list[ReceivedRun]) -> list[str]:
    return [str(run.name) for run in runs]


def node_runs(receiver: LangSmithReceiver, parent: ReceivedRun) -> list[str]:
    """The graph run's children, without LangGraph's own edge functions."""
    return [name for name in names(receiver.children(parent)) if not name.startswith("_")]


# -- the trace's shape --------------------------------------------------------------------


def test_a_graph_run_is_one_trace_with_a_child_run_per_node(
    graph: RoutingGraph, langsmith_receiver: LangSmithReceiver
) -> None:
    graph.invoke({"query": "Write a Python function that reverses a string"})
    runs = received(langsmith_receiver)

    [root] = langsmith_receiver.roots()
    assert root.name == "ragged_graph"
    assert root.run_type == "chain"
    assert {run.trace_id for run in runs} == {root.id}
    assert node_runs(langsmith_receiver, root) == NODES
    assert all(run.ended and run.error is None for run in runs)
    [invoke] = langsmith_receiver.runs("invoke")
    assert "llm" in [run.run_type for run in langsmith_receiver.children(invoke)]


def test_each_request_is_its_own_trace(
    graph: RoutingGraph, langsmith_receiver: LangSmithReceiver
) -> None:
    for query in ("What is Paris?", "Write a haiku about rain", "hi"):
        graph.invoke({"query": query})
    wait_for_all_tracers()

    roots = langsmith_receiver.roots()
    assert names(roots) == ["ragged_graph"] * 3
    assert len(langsmith_receiver.traces()) == 3
    for root in roots:
        assert node_runs(langsmith_receiver, root) == NODES


# -- the decision on the run --------------------------------------------------------------


def test_the_decision_is_in_the_graph_runs_metadata_and_tags(
    graph: RoutingGraph, langsmith_receiver: LangSmithReceiver
) -> None:
    out = graph.invoke(
        {"query": "Write a Python function that reverses a string"},
        context=Context(persona="developer"),
    )
    decision = out["decision"]
    received(langsmith_receiver)

    root = langsmith_receiver.run("ragged_graph")
    meta = root.metadata
    assert meta["routing_task"] == decision["task_type"] == "code_generation"
    assert meta["routing_tier"] == decision["tier"]
    assert meta["routing_model"] == decision["model"]
    assert meta["routing_complexity"] == decision["complexity"]
    assert meta["routing_complexity_breakdown"] == decision["complexity_breakdown"]
    assert meta["routing_persona"] == "developer"
    assert meta["routing_persona_rule"] == decision["persona_rule"]
    assert meta["routing_reason"] == decision["reason"]
    assert meta["routing_fallbacks"] == decision["fallbacks"]
    assert [(a["model"], a["ok"]) for a in meta["routing_attempts"]] == [(decision["model"], True)]
    assert meta["routing_answered_by"] == decision["model"]
    assert meta["routing_fell_back"] is False
    assert {
        f"tier:{decision['tier']}",
        f"task:{decision['task_type']}",
        f"model:{decision['model']}",
        "persona:developer",
    } <= set(root.tags)


def test_a_fallback_shows_as_a_fallback_run_and_in_the_attempts(
    graph: RoutingGraph, ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    first = Router(config_for(ollama_server)).decide("What is Paris?").model
    ollama_server.update_model(first, fault=Fault.NOT_FOUND)

    out = graph.invoke({"query": "What is Paris?"})
    received(langsmith_receiver)

    root = langsmith_receiver.run("ragged_graph")
    assert node_runs(langsmith_receiver, root) == [*NODES, "fallback", "invoke"]
    answered_by = out["attempts"][-1]["model"]
    meta = root.metadata
    assert [(a["model"], a["ok"], a["error_code"]) for a in meta["routing_attempts"]] == [
        (first, False, "MODEL_NOT_FOUND"),
        (answered_by, True, None),
    ]
    assert meta["routing_model"] == first
    assert meta["routing_answered_by"] == answered_by != first
    assert meta["routing_fell_back"] is True
    assert {f"model:{first}", f"fallback:{answered_by}"} <= set(root.tags)


def test_a_request_that_fails_everywhere_still_carries_its_decision_and_attempts(
    graph: RoutingGraph, ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    for name in list(ollama_server.models):
        ollama_server.update_model(name, fault=Fault.NOT_FOUND)
    with pytest.raises(AllModelsFailedError):
        graph.invoke({"query": "What is Paris?"})
    received(langsmith_receiver)

    root = langsmith_receiver.run("ragged_graph")
    assert root.error
    assert root.metadata["routing_attempts"]
    assert not any(attempt["ok"] for attempt in root.metadata["routing_attempts"])
    assert root.metadata["routing_answered_by"] is None
    assert f"model:{root.metadata['routing_model']}" in root.tags


# -- through RaggedRouter -----------------------------------------------------------------


def test_through_ragged_router_the_graph_nests_under_the_router_run(
    ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    router = RaggedRouter(config=config_for(ollama_server))
    answer = router.invoke("What is Paris?")
    decision = answer.response_metadata["routing"]
    received(langsmith_receiver)

    [root] = langsmith_receiver.roots()
    assert (root.name, root.run_type) == ("RaggedRouter", "llm")
    [graph_run] = langsmith_receiver.children(root)
    assert graph_run.name == "ragged_graph"
    assert node_runs(langsmith_receiver, graph_run) == NODES
    assert len(langsmith_receiver.traces()) == 1
    for run in (root, graph_run):
        assert run.metadata["routing_model"] == decision["model"]
        assert run.metadata["routing_answered_by"] == decision["answered_by"]
        assert {f"tier:{decision['tier']}", f"model:{decision['model']}"} <= set(run.tags)


async def test_streaming_through_ragged_router_is_traced_alike(
    ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    router = RaggedRouter(config=config_for(ollama_server), persona="writer")
    chunks = [chunk async for chunk in router.astream("Write a haiku about rain")]
    assert "".join(str(chunk.content) for chunk in chunks)
    received(langsmith_receiver)

    [root] = langsmith_receiver.roots()
    assert root.name == "RaggedRouter"
    [graph_run] = langsmith_receiver.children(root)
    assert node_runs(langsmith_receiver, graph_run) == NODES
    assert "persona:writer" in root.tags
    assert root.metadata["routing_task"] == graph_run.metadata["routing_task"]
    # The chosen model's own call sits under `invoke`, once.
    [model_run] = langsmith_receiver.runs("ChatOllama")
    assert model_run.parent_run_id == langsmith_receiver.run("invoke").id


# -- redaction ----------------------------------------------------------------------------


def test_a_request_is_traced_with_its_text_by_default(
    ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    RaggedRouter(config=config_for(ollama_server)).invoke(f"What is {SECRET}?")
    received(langsmith_receiver)

    assert SECRET.encode() in langsmith_receiver.received_bytes()
    assert SECRET in str(langsmith_receiver.run("ragged_graph").inputs)


def test_with_redaction_on_the_query_text_is_sent_nowhere(
    ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    router = RaggedRouter(config=config_for(ollama_server, tracing={"redact_queries": "always"}))
    answer = router.invoke(f"Write a Python function named {SECRET} that reverses a string")
    assert SECRET in str(answer.content)  # the scripted model echoes the question
    runs = received(langsmith_receiver)

    assert SECRET.encode() not in langsmith_receiver.received_bytes()
    assert names(runs)[:2] == ["RaggedRouter", "ragged_graph"]
    assert all(run.inputs == {"redacted": True} for run in runs)
    assert all(run.outputs == {"redacted": True} for run in runs)
    # What routing decided still arrives.
    root = langsmith_receiver.run("RaggedRouter")
    assert root.metadata["routing_task"] == "code_generation"
    assert f"model:{root.metadata['routing_model']}" in root.tags


def test_the_private_persona_is_redacted_by_default(
    ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    router = RaggedRouter(config=config_for(ollama_server), persona="private")
    for chunk in router.stream(f"Summarise my notes about {SECRET}"):
        assert chunk is not None
    router.invoke(f"And what about {SECRET}?", config={"configurable": {"persona": "private"}})
    received(langsmith_receiver)

    assert SECRET.encode() not in langsmith_receiver.received_bytes()
    assert names(langsmith_receiver.roots()) == ["RaggedRouter", "RaggedRouter"]
    assert all("persona:private" in root.tags for root in langsmith_receiver.roots())


def test_a_local_only_call_is_redacted_by_default(
    ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    RaggedRouter(config=config_for(ollama_server), local_only=True).invoke(f"Hi {SECRET}")
    received(langsmith_receiver)

    assert SECRET.encode() not in langsmith_receiver.received_bytes()
    assert langsmith_receiver.run("ragged_graph").metadata["routing_model"]


def test_redaction_can_be_turned_off_even_for_the_private_persona(
    ollama_server: OllamaServer, langsmith_receiver: LangSmithReceiver
) -> None:
    config = config_for(ollama_server, tracing={"redact_queries": False})
    RaggedRouter(config=config, persona="private").invoke(f"Hi {SECRET}")
    received(langsmith_receiver)

    assert SECRET.encode() in langsmith_receiver.received_bytes()


def test_a_direct_graph_run_is_redacted_with_redacting_config(
    graph: RoutingGraph, langsmith_receiver: LangSmithReceiver
) -> None:
    out = graph.invoke(
        {"messages": [HumanMessage(f"Tell me about {SECRET}")]}, config=redacting_config()
    )
    assert SECRET in out["answer"]
    received(langsmith_receiver)

    assert SECRET.encode() not in langsmith_receiver.received_bytes()
    root = langsmith_receiver.run("ragged_graph")
    assert root.inputs == {"redacted": True}
    assert node_runs(langsmith_receiver, root) == NODES
    assert root.metadata["routing_model"] == out["decision"]["model"]


@pytest.fixture
def warn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracing, "_warned_unredacted", False)


@pytest.mark.usefixtures("warn_again")
def test_a_direct_graph_run_that_should_be_redacted_but_is_not_warns(
    graph: RoutingGraph, langsmith_receiver: LangSmithReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ragged_graph.telemetry.tracing"):
        graph.invoke({"query": "hello"}, context=Context(persona="private"))
        graph.invoke({"query": "hello again"}, context=Context(persona="private"))
    warnings = [r for r in caplog.records if "redact" in r.getMessage()]
    assert len(warnings) == 1
    assert "redacting_config" in warnings[0].getMessage()


# -- tracing stays off elsewhere ----------------------------------------------------------


def test_tracing_is_off_in_tests_that_do_not_ask_for_the_receiver() -> None:
    assert not tracing_is_enabled()
    assert not any(
        os.environ.get(name)
        for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_TRACING_V2")
    )
