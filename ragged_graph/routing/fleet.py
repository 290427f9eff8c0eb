"""Choosing the Ollama host for a model: the fleet rule, in one place.

Among the hosts that have the model installed (every configured host while no host
answered, so availability is unknown), the host for a call is, in order of preference:

1. one that is not cooling down (its breaker, or the model's breaker on it, is closed);
2. one where the model is loaded now (no cold start);
3. the one with the fewest calls in flight;
4. the one with the lowest recent latency (mean time to first token of its recent
   successful calls; a host without any counts as 0 ms, so a new or idle host is tried);
5. the first in the configured order.

Hosts already tried for this request (``exclude``) are left out, so that a failing host's
request goes to another host with the same model before the next model of the chain is
tried. Without live signals (``route()``, which calls no model), the rule reduces to
"loaded, then installed, then configured order".
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from ragged_graph.registry.registry import RegistryEntry, RegistrySnapshot

__all__ = ["NO_SIGNALS", "HostChoice", "HostSignals", "choose_host", "rank_hosts"]


def _none_in_flight(_host: str) -> int:
    return 0


def _no_latency(_host: str) -> float | None:
    return None


def _always_available(_model: str, _host: str) -> bool:
    return True


@dataclass(frozen=True, kw_only=True)
class HostSignals:
    """Live facts about the hosts, read when a host is chosen."""

    in_flight: Callable[[str], int] = _none_in_flight
    """Calls running on a host now."""
    recent_latency_ms: Callable[[str], float | None] = _no_latency
    """A host's recent mean time to first token; None when it has no recent calls."""
    available: Callable[[str, str], bool] = _always_available
    """Whether a model on a host may be called now (neither is cooling down)."""


NO_SIGNALS = HostSignals()
"""Signals of an idle, healthy fleet: the rule then goes by loaded state and config order."""


@dataclass(frozen=True, kw_only=True)
class HostChoice:
    """One host a model can be called on, with the facts that ranked it."""

    host: str
    """The host's configured name."""
    base_url: str
    """Its base URL."""
    available: bool
    """Not cooling down."""
    loaded: bool
    """The model is loaded there now."""
    in_flight: int
    """Calls running there when it was ranked."""
    recent_latency_ms: float | None
    """Its recent mean time to first token, when known."""

    @property
    def reason(self) -> str:
        """Why this host, in a few words."""
        parts = ["loaded" if self.loaded else "installed", f"{self.in_flight} in flight"]
        if self.recent_latency_ms is not None:
            parts.append(f"{self.recent_latency_ms:.0f} ms to first token")
        if not self.available:
            parts.append("cooling down")
        return ", ".join(parts)


def rank_hosts(
    snapshot: RegistrySnapshot,
    entry: RegistryEntry,
    signals: HostSignals = NO_SIGNALS,
    *,
    exclude: Collection[str] = (),
) -> tuple[HostChoice, ...]:
    """The hosts ``entry`` can be called on, best first (see the module docstring)."""
    if entry.card.provider != "ollama" or not snapshot.hosts:
        return ()
    holding = set(entry.installed_on)
    loaded = set(entry.loaded_on)
    order = {inventory.host: index for index, inventory in enumerate(snapshot.hosts)}
    choices = [
        HostChoice(
            host=inventory.host,
            base_url=inventory.base_url,
            available=signals.available(entry.name, inventory.host),
            loaded=inventory.host in loaded,
            in_flight=signals.in_flight(inventory.host),
            recent_latency_ms=signals.recent_latency_ms(inventory.host),
        )
        for inventory in snapshot.hosts
        if inventory.host not in exclude
        and (inventory.host in holding or not snapshot.availability_known)
    ]
    choices.sort(
        key=lambda choice: (
            not choice.available,
            not choice.loaded,
            choice.in_flight,
            choice.recent_latency_ms or 0.0,
            order[choice.host],
        )
    )
    return tuple(choices)


def choose_host(
    snapshot: RegistrySnapshot,
    entry: RegistryEntry,
    signals: HostSignals = NO_SIGNALS,
    *,
    exclude: Collection[str] = (),
) -> HostChoice | None:
    """The best host for ``entry`` (None: not an Ollama model, or no host left)."""
    ranked = rank_hosts(snapshot, entry, signals, exclude=exclude)
    return ranked[0] if ranked else None
