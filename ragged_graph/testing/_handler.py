"""HTTP request handler of the Ollama test server: routing, chat streaming, faults."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import traceback
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from ragged_graph.testing import _wire
from ragged_graph.testing._records import RecordedRequest
from ragged_graph.testing._scripts import (
    ChatRequest,
    Fault,
    Reply,
    ScriptedModel,
    normalise_name,
    split_chunks,
)

if TYPE_CHECKING:
    from ragged_graph.testing._server import _HTTPServer

__all__ = ["OllamaRequestHandler"]

_ROUTES: dict[str, tuple[str, ...]] = {
    "/": ("GET", "HEAD"),
    "/api/version": ("GET", "HEAD"),
    "/api/tags": ("GET", "HEAD"),
    "/api/ps": ("GET",),
    "/api/show": ("POST",),
    "/api/chat": ("POST",),
}
_JSON = "application/json; charset=utf-8"
_DEFAULT_SERVER_ERROR = "llama runner process has terminated: exit status 2"
_DEFAULT_STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"


class _AbortedError(Exception):
    """The server is stopping or the client went away: end this connection quietly."""


class OllamaRequestHandler(BaseHTTPRequestHandler):
    """Serves one connection (HTTP/1.1 keep-alive) for an `OllamaServer`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "ollama-test-server"
    sys_version = ""

    @property
    def httpd(self) -> _HTTPServer:
        return cast("_HTTPServer", self.server)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        if self.httpd.owner.verbose:
            super().log_message(format, *args)

    # -- plumbing -------------------------------------------------------------------------

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        try:
            raw = self._read_body()
            body: Any = None
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
            self.httpd.owner._record(
                RecordedRequest(
                    method=self.command,
                    path=path,
                    body=body,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    time=time.time(),
                )
            )
            if self.httpd.stopping.is_set():
                raise _AbortedError
            self._route(path, body, raw)
        except (_AbortedError, OSError):
            self._cut()
        except Exception:  # a bug here must show, not look like a dropped connection
            traceback.print_exc()
            self._cut()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, payload: Any, content_type: str = _JSON) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.log_request(status)
        head = (
            f"{self.protocol_version} {status} {self.responses[status][0]}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Date: {self.date_time_string()}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode("latin-1")
        # One write per response: fewer packets, and no Nagle stall even without NODELAY.
        self.wfile.write(head if self.command == "HEAD" else head + data)

    def _error(self, status: int, message: str) -> None:
        self._send(status, {"error": message})

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _stream_line(self, payload: Any) -> None:
        line = json.dumps(payload).encode() + b"\n"
        self.wfile.write(b"%X\r\n%s\r\n" % (len(line), line))

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")

    def _wait(self, seconds: float) -> None:
        """Sleep, but give up at once when the server stops."""
        if seconds > 0 and self.httpd.stopping.wait(seconds):
            raise _AbortedError

    def _cut(self) -> None:
        """Close the connection without finishing the response (like a crashed server)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- endpoints ------------------------------------------------------------------------

    def _route(self, path: str, body: Any, raw: bytes) -> None:
        methods = _ROUTES.get(path)
        if methods is None:
            self._send(404, b"404 page not found", "text/plain")
            return
        if self.command not in methods:
            self._send(405, b"405 method not allowed", "text/plain")
            return
        if self.command == "POST" and not isinstance(body, dict):
            message = "missing request body" if not raw.strip() else "invalid JSON body"
            self._error(400, message)
            return
        owner = self.httpd.owner
        if path == "/":
            self._send(200, b"Ollama is running", "text/plain; charset=utf-8")
        elif path == "/api/version":
            self._send(200, {"version": owner.version})
        elif path == "/api/tags":
            self._send(200, {"models": [_wire.tags_entry(m) for m in owner.models.values()]})
        elif path == "/api/ps":
            loaded = owner._loaded_snapshot()
            self._send(200, {"models": [_wire.ps_entry(m, exp) for m, exp in loaded]})
        elif path == "/api/show":
            self._show(cast("dict[str, Any]", body))
        else:
            self._chat(ChatRequest.from_body(cast("dict[str, Any]", body)))

    def _show(self, body: dict[str, Any]) -> None:
        name = body.get("model") or body.get("name")
        if not isinstance(name, str) or not name:
            self._error(400, "model is required")
            return
        model = self.httpd.owner.model(name)
        if model is None:
            self._error(404, f"model '{name}' not found")
            return
        self._send(200, _wire.show_payload(model))

    def _chat(self, request: ChatRequest) -> None:
        started = time.monotonic()
        if not request.model:
            self._error(400, "model is required")
            return
        model, fault = self.httpd.owner._begin_chat(request.model)
        if model is None or fault is Fault.NOT_FOUND:
            self._error(404, f"model '{request.model}' not found")
            return
        refusal = _refusal(model, request)
        if refusal is not None:
            self._error(400, refusal)
            return
        if fault is Fault.HANG:
            self._wait(model.hang_seconds)
            raise _AbortedError
        self._wait(model.first_token_delay + self.httpd.owner._jitter(model))
        if fault is Fault.OUT_OF_MEMORY:
            self._error(500, model.out_of_memory_message())
            return
        if fault is Fault.SERVER_ERROR:
            self._error(500, model.error_message or _DEFAULT_SERVER_ERROR)
            return
        try:
            reply = model.render(request)
        except Exception as exc:  # a broken answer function must not kill the thread
            self._error(500, f"scripted answer failed: {exc!r}")
            return
        first_token = time.monotonic()
        if request.stream:
            self._stream_reply(model, request, reply, fault, started, first_token)
        else:
            self._whole_reply(model, request, reply, fault, started, first_token)
        self.httpd.owner._mark_used(request.model)

    def _stream_reply(
        self,
        model: ScriptedModel,
        request: ChatRequest,
        reply: Reply,
        fault: Fault | None,
        started: float,
        first_token: float,
    ) -> None:
        thinking = split_chunks(reply.thinking or "")
        content = split_chunks(reply.content)
        self._start_stream()
        sent = 0
        for kind, piece in [("thinking", t) for t in thinking] + [("content", c) for c in content]:
            if fault in (Fault.DROP_MID_STREAM, Fault.STREAM_ERROR) and sent >= (
                model.drop_after_chunks
            ):
                break
            if sent:
                self._wait(model.chunk_delay)
            chunk = (
                _wire.chat_chunk(request.model, thinking=piece)
                if kind == "thinking"
                else _wire.chat_chunk(request.model, piece)
            )
            self._stream_line(chunk)
            sent += 1
        if fault is Fault.DROP_MID_STREAM:
            raise _AbortedError
        if fault is Fault.STREAM_ERROR:
            self._stream_line({"error": model.error_message or _DEFAULT_STREAM_ERROR})
            self._end_stream()
            return
        if reply.tool_calls:
            if sent:
                self._wait(model.chunk_delay)
            self._stream_line(_wire.chat_chunk(request.model, tool_calls=reply.tool_calls))
        final = _wire.chat_chunk(request.model, done=True)
        final.update(_metrics(model, request, reply, sent, started, first_token))
        self._stream_line(final)
        self._end_stream()

    def _whole_reply(
        self,
        model: ScriptedModel,
        request: ChatRequest,
        reply: Reply,
        fault: Fault | None,
        started: float,
        first_token: float,
    ) -> None:
        pieces = len(split_chunks(reply.thinking or "")) + len(split_chunks(reply.content))
        self._wait(model.chunk_delay * max(pieces - 1, 0))
        if fault is Fault.DROP_MID_STREAM:
            raise _AbortedError
        if fault is Fault.STREAM_ERROR:
            self._error(500, model.error_message or _DEFAULT_STREAM_ERROR)
            return
        payload = _wire.chat_chunk(
            request.model,
            reply.content,
            thinking=reply.thinking,
            tool_calls=reply.tool_calls,
            done=True,
        )
        payload.update(_metrics(model, request, reply, pieces, started, first_token))
        self._send(200, payload)


def _refusal(model: ScriptedModel, request: ChatRequest) -> str | None:
    """The 400 error text Ollama gives when the model lacks a needed capability."""
    if "completion" not in model.capabilities:
        return f'"{request.model}" does not support chat'
    if request.think not in (None, False) and "thinking" not in model.capabilities:
        return f'"{request.model}" does not support thinking'
    if request.tools and "tools" not in model.capabilities:
        return f"registry.ollama.ai/library/{normalise_name(request.model)} does not support tools"
    return None


def _metrics(
    model: ScriptedModel,
    request: ChatRequest,
    reply: Reply,
    pieces: int,
    started: float,
    first_token: float,
) -> dict[str, Any]:
    output_tokens = model.eval_count
    if output_tokens is None:
        output_tokens = max(pieces + 8 * len(reply.tool_calls), 1)
    prompt_tokens = model.prompt_eval_count
    if prompt_tokens is None:
        prompt_tokens = _wire.estimate_prompt_tokens(request)
    return _wire.final_metrics(
        done_reason=model.done_reason,
        started=started,
        first_token=first_token,
        prompt_tokens=prompt_tokens,
        output_tokens=output_tokens,
    )
