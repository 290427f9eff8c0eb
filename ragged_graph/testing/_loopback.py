"""The HTTP server under the test servers: tuned to behave like a real service on loopback."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from abc import ABC, abstractmethod
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar

__all__ = ["LoopbackHTTPServer", "LoopbackService"]


class _Owner(Protocol):
    @property
    def verbose(self) -> bool: ...


OwnerT = TypeVar("OwnerT", bound=_Owner)


class LoopbackHTTPServer(ThreadingHTTPServer, Generic[OwnerT]):
    """A threading HTTP server that keeps up with hundreds of concurrent keep-alive clients.

    A deep listen backlog (with the default of 5, 100 concurrent clients get connection
    resets), TCP_NODELAY on every connection, and the open connections tracked so that
    stopping can cut them and end their handler threads.
    """

    request_queue_size = 1024
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: OwnerT
    ) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup; skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # Without this, a reused keep-alive connection stalls ~40 ms (Nagle + delayed ACK).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.connections_lock:
            self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if self.owner.verbose:
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        """Cut every open connection so keep-alive handler threads end."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


ServerT = TypeVar("ServerT", bound=LoopbackHTTPServer[Any])


class LoopbackService(ABC, Generic[ServerT]):
    """The life cycle the test servers share: serve in a daemon thread, stop cleanly.

    Use one as a context manager, or call :meth:`start` and :meth:`stop`; a stopped service
    can be started again on the same port.
    """

    thread_name: ClassVar[str] = "loopback-service"

    def __init__(self, *, host: str, port: int, verbose: bool) -> None:
        self.host = host
        self.verbose = verbose
        self._requested_port = port
        self._port: int | None = None
        self._httpd: ServerT | None = None
        self._thread: threading.Thread | None = None

    @abstractmethod
    def _make_server(self, address: tuple[str, int]) -> ServerT:
        """The HTTP server to run, bound to ``address``."""

    def _stopping(self, httpd: ServerT) -> None:
        """Called before the server shuts down (e.g. to release hanging requests)."""

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self. Restarts reuse the same port."""
        if self._httpd is not None:
            raise RuntimeError(f"{type(self).__name__} is already running")
        port = self._port if self._port is not None else self._requested_port
        httpd = self._make_server((self.host, port))
        self._port = int(httpd.server_address[1])
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.thread_name}:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._httpd = self._thread = None
        self._stopping(httpd)
        httpd.shutdown()
        httpd.server_close()
        httpd.drop_connections()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the service is serving now."""
        return self._httpd is not None

    @property
    def port(self) -> int:
        """The bound port (known once started)."""
        if self._port is None:
            raise RuntimeError(f"{type(self).__name__} has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
