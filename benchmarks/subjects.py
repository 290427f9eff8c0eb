"""What the benchmarks measure, and what they measure it against.

- :class:`ServerProcess`: the Ollama-protocol test server (``ragged_graph.testing``) in a
  child process, so that its work does not share the client's interpreter lock, and the
  client's CPU time (``time.process_time``) and memory are the client's alone. A real
  Ollama is a separate process too.
- :func:`build_subjects`: the clients, each with a sync and an async call on one query: a
  direct ``ChatOllama``, the routing graph, ``RaggedRouter``, LangChain's ``with_fallbacks``
  and (when installed, from the ``bench`` extra) LiteLLM's ``Router``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from langchain_core.messages import BaseMessage
from langchain_ollama import ChatOllama

from ragged_graph import RaggedRouter
from ragged_graph.config import RouterConfig
from ragged_graph.routing.router import RouteOptions, Router
from ragged_graph.routing_graph import Services, build_graph

__all__ = [
    "DIRECT",
    "GRAPH",
    "LITELLM",
    "QUERY",
    "RAGGED_ROUTER",
    "WITH_FALLBACKS",
    "Plan",
    "ServerProcess",
    "Subject",
    "bench_config",
    "build_subjects",
    "import_litellm",
    "plan_for",
]

QUERY = "What is the capital of France?"
"""The query every client sends (routed to the fast tier: the cheapest path to a model)."""

_STARTUP_TIMEOUT_S = 30.0


class ServerProcess:
    """``python -m ragged_graph.testing.ollama_server`` in a child process.

    ``models`` are script entries (see ``ragged_graph.testing.load_script``) laid over the
    default models, e.g. ``[{"name": "llama3.2:3b", "fault": "not_found"}]``.
    """

    def __init__(self, models: Sequence[Mapping[str, Any]] = ()) -> None:
        self.models = [dict(model) for model in models]
        self._process: subprocess.Popen[str] | None = None
        self._script: Path | None = None
        self.base_url = ""

    def start(self) -> Self:
        command = [sys.executable, "-m", "ragged_graph.testing.ollama_server", "--port", "0"]
        if self.models:
            handle, name = tempfile.mkstemp(prefix="ragged-graph-bench-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump({"include_defaults": True, "models": self.models}, out)
            self._script = Path(name)
            command += ["--script", name]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        self._process = process
        assert process.stdout is not None
        deadline = time.monotonic() + _STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if "listening on " in line:
                self.base_url = line.rsplit("listening on ", 1)[1].strip()
                return self
        self.stop()
        raise RuntimeError("the Ollama test server did not start")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._script is not None:
            self._script.unlink(missing_ok=True)
            self._script = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def bench_config(base_url: str, directory: Path) -> RouterConfig:
    """The router configuration the benchmarks use: the defaults, pointed at ``base_url``.

    The routing history stays on (as by default), in ``directory``. Two changes: the memory
    budget fits every test model, and cooldowns are off (a model cools down after a million
    failures), so that with a failing first model every request really calls it and falls
    back, rather than skipping it after three failures.
    """
    return RouterConfig.model_validate(
        {
            "providers": {"ollama": {"hosts": [{"name": "bench", "base_url": base_url}]}},
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None, "cooldown_failures": 1_000_000},
            "history": {"url": f"sqlite:///{directory / 'history.sqlite3'}"},
        }
    )


@dataclass(frozen=True, slots=True)
class Plan:
    """Which model answers :data:`QUERY`, and which one the graph falls back to."""

    primary: str
    secondary: str


def plan_for(base_url: str, directory: Path) -> Plan:
    """The routing graph's first choice for :data:`QUERY` and the first model of its chain."""
    router = Router(bench_config(base_url, directory))
    try:
        decision = router.decide(QUERY, options=RouteOptions())
    finally:
        router.close()
    if not decision.fallbacks:
        raise RuntimeError(f"no fallback for {decision.model}: cannot measure one")
    return Plan(primary=decision.model, secondary=decision.fallbacks[0])


SyncCall = Callable[[str], str]
AsyncCall = Callable[[str], Awaitable[str]]


@dataclass(slots=True)
class Subject:
    """One client, with a sync and an async call that return the answer's text."""

    name: str
    call: SyncCall
    acall: AsyncCall
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for closer in self.closers:
            with contextlib.suppress(Exception):
                closer()


def _text(message: BaseMessage) -> str:
    return str(message.content)


def direct_subject(name: str, model: str, base_url: str) -> Subject:
    chat = ChatOllama(model=model, base_url=base_url)

    async def acall(query: str) -> str:
        return _text(await chat.ainvoke(query))

    return Subject(name, lambda query: _text(chat.invoke(query)), acall)


def graph_subject(name: str, config: RouterConfig) -> Subject:
    services = Services.for_router(Router(config))
    graph = build_graph(lambda _context: services)

    def call(query: str) -> str:
        return str(graph.invoke({"query": query})["answer"])

    async def acall(query: str) -> str:
        return str((await graph.ainvoke({"query": query}))["answer"])

    return Subject(name, call, acall, [services.close, services.router.close])


def ragged_router_subject(name: str, config: RouterConfig) -> Subject:
    router = RaggedRouter(config=config)

    async def acall(query: str) -> str:
        return _text(await router.ainvoke(query))

    return Subject(
        name, lambda query: _text(router.invoke(query)), acall, [router.close, router.router.close]
    )


def with_fallbacks_subject(name: str, plan: Plan, base_url: str) -> Subject:
    chain = ChatOllama(model=plan.primary, base_url=base_url).with_fallbacks(
        [ChatOllama(model=plan.secondary, base_url=base_url)]
    )

    async def acall(query: str) -> str:
        return _text(await chain.ainvoke(query))

    return Subject(name, lambda query: _text(chain.invoke(query)), acall)


def import_litellm() -> Any | None:
    """The ``litellm`` module, quiet and offline, or None when it is not installed."""
    # Its model cost map comes from the package, not from the network.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError:
        return None
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    return litellm


def litellm_subject(name: str, plan: Plan, base_url: str) -> Subject | None:
    """LiteLLM's ``Router`` with two ``ollama_chat`` deployments and a fallback between them.

    No retries and no cooldowns, as for the routing graph here: every request calls the
    first model once, then (if it failed) the second.
    """
    litellm = import_litellm()
    if litellm is None:
        return None
    router = litellm.Router(
        model_list=[
            {
                "model_name": "primary",
                "litellm_params": {"model": f"ollama_chat/{plan.primary}", "api_base": base_url},
            },
            {
                "model_name": "secondary",
                "litellm_params": {
                    "model": f"ollama_chat/{plan.secondary}",
                    "api_base": base_url,
                },
            },
        ],
        fallbacks=[{"primary": ["secondary"]}],
        num_retries=0,
        disable_cooldowns=True,
    )
    messages = [{"role": "user", "content": ""}]

    def call(query: str) -> str:
        response = router.completion(model="primary", messages=[{**messages[0], "content": query}])
        return str(response.choices[0].message.content)

    async def acall(query: str) -> str:
        response = await router.acompletion(
            model="primary", messages=[{**messages[0], "content": query}]
        )
        return str(response.choices[0].message.content)

    return Subject(name, call, acall)


DIRECT = "ChatOllama (direct)"
GRAPH = "routing graph"
RAGGED_ROUTER = "RaggedRouter"
WITH_FALLBACKS = "ChatOllama.with_fallbacks"
LITELLM = "LiteLLM Router"


def build_subjects(
    plan: Plan,
    base_url: str,
    directory: Path,
    *,
    names: Sequence[str] = (DIRECT, GRAPH, RAGGED_ROUTER, WITH_FALLBACKS, LITELLM),
) -> dict[str, Subject]:
    """The clients named, all against ``base_url`` (LiteLLM's left out if not installed)."""
    subjects: dict[str, Subject] = {}
    for name in names:
        subject: Subject | None
        if name == DIRECT:
            subject = direct_subject(name, plan.primary, base_url)
        elif name in (GRAPH, RAGGED_ROUTER):
            folder = directory / name.replace(" ", "-")
            folder.mkdir(parents=True, exist_ok=True)
            config = bench_config(base_url, folder)
            make = graph_subject if name == GRAPH else ragged_router_subject
            subject = make(name, config)
        elif name == WITH_FALLBACKS:
            subject = with_fallbacks_subject(name, plan, base_url)
        elif name == LITELLM:
            subject = litellm_subject(name, plan, base_url)
        else:
            raise ValueError(f"unknown subject {name!r}")
        if subject is not None:
            subjects[name] = subject
    return subjects
