"""Each fault costs at most the configured timeout and ends in the next fitting model's answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from ragged_graph import RaggedRouter
from ragged_graph.config import RouterConfig
from ragged_graph.testing import DEFAULT_MODELS, Fault, OllamaServer

pytestmark = pytest.mark.integration

TIMEOUT_S = 1.0
QUESTION = "What is Paris?"


@pytest.fixture
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


def router_for(*servers: OllamaServer) -> RaggedRouter:
    config = RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {
                    "hosts": [
                        {"name": f"h{i}", "base_url": s.base_url} for i, s in enumerate(servers)
                    ],
                    "request_timeout_s": TIMEOUT_S,
                }
            },
            "hardware": {"memory_gb": 64},
            "fallbacks": {"max_retries": 0, "health_file": None},
        }
    )
    return RaggedRouter(config=config)


def answer_after(router: RaggedRouter, first: str) -> tuple[dict[str, Any], float]:
    started = time.perf_counter()
    message = router.invoke(QUESTION)
    elapsed = time.perf_counter() - started
    routing = message.response_metadata["routing"]
    assert routing["attempts"][0]["model"] == first
    assert routing["answered_by"] != first
    assert message.text.startswith(f"This is {routing['answered_by']}")
    return routing, elapsed


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        (Fault.NOT_FOUND, "MODEL_NOT_FOUND"),
        (Fault.OUT_OF_MEMORY, "MODEL_LOAD_FAILED"),
        (Fault.HANG, "PROVIDER_TIMEOUT"),
    ],
    ids=["model-removed", "out-of-memory", "hung-model"],
)
def test_a_failing_model_costs_at_most_the_timeout(
    server: OllamaServer, fault: Fault, code: str
) -> None:
    router = router_for(server)
    first = router.route(QUESTION).model
    server.update_model(first, fault=fault, hang_seconds=10)
    routing, elapsed = answer_after(router, first)
    assert routing["attempts"][0]["error_code"] == code
    assert elapsed < TIMEOUT_S + 1.0


def test_a_stopped_host_costs_at_most_the_timeout() -> None:
    small = [m for m in DEFAULT_MODELS if m.name in {"llama3.2:3b", "qwen2.5:7b"}]
    others = [replace(m, loaded=False) for m in DEFAULT_MODELS if m not in small]
    with OllamaServer(small) as doomed, OllamaServer(others) as healthy:
        router = router_for(doomed, healthy)
        first = router.route(QUESTION).model
        assert first in {m.name for m in small}
        doomed.stop()
        routing, elapsed = answer_after(router, first)
    assert routing["attempts"][0]["error_code"] == "HOST_UNAVAILABLE"
    assert routing["attempts"][-1]["host"] == "h1"
    assert elapsed < TIMEOUT_S + 1.0
