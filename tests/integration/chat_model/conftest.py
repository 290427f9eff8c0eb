"""Shared pieces of the `RaggedRouter` integration tests: configs pointing at test servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.testing import OllamaServer

RouterConfigFor = Callable[..., RouterConfig]


def config_for(*servers: OllamaServer, memory_gb: float = 64, **settings: Any) -> RouterConfig:
    """A router config whose only Ollama hosts are ``servers``, with a fixed memory budget.

    ``settings`` adds other top-level config keys (``personas=...``, ``fallbacks=...``).
    """
    hosts = [{"name": f"test{i}", "base_url": s.base_url} for i, s in enumerate(servers)]
    return RouterConfig.model_validate(
        {
            "providers": {"ollama": {"hosts": hosts}},
            "hardware": {"memory_gb": memory_gb},
            **settings,
        }
    )


@pytest.fixture(scope="session")
def router_config_for() -> RouterConfigFor:
    """`router_config_for(server, ...)`: a `RouterConfig` pointing at those test servers."""
    return config_for
