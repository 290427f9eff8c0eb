"""Scripted faults of the Ollama test server, as the real `ChatOllama` sees them (SPEC §6)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import ollama
import pytest
from langchain_core.messages import BaseMessageChunk
from langchain_ollama import ChatOllama

from ragged_graph.testing import Fault, OllamaServer, ScriptedModel
from ragged_graph.testing.pytest_plugin import OllamaServerFactory

pytestmark = pytest.mark.integration

TEXT = "one two three four five six seven eight"


def chat_model(server: OllamaServer, model: str = "qwen2.5:7b", **kwargs: Any) -> ChatOllama:
    return ChatOllama(model=model, base_url=server.base_url, **kwargs)


def collect(chunks: Iterator[BaseMessageChunk], into: list[str]) -> None:
    """Append each chunk's text to `into` until the stream ends or fails."""
    for chunk in chunks:
        into.append(str(chunk.content))


async def acollect(chunks: AsyncIterator[BaseMessageChunk], into: list[str]) -> None:
    """Append each chunk's text to `into` until the stream ends or fails."""
    async for chunk in chunks:
        into.append(str(chunk.content))


def faulty(factory: OllamaServerFactory, fault: Fault, **changes: Any) -> OllamaServer:
    return factory([ScriptedModel(name="qwen2.5:7b", answer=TEXT, fault=fault, **changes)])


class TestMissingModel:
    def test_unscripted_model_is_a_404_response_error(self, ollama_server: OllamaServer) -> None:
        with pytest.raises(ollama.ResponseError) as info:
            chat_model(ollama_server, "llama3.2:8b").invoke("x")
        assert info.value.status_code == 404
        assert info.value.error == "model 'llama3.2:8b' not found"

    async def test_not_found_fault_async(self, ollama_server_factory: OllamaServerFactory) -> None:
        server = faulty(ollama_server_factory, Fault.NOT_FOUND)
        with pytest.raises(ollama.ResponseError) as info:
            await chat_model(server).ainvoke("x")
        assert info.value.status_code == 404

    def test_removed_model_answers_404(self, ollama_server: OllamaServer) -> None:
        ollama_server.remove_model("qwen2.5:7b")
        with pytest.raises(ollama.ResponseError) as info:
            chat_model(ollama_server).invoke("x")
        assert info.value.status_code == 404


class TestServerErrors:
    def test_server_error_is_a_500_response_error(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = faulty(ollama_server_factory, Fault.SERVER_ERROR, error_message="boom")
        with pytest.raises(ollama.ResponseError) as info:
            chat_model(server).invoke("x")
        assert (info.value.status_code, info.value.error) == (500, "boom")

    @pytest.mark.parametrize("stream", [True, False])
    def test_out_of_memory_is_a_500_with_the_memory_text(
        self, ollama_server_factory: OllamaServerFactory, stream: bool
    ) -> None:
        server = faulty(
            ollama_server_factory,
            Fault.OUT_OF_MEMORY,
            size=42_520_413_916,
            available_memory_gib=15.3,
        )
        with pytest.raises(ollama.ResponseError) as info:
            chat_model(server).invoke("x", stream=stream)
        assert info.value.status_code == 500
        assert info.value.error == (
            "model requires more system memory (45.5 GiB) than is available (15.3 GiB)"
        )

    def test_capability_refusals_are_400(self, ollama_server: OllamaServer) -> None:
        with pytest.raises(ollama.ResponseError, match="does not support chat") as info:
            chat_model(ollama_server, "nomic-embed-text").invoke("x")
        assert info.value.status_code == 400
        with pytest.raises(ollama.ResponseError, match="does not support tools"):
            chat_model(ollama_server, "gemma3:4b").bind_tools([{"name": "f"}]).invoke("x")
        with pytest.raises(ollama.ResponseError, match="does not support thinking"):
            chat_model(ollama_server, "qwen2.5:7b", reasoning=True).invoke("x")


class TestRecovery:
    def test_fault_applies_only_to_the_first_n_requests(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = faulty(ollama_server_factory, Fault.SERVER_ERROR, fail_times=2)
        llm = chat_model(server)
        for _ in range(2):
            with pytest.raises(ollama.ResponseError):
                llm.invoke("x")
        assert llm.invoke("x").content == TEXT
        assert len(server.chat_requests()) == 3

    def test_fault_can_be_switched_on_and_off_while_running(
        self, ollama_server: OllamaServer
    ) -> None:
        llm = chat_model(ollama_server)
        ollama_server.update_model("qwen2.5:7b", fault=Fault.SERVER_ERROR)
        with pytest.raises(ollama.ResponseError):
            llm.invoke("x")
        ollama_server.update_model("qwen2.5:7b", fault=None)
        assert llm.invoke("x").content


class TestRefusedConnection:
    @pytest.fixture
    def stopped(self, ollama_server: OllamaServer) -> OllamaServer:
        ollama_server.stop()
        return ollama_server

    def test_streaming_raises_httpx_connect_error(self, stopped: OllamaServer) -> None:
        with pytest.raises(httpx.ConnectError):
            list(chat_model(stopped).stream("x"))

    def test_plain_invoke_streams_on_the_wire_so_also_httpx(self, stopped: OllamaServer) -> None:
        # ChatOllama.invoke() sends "stream": true; only stream=False takes the other path.
        with pytest.raises(httpx.ConnectError):
            chat_model(stopped).invoke("x")

    def test_non_streaming_raises_builtin_connection_error(self, stopped: OllamaServer) -> None:
        with pytest.raises(ConnectionError, match="Failed to connect to Ollama"):
            chat_model(stopped).invoke("x", stream=False)

    def test_validation_raises_builtin_connection_error(self, stopped: OllamaServer) -> None:
        with pytest.raises(ConnectionError):
            chat_model(stopped, validate_model_on_init=True)

    async def test_async_raises_httpx_connect_error(self, stopped: OllamaServer) -> None:
        with pytest.raises(httpx.ConnectError):
            await chat_model(stopped).ainvoke("x")

    def test_restarted_server_answers_again_on_the_same_port(self, stopped: OllamaServer) -> None:
        url = stopped.base_url
        stopped.start()
        assert stopped.base_url == url
        assert chat_model(stopped).invoke("x").content


class TestHang:
    @pytest.mark.parametrize("stream", [True, False])
    def test_hang_with_client_timeout_is_a_read_timeout(
        self, ollama_server_factory: OllamaServerFactory, stream: bool
    ) -> None:
        server = faulty(ollama_server_factory, Fault.HANG)
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            chat_model(server, client_kwargs={"timeout": 0.5}).invoke("x", stream=stream)
        assert 0.4 < time.monotonic() - started < 3

    async def test_hang_async(self, ollama_server_factory: OllamaServerFactory) -> None:
        server = faulty(ollama_server_factory, Fault.HANG)
        with pytest.raises(httpx.ReadTimeout):
            await chat_model(server, client_kwargs={"timeout": 0.3}).ainvoke("x")

    def test_stopping_the_server_ends_a_hang(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = faulty(ollama_server_factory, Fault.HANG, hang_seconds=60)
        llm = chat_model(server, client_kwargs={"timeout": 5})
        threading.Timer(0.2, server.stop).start()
        started = time.monotonic()
        with pytest.raises(httpx.RemoteProtocolError):
            llm.invoke("x")
        assert time.monotonic() - started < 2

    def test_slow_first_token_beyond_the_timeout_is_a_read_timeout(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = ollama_server_factory([ScriptedModel(name="qwen2.5:7b", first_token_delay=2)])
        with pytest.raises(httpx.ReadTimeout):
            chat_model(server, client_kwargs={"timeout": 0.3}).invoke("x")


class TestDroppedConnection:
    def test_some_chunks_arrive_then_remote_protocol_error(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = faulty(ollama_server_factory, Fault.DROP_MID_STREAM, drop_after_chunks=3)
        received: list[str] = []
        with pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"):
            collect(chat_model(server).stream("x"), received)
        assert received == ["one", " two", " three"]

    async def test_dropped_async_stream(self, ollama_server_factory: OllamaServerFactory) -> None:
        server = faulty(ollama_server_factory, Fault.DROP_MID_STREAM)
        received: list[str] = []
        with pytest.raises(httpx.RemoteProtocolError):
            await acollect(chat_model(server).astream("x"), received)
        assert received == ["one", " two"]

    def test_dropped_before_a_non_streamed_answer(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = faulty(ollama_server_factory, Fault.DROP_MID_STREAM)
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            chat_model(server).invoke("x", stream=False)

    def test_error_line_mid_stream_is_a_response_error_without_status(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = faulty(ollama_server_factory, Fault.STREAM_ERROR, error_message="runner died")
        received: list[str] = []
        with pytest.raises(ollama.ResponseError, match="runner died") as info:
            collect(chat_model(server).stream("x"), received)
        assert received == ["one", " two"]
        assert info.value.status_code == -1

    def test_server_keeps_serving_after_a_drop(
        self, ollama_server_factory: OllamaServerFactory
    ) -> None:
        server = faulty(ollama_server_factory, Fault.DROP_MID_STREAM, fail_times=1)
        llm = chat_model(server)
        with pytest.raises(httpx.RemoteProtocolError):
            llm.invoke("x")
        assert llm.invoke("x").content == TEXT
