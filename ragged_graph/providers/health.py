"""Cooldowns (circuit breakers) per model and per Ollama host.

After ``failures`` failures within ``window_s`` seconds a model (or a whole host) is skipped
for ``cooldown_s`` seconds; then one request may probe it: success closes the breaker, a
failure opens it again. One tracker is shared by every request of a router, across threads.

Breaker states are also written to a small JSON file (when one is configured) whenever a
breaker opens or closes, so that ``ragged-graph models`` in another process can show them.
Wall-clock times are used for that reason.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ragged_graph.errors import (
    BadRequestError,
    HostUnavailableError,
    ModelCoolingDownError,
    ProviderError,
)

__all__ = ["BreakerStatus", "HealthTracker", "host_key", "model_key", "read_health_file"]

logger = logging.getLogger(__name__)

# Not the model's fault: the request was wrong, or the model was not even tried.
_NOT_COUNTED = (BadRequestError, ModelCoolingDownError)


def model_key(model: str, host: str | None) -> str:
    return f"model:{model}@{host or '-'}"


def host_key(host: str | None) -> str:
    return f"host:{host or '-'}"


@dataclass(frozen=True, kw_only=True)
class BreakerStatus:
    """One breaker as it stands."""

    key: str
    """``model:NAME@HOST`` or ``host:HOST``."""
    state: Literal["closed", "open", "half_open"]
    """``open``: skipped; ``half_open``: one probe allowed."""
    recent_failures: int
    """Failures within the window."""
    retry_at: float | None
    """Unix time at which an open breaker lets a probe through."""


@dataclass
class _Breaker:
    failures: deque[float] = field(default_factory=deque)
    open_until: float | None = None
    probing: bool = False


class HealthTracker:
    """Counts failures and decides which models and hosts to skip for now."""

    def __init__(
        self,
        *,
        failures: int = 3,
        window_s: float = 60.0,
        cooldown_s: float = 30.0,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._threshold = failures
        self._window_s = window_s
        self._cooldown_s = cooldown_s
        self._state_file = state_file
        self._clock = clock
        self._breakers: dict[str, _Breaker] = {}
        self._lock = threading.Lock()

    def available(self, model: str, host: str | None) -> bool:
        """Whether a request may go to ``model`` on ``host`` now (without claiming a probe)."""
        with self._lock:
            now = self._clock()
            return all(self._state(key, now) != "open" for key in self._keys(model, host))

    def acquire(self, model: str, host: str | None) -> bool:
        """Like :meth:`available`, and claims the one probe of a half-open breaker."""
        with self._lock:
            now = self._clock()
            keys = self._keys(model, host)
            if any(self._state(key, now) == "open" for key in keys):
                return False
            for key in keys:
                breaker = self._breakers.get(key)
                if breaker is not None and self._state(key, now) == "half_open":
                    breaker.probing = True
            return True

    def record_success(self, model: str, host: str | None) -> None:
        with self._lock:
            changed = False
            for key in self._keys(model, host):
                breaker = self._breakers.pop(key, None)
                changed = changed or (breaker is not None and breaker.open_until is not None)
            if changed:
                self._save()

    def record_failure(self, error: ProviderError) -> None:
        if isinstance(error, _NOT_COUNTED):
            return
        keys = [model_key(error.model, error.host)]
        if isinstance(error, HostUnavailableError):
            keys.append(host_key(error.host))
        with self._lock:
            now = self._clock()
            opened = False
            for key in keys:
                breaker = self._breakers.setdefault(key, _Breaker())
                was_open = breaker.open_until is not None and now < breaker.open_until
                breaker.failures.append(now)
                while breaker.failures and breaker.failures[0] < now - self._window_s:
                    breaker.failures.popleft()
                if not was_open and (breaker.probing or len(breaker.failures) >= self._threshold):
                    breaker.open_until = now + self._cooldown_s
                    breaker.probing = False
                    opened = True
                    logger.warning(
                        "%s cools down for %.0f s after %s", key, self._cooldown_s, error.code
                    )
            if opened:
                self._save()

    def status(self) -> list[BreakerStatus]:
        with self._lock:
            now = self._clock()
            return [
                BreakerStatus(
                    key=key,
                    state=self._state(key, now),
                    recent_failures=len(breaker.failures),
                    retry_at=breaker.open_until,
                )
                for key, breaker in sorted(self._breakers.items())
            ]

    def _keys(self, model: str, host: str | None) -> tuple[str, str]:
        return model_key(model, host), host_key(host)

    def _state(self, key: str, now: float) -> Literal["closed", "open", "half_open"]:
        breaker = self._breakers.get(key)
        if breaker is None or breaker.open_until is None:
            return "closed"
        if now < breaker.open_until or breaker.probing:
            return "open"
        return "half_open"

    def _save(self) -> None:
        if self._state_file is None:
            return
        now = self._clock()
        document = {
            key: {
                "state": self._state(key, now),
                "retry_at": breaker.open_until,
                "recent_failures": len(breaker.failures),
            }
            for key, breaker in self._breakers.items()
            if breaker.open_until is not None
        }
        try:
            self._state_file.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self._state_file.parent, suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document, out)
            os.replace(temporary, self._state_file)
        except OSError as exc:
            # Visibility for other processes is a convenience; routing goes on without it.
            logger.warning("could not write cooldown state to %s: %s", self._state_file, exc)


def read_health_file(path: Path, *, now: float | None = None) -> list[BreakerStatus]:
    """The cooldowns another process recorded in ``path`` (expired ones as half-open)."""
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return []
    current = time.time() if now is None else now
    statuses = []
    for key, entry in sorted(document.items()):
        retry_at = entry.get("retry_at")
        state: Literal["open", "half_open"] = (
            "open" if retry_at is not None and current < retry_at else "half_open"
        )
        statuses.append(
            BreakerStatus(
                key=key,
                state=state,
                recent_failures=int(entry.get("recent_failures", 0)),
                retry_at=retry_at,
            )
        )
    return statuses
