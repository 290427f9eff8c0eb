"""Pytest fixtures for the Ollama test server (registered as the `ragged_graph` plugin).

- `ollama_server`: a started `OllamaServer` with the default models, stopped after the test.
- `ollama_server_factory`: `factory(models=None, **kwargs)` starts another server (several
  stand for several Ollama hosts); all are stopped after the test.

Importing this module imports only the standard library and the server itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from ragged_graph.testing._scripts import ScriptedModel
from ragged_graph.testing._server import OllamaServer

__all__ = ["OllamaServerFactory", "ollama_server", "ollama_server_factory"]

OllamaServerFactory = Callable[..., OllamaServer]
"""`factory(models: Iterable[ScriptedModel] | None = None, **OllamaServer kwargs)`."""


@pytest.fixture
def ollama_server_factory() -> Iterator[OllamaServerFactory]:
    """Start Ollama test servers on free ports; all are stopped after the test."""
    servers: list[OllamaServer] = []

    def factory(models: Iterable[ScriptedModel] | None = None, **kwargs: Any) -> OllamaServer:
        server = OllamaServer(models, **kwargs)
        servers.append(server)
        return server.start()

    yield factory
    for server in servers:
        server.stop()


@pytest.fixture
def ollama_server(ollama_server_factory: OllamaServerFactory) -> OllamaServer:
    """A started Ollama test server with the default models (`DEFAULT_MODELS`)."""
    return ollama_server_factory()
