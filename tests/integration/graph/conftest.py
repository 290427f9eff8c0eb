"""A real `langgraph dev` server serving `langgraph.json`, routed to an Ollama test server.

Module-scoped: each test module that uses `langgraph_dev` starts one server, and the
process group is always ended at teardown, whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import OllamaServer
from tests.support.history import dashboard_records

REPO_ROOT = Path(__file__).resolve().parents[3]
LANGGRAPH = Path(sys.executable).with_name("langgraph")
STARTUP_TIMEOUT_S = 60.0
"""Generous: startup takes ~2 s here, but a loaded 2-core machine can be much slower."""
STOP_TIMEOUT_S = 15.0
PORT_ATTEMPTS = 3
"""`langgraph dev` moves silently to another port if ours is taken: retry on a new one."""


@dataclass(frozen=True, kw_only=True)
class DevServer:
    """A running `langgraph dev`."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the server's whole process group: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)
    # Children (if any) share the group; make sure none outlive the leader.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _announced_port(log: str) -> int | None:
    """The port the server says it serves on (its banner: `- 🚀 API: http://127.0.0.1:N`)."""
    match = re.search(r"API: (?:\x1b\[\d+m)?http://127\.0\.0\.1:(\d+)", log)
    return int(match.group(1)) if match else None


def _wait_until_ready(server: DevServer) -> bool:
    """True once our port answers `GET /ok` and the banner names our port.

    False if the server announced another port (ours was taken after we probed it).
    """
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                pytest.fail(
                    f"langgraph dev exited with {server.process.returncode} before it was "
                    f"ready; log {server.log_path}:\n{server.log_tail()}"
                )
            announced = _announced_port(server.log())
            if announced is not None and announced != server.port:
                return False
            try:
                ok = client.get(f"{server.url}/ok")
            except httpx.HTTPError:
                ok = None
            if ok is not None and ok.status_code == 200 and announced == server.port:
                assert ok.json().get("ok") is True, ok.text
                return True
            time.sleep(0.2)
    pytest.fail(
        f"langgraph dev not ready on port {server.port} within {STARTUP_TIMEOUT_S:.0f} s; "
        f"log {server.log_path}:\n{server.log_tail()}"
    )


@pytest.fixture(scope="module")
def dev_ollama() -> Iterator[OllamaServer]:
    """The Ollama test server (default models) the dev server's router talks to."""
    with OllamaServer() as server:
        yield server


@pytest.fixture(scope="module")
def dev_persona() -> str:
    """The one persona the router config defines (with no settings)."""
    return "tester"


@pytest.fixture(scope="module")
def dev_history_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite routing history seeded with `dashboard_records()`; the server's runs add
    their own records to it, and its `/dashboard` reads it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dev-history') / 'history.sqlite3'}"
    store = HistoryStore(url)
    store.insert(dashboard_records())
    store.close()
    return url


@pytest.fixture(scope="module")
def dev_router_config(
    tmp_path_factory: pytest.TempPathFactory,
    dev_ollama: OllamaServer,
    dev_persona: str,
    dev_history_url: str,
) -> Path:
    """A router config: the test server as the only host, fixed memory, one persona, the
    seeded history."""
    path = tmp_path_factory.mktemp("router-config") / "router.yaml"
    config = {
        "hardware": {"memory_gb": 64},
        "personas": {dev_persona: {}},
        "providers": {"ollama": {"hosts": [{"name": "test", "base_url": dev_ollama.base_url}]}},
        "history": {"url": dev_history_url},
    }
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def langgraph_dev(
    tmp_path_factory: pytest.TempPathFactory, dev_router_config: Path
) -> Iterator[DevServer]:
    """`langgraph dev --no-browser --no-reload` on a free port, run from the repository root.

    It reads the repository's `langgraph.json` and writes its in-memory persistence to
    `.langgraph_api/` in the repository root (git-ignored). Its log goes to a temp file.
    """
    assert LANGGRAPH.exists(), f"no langgraph console script next to {sys.executable}"
    log_dir = tmp_path_factory.mktemp("langgraph-dev")
    env = {
        **os.environ,
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGSMITH_TRACING": "false",
        "LANGCHAIN_TRACING_V2": "false",
        "RAGGED_GRAPH_CONFIG": str(dev_router_config),
        "PYTHONUNBUFFERED": "1",
    }
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        log_path = log_dir / f"server-{attempt}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(LANGGRAPH), "dev", "--no-browser", "--no-reload", "--port", str(port)],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, ended as a whole
            )
        server = DevServer(
            url=f"http://127.0.0.1:{port}", port=port, process=process, log_path=log_path
        )
        try:
            ready = _wait_until_ready(server)
        except BaseException:
            _stop(process)
            raise
        if ready:
            break
        _stop(process)
    else:
        pytest.fail(f"langgraph dev never got the port it was asked for; see {log_dir}")
    try:
        yield server
    finally:
        _stop(server.process)
