"""Streaming and failures: transparent before the first token, never silent after it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ragged_graph import RaggedRouter, StreamInterruptedError
from ragged_graph.testing import Fault, OllamaServer

pytestmark = pytest.mark.integration

QUESTION = "What is Paris?"


@pytest.fixture
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


def router_for(server: OllamaServer, router_config_for: Any, **fallbacks: Any) -> RaggedRouter:
    settings = {"max_retries": 0, "health_file": None, **fallbacks}
    return RaggedRouter(config=router_config_for(server, fallbacks=settings))


def test_failure_before_the_first_token_falls_back_transparently(
    server: OllamaServer, router_config_for: Any
) -> None:
    router = router_for(server, router_config_for)
    first = router.route(QUESTION).model
    server.update_model(first, fault=Fault.SERVER_ERROR)
    chunks = list(router.stream(QUESTION))
    text = "".join(chunk.text for chunk in chunks)
    routing = chunks[-1].response_metadata["routing"]
    assert routing["answered_by"] != first
    assert text.startswith(f"This is {routing['answered_by']}")


def test_failure_after_tokens_surfaces_with_the_partial_text(
    server: OllamaServer, router_config_for: Any
) -> None:
    router = router_for(server, router_config_for)
    first = router.route(QUESTION).model
    server.update_model(first, fault=Fault.DROP_MID_STREAM, drop_after_chunks=2)
    received: list[str] = []

    def consume() -> None:
        for chunk in router.stream(QUESTION):
            received.append(chunk.text)

    with pytest.raises(StreamInterruptedError) as caught:
        consume()
    assert caught.value.partial_text == "".join(received)
    assert caught.value.partial_text
    assert caught.value.model == first


def test_invoke_falls_back_even_after_tokens_since_nobody_saw_them(
    server: OllamaServer, router_config_for: Any
) -> None:
    router = router_for(server, router_config_for)
    first = router.route(QUESTION).model
    server.update_model(first, fault=Fault.DROP_MID_STREAM, drop_after_chunks=2)
    message = router.invoke(QUESTION)
    attempts = message.response_metadata["routing"]["attempts"]
    assert attempts[0]["error_code"] == "STREAM_INTERRUPTED"
    assert attempts[-1]["ok"]
    assert message.text.startswith(f"This is {attempts[-1]['model']}")


def test_restart_on_another_model_when_the_config_asks(
    server: OllamaServer, router_config_for: Any
) -> None:
    router = router_for(server, router_config_for, restart_stream_on_failure=True)
    first = router.route(QUESTION).model
    server.update_model(first, fault=Fault.DROP_MID_STREAM, drop_after_chunks=2)
    chunks = list(router.stream(QUESTION))
    routing = chunks[-1].response_metadata["routing"]
    assert routing["answered_by"] != first
    assert routing["attempts"][0]["error_code"] == "STREAM_INTERRUPTED"


def test_first_token_timeout_is_typed_and_falls_back(
    server: OllamaServer, router_config_for: Any
) -> None:
    config = router_config_for(server, fallbacks={"max_retries": 0, "health_file": None})
    router = RaggedRouter(config=config, timeout=0.5)
    first = router.route(QUESTION).model
    server.update_model(first, fault=Fault.HANG, hang_seconds=3)
    message = router.invoke(QUESTION)
    attempt = message.response_metadata["routing"]["attempts"][0]
    assert attempt["error_code"] == "PROVIDER_TIMEOUT"
    assert "first token" in attempt["error"]
