"""A/B experiments: variants of routing policy or model, assigned by session or user.

- :mod:`~ragged_graph.experiments.settings`: the ``experiments:`` config section.
- :mod:`~ragged_graph.experiments.assignment`: which variant a request gets (deterministic).
- :mod:`~ragged_graph.experiments.stats`: intervals and significance tests, plain Python.
- :mod:`~ragged_graph.experiments.report`: per-variant figures, tests and the winner.

The routing graph's ``experiment`` node assigns each request and applies its variant; the
variant is recorded in the routing history (``ab_experiment``, ``ab_variant``) and the
LangSmith trace (tag ``ab:<experiment>=<variant>``); ``ragged-graph ab report NAME`` reports.
"""

from ragged_graph.experiments.assignment import (
    Assignment,
    active_experiment,
    assign,
    bucket,
    choose_variant,
    excluded,
)
from ragged_graph.experiments.report import (
    Comparison,
    Estimate,
    ExperimentReport,
    VariantReport,
    compute_experiment_report,
    experiment_report,
)
from ragged_graph.experiments.settings import (
    ExperimentSettings,
    VariantSettings,
    find_experiment,
)

__all__ = [
    "Assignment",
    "Comparison",
    "Estimate",
    "ExperimentReport",
    "ExperimentSettings",
    "VariantReport",
    "VariantSettings",
    "active_experiment",
    "assign",
    "bucket",
    "choose_variant",
    "compute_experiment_report",
    "excluded",
    "experiment_report",
    "find_experiment",
]
