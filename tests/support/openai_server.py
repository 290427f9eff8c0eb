"""A tiny OpenAI-compatible ``/v1/chat/completions`` server on loopback, for cloud-model tests.

It speaks what ``langchain-openai`` sends and reads: JSON answers, or server-sent events when
``stream`` is true (with a last usage chunk when ``stream_options.include_usage`` asks), and
OpenAI-shaped error bodies for a scripted HTTP status. Every request body is kept, so a test
can check what reached "the cloud" (and, above all, what did not).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["OpenAIServer", "openai_server"]

PROMPT_TOKENS = 1200
COMPLETION_TOKENS = 300


class OpenAIServer:
    """The server's state: the answer, an optional fault status, and the requests seen."""

    def __init__(self) -> None:
        self.answer = "Hello from the cloud."
        self.status: int | None = None
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._json(404, {"error": {"message": "no such path", "type": "not_found"}})
                    return
                if server.status is not None:
                    self._json(
                        server.status,
                        {"error": {"message": f"scripted {server.status}", "type": "test"}},
                    )
                    return
                model = body.get("model", "?")
                if body.get("stream"):
                    usage = (body.get("stream_options") or {}).get("include_usage", False)
                    self._stream(model, include_usage=bool(usage))
                else:
                    self._json(200, _completion(model, server.answer))

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, *, include_usage: bool) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("connection", "close")
                self.end_headers()
                words = server.answer.split(" ")
                for index, word in enumerate(words):
                    text = word if index == 0 else f" {word}"
                    self._event(_chunk(model, {"content": text}, None))
                self._event(_chunk(model, {}, "stop"))
                if include_usage:
                    last = _chunk(model, {}, None)
                    last["choices"] = []
                    last["usage"] = _usage()
                    self._event(last)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

            def _event(self, payload: dict[str, Any]) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

        return Handler


def _usage() -> dict[str, int]:
    return {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(model: str, answer: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer},
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(),
    }


@contextmanager
def openai_server() -> Iterator[OpenAIServer]:
    server = OpenAIServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
