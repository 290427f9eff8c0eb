"""ragged_graph: a hardware-, persona- and privacy-aware model router for LangChain on Ollama.

The public API; heavy parts (LangGraph, LangChain) load on first use, so that importing the
package (as pytest does for its plugin) stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragged_graph.errors import (
    AllModelsFailedError,
    ConfigError,
    ErrorCode,
    HostUnavailableError,
    InvalidRequestError,
    ModelLoadError,
    ModelNotFoundError,
    NoModelAvailableError,
    ProviderError,
    ProviderServerError,
    ProviderTimeoutError,
    RaggedGraphError,
    StreamInterruptedError,
    UnknownModelError,
    UnknownPersonaError,
)

if TYPE_CHECKING:
    from ragged_graph.api import get_router, route
    from ragged_graph.chat_model import RaggedRouter
    from ragged_graph.config import RouterConfig, load_config
    from ragged_graph.registry.cards import ModelCard, Tier
    from ragged_graph.routing.decision import RoutingDecision
    from ragged_graph.routing_graph import Context, RoutingGraph

    graph: RoutingGraph

__all__ = [
    "AllModelsFailedError",
    "ConfigError",
    "Context",
    "ErrorCode",
    "HostUnavailableError",
    "InvalidRequestError",
    "ModelCard",
    "ModelLoadError",
    "ModelNotFoundError",
    "NoModelAvailableError",
    "ProviderError",
    "ProviderServerError",
    "ProviderTimeoutError",
    "RaggedGraphError",
    "RaggedRouter",
    "RouterConfig",
    "RoutingDecision",
    "StreamInterruptedError",
    "Tier",
    "UnknownModelError",
    "UnknownPersonaError",
    "get_router",
    "graph",
    "load_config",
    "route",
]

_LAZY = {
    "route": "ragged_graph.api",
    "get_router": "ragged_graph.api",
    "RaggedRouter": "ragged_graph.chat_model",
    "RouterConfig": "ragged_graph.config",
    "load_config": "ragged_graph.config",
    "ModelCard": "ragged_graph.registry.cards",
    "Tier": "ragged_graph.registry.cards",
    "RoutingDecision": "ragged_graph.routing.decision",
    "Context": "ragged_graph.routing_graph",
    "graph": "ragged_graph.routing_graph.builder",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ragged_graph' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
