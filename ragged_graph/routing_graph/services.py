"""What the graph's nodes work with: the router and the chat-model factory for a config."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ragged_graph.config import RouterConfig, load_config
from ragged_graph.providers.factory import ChatModelFactory
from ragged_graph.providers.health import HealthTracker
from ragged_graph.providers.load import HostLoad
from ragged_graph.routing.fleet import HostSignals
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph.state import Context
from ragged_graph.telemetry.decision_log import DecisionLog, add_decision_handler
from ragged_graph.telemetry.learned import HistoryLearner
from ragged_graph.telemetry.writer import HistoryWriter

if TYPE_CHECKING:
    from ragged_graph.telemetry.store import HistoryStore

__all__ = [
    "Services",
    "ServicesProvider",
    "decision_log_for",
    "default_services",
    "history_learner_for",
    "history_writer_for",
]


@dataclass(frozen=True, kw_only=True)
class Services:
    """The long-lived objects one router configuration needs."""

    router: Router
    """Makes the decisions."""
    models: ChatModelFactory
    """Makes the chat models that answer."""
    health: HealthTracker
    """Cooldowns of failing models and hosts, shared by every request."""
    history: HistoryWriter | None = None
    """Writes one routing-history record per request; None when the history is off."""
    decision_log: DecisionLog | None = None
    """Logs one line per decision; None: no decision log."""
    load: HostLoad = field(default_factory=HostLoad)
    """Calls in flight and recent latency per Ollama host, shared by every request."""
    learner: HistoryLearner | None = None
    """Learns model speeds and spend from the history in the background; None: the cards'
    speeds and this process's spend only."""

    def __post_init__(self) -> None:
        # The router's host choice weighs these hosts' live load and cooldowns.
        self.router.host_signals = HostSignals(
            in_flight=self.load.in_flight,
            recent_latency_ms=self.load.recent_latency_ms,
            available=self.health.available,
        )

    @classmethod
    def for_router(cls, router: Router) -> Services:
        settings = router.config.fallbacks
        health = HealthTracker(
            failures=settings.cooldown_failures,
            window_s=settings.cooldown_window_s,
            cooldown_s=settings.cooldown_s,
            state_file=Path(settings.health_file) if settings.health_file else None,
        )
        return cls(
            router=router,
            models=ChatModelFactory(router.config),
            health=health,
            history=history_writer_for(router.config),
            decision_log=decision_log_for(router.config),
            load=HostLoad(window_s=router.config.providers.ollama.latency_window_s),
            learner=history_learner_for(router),
        )

    def close(self) -> None:
        """Write the history records still queued (they are also written at exit)."""
        if self.learner is not None:
            self.learner.close()
        if self.history is not None:
            self.history.close()


def history_writer_for(config: RouterConfig) -> HistoryWriter | None:
    """The history writer ``config`` asks for (it connects on its first record)."""
    settings = config.history
    if not settings.enabled:
        return None
    return HistoryWriter(
        settings.url,
        queue_size=settings.queue_size,
        batch_size=settings.batch_size,
        flush_interval_s=settings.flush_interval_s,
        close_timeout_s=settings.close_timeout_s,
    )


def history_learner_for(router: Router) -> HistoryLearner | None:
    """The background learner of ``router``'s model speeds and spend, started; None when
    the history is off or learning from it is."""
    config = router.config
    if not config.history.enabled or not config.latency.learn_from_history:
        return None
    url = config.history.url
    settings = config.latency

    def store() -> HistoryStore:
        # Imported on first use, in the learner's thread: SQLAlchemy and its PostgreSQL
        # dialect take about a quarter of a second to import (as for the history writer).
        from ragged_graph.telemetry.store import HistoryStore

        return HistoryStore(url)

    learner = HistoryLearner(
        router,
        store,
        smoothing=settings.smoothing,
        refresh_s=settings.refresh_s,
        window_days=settings.window_days,
    )
    learner.start()
    return learner


def decision_log_for(config: RouterConfig) -> DecisionLog:
    """The decision log ``config`` asks for, with its stream or file handler in place."""
    settings = config.logging
    if settings.stream or settings.file:
        add_decision_handler(
            format=settings.format, level=settings.level, stream=settings.stream, file=settings.file
        )
    return DecisionLog(settings.format, settings.level)


ServicesProvider = Callable[[Context], Services]
"""Gives the services for a run's context."""

_by_config: dict[str | None, Services] = {}
_lock = threading.Lock()


def default_services(context: Context) -> Services:
    """Services for the context's config file (or the default config), built once each."""
    key = context.config_path
    services = _by_config.get(key)
    if services is None:
        with _lock:
            services = _by_config.get(key)
            if services is None:
                services = Services.for_router(Router(load_config(key)))
                _by_config[key] = services
    return services
