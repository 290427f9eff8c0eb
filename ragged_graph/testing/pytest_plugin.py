"""Pytest fixtures for the test servers (registered as the `ragged_graph` plugin).

- `ollama_server`: a started `OllamaServer` with the default models, stopped after the test.
- `ollama_server_factory`: `factory(models=None, **kwargs)` starts another server (several
  stand for several Ollama hosts); all are stopped after the test.
- `langsmith_receiver`: a started `LangSmithReceiver` that the real `langsmith` client
  traces to during the test (tracing is on for that test only).

Importing this module imports only the standard library and the servers themselves.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from ragged_graph.testing._scripts import ScriptedModel
from ragged_graph.testing._server import OllamaServer
from ragged_graph.testing.langsmith_receiver import Ingest, LangSmithReceiver

__all__ = [
    "OllamaServerFactory",
    "langsmith_receiver",
    "ollama_server",
    "ollama_server_factory",
]

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


LANGSMITH_TEST_API_KEY = "test"
"""The API key the `langsmith_receiver` fixture sets and its receiver expects."""


def _forget_langsmith_settings(patch: pytest.MonkeyPatch | None) -> None:
    """Make langsmith read its environment again and build a new client on next use.

    langsmith caches environment variables (`utils.get_env_var` and friends) and the client
    every tracer uses (`run_trees._CLIENT`, behind `langchain_core`'s `get_client()`).
    """
    from langsmith import run_trees
    from langsmith import utils as ls_utils

    for cached in (
        getattr(ls_utils, "get_env_var", None),
        getattr(ls_utils, "get_tracer_project", None),
        getattr(run_trees, "_exclude_inputs_on_patch", None),
        getattr(run_trees, "_parse_write_replicas_from_env_var", None),
    ):
        cache_clear = getattr(cached, "cache_clear", None)
        if cache_clear is not None:
            cache_clear()
    if patch is not None:
        patch.setattr(run_trees, "_CLIENT", None)


@pytest.fixture
def langsmith_receiver(request: pytest.FixtureRequest) -> Iterator[LangSmithReceiver]:
    """A `LangSmithReceiver` that LangSmith tracing sends to, for this test only.

    Sets `LANGSMITH_ENDPOINT` (the receiver), `LANGSMITH_API_KEY=test` and
    `LANGSMITH_TRACING=true`, with every other `LANGSMITH_*`/`LANGCHAIN_*` variable unset,
    and gives the test a new langsmith client. Call
    `langchain_core.tracers.langchain.wait_for_all_tracers()` before reading the receiver.
    Afterwards the client is flushed and closed and the environment restored.

    The receiver asks for zstd-compressed multipart uploads, as current LangSmith servers do;
    parametrize the fixture indirectly with `"multipart"` or `"batch"` for the others.
    """
    ingest: Ingest = getattr(request, "param", "compressed")
    receiver = LangSmithReceiver(ingest=ingest, api_key=LANGSMITH_TEST_API_KEY).start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name.startswith(("LANGSMITH_", "LANGCHAIN_")):
                    patch.delenv(name)
            patch.setenv("LANGSMITH_ENDPOINT", receiver.base_url)
            patch.setenv("LANGSMITH_API_KEY", LANGSMITH_TEST_API_KEY)
            patch.setenv("LANGSMITH_TRACING", "true")
            _forget_langsmith_settings(patch)
            try:
                yield receiver
            finally:
                from langsmith import run_trees

                client = run_trees._CLIENT
                if client is not None:
                    client.flush()  # the receiver is still up: this returns promptly
                    # Newer langsmith clients can also stop their background threads.
                    close = getattr(client, "close", None)
                    if close is not None:
                        close(timeout=0)
    finally:
        _forget_langsmith_settings(None)
        receiver.stop()
