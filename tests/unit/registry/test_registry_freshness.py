"""`is_fresh`: whether the registry can answer without a (blocking) request to a host."""

from __future__ import annotations

import httpx

from ragged_graph.registry import ModelRegistry
from ragged_graph.registry.hardware import MemoryBudget
from ragged_graph.registry.sources.ollama import OllamaSource

_BUDGET = MemoryBudget(budget_gb=64, accelerator="cpu", rule="test budget")


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _host(clock: _Clock, calls: list[str]) -> OllamaSource:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"models": []})

    return OllamaSource(
        "http://box.test",
        host="box",
        ttl_s=30.0,
        transport=httpx.MockTransport(handle),
        clock=clock,
    )


def test_a_host_is_fresh_from_its_fetch_until_its_ttl_passes() -> None:
    clock, calls = _Clock(), list[str]()
    host = _host(clock, calls)
    assert not host.is_fresh(), "nothing fetched yet"
    host.inventory()
    assert host.is_fresh()
    clock.now += 29.9
    assert host.is_fresh()
    assert calls == ["/api/tags", "/api/ps"], "asking whether it is fresh makes no request"
    clock.now += 0.2
    assert not host.is_fresh()


def test_the_registry_is_fresh_only_when_every_host_is() -> None:
    clock, calls = _Clock(), list[str]()
    first, second = _host(clock, calls), _host(clock, calls)
    registry = ModelRegistry(budget=_BUDGET, hosts=[first, second])
    assert not registry.is_fresh()
    first.inventory()
    assert not registry.is_fresh()
    registry.snapshot()
    assert registry.is_fresh()
    clock.now += 31
    assert not registry.is_fresh()
    assert ModelRegistry(budget=_BUDGET).is_fresh(), "no host: nothing to fetch"
