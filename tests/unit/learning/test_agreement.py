"""The independent annotator's labels, scored like a router against the golden labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.errors import EvaluationDataError
from ragged_graph.learning.agreement import (
    SecondOpinion,
    annotated_cases,
    annotator_predictor,
    load_second_opinion,
)
from ragged_graph.learning.golden import (
    GoldenCase,
    GoldenSetError,
    GoldenSplit,
    evaluate_golden,
    load_golden_set,
)
from ragged_graph.registry.cards import Tier


def _case(case_id: str, task: str, tier: str) -> GoldenCase:
    return GoldenCase(
        id=case_id, query=f"query {case_id}", task_type=task, tier=Tier(tier), split="holdout"
    )


def test_the_annotator_is_scored_like_a_router() -> None:
    cases = [
        _case("a1", "math", "fast"),
        _case("a2", "creative", "balanced"),
        _case("a3", "reasoning", "quality"),
        _case("a4", "general_qa", "fast"),
    ]
    opinions = {
        "a1": SecondOpinion(id="a1", task_type="math", tier=Tier.FAST),
        "a2": SecondOpinion(id="a2", task_type="creative", tier=Tier.FAST),
        "a3": SecondOpinion(id="a3", task_type="math", tier=Tier.QUALITY),
    }
    labelled = annotated_cases(cases, opinions)
    assert [case.id for case in labelled] == ["a1", "a2", "a3"]
    scores = evaluate_golden(labelled, annotator_predictor(opinions)).split("holdout")
    assert scores.cases == 3
    assert scores.task_accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert scores.tier_accuracy == pytest.approx(2 / 3, abs=1e-4)
    assert scores.joint_accuracy == pytest.approx(1 / 3, abs=1e-4)


def test_labels_for_cases_outside_the_set_are_refused() -> None:
    opinions = {"zz9": SecondOpinion(id="zz9", task_type="math", tier=Tier.FAST)}
    with pytest.raises(GoldenSetError, match="not in the golden set: zz9"):
        annotated_cases([_case("a1", "math", "fast")], opinions)


def test_a_bad_label_file_names_the_line_and_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        '{"id": "a1", "task_type": "math", "tier": "fast"}\n'
        '{"id": "a2", "task_type": "math", "tier": "huge"}\n',
        encoding="utf-8",
    )
    with pytest.raises(EvaluationDataError, match=r"labels.jsonl:2: invalid label: tier"):
        load_second_opinion(path)


def test_a_repeated_label_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    line = '{"id": "a1", "task_type": "math", "tier": "fast"}\n'
    path.write_text(line * 2, encoding="utf-8")
    with pytest.raises(GoldenSetError, match="a second label for 'a1'"):
        load_second_opinion(path)


def test_the_built_in_labels_cover_the_plain_holdout_only() -> None:
    cases = load_golden_set()
    opinions = load_second_opinion()
    labelled = annotated_cases(cases, opinions)
    assert len(labelled) == len(opinions) >= 400
    assert all(case.split == GoldenSplit.HOLDOUT and case.persona is None for case in labelled)


@pytest.mark.parametrize(
    ("name", "split"),
    [
        ("tune_annotator_a.jsonl", GoldenSplit.TUNE),
        ("tune_annotator_b.jsonl", GoldenSplit.TUNE),
        ("holdout_annotator_c.jsonl", GoldenSplit.HOLDOUT),
    ],
)
def test_the_further_annotations_label_every_plain_case_of_their_split(
    name: str, split: GoldenSplit
) -> None:
    from importlib import resources

    cases = load_golden_set()
    path = resources.files("ragged_graph.learning").joinpath("data", "annotations", name)
    opinions = load_second_opinion(str(path))
    labelled = annotated_cases(cases, opinions)
    plain = [case for case in cases if case.split == split and case.persona is None]
    assert [case.id for case in labelled] == [case.id for case in plain]
