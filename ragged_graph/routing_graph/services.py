"""What the graph's nodes work with: the router and the chat-model factory for a config."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ragged_graph.config import load_config
from ragged_graph.providers.factory import ChatModelFactory
from ragged_graph.providers.health import HealthTracker
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph.state import Context

__all__ = ["Services", "ServicesProvider", "default_services"]


@dataclass(frozen=True, kw_only=True)
class Services:
    """The long-lived objects one router configuration needs."""

    router: Router
    """Makes the decisions."""
    models: ChatModelFactory
    """Makes the chat models that answer."""
    health: HealthTracker
    """Cooldowns of failing models and hosts, shared by every request."""

    @classmethod
    def for_router(cls, router: Router) -> Services:
        settings = router.config.fallbacks
        health = HealthTracker(
            failures=settings.cooldown_failures,
            window_s=settings.cooldown_window_s,
            cooldown_s=settings.cooldown_s,
            state_file=Path(settings.health_file) if settings.health_file else None,
        )
        return cls(router=router, models=ChatModelFactory(router.config), health=health)


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
