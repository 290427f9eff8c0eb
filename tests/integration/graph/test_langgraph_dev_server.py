"""The routing graph served by a real `langgraph dev`, driven through `langgraph_sdk`.

One `langgraph dev` (reading the repository's `langgraph.json`) and one Ollama test server
serve the whole module; see `conftest.py`. Every run's answer must come from the test
server, and the test server must have received the chat request for the chosen model.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import pytest_asyncio
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from ragged_graph.telemetry.metrics import compute_metrics
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import OllamaServer
from tests.support.chromium import dump_dom, read_dashboard
from tests.support.history import dashboard_records

if TYPE_CHECKING:
    from tests.integration.graph.conftest import DevServer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

GRAPH_ID = "ragged_graph"
NODES = ("classify", "complexity", "persona", "select", "invoke", "fallback")
HAPPY_PATH = ("classify", "complexity", "persona", "select", "invoke")
CODE_QUERY = "Write a Python function that reverses a linked list"
FACT_QUERY = "What is Paris?"


def human(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "human", "content": text}]}


def assert_answered_by_test_server(
    ollama: OllamaServer, output: dict[str, Any], query: str
) -> dict[str, Any]:
    """The run's decision, after checking the chosen model answered it from the test server."""
    assert isinstance(output, dict), output
    assert "__error__" not in output, output
    decision = output["decision"]
    model = decision["model"]
    # The test server's default answer names the model and echoes the prompt.
    assert output["answer"] == f"This is {model}. You asked: {query}"
    assert [(a["model"], a["ok"]) for a in output["attempts"]] == [(model, True)]
    prompts = [r.body["messages"][-1]["content"] for r in ollama.chat_requests(model)]
    assert query in prompts, f"no /api/chat request for {model} with {query!r}: {prompts}"
    return decision


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(langgraph_dev: DevServer) -> AsyncIterator[LangGraphClient]:
    client = get_client(url=langgraph_dev.url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def assistant(client: LangGraphClient) -> AsyncIterator[dict[str, Any]]:
    """An assistant of our own with a persona-free context, deleted afterwards."""
    created = await client.assistants.create(
        GRAPH_ID, context={"local_only": True}, name="ragged-graph integration test"
    )
    try:
        yield dict(created)
    finally:
        await client.assistants.delete(created["assistant_id"])


@pytest_asyncio.fixture(loop_scope="module")
async def thread_id(client: LangGraphClient) -> AsyncIterator[str]:
    """A fresh thread, deleted afterwards (the dev server persists threads to disk)."""
    thread = await client.threads.create()
    try:
        yield thread["thread_id"]
    finally:
        await client.threads.delete(thread["thread_id"])


async def test_langgraph_json_graph_is_served_with_its_context_schema(
    client: LangGraphClient,
) -> None:
    found = await client.assistants.search(graph_id=GRAPH_ID)
    system = [a for a in found if a["metadata"].get("created_by") == "system"]
    assert len(system) == 1, found
    schemas = await client.assistants.get_schemas(system[0]["assistant_id"])
    assert schemas["graph_id"] == GRAPH_ID
    context_fields = set(schemas["context_schema"]["properties"])
    assert context_fields == {
        "persona",
        "model",
        "tier",
        "local_only",
        "config_path",
        "user_id",
        "ensemble",
        "cost_limit",
        "latency_limit",
        "optimise",
        "session_id",
    }
    assert {"messages", "query", "documents"} <= set(schemas["input_schema"]["properties"])
    assert {"answer", "decision", "attempts"} <= set(schemas["output_schema"]["properties"])


async def test_assistant_is_created_with_its_context(
    client: LangGraphClient, assistant: dict[str, Any]
) -> None:
    assert assistant["graph_id"] == GRAPH_ID
    assert assistant["context"] == {"local_only": True}
    found = await client.assistants.search(graph_id=GRAPH_ID)
    assert assistant["assistant_id"] in {a["assistant_id"] for a in found}


async def test_graph_drawing_has_every_node(
    client: LangGraphClient, assistant: dict[str, Any]
) -> None:
    drawing = await client.assistants.get_graph(assistant["assistant_id"])
    node_ids = {node["id"] for node in drawing["nodes"]}
    assert set(NODES) <= node_ids
    edges = {(edge["source"], edge["target"]) for edge in drawing["edges"]}
    assert {("__start__", "classify"), ("select", "invoke"), ("fallback", "invoke")} <= edges
    assert {("invoke", "fallback"), ("invoke", "__end__")} <= edges


async def test_code_request_goes_to_a_code_model_and_is_kept_in_the_thread(
    client: LangGraphClient,
    assistant: dict[str, Any],
    thread_id: str,
    dev_ollama: OllamaServer,
) -> None:
    output = await client.runs.wait(thread_id, assistant["assistant_id"], input=human(CODE_QUERY))

    decision = assert_answered_by_test_server(dev_ollama, output, CODE_QUERY)
    assert decision["task_type"] == "code_generation"
    assert decision["model"].startswith("qwen2.5-coder"), decision
    assert decision["host"] == "test"
    assert decision["availability_assumed"] is False
    assert decision["fallbacks"], decision
    answer_message = output["messages"][-1]
    assert answer_message["type"] == "ai"
    assert answer_message["content"] == output["answer"]
    assert answer_message["response_metadata"]["routing"]["answered_by"] == decision["model"]

    state = await client.threads.get_state(thread_id)
    assert state["next"] == []
    values = state["values"]
    assert values["decision"] == decision
    assert values["answer"] == output["answer"]
    # The partial decisions are in the checkpoint (not in the output schema).
    assert values["task"]["task_type"] == "code_generation"
    assert values["complexity"]["tier"] == decision["tier"]
    assert values["chain"] == [decision["model"], *decision["fallbacks"]]
    assert [m["type"] for m in values["messages"]] == ["human", "ai"]


async def test_streamed_run_reports_every_node_in_order_and_streams_tokens(
    client: LangGraphClient,
    assistant: dict[str, Any],
    thread_id: str,
    dev_ollama: OllamaServer,
) -> None:
    updates: list[tuple[str, Any]] = []
    tokens: list[str] = []
    token_nodes: set[str] = set()
    async for part in client.runs.stream(
        thread_id,
        assistant["assistant_id"],
        input=human(CODE_QUERY),
        stream_mode=["updates", "messages-tuple"],
    ):
        assert part.event != "error", part.data
        if part.event == "updates":
            updates.extend(part.data.items())
        elif part.event == "messages":
            chunk, metadata = part.data
            token_nodes.add(metadata["langgraph_node"])
            if chunk["content"]:
                tokens.append(chunk["content"])

    assert [node for node, _ in updates] == list(HAPPY_PATH)
    # The server filters updates to the output schema: the deciding nodes write only
    # internal keys (task, complexity, persona) and so arrive empty; select and invoke don't.
    by_node = dict(updates)
    decision = by_node["select"]["decision"]
    assert decision["task_type"] == "code_generation"
    invoke_update = by_node["invoke"]
    answer = invoke_update["answer"]
    assert answer == f"This is {decision['model']}. You asked: {CODE_QUERY}"
    assert invoke_update["attempts"][0]["first_token_ms"] is not None

    assert token_nodes == {"invoke"}
    assert len(tokens) > 1, tokens
    assert "".join(tokens) == answer
    assert len(dev_ollama.chat_requests(decision["model"])) >= 1


async def test_studio_draws_the_ensemble_subgraph_with_xray(
    client: LangGraphClient, assistant: dict[str, Any]
) -> None:
    flat = await client.assistants.get_graph(assistant["assistant_id"])
    assert "ensemble" in {node["id"] for node in flat["nodes"]}
    drawing = await client.assistants.get_graph(assistant["assistant_id"], xray=True)
    node_ids = {node["id"] for node in drawing["nodes"]}
    inside = {f"ensemble:{node}" for node in ("rewriter", "invoke", "verifier", "finish")}
    assert inside <= node_ids, node_ids
    edges = {(edge["source"], edge["target"]) for edge in drawing["edges"]}
    assert ("select", "ensemble:rewriter") in edges


async def test_an_ensemble_run_streams_its_subgraph_and_returns_every_role(
    client: LangGraphClient, assistant: dict[str, Any], thread_id: str, dev_ollama: OllamaServer
) -> None:
    inside: list[str] = []
    final: dict[str, Any] = {}
    async for part in client.runs.stream(
        thread_id,
        assistant["assistant_id"],
        input=human(FACT_QUERY),
        context={"ensemble": "always"},
        stream_mode=["updates", "values"],
        stream_subgraphs=True,
    ):
        assert part.event != "error", part.data
        if part.event.startswith("updates|ensemble"):
            inside.extend(part.data)
        elif part.event == "values":
            final = part.data
    assert inside == ["rewriter", "invoke", "verifier", "finish"]
    ensemble = final["ensemble"]
    assert [role["role"] for role in ensemble["roles"]] == ["rewriter", "primary", "verifier"]
    assert all(role["ok"] and role["latency_ms"] > 0 for role in ensemble["roles"])
    assert final["answer"] == final["messages"][-1]["content"]
    models = {request.model for request in dev_ollama.chat_requests()}
    assert {ensemble["models"]["rewriter"]["model"], final["decision"]["model"]} <= models


async def test_short_factual_question_gets_the_fast_tier(
    client: LangGraphClient, assistant: dict[str, Any], dev_ollama: OllamaServer
) -> None:
    output = await client.runs.wait(None, assistant["assistant_id"], input={"query": FACT_QUERY})

    decision = assert_answered_by_test_server(dev_ollama, output, FACT_QUERY)
    assert decision["tier"] == "fast"
    assert decision["task_type"] == "general_qa"
    assert decision["persona"] is None


async def test_run_context_forces_the_quality_tier(
    client: LangGraphClient, assistant: dict[str, Any], dev_ollama: OllamaServer
) -> None:
    output = await client.runs.wait(
        None, assistant["assistant_id"], input=human(FACT_QUERY), context={"tier": "quality"}
    )

    decision = assert_answered_by_test_server(dev_ollama, output, FACT_QUERY)
    assert decision["tier"] == "quality"
    assert decision["model_tier"] == "quality"
    assert "tier forced to quality" in decision["reason"]


async def test_assistant_context_forces_the_tier_and_merges_with_run_context(
    client: LangGraphClient, dev_ollama: OllamaServer, dev_persona: str
) -> None:
    quality = await client.assistants.create(
        GRAPH_ID, context={"tier": "quality"}, name="ragged-graph quality test"
    )
    try:
        output = await client.runs.wait(
            None, quality["assistant_id"], input=human(FACT_QUERY), context=None
        )
        decision = assert_answered_by_test_server(dev_ollama, output, FACT_QUERY)
        assert decision["tier"] == "quality"

        # The run's context is merged over the assistant's.
        output = await client.runs.wait(
            None,
            quality["assistant_id"],
            input=human(FACT_QUERY),
            context={"persona": dev_persona},
        )
        decision = assert_answered_by_test_server(dev_ollama, output, FACT_QUERY)
        assert (decision["tier"], decision["persona"]) == ("quality", dev_persona)
    finally:
        await client.assistants.delete(quality["assistant_id"])


async def test_an_assistant_with_a_built_in_persona_routes_for_it(
    client: LangGraphClient, dev_ollama: OllamaServer
) -> None:
    researcher = await client.assistants.create(
        GRAPH_ID, context={"persona": "researcher"}, name="ragged-graph researcher"
    )
    try:
        thread = await client.threads.create()
        query = "Explain neural networks"
        output = await client.runs.wait(
            thread["thread_id"], researcher["assistant_id"], input=human(query)
        )
        decision = assert_answered_by_test_server(dev_ollama, output, query)
        assert decision["persona"] == "researcher"
        assert decision["tier"] == "quality"
        assert decision["persona_rule"] == "rule explanations-in-depth"
        state = await client.threads.get_state(thread["thread_id"])
        assert state["values"]["decision"]["persona"] == "researcher"
        await client.threads.delete(thread["thread_id"])
    finally:
        await client.assistants.delete(researcher["assistant_id"])


async def test_config_persona_reaches_the_decision(
    client: LangGraphClient,
    assistant: dict[str, Any],
    dev_ollama: OllamaServer,
    dev_persona: str,
) -> None:
    output = await client.runs.wait(
        None,
        assistant["assistant_id"],
        input={"query": FACT_QUERY},
        context={"persona": dev_persona},
    )

    decision = assert_answered_by_test_server(dev_ollama, output, FACT_QUERY)
    assert decision["persona"] == dev_persona
    assert decision["tier"] == "fast"  # an empty persona changes nothing


def _dashboard_matches_the_database(server_url: str, history_url: str) -> dict[str, Any]:
    """The dashboard's JSON once the history is still (the server's runs are written within
    its flush interval), after checking its metrics equal the database's."""
    store = HistoryStore(history_url)
    try:
        deadline = time.monotonic() + 15
        while True:
            before = store.count()
            data: dict[str, Any] = httpx.get(f"{server_url}/dashboard/api/metrics").json()
            expected = compute_metrics(store).model_dump(mode="json")
            if before == store.count() == data["metrics"]["requests"]:
                break
            assert time.monotonic() < deadline, "the history kept changing"
            time.sleep(0.5)
    finally:
        store.close()
    drop = {"until"}
    shown = {key: value for key, value in data["metrics"].items() if key not in drop}
    assert shown == {key: value for key, value in expected.items() if key not in drop}
    return data


async def test_dashboard_is_served_next_to_the_api(
    langgraph_dev: DevServer, dev_history_url: str
) -> None:
    # langgraph.json's http.app: the page and its data, over RAGGED_GRAPH_CONFIG's history.
    async with httpx.AsyncClient(timeout=10.0) as http:
        page = await http.get(f"{langgraph_dev.url}/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-api="/dashboard/api/metrics"' in page.text

    data = await asyncio.to_thread(
        _dashboard_matches_the_database, langgraph_dev.url, dev_history_url
    )
    seeded = dashboard_records()
    # The seeded records, and the runs of the tests above (answered by the test server).
    assert data["metrics"]["requests"] > len(seeded)
    # The seeded records (one January morning) are in the oldest bucket (a week or more
    # wide, the runs being months later); the runs are in the newest.
    buckets = data["series"]["buckets"]
    assert data["series"]["bucket_s"] >= 7 * 86_400
    assert buckets[0]["requests"] == len(seeded)
    assert buckets[-1]["requests"] == data["metrics"]["requests"] - len(seeded)
    models = {group["key"] for group in data["metrics"]["by_model"]}
    assert {record.model for record in seeded} < models


async def test_dashboard_page_renders_in_chromium_under_langgraph_dev(
    langgraph_dev: DevServer, tmp_path: Path
) -> None:
    url = f"{langgraph_dev.url}/dashboard"
    dom = read_dashboard(await asyncio.to_thread(dump_dom, url, tmp_path))
    assert dom.errors.strip() == "", dom.errors
    assert dom.state == "ready"
    assert int(dom.summary["requests"]) > len(dashboard_records())


async def test_server_log_shows_no_blocking_calls_or_tracebacks(langgraph_dev: DevServer) -> None:
    # Last on purpose: by now every run above has been logged. `langgraph dev` turns a
    # blocking call on the event loop into a BlockingError that fails the run.
    log = langgraph_dev.log()
    assert "BlockingError" not in log, langgraph_dev.log_tail()
    assert "Traceback" not in log, langgraph_dev.log_tail()
