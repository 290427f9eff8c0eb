"""The ``experiments:`` section of the config: A/B experiments and their variants.

An experiment splits traffic between variants by weight. A variant is a routing policy or a
model choice: it changes any of ``model``, ``tier``, ``persona``, ``local_only`` and
``optimise`` for the requests assigned to it (a variant that changes nothing is the
control). Requests are assigned by their session or user key (see
:mod:`ragged_graph.experiments.assignment`).

```yaml
experiments:
  coder-model:
    assign_by: session          # or user
    metric: latency             # feedback | latency | cost | fallback_rate
    min_sample: 200             # per variant, before a winner may be called
    variants:
      control: {weight: 50}
      coder:   {weight: 50, model: qwen2.5-coder:7b}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from ragged_graph.errors import UnknownExperimentError
from ragged_graph.registry.cards import Tier

__all__ = [
    "METRICS",
    "NAME_PATTERN",
    "OVERRIDE_FIELDS",
    "ExperimentMetric",
    "ExperimentName",
    "ExperimentSettings",
    "VariantSettings",
    "find_experiment",
    "overlapping_experiments",
]

_STRICT = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Experiment and variant names: letters, digits, ``_``, ``.`` and ``-``, at most 64
characters (they appear in the ``ab:<experiment>=<variant>`` trace tag and the history)."""

ExperimentName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
"""An experiment's or a variant's name."""

ExperimentMetric = Literal["feedback", "latency", "cost", "fallback_rate"]
"""What decides an experiment's winner."""

METRICS: Mapping[str, str] = {
    "feedback": "higher",
    "latency": "lower",
    "cost": "lower",
    "fallback_rate": "lower",
}
"""Each metric and which direction is better."""

OVERRIDE_FIELDS = ("model", "tier", "persona", "local_only", "optimise")
"""The per-request routing settings a variant may change."""


class VariantSettings(BaseModel):
    """One arm of an experiment: its share of the traffic and what it changes."""

    model_config = _STRICT

    weight: float = Field(default=1.0, ge=0)
    """Its share of the experiment's traffic, relative to the other variants' weights
    (0: no new requests)."""
    description: str | None = None
    """What the variant tries, for `ragged-graph ab list`."""
    model: str | None = Field(default=None, min_length=1)
    """Send its requests to this model (as an explicit model: routing still supplies the
    fallbacks)."""
    tier: Tier | None = None
    """Force this tier for its requests."""
    persona: str | None = Field(default=None, min_length=1)
    """Route its requests for this persona."""
    local_only: Literal[True] | None = None
    """``true``: only models on the user's own hardware (a variant can only narrow where a
    request may go, never widen it)."""
    optimise: Literal["quality", "latency", "cost"] | None = None
    """What selection favours for its requests: the best fit, the fastest answer or the
    cheapest."""

    def overrides(self) -> dict[str, Any]:
        """The settings this variant changes, as JSON (empty for a control)."""
        found = {name: getattr(self, name) for name in OVERRIDE_FIELDS}
        return {
            name: value.value if isinstance(value, Tier) else value
            for name, value in found.items()
            if value is not None
        }


def _as_utc(value: Any) -> Any:
    """Dates are midnight UTC; times without a zone are UTC (YAML parses both unquoted)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


class ExperimentSettings(BaseModel):
    """One A/B experiment: how requests are assigned, its variants, and how it is judged."""

    model_config = _STRICT

    enabled: bool = True
    """Assign requests to it (``false`` keeps its history reportable but assigns no more)."""
    description: str | None = None
    """What the experiment tests, for `ragged-graph ab list`."""
    assign_by: Literal["session", "user"] = "session"
    """The key that keeps a request's variant stable: its session (the graph context's
    ``session_id``, else ``session_id``, ``thread_id`` or ``conversation_id`` in the run's
    configurable or metadata) or its user
    (``user_id``: ``RaggedRouter(user_id=...)``, the graph's context, or the run's
    configurable or metadata)."""
    unkeyed: Literal["request", "skip"] = "request"
    """Requests without that key: ``request`` assigns each by its own request id (a random
    variant per request, recorded like any other); ``skip`` leaves them out."""
    variants: dict[ExperimentName, VariantSettings] = Field(min_length=2)
    """The arms, by name; at least two, at least one with a weight above 0."""
    metric: ExperimentMetric = "latency"
    """What decides the winner: ``feedback`` (mean score, higher wins), ``latency`` (mean
    request latency), ``cost`` (mean cost per request) or ``fallback_rate`` (share of
    requests that fell back), the last three lower wins."""
    min_sample: int = Field(default=100, ge=2)
    """Requests every variant needs (rated requests for ``feedback``) before a winner may
    be called."""
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    """Significance level: the winner must beat every other variant with p below it
    (Bonferroni-corrected when there are more than two variants)."""
    start: datetime | None = None
    """When it starts assigning requests (UTC unless a zone is given); None: at once."""
    end: datetime | None = None
    """When it stops assigning requests; None: never."""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates_are_midnight_utc(cls, value: Any) -> Any:
        return _as_utc(value)

    @field_validator("start", "end")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return _as_utc(value) if value is not None else None

    @field_validator("variants")
    @classmethod
    def _some_weight(cls, variants: dict[str, VariantSettings]) -> dict[str, VariantSettings]:
        if not any(variant.weight > 0 for variant in variants.values()):
            raise ValueError("at least one variant needs a weight above 0")
        return variants

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, end: datetime | None, info: Any) -> datetime | None:
        start = info.data.get("start")
        if end is not None and start is not None and end <= start:
            raise ValueError(f"must be after start ({start.isoformat()})")
        return end

    def active(self, now: datetime) -> bool:
        """Whether it assigns requests at ``now``: enabled and within its start and end."""
        if not self.enabled:
            return False
        if self.start is not None and now < self.start:
            return False
        return self.end is None or now < self.end

    def changes(self) -> frozenset[str]:
        """The settings any of its variants changes."""
        return frozenset(name for variant in self.variants.values() for name in variant.overrides())


def _overlap(first: ExperimentSettings, second: ExperimentSettings) -> bool:
    lowest = datetime.min.replace(tzinfo=UTC)
    highest = datetime.max.replace(tzinfo=UTC)
    return (first.start or lowest) < (second.end or highest) and (second.start or lowest) < (
        first.end or highest
    )


def overlapping_experiments(
    experiments: Mapping[str, ExperimentSettings],
) -> list[tuple[str, str]]:
    """Pairs of enabled experiments whose periods overlap (a request is in one at most)."""
    enabled = [(name, settings) for name, settings in experiments.items() if settings.enabled]
    return [
        (name, other)
        for i, (name, settings) in enumerate(enabled)
        for other, other_settings in enabled[i + 1 :]
        if _overlap(settings, other_settings)
    ]


def find_experiment(experiments: Mapping[str, ExperimentSettings], name: str) -> ExperimentSettings:
    """The experiment called ``name``; :class:`UnknownExperimentError` (listing the known
    ones) when there is none."""
    found = experiments.get(name)
    if found is None:
        raise UnknownExperimentError(name, list(experiments))
    return found
