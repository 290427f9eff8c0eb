"""Registries over fixed model sets, for routing tests that need no server."""

from __future__ import annotations

from collections.abc import Iterable

import httpx

from ragged_graph.registry.hardware import MemoryBudget
from ragged_graph.registry.registry import ModelRegistry, RegistrySnapshot
from ragged_graph.registry.sources.builtin import BUILTIN_CARDS
from ragged_graph.registry.sources.ollama import OllamaSource

__all__ = ["budget", "offline_registry", "registry_with_installed"]


def budget(gb: float) -> MemoryBudget:
    return MemoryBudget(budget_gb=gb, accelerator="cpu", rule=f"test budget of {gb} GB")


def serving(installed: Iterable[str], loaded: Iterable[str] = ()) -> httpx.MockTransport:
    """An Ollama host with ``installed`` (built-in tags, their cards' sizes) and ``loaded``."""
    sizes = {card.name: card.memory_gb / 1.2 for card in BUILTIN_CARDS}
    tags = [
        {
            "name": name,
            "model": name,
            "size": int(sizes.get(name, 4.0) * 1e9),
            "digest": f"sha-{name}",
            "details": {"parameter_size": "7B"},
        }
        for name in installed
    ]
    ps = [{"name": name, "size": 1, "size_vram": 1} for name in loaded]

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/tags":
            return httpx.Response(200, json={"models": tags})
        if request.url.path == "/api/ps":
            return httpx.Response(200, json={"models": ps})
        return httpx.Response(404, json={"error": "not found"})

    return httpx.MockTransport(handle)


def refusing() -> httpx.MockTransport:
    """An Ollama host that refuses every connection."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    return httpx.MockTransport(refuse)


def registry_with_installed(
    installed: Iterable[str], *, memory_gb: float = 64, loaded: Iterable[str] = ()
) -> ModelRegistry:
    """A registry whose one host has exactly ``installed`` (built-in tags) installed."""
    host = OllamaSource("http://ollama.test", host="box", transport=serving(installed, loaded))
    return ModelRegistry(budget=budget(memory_gb), hosts=[host])


def offline_registry(*, memory_gb: float = 64) -> ModelRegistry:
    """A registry whose host never answers: availability unknown, every card assumed."""

    host = OllamaSource("http://127.0.0.1:9", host="gone", transport=refusing())
    return ModelRegistry(budget=budget(memory_gb), hosts=[host])


def snapshot_of(registry: ModelRegistry) -> RegistrySnapshot:
    return registry.snapshot()
