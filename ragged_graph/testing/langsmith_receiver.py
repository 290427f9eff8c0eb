"""A LangSmith-protocol receiver on a loopback port, for testing traces offline.

Point the real ``langsmith`` client at it (``LANGSMITH_ENDPOINT=receiver.base_url``,
``LANGSMITH_API_KEY``, ``LANGSMITH_TRACING=true``; the ``langsmith_receiver`` pytest fixture
does all of it) and read back what the client sent, runs merged by id:

    with LangSmithReceiver() as receiver:
        ...  # traced work, then langchain_core.tracers.langchain.wait_for_all_tracers()
        root = receiver.run("ragged_graph")
        assert "tier:fast" in root.tags
        assert [r.name for r in receiver.children(root)] == ["classify", ...]

It speaks the ingestion side of the API the client uses: ``GET /info``, which tells the
client how to send (``ingest``: ``"compressed"``, zstd multipart like LangSmith's cloud;
``"multipart"``; or ``"batch"``, JSON on ``/runs/batch``), ``POST /runs/multipart`` (form
parts ``post.<id>``, ``patch.<id>``, ``post.<id>.inputs``, ``.outputs``, ``.events``,
``.extra``, ``.error``, ``.serialized``, ``attachment.<id>.<name>``), ``POST /runs/batch``
(``{"post": [...], "patch": [...]}``), ``POST /runs`` and ``PATCH /runs/<id>``. A run's
fields are the post's, overwritten by each patch's (fields a patch leaves out or sends as
null are kept). ``POST /feedback`` (what ``Client.create_feedback`` sends) is kept too:
read it back with :meth:`LangSmithReceiver.feedback`. ``GET /sessions?name=...`` (what
``Client.read_project`` asks) finds a project once a run was traced to it; its id is
:meth:`LangSmithReceiver.project_id`.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit
from uuid import NAMESPACE_URL, uuid5

from ragged_graph.testing._loopback import LoopbackHTTPServer, LoopbackService

__all__ = ["Ingest", "LangSmithReceiver", "ReceivedRequest", "ReceivedRun"]

Ingest = Literal["compressed", "multipart", "batch"]
"""How ``/info`` tells the client to send runs."""

_RUN_FIELDS = ("inputs", "outputs", "events", "extra", "error", "serialized")
_JSON = "application/json"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReceivedRequest:
    """One HTTP request the receiver got (body decompressed)."""

    method: str
    """``GET``, ``POST``, ``PATCH``."""
    path: str
    """The path, without the query string."""
    headers: Mapping[str, str]
    """Request headers, names in lower case."""
    body: bytes
    """The body as sent, after undoing ``Content-Encoding: zstd``."""
    time: float
    """When it arrived (``time.time()``)."""


@dataclass(frozen=True, kw_only=True)
class ReceivedRun:
    """A run as the receiver has it: its post merged with its patches."""

    id: str
    name: str | None
    run_type: str | None
    trace_id: str | None
    parent_run_id: str | None
    dotted_order: str | None
    session_name: str | None
    start_time: str | None
    end_time: str | None
    tags: tuple[str, ...]
    extra: Mapping[str, Any]
    inputs: Mapping[str, Any] | None
    outputs: Mapping[str, Any] | None
    error: str | None
    events: tuple[Mapping[str, Any], ...]
    attachments: Mapping[str, bytes] = field(default_factory=dict)
    """Attachment parts by name."""
    operations: tuple[str, ...] = ()
    """``post`` and ``patch`` in the order they arrived for this run."""
    fields: Mapping[str, Any] = field(default_factory=dict)
    """Every field, merged, as received."""

    @property
    def metadata(self) -> Mapping[str, Any]:
        """``extra.metadata``."""
        return cast("Mapping[str, Any]", self.extra.get("metadata") or {})

    @property
    def ended(self) -> bool:
        """Whether an end time arrived."""
        return self.end_time is not None


class _Store:
    """Run operations by id, in arrival order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.operations: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.attachments: dict[str, dict[str, bytes]] = {}
        self.requests: list[ReceivedRequest] = []
        self.feedback: list[dict[str, Any]] = []

    def add_feedback(self, feedback: dict[str, Any]) -> None:
        with self.lock:
            self.feedback.append(feedback)
            self.changed.notify_all()

    def add(self, operation: str, run: dict[str, Any]) -> None:
        run_id = str(run.get("id"))
        with self.lock:
            self.operations.setdefault(run_id, []).append((operation, run))
            self.changed.notify_all()

    def attach(self, run_id: str, name: str, data: bytes) -> None:
        with self.lock:
            self.attachments.setdefault(run_id, {})[name] = data

    def runs(self) -> list[ReceivedRun]:
        with self.lock:
            operations = {key: list(ops) for key, ops in self.operations.items()}
            attachments = {key: dict(value) for key, value in self.attachments.items()}
        return sorted(
            (
                _merged(run_id, ops, attachments.get(run_id, {}))
                for run_id, ops in operations.items()
            ),
            key=lambda run: (run.dotted_order or "", run.start_time or ""),
        )


def _merged(
    run_id: str, operations: list[tuple[str, dict[str, Any]]], attachments: dict[str, bytes]
) -> ReceivedRun:
    fields: dict[str, Any] = {}
    # A post that arrives after a patch (they travel in separate batches) still goes first.
    ordered = sorted(operations, key=lambda op: op[0] != "post")
    for _operation, run in ordered:
        fields.update({key: value for key, value in run.items() if value is not None})

    def text(key: str) -> str | None:
        value = fields.get(key)
        return None if value is None else str(value)

    return ReceivedRun(
        id=run_id,
        name=text("name"),
        run_type=text("run_type"),
        trace_id=text("trace_id"),
        parent_run_id=text("parent_run_id"),
        dotted_order=text("dotted_order"),
        session_name=text("session_name"),
        start_time=text("start_time"),
        end_time=text("end_time"),
        tags=tuple(fields.get("tags") or ()),
        extra=fields.get("extra") or {},
        inputs=fields.get("inputs"),
        outputs=fields.get("outputs"),
        error=text("error"),
        events=tuple(fields.get("events") or ()),
        attachments=attachments,
        operations=tuple(operation for operation, _ in operations),
        fields=fields,
    )


class _HTTPServer(LoopbackHTTPServer["LangSmithReceiver"]):
    def __init__(self, address: tuple[str, int], owner: LangSmithReceiver) -> None:
        super().__init__(address, _Handler, owner)


class _BadRequestError(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "langsmith-test-receiver"
    sys_version = ""

    @property
    def owner(self) -> LangSmithReceiver:
        return cast("_HTTPServer", self.server).owner

    def log_message(self, format: str, *args: Any) -> None:
        if self.owner.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        try:
            body = self._body()
        except _BadRequestError as exc:
            self._reply(400, {"detail": str(exc)})
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.owner._store_request(
            ReceivedRequest(
                method=self.command, path=path, headers=headers, body=body, time=time.time()
            )
        )
        key = self.owner.api_key
        if key is not None and path != "/info" and headers.get("x-api-key") != key:
            self._reply(401, {"detail": "Invalid token"})
            return
        try:
            status, answer = self._route(path, parse_qs(parts.query), body)
        except (_BadRequestError, ValueError, KeyError, TypeError) as exc:
            status, answer = 400, {"detail": f"{type(exc).__name__}: {exc}"}
        self._reply(status, answer)

    def _route(self, path: str, query: Mapping[str, list[str]], body: bytes) -> tuple[int, Any]:
        method, owner = self.command, self.owner
        if path == "/info" and method == "GET":
            return 200, owner.info()
        if path == "/runs/multipart" and method == "POST":
            if owner.ingest == "batch":
                return 404, {"detail": "Not Found"}
            self._multipart(body)
            return 202, {}
        if path == "/runs/batch" and method == "POST":
            batch = json.loads(body)
            for operation in ("post", "patch"):
                for run in batch.get(operation) or ():
                    owner._store.add(operation, run)
            return 202, {}
        if path == "/runs" and method == "POST":
            owner._store.add("post", json.loads(body))
            return 202, {}
        if path == "/sessions" and method == "GET":
            names = query.get("name") or []
            return 200, [owner.project(name) for name in names if owner.has_project(name)]
        if path == "/feedback" and method == "POST":
            feedback = json.loads(body)
            if not isinstance(feedback, dict) or "key" not in feedback:
                raise _BadRequestError("feedback must be a JSON object with a 'key'")
            owner._store.add_feedback(feedback)
            return 200, feedback
        if path.startswith("/runs/") and method == "PATCH":
            run = json.loads(body)
            run.setdefault("id", path.removeprefix("/runs/"))
            owner._store.add("patch", run)
            return 202, {}
        return 404, {"detail": "Not Found"}

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = self._chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(length) if length else b""
        if self.headers.get("Content-Encoding", "").lower() == "zstd":
            import zstandard  # a dependency of langsmith

            reader = zstandard.ZstdDecompressor().stream_reader(
                io.BytesIO(data), read_across_frames=True
            )
            data = reader.read()
        return data

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = self.rfile.readline()
            if not size_line:
                raise _BadRequestError("truncated chunked body")
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _multipart(self, body: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        boundary = _parameter(content_type, "boundary")
        if not content_type.startswith("multipart/form-data") or boundary is None:
            raise _BadRequestError("expected multipart/form-data with a boundary")
        runs: dict[tuple[str, str], dict[str, Any]] = {}
        for name, data in _form_parts(body, boundary):
            kind, _, rest = name.partition(".")
            run_id, _, key = rest.partition(".")
            if kind == "attachment":
                self.owner._store.attach(run_id, key, data)
                continue
            if kind not in ("post", "patch") or not run_id:
                raise _BadRequestError(f"unexpected form part {name!r}")
            run = runs.setdefault((kind, run_id), {"id": run_id})
            value = json.loads(data)
            if key:
                if key not in _RUN_FIELDS:
                    raise _BadRequestError(f"unexpected run field {key!r} in part {name!r}")
                run[key] = value
            else:
                run.update(value)
        for (kind, _run_id), run in runs.items():
            self.owner._store.add(kind, run)

    def _reply(self, status: int, answer: Any) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", _JSON)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _parameter(header: str, name: str) -> str | None:
    for piece in header.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == name:
            return value.strip().strip('"')
    return None


def _form_parts(body: bytes, boundary: str) -> Iterator[tuple[str, bytes]]:
    """``(name, content)`` of each part of a ``multipart/form-data`` body."""
    delimiter = b"--" + boundary.encode()
    sections = body.split(delimiter)
    # Before the first delimiter: a preamble; after the last (``--``): the epilogue.
    for section in sections[1:]:
        if section.startswith(b"--"):
            return
        head, separator, content = section.partition(b"\r\n\r\n")
        if not separator:
            raise _BadRequestError("a form part without headers")
        if content.endswith(b"\r\n"):
            content = content[:-2]
        name = None
        for line in head.decode("latin-1").split("\r\n"):
            header, _, value = line.partition(":")
            if header.strip().lower() == "content-disposition":
                name = _parameter(value.strip(), "name")
        if name is None:
            raise _BadRequestError("a form part without a name")
        yield name, content
    raise _BadRequestError("the multipart body has no closing delimiter")


class LangSmithReceiver(LoopbackService[_HTTPServer]):
    """An HTTP server taking runs from the real ``langsmith`` client, for tests to read.

    Use it as a context manager, or call ``start()`` and ``stop()``. ``api_key``: when set,
    requests without it in ``x-api-key`` get 401 (``/info`` answers anyway).
    """

    thread_name = "langsmith-test-receiver"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ingest: Ingest = "compressed",
        api_key: str | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(host=host, port=port, verbose=verbose)
        self.ingest: Ingest = ingest
        self.api_key = api_key
        self._store = _Store()

    # -- life cycle -----------------------------------------------------------------------

    def _make_server(self, address: tuple[str, int]) -> _HTTPServer:
        return _HTTPServer(address, self)

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"LangSmithReceiver({where}, ingest={self.ingest!r})"

    def info(self) -> dict[str, Any]:
        """What ``GET /info`` answers."""
        return {
            "version": "0.0.0-ragged-graph-test",
            "license_expiration_time": None,
            "batch_ingest_config": {
                "use_multipart_endpoint": self.ingest != "batch",
                "scale_up_qsize_trigger": 1000,
                "scale_up_nthreads_limit": 16,
                "scale_down_nempty_trigger": 4,
                "size_limit": 100,
                "size_limit_bytes": 20_971_520,
            },
            "instance_flags": {"zstd_compression_enabled": self.ingest == "compressed"},
        }

    # -- what arrived ---------------------------------------------------------------------

    def _store_request(self, request: ReceivedRequest) -> None:
        with self._store.lock:
            self._store.requests.append(request)

    @property
    def requests(self) -> list[ReceivedRequest]:
        """Every request received, in order (a copy)."""
        with self._store.lock:
            return list(self._store.requests)

    def received_bytes(self) -> bytes:
        """Every request body received (decompressed), joined: to check what was never sent."""
        return b"\n".join(request.body for request in self.requests)

    def runs(self, name: str | None = None, *, trace_id: str | None = None) -> list[ReceivedRun]:
        """The runs received, merged by id, in trace order; only those named ``name`` and in
        trace ``trace_id`` when given."""
        return [
            run
            for run in self._store.runs()
            if (name is None or run.name == name) and (trace_id is None or run.trace_id == trace_id)
        ]

    def run(self, name: str, *, trace_id: str | None = None) -> ReceivedRun:
        """The one run named ``name`` (AssertionError unless there is exactly one)."""
        found = self.runs(name, trace_id=trace_id)
        names = sorted({str(run.name) for run in self.runs()})
        assert len(found) == 1, f"{len(found)} runs named {name!r}; received: {names}"
        return found[0]

    def roots(self) -> list[ReceivedRun]:
        """The root run of each trace, in order."""
        return [run for run in self.runs() if run.parent_run_id is None]

    def children(self, parent: ReceivedRun | str) -> list[ReceivedRun]:
        """The direct children of ``parent`` (a run or its id), in order."""
        parent_id = parent if isinstance(parent, str) else parent.id
        return [run for run in self.runs() if run.parent_run_id == parent_id]

    def traces(self) -> dict[str, list[ReceivedRun]]:
        """Runs by trace id, each trace in order (root first)."""
        traces: dict[str, list[ReceivedRun]] = {}
        for run in self.runs():
            traces.setdefault(str(run.trace_id), []).append(run)
        return traces

    @staticmethod
    def project_id(name: str) -> str:
        """The id the receiver gives the project (session) named ``name``."""
        return str(uuid5(NAMESPACE_URL, f"ragged-graph-test-receiver/{name}"))

    def has_project(self, name: str) -> bool:
        """Whether a run was traced to the project ``name`` (so it exists, as in LangSmith)."""
        return any(run.session_name == name for run in self.runs())

    def project(self, name: str) -> dict[str, Any]:
        """The project ``name`` as ``GET /sessions`` describes it."""
        return {
            "id": self.project_id(name),
            "name": name,
            "tenant_id": str(uuid5(NAMESPACE_URL, "ragged-graph-test-receiver")),
            "start_time": "2026-01-01T00:00:00+00:00",
            "reference_dataset_id": None,
        }

    def feedback(self, run_id: str | None = None) -> list[dict[str, Any]]:
        """Feedback received (``POST /feedback`` bodies), in order; only ``run_id``'s if given."""
        with self._store.lock:
            found = list(self._store.feedback)
        return [item for item in found if run_id is None or str(item.get("run_id")) == run_id]

    def wait_for(
        self, predicate: Callable[[LangSmithReceiver], bool], *, timeout: float = 5.0
    ) -> None:
        """Wait until ``predicate(self)`` holds (checked as runs arrive); TimeoutError if not."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with self._store.changed:
                self._store.changed.wait(min(remaining, 0.05))

    def clear(self) -> None:
        """Forget every request and run received so far."""
        with self._store.lock:
            self._store.operations.clear()
            self._store.attachments.clear()
            self._store.requests.clear()
            self._store.feedback.clear()
