"""The built-in router against its targets on the golden set's held-out split.

The holdout is blind sets 2 and 3 (written without seeing the router) plus the persona
holdout, each evaluated once (history in :mod:`ragged_graph.learning.golden`). The task
target is met; the tier and joint targets are not yet: their tests are strict xfails that
turn red the day they are, and a floor at the measured figures keeps a later change from
quietly losing held-out accuracy.
"""

from __future__ import annotations

import pytest

from ragged_graph.learning.golden import (
    GOLDEN_TARGETS,
    GoldenReport,
    evaluate_golden,
    load_golden_set,
)


@pytest.fixture(scope="module")
def report() -> GoldenReport:
    return evaluate_golden(load_golden_set())


def test_holdout_meets_the_task_target(report: GoldenReport) -> None:
    holdout = report.split("holdout")
    assert holdout.task_accuracy >= GOLDEN_TARGETS.task == 0.90, report.render_text()


@pytest.mark.xfail(
    strict=True, reason="not met on blind sets 2 and 3: tier 72.5%, joint 66.6% (holdout of 473)"
)
def test_holdout_meets_the_tier_and_joint_targets(report: GoldenReport) -> None:
    holdout = report.split("holdout")
    assert holdout.tier_accuracy >= GOLDEN_TARGETS.tier == 0.85, report.render_text()
    assert holdout.joint_accuracy >= GOLDEN_TARGETS.joint == 0.80, report.render_text()
    assert report.shortfalls() == []


def test_holdout_does_not_fall_below_what_was_measured(report: GoldenReport) -> None:
    holdout = report.split("holdout")
    assert holdout.task_accuracy >= 0.909, report.render_text()
    assert holdout.tier_accuracy >= 0.725, report.render_text()
    assert holdout.joint_accuracy >= 0.666, report.render_text()
    assert holdout.persona_tier_accuracy is not None
    assert holdout.persona_tier_accuracy >= GOLDEN_TARGETS.persona_tier


def test_tuning_split_is_not_worse_than_holdout_by_chance(report: GoldenReport) -> None:
    # The tuning split is what the weights were fitted on; falling below the held-out
    # targets there means the calibration itself is broken.
    tune = report.split("tune")
    assert tune.task_accuracy >= GOLDEN_TARGETS.task
    assert tune.tier_accuracy >= GOLDEN_TARGETS.tier
    assert tune.joint_accuracy >= GOLDEN_TARGETS.joint


def test_with_the_learned_tier_model_the_holdout_tiers_are_as_measured() -> None:
    # Opt-in (learning.tier_model: builtin): better tiers on the plain queries, worse on the
    # persona cases, whose labels follow the thresholds' tiers (ragged_graph.routing.tier_model).
    from ragged_graph.config import RouterConfig
    from ragged_graph.learning.golden import router_predictor
    from ragged_graph.routing.router import Router

    router = Router(RouterConfig.model_validate({"learning": {"tier_model": "builtin"}}))
    holdout = evaluate_golden(load_golden_set(), router_predictor(router)).split("holdout")
    assert holdout.task_accuracy >= 0.909
    assert holdout.tier_accuracy >= 0.778
    assert holdout.joint_accuracy >= 0.718
