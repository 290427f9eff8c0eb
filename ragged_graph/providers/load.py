"""`HostLoad`: requests in flight and recent latency per Ollama host, for choosing a host.

Every model call counts as in flight on its host from its start to its end, whatever its
outcome. A successful call also leaves a latency sample: its time to the first token (what a
user waits for; it shows a busy or slow host whatever the answer's length). A host's recent
latency is the mean of its samples from the last ``window_s`` seconds (at most ``samples`` of
them); a host with none has no recent latency, so the host choice tries it (see
:mod:`ragged_graph.routing.fleet`). One tracker is shared by every request of a router,
across threads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["HostLoad", "HostLoadStatus"]

_NO_HOST = "-"


@dataclass(frozen=True, kw_only=True)
class HostLoadStatus:
    """One host's load as it stands."""

    host: str
    """The host's configured name."""
    in_flight: int
    """Calls running on it now."""
    recent_latency_ms: float | None
    """Mean time to first token of its recent successful calls; None without any."""
    samples: int
    """How many recent calls that mean is over."""


@dataclass
class _Host:
    in_flight: int = 0
    samples: deque[tuple[float, float]] = field(default_factory=deque)


class HostLoad:
    """Counts calls in flight per host and keeps their recent latency."""

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        samples: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if window_s <= 0 or samples < 1:
            raise ValueError("HostLoad needs window_s > 0 and samples >= 1")
        self._window_s = window_s
        self._max_samples = samples
        self._clock = clock
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    def begin(self, host: str | None) -> None:
        """A call to ``host`` starts."""
        with self._lock:
            self._hosts.setdefault(host or _NO_HOST, _Host()).in_flight += 1

    def end(self, host: str | None) -> None:
        """A call to ``host`` ended (answered or not)."""
        with self._lock:
            state = self._hosts.get(host or _NO_HOST)
            if state is not None and state.in_flight > 0:
                state.in_flight -= 1

    def record_latency(self, host: str | None, latency_ms: float) -> None:
        """A successful call to ``host`` took ``latency_ms`` to its first token."""
        with self._lock:
            now = self._clock()
            samples = self._hosts.setdefault(host or _NO_HOST, _Host()).samples
            samples.append((now, max(0.0, latency_ms)))
            while len(samples) > self._max_samples:
                samples.popleft()
            self._expire(samples, now)

    def in_flight(self, host: str) -> int:
        """Calls running on ``host`` now."""
        with self._lock:
            state = self._hosts.get(host)
            return state.in_flight if state is not None else 0

    def recent_latency_ms(self, host: str) -> float | None:
        """Mean time to first token of ``host``'s recent successful calls; None without any."""
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                return None
            return self._mean(state.samples)

    def status(self) -> list[HostLoadStatus]:
        """Every host seen so far, by name."""
        with self._lock:
            now = self._clock()
            statuses = []
            for host, state in sorted(self._hosts.items()):
                self._expire(state.samples, now)
                statuses.append(
                    HostLoadStatus(
                        host=host,
                        in_flight=state.in_flight,
                        recent_latency_ms=self._mean(state.samples),
                        samples=len(state.samples),
                    )
                )
            return statuses

    def _mean(self, samples: deque[tuple[float, float]]) -> float | None:
        self._expire(samples, self._clock())
        if not samples:
            return None
        return sum(latency for _, latency in samples) / len(samples)

    def _expire(self, samples: deque[tuple[float, float]], now: float) -> None:
        while samples and samples[0][0] < now - self._window_s:
            samples.popleft()
