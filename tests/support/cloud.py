"""Routers with cloud models beside local ones, for routing tests that call nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ragged_graph.config import RouterConfig
from ragged_graph.registry.registry import ModelRegistry
from ragged_graph.registry.sources.builtin import BuiltinSource
from ragged_graph.registry.sources.cloud import CloudSource
from ragged_graph.registry.sources.ollama import OllamaSource
from ragged_graph.routing.router import Router
from tests.support.registries import budget, serving

__all__ = ["CLOUD_MODELS", "cloud_config", "hybrid_router"]

CLOUD_MODELS: tuple[dict[str, Any], ...] = (
    {
        "name": "gpt-4o",
        "provider": "openai",
        "input_price_per_mtok": 2.5,
        "output_price_per_mtok": 10.0,
        "tokens_per_second": 80,
        "first_token_ms": 500,
    },
    {
        "name": "claude-sonnet-4-5",
        "provider": "anthropic",
        "input_price_per_mtok": 3.0,
        "output_price_per_mtok": 15.0,
        "tokens_per_second": 70,
        "first_token_ms": 600,
    },
    {
        "name": "gpt-4o-mini",
        "provider": "openai",
        "tier": "balanced",
        "input_price_per_mtok": 0.15,
        "output_price_per_mtok": 0.6,
        "tokens_per_second": 90,
        "first_token_ms": 400,
    },
)


def cloud_config(**extra: Any) -> RouterConfig:
    """A config with the cloud models above enabled, plus ``extra`` settings."""
    data: dict[str, Any] = {"cloud": {"enabled": True, "models": list(CLOUD_MODELS)}}
    data.update(extra)
    return RouterConfig.model_validate(data)


def hybrid_router(
    installed: Iterable[str] = ("llama3.3:70b", "qwen2.5:32b", "llama3.1:8b", "llama3.2:3b"),
    *,
    loaded: Iterable[str] = (),
    memory_gb: float = 64,
    config: RouterConfig | None = None,
    **extra: Any,
) -> Router:
    """A router over local models installed on one (mock) host and the cloud models."""
    config = config if config is not None else cloud_config(**extra)
    host = OllamaSource(
        "http://ollama.test", host="box", transport=serving(list(installed), list(loaded))
    )
    registry = ModelRegistry(
        budget=budget(memory_gb),
        static_sources=(BuiltinSource(), CloudSource(config.cloud, installed=lambda _p: True)),
        hosts=[host],
    )
    return Router(config, registry=registry)
