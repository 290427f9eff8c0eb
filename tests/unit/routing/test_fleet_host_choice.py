from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.registry.registry import ModelRegistry, RegistryEntry, RegistrySnapshot
from ragged_graph.registry.sources.ollama import OllamaSource
from ragged_graph.routing.fleet import HostSignals, choose_host, rank_hosts
from ragged_graph.routing.router import Router
from tests.support.registries import budget, refusing, serving

MODEL = "qwen2.5:7b"


def _host(name: str, installed: Sequence[str], loaded: Sequence[str] = ()) -> OllamaSource:
    return OllamaSource(
        f"http://{name}.test:11434", host=name, transport=serving(installed, loaded)
    )


def _gone(name: str) -> OllamaSource:
    return OllamaSource(f"http://{name}.test:9", host=name, transport=refusing())


def fleet(*hosts: OllamaSource) -> ModelRegistry:
    return ModelRegistry(budget=budget(64), hosts=list(hosts))


def entry(registry: ModelRegistry, name: str = MODEL) -> tuple[RegistrySnapshot, RegistryEntry]:
    return registry.snapshot(), registry.get(name)


def signals(
    *,
    in_flight: Mapping[str, int] | None = None,
    latency: Mapping[str, float] | None = None,
    cooling: Sequence[str] = (),
) -> HostSignals:
    return HostSignals(
        in_flight=lambda host: (in_flight or {}).get(host, 0),
        recent_latency_ms=lambda host: (latency or {}).get(host),
        available=lambda _model, host: host not in cooling,
    )


def hosts_of(snapshot: RegistrySnapshot, found: RegistryEntry, **kwargs: object) -> list[str]:
    return [choice.host for choice in rank_hosts(snapshot, found, **kwargs)]  # type: ignore[arg-type]


def test_a_host_with_the_model_loaded_comes_first() -> None:
    registry = fleet(_host("a", [MODEL]), _host("b", [MODEL], loaded=[MODEL]))
    assert hosts_of(*entry(registry)) == ["b", "a"]


def test_among_loaded_hosts_the_least_busy_comes_first() -> None:
    registry = fleet(*(_host(name, [MODEL], loaded=[MODEL]) for name in "abc"))
    ranked = hosts_of(*entry(registry), signals=signals(in_flight={"a": 2, "b": 0, "c": 1}))
    assert ranked == ["b", "c", "a"]


def test_loaded_beats_idle() -> None:
    registry = fleet(_host("a", [MODEL], loaded=[MODEL]), _host("b", [MODEL]))
    assert hosts_of(*entry(registry), signals=signals(in_flight={"a": 5})) == ["a", "b"]


def test_equally_busy_hosts_go_by_recent_latency_and_unknown_counts_as_fast() -> None:
    registry = fleet(*(_host(name, [MODEL], loaded=[MODEL]) for name in "abc"))
    ranked = hosts_of(*entry(registry), signals=signals(latency={"a": 300.0, "b": 20.0}))
    assert ranked == ["c", "b", "a"], "a host with no recent calls is tried"


def test_equal_hosts_keep_the_configured_order() -> None:
    registry = fleet(*(_host(name, [MODEL]) for name in "cab"))
    assert hosts_of(*entry(registry)) == ["c", "a", "b"]


def test_a_cooling_host_goes_last_whatever_else_it_has() -> None:
    registry = fleet(_host("a", [MODEL], loaded=[MODEL]), _host("b", [MODEL]))
    ranked = rank_hosts(*entry(registry), signals(cooling=["a"]))
    assert [(choice.host, choice.available) for choice in ranked] == [("b", True), ("a", False)]
    assert "cooling down" in ranked[1].reason


def test_only_hosts_that_have_the_model_are_ranked() -> None:
    registry = fleet(_host("a", ["llama3.2:3b"]), _host("b", [MODEL]), _gone("c"))
    assert hosts_of(*entry(registry)) == ["b"]


def test_tried_hosts_are_left_out_until_none_is_left() -> None:
    registry = fleet(*(_host(name, [MODEL]) for name in "ab"))
    snapshot, found = entry(registry)
    assert hosts_of(snapshot, found, exclude=["a"]) == ["b"]
    assert choose_host(snapshot, found, exclude=["a", "b"]) is None


def test_with_no_host_answering_every_configured_host_is_a_candidate() -> None:
    registry = fleet(_gone("a"), _gone("b"))
    snapshot, found = entry(registry)
    assert not snapshot.availability_known
    assert hosts_of(snapshot, found) == ["a", "b"]


def test_the_reason_says_what_ranked_a_host() -> None:
    registry = fleet(_host("a", [MODEL], loaded=[MODEL]))
    choice = choose_host(*entry(registry), signals(in_flight={"a": 2}, latency={"a": 41.6}))
    assert choice is not None
    assert choice.reason == "loaded, 2 in flight, 42 ms to first token"


@pytest.fixture
def router() -> Router:
    registry = fleet(
        _host("a", [MODEL, "llama3.2:3b"], loaded=[MODEL]),
        _host("b", [MODEL, "llama3.2:3b"], loaded=[MODEL]),
    )
    return Router(RouterConfig(), registry=registry)


def test_the_router_chooses_hosts_by_the_live_signals(router: Router) -> None:
    assert router.host_for(MODEL) == ("a", "http://a.test:11434")
    router.host_signals = signals(in_flight={"a": 1})
    assert router.host_for(MODEL) == ("b", "http://b.test:11434")
    assert router.host_for(MODEL, exclude=["b"])[0] == "a"
    assert router.host_for(MODEL, exclude=["a", "b"]) == (None, None)


def test_a_decision_names_the_host_chosen_now_not_a_remembered_one(router: Router) -> None:
    first = router.decide("What is the capital of France?")
    router.host_signals = signals(in_flight={first.host or "": 3})
    second = router.decide("What is the capital of France?")
    assert first.model == second.model
    assert {first.host, second.host} == {"a", "b"}


def test_a_model_installed_nowhere_goes_to_the_first_host(router: Router) -> None:
    assert router.host_for("llama3.3:70b") == ("a", "http://a.test:11434")
