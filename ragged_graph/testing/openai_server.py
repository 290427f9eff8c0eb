"""An OpenAI-compatible ``/v1/chat/completions`` server on loopback: a stand-in cloud model.

Point a cloud provider at it (``cloud.providers.openai.base_url: server.base_url``) and
nothing leaves the machine. It speaks what ``langchain-openai`` sends and reads: JSON
answers, or server-sent events when ``stream`` is true (with a last usage chunk when
``stream_options.include_usage`` asks), and OpenAI-shaped error bodies for a scripted HTTP
status. Every request body is kept, so a test can check what reached "the cloud" (and,
above all, what did not)::

    with OpenAIServer(answer="Hello from the cloud.") as cloud:
        ...  # route with a cloud model whose base_url is cloud.base_url
        assert cloud.requests == []  # the private query never got here
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any, cast

from ragged_graph.testing._loopback import LoopbackHTTPServer, LoopbackService

__all__ = ["COMPLETION_TOKENS", "PROMPT_TOKENS", "OpenAIServer"]

PROMPT_TOKENS = 1200
"""The prompt tokens every answer reports as used (so that costs are easy to check)."""
COMPLETION_TOKENS = 300
"""The completion tokens every answer reports."""


class OpenAIServer(LoopbackService["_HTTPServer"]):
    """A scripted OpenAI-compatible chat server; use it as a context manager.

    ``answer``: what every model answers. ``status``: when set, every request gets this
    HTTP status with an OpenAI-shaped error body instead (e.g. 429, 500).
    """

    thread_name = "openai-test-server"

    def __init__(
        self,
        *,
        answer: str = "Hello from the cloud.",
        status: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        super().__init__(host=host, port=port, verbose=verbose)
        self.answer = answer
        """What every model answers."""
        self.status = status
        """A scripted error status for every request, or None to answer."""
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _make_server(self, address: tuple[str, int]) -> _HTTPServer:
        return _HTTPServer(address, self)

    @property
    def base_url(self) -> str:
        """The API root a client is given, ending in ``/v1``."""
        return f"{super().base_url}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request body received, in order (a copy)."""
        with self._lock:
            return list(self._requests)

    def _record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self._requests.append(body)


class _HTTPServer(LoopbackHTTPServer[OpenAIServer]):
    def __init__(self, address: tuple[str, int], owner: OpenAIServer) -> None:
        super().__init__(address, _Handler, owner)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def owner(self) -> OpenAIServer:
        return cast("_HTTPServer", self.server).owner

    def log_message(self, format: str, *args: Any) -> None:
        if self.owner.verbose:
            super().log_message(format, *args)

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError as exc:
            self._json(400, _error(f"invalid JSON: {exc}", "invalid_request_error"))
            return
        owner = self.owner
        owner._record(body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._json(404, _error("no such path", "not_found"))
            return
        if owner.status is not None:
            self._json(owner.status, _error(f"scripted {owner.status}", "test"))
            return
        model = str(body.get("model", "?"))
        if body.get("stream"):
            usage = (body.get("stream_options") or {}).get("include_usage", False)
            self._stream(model, owner.answer, include_usage=bool(usage))
        else:
            self._json(200, _completion(model, owner.answer))

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, model: str, answer: str, *, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        for index, word in enumerate(answer.split(" ")):
            self._event(_chunk(model, {"content": word if index == 0 else f" {word}"}, None))
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


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind}}


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
