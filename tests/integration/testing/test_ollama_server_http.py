"""The Ollama test server on the wire: endpoint shapes, recording, keep-alive and load."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import httpx
import ollama
import pytest

from ragged_graph.testing import OllamaServer, ScriptedModel
from ragged_graph.testing.pytest_plugin import OllamaServerFactory

pytestmark = pytest.mark.integration

DETAILS_KEYS = {
    "parent_model",
    "format",
    "family",
    "families",
    "parameter_size",
    "quantization_level",
}


def test_root_and_version(ollama_server: OllamaServer) -> None:
    assert httpx.get(ollama_server.base_url).text == "Ollama is running"
    assert httpx.get(f"{ollama_server.base_url}/api/version").json() == {"version": "0.12.6"}


def test_tags_shape(ollama_server: OllamaServer) -> None:
    response = httpx.get(f"{ollama_server.base_url}/api/tags")
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    models = {m["name"]: m for m in response.json()["models"]}
    qwen = models["qwen2.5:7b"]
    assert qwen.keys() == {"name", "model", "modified_at", "size", "digest", "details"}
    assert qwen["model"] == "qwen2.5:7b"
    assert qwen["size"] == 4_683_087_332
    assert len(qwen["digest"]) == 64
    assert qwen["details"].keys() == DETAILS_KEYS
    assert qwen["details"]["parameter_size"] == "7.6B"
    assert qwen["details"]["quantization_level"] == "Q4_K_M"
    assert qwen["details"]["family"] == "qwen2"


def test_show_shape(ollama_server: OllamaServer) -> None:
    response = httpx.post(f"{ollama_server.base_url}/api/show", json={"model": "llama3.3:70b"})
    body = response.json()
    for key in ("modelfile", "parameters", "template", "details", "model_info", "modified_at"):
        assert key in body
    assert body["capabilities"] == ["completion", "tools"]
    info = body["model_info"]
    assert info["general.architecture"] == "llama"
    assert info["llama.context_length"] == 131_072
    assert info["general.parameter_count"] == 70_553_706_560
    assert body["details"]["parameter_size"] == "70.6B"


def test_show_of_unknown_model_is_404(ollama_server: OllamaServer) -> None:
    response = httpx.post(f"{ollama_server.base_url}/api/show", json={"model": "x:1b"})
    assert response.status_code == 404
    assert response.json() == {"error": "model 'x:1b' not found"}


def test_ps_lists_loaded_models_and_chat_loads_one(ollama_server: OllamaServer) -> None:
    def ps() -> dict[str, dict[str, object]]:
        models = httpx.get(f"{ollama_server.base_url}/api/ps").json()["models"]
        return {m["name"]: m for m in models}

    loaded = ps()
    assert list(loaded) == ["llama3.2:3b"]
    entry = loaded["llama3.2:3b"]
    assert entry.keys() == {
        "name",
        "model",
        "size",
        "digest",
        "details",
        "expires_at",
        "size_vram",
        "context_length",
    }
    assert entry["size_vram"] == entry["size"] == 2_019_393_189
    assert entry["context_length"] == 4096
    body = {"model": "qwen2.5:14b", "messages": [{"role": "user", "content": "hi"}]}
    httpx.post(f"{ollama_server.base_url}/api/chat", json=body)
    assert set(ps()) == {"llama3.2:3b", "qwen2.5:14b"}


def test_official_ollama_client_parses_every_listing(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    server = ollama_server_factory(
        [ScriptedModel(name="m:1b", loaded=True, size=1000, size_vram=400, family="phi3")]
    )
    client = ollama.Client(host=server.base_url)
    [listed] = client.list().models
    assert (listed.model, listed.size) == ("m:1b", 1000)
    assert listed.details is not None
    assert listed.details.family == "phi3"
    shown = client.show("m:1b")
    assert shown.modelinfo is not None
    assert shown.modelinfo["phi3.context_length"] == 32_768
    assert shown.capabilities == ["completion", "tools"]
    [running] = client.ps().models
    assert (running.size_vram, running.context_length) == (400, 4096)
    assert running.expires_at is not None


def test_streamed_chat_is_ndjson_with_a_final_done_object(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    server = ollama_server_factory([ScriptedModel(name="m:1b", answer="a b")])
    body = {"model": "m:1b", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", f"{server.base_url}/api/chat", json=body) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.headers["transfer-encoding"] == "chunked"
        lines = [json.loads(line) for line in response.iter_lines()]
    assert [line["message"]["content"] for line in lines] == ["a", " b", ""]
    assert [line["done"] for line in lines] == [False, False, True]
    assert "done_reason" not in lines[0]
    assert "eval_count" not in lines[0]
    final = lines[-1]
    assert final["done_reason"] == "stop"
    for key in ("total_duration", "load_duration", "prompt_eval_count", "eval_count"):
        assert isinstance(final[key], int)
    assert final["message"] == {"role": "assistant", "content": ""}


def test_non_streamed_chat_is_one_object_with_tool_calls(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    from ragged_graph.testing import ToolCall

    server = ollama_server_factory(
        [ScriptedModel(name="m:1b", tool_calls=(ToolCall(name="f", arguments={"x": 1}),))]
    )
    body = {
        "model": "m:1b",
        "stream": False,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }
    response = httpx.post(f"{server.base_url}/api/chat", json=body)
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    payload = response.json()
    assert payload["done"] is True
    [call] = payload["message"]["tool_calls"]
    assert call["function"] == {"index": 0, "name": "f", "arguments": {"x": 1}}
    assert call["id"].startswith("call_")


def test_unknown_route_and_wrong_method(ollama_server: OllamaServer) -> None:
    assert httpx.get(f"{ollama_server.base_url}/api/nothing").status_code == 404
    assert httpx.get(f"{ollama_server.base_url}/api/chat").status_code == 405
    bad = httpx.post(f"{ollama_server.base_url}/api/chat", content=b"{not json")
    assert bad.status_code == 400


def test_requests_are_recorded_with_body_headers_and_time(ollama_server: OllamaServer) -> None:
    before = time.time()
    client = ollama.Client(host=ollama_server.base_url)
    client.list()
    client.chat(model="qwen2.5:7b", messages=[{"role": "user", "content": "hi"}])
    client.chat(model="llama3.2:3b", messages=[{"role": "user", "content": "yo"}])
    recorded = ollama_server.requests
    assert [(r.method, r.path) for r in recorded] == [
        ("GET", "/api/tags"),
        ("POST", "/api/chat"),
        ("POST", "/api/chat"),
    ]
    assert recorded[1].body["messages"] == [{"role": "user", "content": "hi"}]
    assert recorded[1].headers["user-agent"].startswith("ollama-python/")
    assert before <= recorded[0].time <= recorded[2].time <= time.time()
    [qwen] = ollama_server.chat_requests(model="qwen2.5:7b")
    assert qwen.model == "qwen2.5:7b"
    assert ollama_server.find_requests(method="get") == recorded[:1]
    ollama_server.clear_requests()
    assert ollama_server.requests == []


def test_recording_is_thread_safe_under_concurrency(ollama_server: OllamaServer) -> None:
    async def burst() -> None:
        async with httpx.AsyncClient(base_url=ollama_server.base_url) as client:
            await asyncio.gather(*(client.get("/api/version") for _ in range(200)))

    asyncio.run(burst())
    assert len(ollama_server.find_requests(path="/api/version")) == 200


def test_keep_alive_streams_do_not_stall(ollama_server_factory: OllamaServerFactory) -> None:
    # With Nagle on (no TCP_NODELAY), each streamed answer on a reused connection waits
    # ~40 ms for a delayed ACK: 30 answers would take over a second.
    server = ollama_server_factory([ScriptedModel(name="m:1b", answer="a b c")])
    body = {"model": "m:1b", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(base_url=server.base_url) as client:
        client.post("/api/chat", json=body)
        started = time.monotonic()
        for _ in range(30):
            assert client.post("/api/chat", json=body).status_code == 200
        elapsed = time.monotonic() - started
    assert elapsed < 0.6, f"30 keep-alive streamed chats took {elapsed:.2f} s"


def test_accepts_1000_simultaneous_connections(ollama_server: OllamaServer) -> None:
    # The default listen backlog (5) resets connections under such a burst.
    async def one(port: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        await writer.drain()
        data = await reader.read()
        writer.close()
        return data

    async def burst() -> list[bytes]:
        everyone = asyncio.gather(*(one(ollama_server.port) for _ in range(1000)))
        return await asyncio.wait_for(everyone, timeout=30)

    answers = asyncio.run(burst())
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers)


def test_stop_closes_idle_keep_alive_connections(ollama_server: OllamaServer) -> None:
    with socket.create_connection(("127.0.0.1", ollama_server.port)) as sock:
        sock.sendall(b"GET /api/version HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        ollama_server.stop()
        sock.settimeout(2)
        assert sock.recv(4096) == b""
