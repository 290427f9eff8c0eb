"""The `experiments:` config section: what loads, and errors naming the file and key."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.errors import ConfigError, ErrorCode, UnknownExperimentError
from ragged_graph.experiments.settings import find_experiment
from ragged_graph.registry.cards import Tier

GOOD = """
experiments:
  coder-model:
    description: a code model for everything
    assign_by: user
    metric: feedback
    min_sample: 50
    alpha: 0.01
    start: 2026-01-01
    end: 2026-02-01T12:00:00+01:00
    variants:
      control: {weight: 50}
      coder: {weight: 50, model: "qwen2.5-coder:7b", tier: balanced}
  later:
    enabled: false
    variants:
      a: {}
      b: {persona: casual, local_only: true}
"""


def load(tmp_path: Path, text: str) -> RouterConfig:
    path = tmp_path / "router.yaml"
    path.write_text(text, encoding="utf-8")
    return RouterConfig.from_file(path)


def problems(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert caught.value.code == ErrorCode.INVALID_CONFIG
    assert str(tmp_path / "router.yaml") in str(caught.value)
    return {issue.key: issue.problem for issue in caught.value.issues}


def test_a_full_experiment_loads(tmp_path: Path) -> None:
    config = load(tmp_path, GOOD)
    settings = config.experiments["coder-model"]
    assert settings.assign_by == "user"
    assert settings.metric == "feedback"
    assert (settings.min_sample, settings.alpha) == (50, 0.01)
    assert settings.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert settings.end == datetime(2026, 2, 1, 11, 0, tzinfo=UTC)
    assert settings.variants["coder"].tier is Tier.BALANCED
    assert settings.variants["coder"].overrides() == {
        "model": "qwen2.5-coder:7b",
        "tier": "balanced",
    }
    assert settings.variants["control"].overrides() == {}
    assert settings.changes() == {"model", "tier"}
    assert config.experiments["later"].changes() == {"persona", "local_only"}


def test_a_variant_may_change_what_selection_optimises_for() -> None:
    from typing import get_args

    from ragged_graph.experiments.settings import VariantSettings
    from ragged_graph.routing.selection import Optimise

    variant = VariantSettings(optimise="cost")
    assert variant.overrides() == {"optimise": "cost"}
    annotation = VariantSettings.model_fields["optimise"].annotation
    assert get_args(get_args(annotation)[0]) == get_args(Optimise)


def test_defaults() -> None:
    config = RouterConfig.model_validate({"experiments": {"x": {"variants": {"a": {}, "b": {}}}}})
    settings = config.experiments["x"]
    assert settings.enabled
    assert settings.assign_by == "session"
    assert settings.unkeyed == "request"
    assert (settings.metric, settings.min_sample, settings.alpha) == ("latency", 100, 0.05)
    assert settings.start is None
    assert settings.end is None
    assert RouterConfig().experiments == {}


def test_each_mistake_is_named_by_its_key(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
experiments:
  one:
    assign_by: cookie
    metric: vibes
    min_sample: 1
    alpha: 0.7
    variants:
      a: {weight: -1}
      b: {tier: turbo, local_only: false, colour: red}
  two:
    variants:
      only: {}
  three:
    variants:
      a: {weight: 0}
      b: {weight: 0}
  four:
    start: 2026-02-01
    end: 2026-01-01
    variants: {a: {}, b: {}}
  "bad name!":
    variants: {a: {}, b: {}}
""",
    )
    assert set(found) == {
        "experiments.one.assign_by",
        "experiments.one.metric",
        "experiments.one.min_sample",
        "experiments.one.alpha",
        "experiments.one.variants.a.weight",
        "experiments.one.variants.b.tier",
        "experiments.one.variants.b.local_only",
        "experiments.one.variants.b.colour",
        "experiments.two.variants",
        "experiments.three.variants",
        "experiments.four.end",
        "experiments.bad name!.[key]",
    }
    assert "unknown key" in found["experiments.one.variants.b.colour"]
    assert "at least one variant needs a weight above 0" in found["experiments.three.variants"]
    assert "must be after start" in found["experiments.four.end"]


def test_enabled_experiments_may_not_overlap_in_time(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        """
experiments:
  first: {end: 2026-02-01, variants: {a: {}, b: {}}}
  second: {start: 2026-01-15, variants: {a: {}, b: {}}}
""",
    )
    assert "first and second" in found["experiments"]
    # Back to back, or one of them disabled, is fine.
    load(
        tmp_path,
        """
experiments:
  first: {end: 2026-02-01, variants: {a: {}, b: {}}}
  second: {start: 2026-02-01, variants: {a: {}, b: {}}}
  third: {enabled: false, variants: {a: {}, b: {}}}
""",
    )


def test_an_unknown_experiment_name_lists_the_known_ones(tmp_path: Path) -> None:
    config = load(tmp_path, GOOD)
    with pytest.raises(UnknownExperimentError) as caught:
        find_experiment(config.experiments, "coder")
    assert caught.value.code == ErrorCode.UNKNOWN_EXPERIMENT
    assert isinstance(caught.value, LookupError)
    assert "coder-model, later" in str(caught.value)
    assert find_experiment(config.experiments, "later") is config.experiments["later"]
