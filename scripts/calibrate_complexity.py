"""Calibrate the complexity score as a weak/strong router on RouteLLM's real routing data.

What it fits
    The weights of the two problem dimensions of
    :class:`~ragged_graph.routing.complexity.ComplexityAnalyser`: ``steps`` (the clauses and
    related quantities of a word problem or a multiple-choice question) and ``choices`` (the
    answer options of a multiple-choice question). Every other weight and task prior stays
    as it was fitted on the golden set's tune split; the shapes inside the two dimensions
    (points per clause, words per unit of options, ...) are fixed constants of the module.

On which data
    - RouteLLM's GSM8K and MMLU results (``../shared/data/routellm/{gsm8k,mmlu}`` next to the
      repository root, or ``--data``), contaminated prompts left out. The objective is the
      mean of the two sets' APGRs, each set scored as the evaluation harness scores it
      (prepare_query, TaskClassifier, ComplexityAnalyser.assess).
    - The golden set's ``tune`` split, as a constraint: with the fitted weights its task, tier
      and joint accuracy must not fall below what they are with both weights at 0. Only tune
      cases are ever evaluated; the holdout split is not touched.
    - A calibration anchor: the median score of each RouteLLM set must stay in the balanced
      band (3.5 to 7 by default). APGR depends only on the order of scores, so it would
      grow the weights without bound; the anchor keeps a typical grade-school word problem
      and a typical exam question where their size says they belong (the weak model,
      Mixtral-8x7B, is itself about balanced size).

How
    A grid search over both weights (steps of ``--grid-step``). Among the points meeting the
    constraints it takes the best objective, then, as a parsimony rule, the point with the
    smallest ``steps`` weight within ``--tolerance`` of it: ``steps`` also scores ordinary
    queries that give quantities, and a bigger weight moves golden cases towards tier edges
    that the tune split alone does not show. (``choices`` is 0 outside multiple-choice
    questions, none of which are in the golden set; the anchor bounds it.)

    To judge the fit on data it was not fitted on, the same procedure runs in a 5-fold
    cross-validation (:func:`ragged_graph.learning.routellm.cross_validate`): for each fold
    of one set the weights are fitted on the other four folds plus all of the other set,
    and the held-out prompts are scored by the real analyser with those weights. The
    pooled held-out scores give the CV APGR.

How to run (from the repository root; about a minute)::

    /work/venv/bin/python scripts/calibrate_complexity.py
    /work/venv/bin/python scripts/calibrate_complexity.py --data ../shared/data/routellm \\
        --folds 5 --grid-step 0.5

What it prints
    1. The reference routers (random, prompt length, oracle) and the complexity score with
       ``steps`` and ``choices`` at 0, on each set.
    2. The weights fitted on all the data, with the figures they reach, and the weights in
       :data:`~ragged_graph.routing.complexity.DEFAULT_WEIGHTS` (edit them there by hand if
       they differ).
    3. The cross-validated APGR / CPT(50%) / CPT(80%) per set, with the weights each fold
       chose.
    4. The golden tune split's task, tier and joint accuracy with both weights at 0 and with
       the shipped weights.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ragged_graph.learning.golden import (
    GoldenCase,
    GoldenSplit,
    SplitScores,
    evaluate_golden,
    load_golden_set,
    router_predictor,
)
from ragged_graph.learning.routellm import (
    RoutellmDataset,
    RouterEvaluation,
    ScoreFn,
    cross_validate,
    evaluate_reference_routers,
    evaluate_scores,
    load_routellm_dataset,
    render_evaluation_table,
)
from ragged_graph.learning.routellm_metrics import (
    average_performance_gap_recovered,
    routing_curve,
)
from ragged_graph.routing.classifier import TaskClassifier
from ragged_graph.routing.complexity import (
    DEFAULT_WEIGHTS,
    ComplexityAnalyser,
    ComplexityWeights,
    TierThresholds,
    cap_score,
)
from ragged_graph.routing.query_text import prepare_query
from ragged_graph.routing.router import Router

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "routellm"
FITTED = ("steps", "choices")
STEPS_RANGE = (0.0, 8.0)
CHOICES_RANGE = (0.0, 10.0)


@dataclass(frozen=True)
class Features:
    """What the score of one prompt is made of: everything but the fitted dimensions
    (task prior and weighted dimensions), and the values of the fitted ones."""

    base: float
    steps: float
    choices: float

    def score(self, steps_weight: float, choices_weight: float) -> float:
        return cap_score(self.base + steps_weight * self.steps + choices_weight * self.choices)


def with_weights(steps_weight: float, choices_weight: float) -> ComplexityWeights:
    """The default weights with ``steps`` and ``choices`` replaced."""
    dimension_weights = dict(DEFAULT_WEIGHTS.dimension_weights)
    dimension_weights.update(steps=steps_weight, choices=choices_weight)
    return DEFAULT_WEIGHTS.model_copy(update={"dimension_weights": dimension_weights})


class Scorer:
    """Scores prompts as the evaluation harness does: prepare_query, classify, assess."""

    def __init__(self, weights: ComplexityWeights) -> None:
        self.classifier = TaskClassifier()
        self.analyser = ComplexityAnalyser(weights=weights)

    def __call__(self, prompt: str) -> float:
        prepared = prepare_query(prompt)
        task = self.classifier.classify(prepared)
        return self.analyser.assess(prepared, task_type=task).score

    def features(self, prompt: str) -> Features:
        """The prompt's score split into a fixed part and the fitted dimensions' values."""
        prepared = prepare_query(prompt)
        task = self.classifier.classify(prepared)
        assessment = self.analyser.assess(prepared, task_type=task)
        weights = self.analyser.weights
        base = assessment.task_prior
        for dimension, value in assessment.breakdown.items():
            if dimension in FITTED:
                continue
            if dimension == "volume":
                weight = weights.volume_weights.get(task.task_type, weights.default_volume_weight)
            else:
                weight = weights.dimension_weights.get(dimension, 0.0)
            base += weight * value
        breakdown = assessment.breakdown
        return Features(base=base, steps=breakdown["steps"], choices=breakdown["choices"])


def apgr(features: Sequence[Features], dataset: RoutellmDataset, ws: float, wc: float) -> float:
    scores = [f.score(ws, wc) for f in features]
    curve = routing_curve(scores, dataset.weak_correct, dataset.strong_correct)
    return average_performance_gap_recovered(curve)


def grid(low: float, high: float, step: float) -> list[float]:
    count = round((high - low) / step)
    return [round(low + i * step, 6) for i in range(count + 1)]


def golden_scores(tune: Sequence[GoldenCase], weights: ComplexityWeights) -> SplitScores:
    """Task, tier and joint accuracy on the tune cases, decided by the real router."""
    router = Router()
    router.analyser = ComplexityAnalyser(router.config.tiers, weights=weights)
    return evaluate_golden(tune, router_predictor(router)).split(GoldenSplit.TUNE)


class Calibration:
    """The grid search, its constraints and its data."""

    def __init__(
        self,
        datasets: dict[str, RoutellmDataset],
        tune: Sequence[GoldenCase],
        *,
        step: float,
        tolerance: float,
    ) -> None:
        self.datasets = datasets
        self.tolerance = tolerance
        self.thresholds = TierThresholds()
        scorer = Scorer(DEFAULT_WEIGHTS)
        self.features = {
            name: {prompt: scorer.features(prompt) for prompt in dict.fromkeys(data.prompts)}
            for name, data in datasets.items()
        }
        self.points = [
            (ws, wc) for ws in grid(*STEPS_RANGE, step) for wc in grid(*CHOICES_RANGE, step)
        ]
        self.golden_reference = golden_scores(tune, with_weights(0.0, 0.0))
        reference = self.golden_reference
        self.golden_ok: dict[tuple[float, float], bool] = {}
        for point in self.points:
            scores = golden_scores(tune, with_weights(*point))
            self.golden_ok[point] = (
                scores.task_accuracy >= reference.task_accuracy
                and scores.tier_accuracy >= reference.tier_accuracy
                and scores.joint_accuracy >= reference.joint_accuracy
            )

    def fit(self, parts: dict[str, RoutellmDataset]) -> tuple[float, float, float]:
        """The weights chosen on ``parts`` (one dataset or fold per set), with their
        objective: the mean of the sets' APGRs."""
        features = {
            name: [self.features[name][p] for p in data.prompts] for name, data in parts.items()
        }
        fast, balanced = self.thresholds.fast_below, self.thresholds.balanced_below
        feasible: list[tuple[float, float, float]] = []
        for ws, wc in self.points:
            if not self.golden_ok[(ws, wc)]:
                continue
            medians = [
                statistics.median(f.score(ws, wc) for f in values) for values in features.values()
            ]
            if not all(fast <= median < balanced for median in medians):
                continue
            objective = statistics.fmean(
                apgr(features[name], data, ws, wc) for name, data in parts.items()
            )
            feasible.append((objective, ws, wc))
        if not feasible:
            raise SystemExit("no weights meet the constraints; widen the grid")
        best = max(objective for objective, _, _ in feasible)
        near = [item for item in feasible if item[0] >= best - self.tolerance]
        objective, ws, wc = min(near, key=lambda item: (item[1], -item[0]))
        return ws, wc, objective


def describe(evaluation: RouterEvaluation) -> str:
    cpt50 = "-" if evaluation.cpt50 is None else f"{evaluation.cpt50:.3f}"
    cpt80 = "-" if evaluation.cpt80 is None else f"{evaluation.cpt80:.3f}"
    return f"APGR {evaluation.apgr:.3f}  CPT50 {cpt50}  CPT80 {cpt80}"


def describe_golden(scores: SplitScores) -> str:
    return (
        f"{scores.cases} cases: task {scores.task_accuracy:.1%}, tier {scores.tier_accuracy:.1%}"
        f", joint {scores.joint_accuracy:.1%}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="RouteLLM data folder")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--seed", type=int, default=0, help="fold shuffle seed")
    parser.add_argument("--grid-step", type=float, default=0.5, help="weight grid step")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.005,
        help="parsimony: mean APGR given up for a smaller steps weight",
    )
    args = parser.parse_args(argv)

    datasets = {name: load_routellm_dataset(args.data / name) for name in ("gsm8k", "mmlu")}
    tune = [case for case in load_golden_set() if case.split == GoldenSplit.TUNE]
    print(f"RouteLLM data: {args.data}")
    for name, data in datasets.items():
        print(f"  {name}: {len(data)} prompts ({data.excluded_contaminated} contaminated left out)")
    print(f"Golden set: {len(tune)} tune cases (holdout not used)\n")

    calibration = Calibration(datasets, tune, step=args.grid_step, tolerance=args.tolerance)

    print("1. References, and the complexity score without the fitted dimensions")
    rows: list[RouterEvaluation] = []
    for name, data in datasets.items():
        rows += evaluate_reference_routers(data)
        zero = [calibration.features[name][p].score(0.0, 0.0) for p in data.prompts]
        rows.append(evaluate_scores(data, zero, router="complexity, steps=choices=0"))
    print(render_evaluation_table(rows), "\n")

    ws, wc, objective = calibration.fit(datasets)
    shipped = (
        DEFAULT_WEIGHTS.dimension_weights.get("steps", 0.0),
        DEFAULT_WEIGHTS.dimension_weights.get("choices", 0.0),
    )
    print("2. Fitted on all the data")
    print(f"  steps {ws:g}, choices {wc:g} (mean APGR {objective:.3f})")
    print(
        f"  DEFAULT_WEIGHTS ship steps {shipped[0]:g}, choices {shipped[1]:g}"
        + ("" if (ws, wc) == shipped else "  <- differs: update DEFAULT_WEIGHTS")
    )
    shipped_scorer = Scorer(DEFAULT_WEIGHTS)
    for name, data in datasets.items():
        scores = [shipped_scorer(p) for p in data.prompts]
        evaluation = evaluate_scores(data, scores, router="complexity (shipped)")
        median = statistics.median(scores)
        print(
            f"  {name:6s} shipped weights, all prompts: {describe(evaluation)}  median {median:.2f}"
        )
    print()

    print(f"3. {args.folds}-fold cross-validation (weights fitted without the held-out fold)")
    for name, data in datasets.items():
        others = {n: d for n, d in datasets.items() if n != name}
        chosen: list[tuple[float, float]] = []

        def fit(
            train: RoutellmDataset,
            others: dict[str, RoutellmDataset] = others,
            chosen: list[tuple[float, float]] = chosen,
            name: str = name,
        ) -> ScoreFn:
            fold_ws, fold_wc, _ = calibration.fit({name: train, **others})
            chosen.append((fold_ws, fold_wc))
            return Scorer(with_weights(fold_ws, fold_wc))

        evaluation = cross_validate(data, fit, k=args.folds, seed=args.seed, name="complexity (CV)")
        folds = ", ".join(f"{a:g}/{b:g}" for a, b in chosen)
        print(f"  {name:6s} {describe(evaluation)}  (steps/choices per fold: {folds})")
    print()

    print("4. Golden set, tune split")
    print(f"  steps=choices=0: {describe_golden(calibration.golden_reference)}")
    print(f"  shipped weights: {describe_golden(golden_scores(tune, DEFAULT_WEIGHTS))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
