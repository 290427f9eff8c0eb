"""What the router learns from its routing history: each model's speed, and what was spent.

:class:`HistoryLearner` runs on a background thread, so that no request ever waits for the
database. Every ``latency.refresh_s`` seconds it reads the spend the history holds (today's,
and each session's of the last ``latency.window_days`` days) apart from this process's own
requests, which the router's :class:`~ragged_graph.routing.costs.SpendLedger` counts itself,
and makes it the ledger's baseline: spend by earlier runs and by other processes that share
the database counts against the budgets within a refresh. It re-reads the answered requests
of the last ``latency.window_days`` days too, and rebuilds each
model's moving averages of time to first token (the answering call's own, routing left out)
and tokens per second, seeded from the model's card, and hands the router the new
:class:`~ragged_graph.routing.latency.LatencyStats` whole. Between refreshes,
:meth:`HistoryLearner.observe` moves a model's averages as each answer arrives.

A database error is logged and the router keeps what it had: the cards' figures at worst.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ragged_graph.registry.cards import ModelCard
from ragged_graph.routing.latency import LatencyStats, ModelSpeed, seed_speed

if TYPE_CHECKING:
    from ragged_graph.routing.router import Router
    from ragged_graph.telemetry.store import HistoryStore

__all__ = ["HistoryLearner", "learn_speeds", "spend_of_others"]

logger = logging.getLogger("ragged_graph.telemetry.learned")

_COLUMNS = (
    "time",
    "request_id",
    "session_id",
    "cost_usd",
    "answered_by",
    "attempts",
    "tokens_per_s",
    "outcome",
)


def learn_speeds(
    rows: Sequence[Mapping[str, Any]],
    cards: Callable[[str], ModelCard | None],
    *,
    smoothing: float,
) -> dict[str, ModelSpeed]:
    """Moving averages per model over history ``rows`` (oldest first), each seeded from
    the model's card (``cards`` gives it, or None for a model no longer known)."""
    speeds: dict[str, ModelSpeed] = {}
    for row in rows:
        model = row.get("answered_by")
        if not model:
            continue
        speed = speeds.get(model)
        if speed is None:
            card = cards(model)
            if card is None:
                continue
            speed = seed_speed(card)
        first_token_ms = None
        for attempt in reversed(row.get("attempts") or ()):
            if attempt.get("ok") and attempt.get("model") == model:
                first_token_ms = attempt.get("first_token_ms")
                break
        speeds[model] = speed.updated(
            first_token_ms=first_token_ms,
            tokens_per_second=row.get("tokens_per_s"),
            smoothing=smoothing,
        )
    return speeds


def spend_of_others(
    rows: Sequence[Mapping[str, Any]], *, own: Collection[str]
) -> tuple[dict[date, float], dict[str, float]]:
    """``(by UTC day, by session)`` spend of the history ``rows`` other than the requests
    ``own`` (which this process counts itself)."""
    by_day: dict[date, float] = {}
    by_session: dict[str, float] = {}
    for row in rows:
        started: datetime = row["time"]
        cost = row.get("cost_usd") or 0.0
        if cost <= 0 or row.get("request_id") in own:
            continue
        day = started.astimezone(UTC).date()
        by_day[day] = by_day.get(day, 0.0) + cost
        session = row.get("session_id")
        if session:
            by_session[session] = by_session.get(session, 0.0) + cost
    return by_day, by_session


def _refresh_while_wanted(
    learner_ref: weakref.ReferenceType[HistoryLearner], stop: threading.Event, every_s: float
) -> None:
    """The learner's thread: refresh, then wait, until closed or no longer referenced."""
    while not stop.is_set():
        learner = learner_ref()
        if learner is None:
            return
        learner.refresh()
        del learner
        stop.wait(every_s)


class HistoryLearner:
    """Keeps ``router.latency_stats`` and ``router.spend`` in step with the history."""

    def __init__(
        self,
        router: Router,
        store_factory: Callable[[], HistoryStore],
        *,
        smoothing: float = 0.2,
        refresh_s: float = 60.0,
        window_days: float = 7.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._router = router
        self._store_factory = store_factory
        self._store: HistoryStore | None = None
        self._smoothing = smoothing
        self._refresh_s = refresh_s
        self._window = timedelta(days=window_days)
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread (once)."""
        with self._lock:
            if self._thread is not None:
                return
            # The thread holds the learner only weakly: a router dropped without close()
            # must not live on in it, reading the history and asking its hosts every minute.
            self._thread = threading.Thread(
                target=_refresh_while_wanted,
                args=(weakref.ref(self), self._stop, self._refresh_s),
                name="ragged-graph-history-learner",
                daemon=True,
            )
            weakref.finalize(self, self._stop.set)
            self._thread.start()

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the background thread and close the database connections."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def _history(self) -> HistoryStore:
        if self._store is None:
            self._store = self._store_factory()
        return self._store

    def refresh(self) -> None:
        """Read the spend baseline and rebuild the learned speeds; never raises."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        start_of_day = datetime.combine(now.date(), datetime.min.time(), UTC)
        learn_from = now - self._window
        # One read serves both: the spend of today and of the window, the speeds of the window.
        since = min(start_of_day, learn_from)
        try:
            rows = self._history().rows(since, columns=_COLUMNS)
        except Exception:
            logger.exception("routing history: could not read it to learn from")
            return
        ledger = self._router.spend
        by_day, by_session = spend_of_others(rows, own=ledger.own_requests())
        ledger.set_baseline(by_day=by_day, by_session=by_session)
        ledger.forget_requests_before(since.date())
        answered = [
            row for row in rows if row.get("outcome") == "answered" and row["time"] >= learn_from
        ]
        try:
            cards = self._router.registry.cards_known_now()
            speeds = learn_speeds(answered, cards.get, smoothing=self._smoothing)
        except Exception:
            logger.exception("routing history: could not learn the models' speeds")
            return
        with self._lock:
            self._router.latency_stats = LatencyStats(speeds=speeds)

    def observe(
        self, card: ModelCard, *, first_token_ms: float | None, tokens_per_second: float | None
    ) -> None:
        """Move ``card``'s model's averages towards one answer just given (cheap: no I/O)."""
        with self._lock:
            stats = self._router.latency_stats
            speed = stats.speeds.get(card.name) or seed_speed(card)
            speeds = dict(stats.speeds)
            speeds[card.name] = speed.updated(
                first_token_ms=first_token_ms,
                tokens_per_second=tokens_per_second,
                smoothing=self._smoothing,
            )
            self._router.latency_stats = LatencyStats(speeds=speeds)
