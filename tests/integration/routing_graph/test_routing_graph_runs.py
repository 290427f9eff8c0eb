from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from ragged_graph.config import RouterConfig
from ragged_graph.errors import AllModelsFailedError, InvalidRequestError
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Context, RoutingGraph, Services, build_graph
from ragged_graph.testing import Fault, OllamaServer

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


@pytest.fixture
def graph(server: OllamaServer) -> RoutingGraph:
    config = RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {"hosts": [{"name": "test", "base_url": server.base_url}]},
                # Failing everywhere must stay a failure: no embedded model as the last resort.
                "embedded": {"enabled": False},
            },
            "hardware": {"memory_gb": 64},
        }
    )
    services = Services.for_router(Router(config))
    return build_graph(lambda _context: services)


def test_a_query_is_routed_and_answered(graph: RoutingGraph, server: OllamaServer) -> None:
    out = graph.invoke({"query": "Write a Python function that reverses a string"})
    decision = out["decision"]
    assert decision["task_type"] == "code_generation"
    assert "coder" in decision["model"]
    assert out["answer"].startswith(f"This is {decision['model']}")
    assert [a["ok"] for a in out["attempts"]] == [True]
    assert [r.model for r in server.chat_requests()] == [decision["model"]]
    routing = out["messages"][-1].response_metadata["routing"]
    assert routing["answered_by"] == decision["model"]


async def test_async_runs_route_the_same_way(graph: RoutingGraph) -> None:
    out = await graph.ainvoke({"messages": [HumanMessage("What is Paris?")]})
    assert out["decision"]["tier"] == "fast"
    assert out["answer"]


def test_a_transient_failure_is_retried_once_then_falls_back(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    first = graph.invoke({"query": "What is Paris?"})["decision"]["model"]
    server.update_model(first, fault=Fault.SERVER_ERROR)
    out = graph.invoke({"query": "What is Paris?"})
    attempts = out["attempts"]
    assert [a["model"] for a in attempts[:2]] == [first, first]
    assert {a["error_code"] for a in attempts[:2]} == {"PROVIDER_SERVER_ERROR"}
    assert attempts[2]["ok"]
    assert attempts[2]["model"] == out["decision"]["fallbacks"][0]


def test_a_missing_model_is_not_retried(graph: RoutingGraph, server: OllamaServer) -> None:
    first = graph.invoke({"query": "What is Paris?"})["decision"]["model"]
    server.update_model(first, fault=Fault.NOT_FOUND)
    attempts = graph.invoke({"query": "What is Paris?"})["attempts"]
    assert [(a["model"], a["ok"]) for a in attempts[:2]] == [
        (first, False),
        (attempts[1]["model"], True),
    ]
    assert attempts[1]["model"] != first


def test_a_flaky_model_recovers_on_retry(graph: RoutingGraph, server: OllamaServer) -> None:
    first = graph.invoke({"query": "What is Paris?"})["decision"]["model"]
    server.update_model(first, fault=Fault.SERVER_ERROR, fail_times=1)
    server.clear_requests()
    attempts = graph.invoke({"query": "What is Paris?"})["attempts"]
    assert [(a["model"], a["ok"]) for a in attempts] == [(first, False), (first, True)]


def test_every_model_failing_is_one_typed_error(graph: RoutingGraph, server: OllamaServer) -> None:
    for name in list(server.models):
        server.update_model(name, fault=Fault.NOT_FOUND)
    with pytest.raises(AllModelsFailedError) as caught:
        graph.invoke({"query": "What is Paris?"})
    assert len(caught.value.attempts) >= 2
    assert all(attempt.code == "MODEL_NOT_FOUND" for attempt in caught.value.attempts)
    assert "test" in str(caught.value)


def test_tokens_stream_from_the_invoke_node(graph: RoutingGraph) -> None:
    tokens = [
        chunk.content
        for chunk, meta in graph.stream({"query": "hello there"}, stream_mode="messages")
        if meta["langgraph_node"] == "invoke" and chunk.content
    ]
    assert len(tokens) > 2
    assert "".join(tokens).startswith("This is")


def test_updates_come_from_each_node_in_order(graph: RoutingGraph) -> None:
    nodes = [next(iter(update)) for update in graph.stream({"query": "hi"}, stream_mode="updates")]
    assert nodes == ["classify", "complexity", "persona", "select", "invoke"]


def test_documents_reach_the_classifier_and_the_model(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    out = graph.invoke(
        {
            "query": "What year was the bridge opened?",
            "documents": ["The Golden Gate Bridge opened in 1937."],
        }
    )
    assert out["decision"]["task_type"] == "rag_query"
    sent = server.chat_requests()[-1].body["messages"]
    assert any("opened in 1937" in message["content"] for message in sent)


def test_context_forces_tier_and_model(graph: RoutingGraph) -> None:
    forced = graph.invoke({"query": "hi"}, context=Context(tier="quality"))
    assert forced["decision"]["tier"] == "quality"
    explicit = graph.invoke({"query": "hi"}, context=Context(model="qwen2.5:14b"))
    assert explicit["decision"]["model"] == "qwen2.5:14b"
    assert explicit["attempts"][-1]["model"] == "qwen2.5:14b"


def test_an_empty_query_is_a_typed_error(graph: RoutingGraph) -> None:
    with pytest.raises(InvalidRequestError, match="no query"):
        graph.invoke({"messages": [HumanMessage("   ")]})


def test_the_graph_draws_every_node(graph: RoutingGraph) -> None:
    drawing = graph.get_graph().draw_mermaid()
    for node in ("classify", "complexity", "persona", "select", "invoke", "fallback"):
        assert node in drawing


def test_an_unknown_tier_in_the_context_is_a_typed_error(graph: RoutingGraph) -> None:
    with pytest.raises(InvalidRequestError, match="fast, balanced, quality"):
        graph.invoke({"query": "hi"}, context=Context(tier="ultra"))  # type: ignore[arg-type]


def test_a_model_that_keeps_failing_cools_down_and_is_skipped(
    server: OllamaServer, tmp_path: Path
) -> None:
    config = RouterConfig.model_validate(
        {
            "providers": {"ollama": {"hosts": [{"name": "test", "base_url": server.base_url}]}},
            "hardware": {"memory_gb": 64},
            "fallbacks": {
                "max_retries": 0,
                "cooldown_failures": 2,
                "cooldown_s": 60,
                "health_file": str(tmp_path / "health.json"),
            },
        }
    )
    services = Services.for_router(Router(config))
    graph = build_graph(lambda _context: services)
    first = graph.invoke({"query": "What is Paris?"})["decision"]["model"]
    server.update_model(first, fault=Fault.NOT_FOUND)
    for _ in range(2):
        graph.invoke({"query": "What is Paris?"})
    server.clear_requests()
    out = graph.invoke({"query": "What is Paris?"})
    assert out["attempts"][0]["error_code"] == "COOLING_DOWN"
    assert out["attempts"][-1]["ok"]
    assert first not in [r.model for r in server.chat_requests()], "a cooling model is not called"
    from typer.testing import CliRunner

    from ragged_graph.cli import app

    path = tmp_path / "router.yaml"
    path.write_text(
        "providers:\n  ollama:\n    hosts:\n"
        f"      - {{name: test, base_url: '{server.base_url}'}}\n"
        f"fallbacks:\n  health_file: '{tmp_path / 'health.json'}'\n",
        encoding="utf-8",
    )
    listed = CliRunner().invoke(app, ["models", "--json", "--config", str(path)])
    cooling = {m["name"]: m["cooling_down_on"] for m in json.loads(listed.stdout)["models"]}
    assert cooling[first] == ["test"]


def test_a_request_longer_than_every_context_window_is_a_typed_error(graph: RoutingGraph) -> None:
    from ragged_graph.errors import ContextOverflowError

    with pytest.raises(ContextOverflowError, match="tokens"):
        graph.invoke({"query": "Summarise this: " + "lorem ipsum " * 300_000})


def test_long_requests_get_a_context_window_that_holds_them(
    graph: RoutingGraph, server: OllamaServer
) -> None:
    documents = ["Quarterly revenue rose in every region. " * 1500]
    graph.invoke({"query": "What happened to revenue?", "documents": documents})
    options = server.chat_requests()[-1].body["options"]
    assert options["num_ctx"] >= 15_000
    graph.invoke({"query": "hi"})
    assert "num_ctx" not in server.chat_requests()[-1].body["options"]


def test_a_message_without_text_is_a_typed_error(graph: RoutingGraph) -> None:
    image_only = HumanMessage(
        content=[{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]
    )
    with pytest.raises(InvalidRequestError, match="no query"):
        graph.invoke({"messages": [image_only]})


def test_text_blocks_of_a_multimodal_message_are_the_query(graph: RoutingGraph) -> None:
    message = HumanMessage(
        content=[
            {"type": "text", "text": "What is Paris?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
        ]
    )
    assert graph.invoke({"messages": [message]})["decision"]["task_type"] == "general_qa"


def test_each_run_of_a_thread_routes_its_own_turn(server: OllamaServer) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    config = RouterConfig.model_validate(
        {
            "providers": {"ollama": {"hosts": [{"name": "test", "base_url": server.base_url}]}},
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None},
        }
    )
    services = Services.for_router(Router(config))
    graph = build_graph(lambda _context: services).copy(update={"checkpointer": InMemorySaver()})
    thread = {"configurable": {"thread_id": "t1"}}
    first = graph.invoke({"messages": [HumanMessage("What is Paris?")]}, thread)
    second = graph.invoke(
        {"messages": [HumanMessage("Write a Python function that reverses a list")]}, thread
    )
    assert first["decision"]["task_type"] == "general_qa"
    assert second["decision"]["task_type"] == "code_generation"
    assert len(second["attempts"]) == 1
    assert second["answer"].endswith("reverses a list")
    assert len(second["messages"]) == 4
