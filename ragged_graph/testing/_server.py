"""The Ollama-protocol test server: real HTTP on a loopback port, scripted models."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ragged_graph.testing._defaults import DEFAULT_MODELS
from ragged_graph.testing._handler import OllamaRequestHandler
from ragged_graph.testing._loopback import LoopbackHTTPServer, LoopbackService
from ragged_graph.testing._records import RecordedRequest
from ragged_graph.testing._scripts import Fault, ScriptedModel, normalise_name, scripted_models

__all__ = ["OLLAMA_VERSION", "OllamaServer", "RecordedRequest"]

OLLAMA_VERSION = "0.12.6"
"""The version `GET /api/version` reports unless told otherwise."""


@dataclass(slots=True)
class _ModelState:
    model: ScriptedModel
    faults_served: int = 0
    loaded: bool = False
    last_used: float = field(default_factory=time.time)


class _HTTPServer(LoopbackHTTPServer["OllamaServer"]):
    """The loopback server, plus the stop signal hanging requests wait on."""

    def __init__(self, address: tuple[str, int], owner: OllamaServer) -> None:
        self.stopping = threading.Event()
        super().__init__(address, OllamaRequestHandler, owner)


class OllamaServer(LoopbackService[_HTTPServer]):
    """An HTTP server speaking Ollama's API, answering from scripted models.

    Use it as a context manager, or call `start()` and `stop()`; a stopped server can be
    started again on the same port. Models not scripted answer 404, like a real Ollama.
    """

    thread_name = "ollama-test-server"

    def __init__(
        self,
        models: Iterable[ScriptedModel] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        version: str = OLLAMA_VERSION,
        load_on_chat: bool = True,
        keep_alive_seconds: float = 300.0,
        verbose: bool = False,
        seed: int | None = None,
    ) -> None:
        """Script the server; `models=None` means `DEFAULT_MODELS`, port 0 a free port.

        `seed` makes random faults (`fault_rate`) and delays (`first_token_jitter`) repeatable.
        """
        self._random = random.Random(seed)
        super().__init__(host=host, port=port, verbose=verbose)
        self.version = version
        self.load_on_chat = load_on_chat
        self.keep_alive_seconds = keep_alive_seconds
        self._lock = threading.Lock()
        self._models = {
            tag: _ModelState(model, loaded=model.loaded)
            for tag, model in scripted_models(DEFAULT_MODELS if models is None else models).items()
        }
        self._requests: list[RecordedRequest] = []

    # -- life cycle -----------------------------------------------------------------------

    def _make_server(self, address: tuple[str, int]) -> _HTTPServer:
        return _HTTPServer(address, self)

    def _stopping(self, httpd: _HTTPServer) -> None:
        # End hanging and streaming answers.
        httpd.stopping.set()

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"OllamaServer({where}, models={list(self.models)})"

    # -- scripting ------------------------------------------------------------------------

    @property
    def models(self) -> dict[str, ScriptedModel]:
        """The scripted models by tag (a copy)."""
        with self._lock:
            return {tag: state.model for tag, state in self._models.items()}

    def model(self, name: str) -> ScriptedModel | None:
        """The script of one model (a bare name means `:latest`), or None."""
        with self._lock:
            state = self._models.get(normalise_name(name))
            return None if state is None else state.model

    def set_model(self, model: ScriptedModel) -> None:
        """Add or replace a model's script; its fault count and loaded state start afresh."""
        with self._lock:
            self._models[model.tag] = _ModelState(model, loaded=model.loaded)

    def update_model(self, name: str, **changes: Any) -> ScriptedModel:
        """Change some fields of a model's script (fault count restarts); returns the new one."""
        with self._lock:
            tag = normalise_name(name)
            state = self._models.get(tag)
            if state is None:
                raise KeyError(f"model {tag!r} is not scripted")
            model = dataclasses.replace(state.model, **changes)
            loaded = model.loaded if "loaded" in changes else state.loaded
            self._models[model.tag] = _ModelState(model, loaded=loaded)
            return model

    def remove_model(self, name: str) -> None:
        """Forget a model: from now on it is listed nowhere and answers 404."""
        with self._lock:
            if self._models.pop(normalise_name(name), None) is None:
                raise KeyError(f"model {normalise_name(name)!r} is not scripted")

    @property
    def loaded_models(self) -> list[str]:
        """Tags `/api/ps` lists now."""
        with self._lock:
            return [tag for tag, state in self._models.items() if state.loaded]

    # -- recorded requests ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._requests)

    def find_requests(
        self, *, method: str | None = None, path: str | None = None, model: str | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests matching all the given criteria (a model matches with `:latest`)."""
        tag = None if model is None else normalise_name(model)
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (path is None or r.path == path)
            and (tag is None or (r.model is not None and normalise_name(r.model) == tag))
        ]

    def chat_requests(self, model: str | None = None) -> list[RecordedRequest]:
        """Recorded `POST /api/chat` requests, optionally for one model."""
        return self.find_requests(method="POST", path="/api/chat", model=model)

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self._requests.clear()

    # -- used by the request handler ------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _begin_chat(self, name: str) -> tuple[ScriptedModel | None, Fault | None]:
        """The model's script and the fault this request gets (counting it), atomically."""
        with self._lock:
            state = self._models.get(normalise_name(name))
            if state is None:
                return None, None
            model = state.model
            if model.fault is None:
                return model, None
            if model.fail_times is not None and state.faults_served >= model.fail_times:
                return model, None
            if model.fault_rate < 1.0 and self._random.random() >= model.fault_rate:
                return model, None
            state.faults_served += 1
            return model, model.fault

    def _jitter(self, model: ScriptedModel) -> float:
        if model.first_token_jitter <= 0:
            return 0.0
        with self._lock:
            return self._random.uniform(0.0, model.first_token_jitter)

    def _mark_used(self, name: str) -> None:
        with self._lock:
            state = self._models.get(normalise_name(name))
            if state is not None:
                state.last_used = time.time()
                state.loaded = state.loaded or self.load_on_chat

    def _loaded_snapshot(self) -> list[tuple[ScriptedModel, float]]:
        """Loaded models with their expiry time, longest remaining first (as Ollama sorts)."""
        with self._lock:
            loaded = [
                (state.model, state.last_used + self.keep_alive_seconds)
                for state in self._models.values()
                if state.loaded
            ]
        return sorted(loaded, key=lambda item: -item[1])
