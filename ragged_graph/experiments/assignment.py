"""Which variant of an experiment a request gets: deterministic, by session or user key.

A key's point in [0, 1) is the first 64 bits of SHA-256 over the experiment's name and the
key; the variants (in name order, so that reordering the config changes nothing) divide
[0, 1) by their weights, and the point falls in one of them. The same key always gets the
same variant of an experiment, different experiments split the same keys independently, and
over many keys each variant's share approaches its weight's share.

Requests without the key (no session, or no user id) are assigned by their request id when
the experiment's ``unkeyed`` is ``request`` (so each gets a random variant, recorded like any
other), or left out with ``skip``.

A request is left out of an experiment, so that the variants stay comparable, when it sets
itself a setting the experiment's variants change (a persona, a model, a tier, local-only),
and, so that a variant never sends private data elsewhere, when it must stay on this machine
and a variant names a model that is not local.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ragged_graph.experiments.settings import ExperimentSettings

__all__ = [
    "Assignment",
    "KeyKind",
    "active_experiment",
    "assign",
    "bucket",
    "choose_variant",
    "excluded",
]

KeyKind = Literal["session", "user", "request"]
"""What a request was assigned by."""


@dataclass(frozen=True, kw_only=True)
class Assignment:
    """A request's place in an experiment."""

    experiment: str
    """The experiment's name."""
    variant: str
    """The variant the request is in."""
    assigned_by: KeyKind
    """The key it was assigned by: its session, its user, or (without either) its own id."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """The routing settings the variant changes (JSON values)."""

    def to_state(self) -> dict[str, Any]:
        """As the routing graph's state keeps it."""
        return {
            "name": self.experiment,
            "variant": self.variant,
            "assigned_by": self.assigned_by,
            "overrides": dict(self.overrides),
        }


def bucket(experiment: str, key: str) -> float:
    """The key's point in [0, 1) for ``experiment``: SHA-256's first 64 bits over 2**64."""
    digest = hashlib.sha256(f"{experiment}\x1f{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_variant(weights: Mapping[str, float], point: float) -> str:
    """The variant whose slice of [0, 1) holds ``point``; variants in name order, slices as
    wide as their share of the total weight (a variant of weight 0 gets none)."""
    names = sorted(name for name, weight in weights.items() if weight > 0)
    if not names:
        raise ValueError("no variant has a weight above 0")
    total = sum(weights[name] for name in names)
    cumulative = 0.0
    for name in names:
        cumulative += weights[name] / total
        if point < cumulative:
            return name
    return names[-1]  # rounding left the top of [0, 1) uncovered


def active_experiment(
    experiments: Mapping[str, ExperimentSettings], now: datetime
) -> tuple[str, ExperimentSettings] | None:
    """The experiment assigning requests at ``now`` (the first in config order; the config
    allows no two enabled ones with overlapping periods)."""
    for name, settings in experiments.items():
        if settings.active(now):
            return name, settings
    return None


def excluded(
    settings: ExperimentSettings,
    *,
    explicit: frozenset[str],
    local_only: bool,
    is_local: Callable[[str], bool],
) -> str | None:
    """Why a request stays out of the experiment, or None when it may take part.

    ``explicit``: the routing settings the request set itself; ``local_only``: whether it
    must stay on this machine; ``is_local``: whether a model runs on this machine.
    """
    clashing = sorted(explicit & settings.changes())
    if clashing:
        return f"the request sets {', '.join(clashing)} itself"
    if local_only:
        remote = sorted(
            variant.model
            for variant in settings.variants.values()
            if variant.model is not None and not is_local(variant.model)
        )
        if remote:
            return f"the request is local-only and a variant uses {', '.join(remote)}"
    return None


def assign(
    name: str,
    settings: ExperimentSettings,
    *,
    session_id: str | None = None,
    user_id: str | None = None,
    request_id: str,
) -> Assignment | None:
    """The variant of experiment ``name`` for a request with these keys; None when it has
    no key the experiment assigns by and ``unkeyed`` is ``skip``."""
    key = session_id if settings.assign_by == "session" else user_id
    kind: KeyKind = settings.assign_by
    if not key:
        if settings.unkeyed == "skip":
            return None
        key, kind = request_id, "request"
    weights = {variant: value.weight for variant, value in settings.variants.items()}
    variant = choose_variant(weights, bucket(name, key))
    return Assignment(
        experiment=name,
        variant=variant,
        assigned_by=kind,
        overrides=settings.variants[variant].overrides(),
    )
