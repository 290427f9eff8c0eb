"""A fleet of Ollama test servers: the host choice, failover to another host with the same
model, a host stopped mid-run and a slow one."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import RoutingGraph, Services, build_graph
from ragged_graph.routing_graph.nodes.invoke import CALL_OPTIONS_KEY, CallOptions
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import Fault, OllamaServer
from ragged_graph.testing.pytest_plugin import OllamaServerFactory

pytestmark = pytest.mark.integration

QUESTION = "What is Paris?"
MODEL = "llama3.2:3b"  # the fast model every test server has, and loaded
SLOW_FIRST_TOKEN_S = 0.2


@pytest.fixture
def fleet(ollama_server_factory: OllamaServerFactory) -> dict[str, OllamaServer]:
    return {name: ollama_server_factory() for name in ("a", "b", "c")}


def _services(fleet: dict[str, OllamaServer], tmp_path: Path, **fallbacks: Any) -> Services:
    config = RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {
                    "hosts": [
                        {"name": name, "base_url": server.base_url, "labels": [f"rack-{name}"]}
                        for name, server in fleet.items()
                    ],
                    "request_timeout_s": 5,
                },
                "embedded": {"enabled": False},
            },
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None, **fallbacks},
            "history": {"url": f"sqlite:///{tmp_path / 'history.sqlite3'}"},
        }
    )
    return Services.for_router(Router(config))


@pytest.fixture
def services(fleet: dict[str, OllamaServer], tmp_path: Path) -> Iterator[Services]:
    built = _services(fleet, tmp_path, max_retries=0)
    yield built
    built.close()


@pytest.fixture
def graph(services: Services) -> RoutingGraph:
    return build_graph(lambda _context: services)


def tried(out: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(a["model"], a["host"], a["error_code"]) for a in out["attempts"]]


def test_sequential_requests_go_to_the_lowest_recent_latency(
    graph: RoutingGraph, fleet: dict[str, OllamaServer]
) -> None:
    fleet["c"].update_model(MODEL, first_token_delay=SLOW_FIRST_TOKEN_S)
    hosts = [graph.invoke({"query": QUESTION})["attempts"][-1]["host"] for _ in range(12)]
    # Each host is tried once (no recent latency counts as fast), then the slow one no more.
    assert hosts[:3] == ["a", "b", "c"]
    assert Counter(hosts)["c"] == 1
    assert set(hosts[3:]) <= {"a", "b"}


def test_a_host_with_the_model_loaded_wins_over_idle_ones(
    graph: RoutingGraph, fleet: dict[str, OllamaServer]
) -> None:
    fleet["a"].update_model(MODEL, loaded=False)
    fleet["b"].update_model(MODEL, loaded=False)
    out = graph.invoke({"query": QUESTION})
    assert out["decision"]["host"] == "c"
    assert tried(out) == [(MODEL, "c", None)]
    assert "already loaded on c" in out["decision"]["reason"]


def _only_loaded_on_a(graph: RoutingGraph, fleet: dict[str, OllamaServer]) -> None:
    """Requests go to host a first; the registry has read every host (up) already."""
    for name in ("b", "c"):
        fleet[name].update_model(MODEL, loaded=False)
    assert graph.invoke({"query": QUESTION})["attempts"][-1]["host"] == "a"


def test_a_stopped_host_fails_over_to_another_host_before_the_next_model(
    graph: RoutingGraph, fleet: dict[str, OllamaServer]
) -> None:
    _only_loaded_on_a(graph, fleet)
    fleet["a"].stop()
    out = graph.invoke({"query": QUESTION})
    assert tried(out) == [(MODEL, "a", "HOST_UNAVAILABLE"), (MODEL, "b", None)]
    assert out["answer"] == f"This is {MODEL}. You asked: {QUESTION}"


def test_a_refused_connection_is_not_retried_where_another_host_has_the_model(
    fleet: dict[str, OllamaServer], tmp_path: Path
) -> None:
    services = _services(fleet, tmp_path, max_retries=2, retry_backoff_s=5)
    graph = build_graph(lambda _context: services)
    _only_loaded_on_a(graph, fleet)
    fleet["a"].stop()
    out = graph.invoke({"query": QUESTION})
    assert tried(out) == [(MODEL, "a", "HOST_UNAVAILABLE"), (MODEL, "b", None)]
    services.close()


def test_a_model_failing_on_one_host_is_tried_on_the_others_then_the_chain_moves_on(
    graph: RoutingGraph, fleet: dict[str, OllamaServer]
) -> None:
    fleet["a"].update_model(MODEL, fault=Fault.SERVER_ERROR)
    out = graph.invoke({"query": QUESTION})
    assert tried(out) == [(MODEL, "a", "PROVIDER_SERVER_ERROR"), (MODEL, "b", None)]
    for server in fleet.values():
        server.update_model(MODEL, fault=Fault.SERVER_ERROR)
    out = graph.invoke({"query": QUESTION})
    first_three = tried(out)[:3]
    assert {host for _, host, _ in first_three} == {"a", "b", "c"}
    assert {model for model, _, _ in first_three} == {MODEL}
    assert out["attempts"][3]["model"] == out["decision"]["fallbacks"][0]
    assert out["attempts"][-1]["ok"]


def test_a_model_the_host_refuses_as_sent_is_not_tried_elsewhere(
    graph: RoutingGraph, fleet: dict[str, OllamaServer]
) -> None:
    for server in fleet.values():
        server.update_model(MODEL, capabilities=("completion",))  # no tools
    out = graph.invoke({"query": QUESTION}, {"configurable": {CALL_OPTIONS_KEY: _with_tools()}})
    refused = [a["model"] for a in out["attempts"] if a["error_code"] == "BAD_REQUEST"]
    assert refused[0] == MODEL
    assert len(refused) == len(set(refused)), "a refused model is not tried on another host"
    assert out["attempts"][-1]["ok"]


def _with_tools() -> CallOptions:
    tool = {
        "type": "function",
        "function": {"name": "lookup", "description": "Look up.", "parameters": {}},
    }
    return CallOptions(tools=[tool])


def test_a_fleet_with_a_host_stopped_mid_run_and_a_slow_one_loses_nothing(
    fleet: dict[str, OllamaServer], tmp_path: Path
) -> None:
    services = _services(fleet, tmp_path, max_retries=0, cooldown_failures=2, cooldown_s=60)
    graph = build_graph(lambda _context: services)
    fleet["c"].update_model(MODEL, first_token_delay=SLOW_FIRST_TOKEN_S)
    total, stop_after, workers = 90, 30, 6
    answered = 0
    lock = threading.Lock()

    def ask(_: int) -> dict[str, Any]:
        nonlocal answered
        out = graph.invoke({"query": QUESTION})
        with lock:
            answered += 1
            if answered == stop_after:
                fleet["b"].stop()
        return out

    with ThreadPoolExecutor(workers) as pool:
        outs = list(pool.map(ask, range(total)))

    # Nothing is lost, and the model of every answer is the routed one: a failing host's
    # requests went to another host with the model, never down the chain.
    assert len(outs) == total
    assert {out["attempts"][-1]["model"] for out in outs} == {MODEL}
    assert all(out["attempts"][-1]["ok"] for out in outs)
    answered_on = Counter(out["attempts"][-1]["host"] for out in outs)
    failed = [a for out in outs for a in out["attempts"] if not a["ok"]]
    assert {a["host"] for a in failed} <= {"b"}
    for out in outs:
        if len(out["attempts"]) > 1:
            assert out["attempts"][-1]["host"] != "b"
    # The stopped host cooled down (the host, or the model on it when the failures were
    # streams cut short): the last requests did not try it at all.
    cooling = {s.key for s in services.health.status() if s.state == "open"}
    assert cooling & {"host:b", f"model:{MODEL}@b"}
    assert all(a["host"] != "b" for out in outs[-20:] for a in out["attempts"])
    # Fewest in flight, then lowest latency: the slow host got the fewest answers of the
    # hosts up all along, but still some (its in-flight count was lowest at times).
    assert 0 < answered_on["c"] < answered_on["a"]
    assert answered_on["b"] > 0
    assert {status.host: status.in_flight for status in services.load.status()} == {
        "a": 0,
        "b": 0,
        "c": 0,
    }
    # The routing history has every request, with the host that answered it.
    services.close()
    assert services.history is not None
    history = HistoryStore(services.history.url).records()
    assert len(history) == total
    assert Counter(record.host for record in history) == answered_on
    assert all(record.answered_by == MODEL for record in history)
