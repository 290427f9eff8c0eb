"""Judging routers on a small dataset: evaluations, cross-validation, averaging, rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragged_graph.learning.routellm import (
    RoutellmDataset,
    RouterEvaluation,
    ScoreFn,
    average_evaluations,
    cross_validate,
    evaluate_reference_routers,
    evaluate_router,
    evaluate_scores,
    evaluations_to_json,
    oracle_scores,
    prompt_length_score,
    render_evaluation_table,
    seeded_random_scorer,
)
from ragged_graph.learning.routellm_metrics import ThresholdSweep


def make_dataset(rows: list[tuple[str, bool, bool]], name: str = "tiny") -> RoutellmDataset:
    return RoutellmDataset(
        name=name,
        directory=Path(name),
        prompts=tuple(prompt for prompt, _, _ in rows),
        weak_correct=tuple(weak for _, weak, _ in rows),
        strong_correct=tuple(strong for _, _, strong in rows),
        sources=(name,) * len(rows),
        rows_read=len(rows) + 1,
        excluded_contaminated=1,
    )


# Long prompts are exactly the ones the weak model gets wrong and the strong one right, so
# the prompt-length router is an oracle here: weak 2/4, strong 3/4.
TINY = make_dataset(
    [
        ("hello", True, True),
        ("a much longer question", False, True),
        ("ok", True, False),
        ("the longest question of them all", False, True),
    ]
)


def test_evaluate_router_fills_every_field() -> None:
    evaluation = evaluate_router(TINY, prompt_length_score, "prompt length")

    assert evaluation.router == "prompt length"
    assert evaluation.dataset == "tiny"
    assert evaluation.prompts == 4
    assert evaluation.excluded_contaminated == 1
    assert evaluation.weak_accuracy == 0.5
    assert evaluation.strong_accuracy == 0.75
    # PGR by share: 0 -> 1 -> 2 -> 2 ("hello": no change) -> 1 ("ok": -1).
    assert evaluation.apgr == pytest.approx(0.25 * (0.5 + 1.5 + 2 + 1.5))
    assert evaluation.cpt50 == pytest.approx(0.125)
    assert evaluation.cpt80 == pytest.approx(0.2)
    assert evaluation.sweep is ThresholdSweep.EVERY_SCORE
    assert evaluation.cross_validation_folds is None
    assert [point.strong_share for point in evaluation.curve] == [i / 10 for i in range(11)]


def test_oracle_scores_mark_weak_wrong_strong_right() -> None:
    assert oracle_scores(TINY) == [0.0, 1.0, 0.0, 1.0]
    oracle = evaluate_scores(TINY, oracle_scores(TINY), router="oracle")
    length = evaluate_router(TINY, prompt_length_score, "prompt length")
    # The oracle's zeros tie, so "hello" (0) and "ok" (-1) switch together along a straight
    # line from PGR 2 to 1; the length router happens to take them in the better order.
    assert oracle.apgr == pytest.approx(0.5 * 1 + 0.5 * 1.5)
    assert oracle.apgr < length.apgr
    assert oracle.cpt50 == length.cpt50


def test_evaluate_scores_rejects_a_wrong_number_of_scores() -> None:
    with pytest.raises(ValueError, match="3 scores for 4 prompts"):
        evaluate_scores(TINY, [0.1, 0.2, 0.3], router="x")


def test_seeded_random_scorer_is_reproducible_and_order_free() -> None:
    first = seeded_random_scorer(7)
    again = seeded_random_scorer(7)
    other = seeded_random_scorer(8)

    scores = [first(prompt) for prompt in TINY.prompts]

    assert [again(prompt) for prompt in reversed(TINY.prompts)] == scores[::-1]
    assert [other(prompt) for prompt in TINY.prompts] != scores
    assert all(0.0 <= score < 1.0 for score in scores)


def test_reference_routers_are_random_length_oracle() -> None:
    random_, length, oracle = evaluate_reference_routers(TINY, random_seeds=(0, 1, 2))

    assert (random_.router, length.router, oracle.router) == ("random", "prompt length", "oracle")
    assert random_.runs_averaged == 3


def test_average_evaluations_means_the_metrics() -> None:
    runs = [evaluate_router(TINY, seeded_random_scorer(seed), "random") for seed in range(4)]

    mean = average_evaluations(runs, router="random")

    assert mean.apgr == pytest.approx(sum(run.apgr for run in runs) / 4)
    assert mean.curve[5].pgr == pytest.approx(sum(run.curve[5].pgr for run in runs) / 4)
    assert mean.runs_averaged == 4
    with pytest.raises(ValueError, match="nothing to average"):
        average_evaluations([], router="x")


def test_cross_validation_scores_each_prompt_with_a_model_that_never_saw_it() -> None:
    dataset = make_dataset([(f"question {i}", i % 3 == 0, i % 2 == 0) for i in range(20)])
    seen_training_sets: list[set[str]] = []
    scored: dict[str, int] = {}

    def fit(train: RoutellmDataset) -> ScoreFn:
        training = set(train.prompts)
        fold = len(seen_training_sets)
        seen_training_sets.append(training)

        def score(prompt: str) -> float:
            assert prompt not in training
            scored[prompt] = fold
            return float(len(prompt))

        return score

    evaluation = cross_validate(dataset, fit, k=4, seed=3, name="length, cross-validated")

    assert len(seen_training_sets) == 4
    assert all(len(training) == 15 for training in seen_training_sets)
    assert set(scored) == set(dataset.prompts)
    assert evaluation.cross_validation_folds == 4
    assert evaluation.router == "length, cross-validated"
    assert evaluation.prompts == 20
    # Pooled held-out scores equal the untrained router's scores, so the metrics agree.
    direct = evaluate_router(dataset, prompt_length_score, "length")
    assert evaluation.apgr == pytest.approx(direct.apgr)


def test_cross_validation_keeps_duplicate_prompts_in_one_fold() -> None:
    # A router that memorises its training labels learns nothing about unseen prompts. If a
    # duplicate leaked across folds it would score above the 0.5 of a constant score.
    rows = [(f"q{i % 10}", i % 3 == 0, i % 2 == 0) for i in range(30)]
    dataset = make_dataset(rows)

    def memorise(train: RoutellmDataset) -> ScoreFn:
        gains = {
            prompt: float(strong) - float(weak)
            for prompt, weak, strong in zip(
                train.prompts, train.weak_correct, train.strong_correct, strict=True
            )
        }
        return lambda prompt: gains.get(prompt, 0.0)

    evaluation = cross_validate(dataset, memorise, k=5)

    assert evaluation.apgr == pytest.approx(0.5)
    assert evaluation.router == "memorise"


def test_cross_validation_is_reproducible_and_checks_k() -> None:
    dataset = make_dataset([(f"question {i}", i % 3 == 0, i % 2 == 0) for i in range(20)])

    def fit(train: RoutellmDataset) -> ScoreFn:
        return seeded_random_scorer(len(train.prompts[0]) + sum(train.weak_correct))

    assert cross_validate(dataset, fit, seed=1) == cross_validate(dataset, fit, seed=1)
    with pytest.raises(ValueError, match="k must be between 2 and 20"):
        cross_validate(dataset, fit, k=1)
    with pytest.raises(ValueError, match="k must be between 2 and 20"):
        cross_validate(dataset, fit, k=21)


def test_render_evaluation_table() -> None:
    evaluations = evaluate_reference_routers(TINY)
    missing_cpt = evaluations[0].model_copy(update={"router": "no cpt", "cpt80": None})

    table = render_evaluation_table([*evaluations, missing_cpt])
    lines = table.splitlines()

    assert lines[0].split() == [
        "router",
        "dataset",
        "prompts",
        "excluded",
        "weak",
        "strong",
        "APGR",
        "CPT50",
        "CPT80",
    ]
    assert set(lines[1]) == {"-", " "}
    assert lines[3].split()[:2] == ["prompt", "length"]
    assert lines[3].split()[-3:] == ["1.375", "0.125", "0.200"]
    assert lines[5].endswith("-")
    # Figures are right-aligned, so every row is as long as the separator.
    assert all(len(line) == len(lines[1]) for line in lines[2:])


def test_evaluations_round_trip_through_json() -> None:
    evaluations = evaluate_reference_routers(TINY)

    decoded = json.loads(evaluations_to_json(evaluations))

    assert [item["router"] for item in decoded] == ["random", "prompt length", "oracle"]
    assert [RouterEvaluation.model_validate(item) for item in decoded] == list(evaluations)
