"""The golden set file's integrity, its loader and the evaluation report."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ragged_graph.learning import golden as golden_module
from ragged_graph.learning.golden import (
    GOLDEN_TARGETS,
    GoldenCase,
    GoldenPrediction,
    GoldenReport,
    GoldenSetError,
    GoldenSplit,
    GoldenTargets,
    SplitScores,
    evaluate_golden,
    load_golden_set,
    router_predictor,
)
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.task_types import TaskType

MIN_CASES = 320
MIN_PER_TASK = 20
MIN_HOLDOUT_SHARE = 0.30


@pytest.fixture(scope="module")
def cases() -> list[GoldenCase]:
    return load_golden_set()


# --------------------------------------------------------------------------- integrity


def test_the_set_is_large_enough(cases: list[GoldenCase]) -> None:
    assert len(cases) >= MIN_CASES


def test_every_task_type_is_well_covered(cases: list[GoldenCase]) -> None:
    per_task = Counter(case.task_type for case in cases)
    assert set(per_task) == set(TaskType)
    assert min(per_task.values()) >= MIN_PER_TASK, per_task


def test_every_tier_is_well_covered(cases: list[GoldenCase]) -> None:
    per_tier = Counter(case.tier for case in cases)
    assert set(per_tier) == set(Tier)
    assert min(per_tier.values()) >= len(cases) // 6, per_tier


def test_both_splits_hold_every_task_and_tier(cases: list[GoldenCase]) -> None:
    for split in GoldenSplit:
        selected = [case for case in cases if case.split == split]
        assert {case.task_type for case in selected} == set(TaskType), split
        assert {case.tier for case in selected} == set(Tier), split


def test_the_holdout_is_blind_and_large_enough(cases: list[GoldenCase]) -> None:
    # Blind sets 2 and 3 and the persona holdout: written without seeing the router and
    # never tuned on (see golden.py).
    holdout = [case for case in cases if case.split == GoldenSplit.HOLDOUT]
    assert len(holdout) >= 200
    assert len(holdout) / len(cases) >= MIN_HOLDOUT_SHARE
    assert all(case.persona or re.fullmatch(r"[cd]\d{3}", case.id) for case in holdout)
    for task in TaskType:
        assert sum(case.task_type == task for case in holdout) >= 18, task


def test_ids_and_queries_are_unique(cases: list[GoldenCase]) -> None:
    # A query may recur under different personas, never twice under the same one.
    assert len({case.id for case in cases}) == len(cases)
    keyed = Counter((case.query, case.documents, case.persona) for case in cases)
    assert max(keyed.values()) == 1


def test_rag_queries_come_with_context(cases: list[GoldenCase]) -> None:
    for case in cases:
        if case.task_type == TaskType.RAG_QUERY:
            assert case.documents or "context" in case.query.lower(), case.id


def test_hard_cases_are_there_on_purpose(cases: list[GoldenCase]) -> None:
    short_hard = [c for c in cases if len(c.query) < 80 and c.tier == Tier.QUALITY]
    long_easy = [c for c in cases if len(c.query) > 400 and c.tier == Tier.FAST]
    non_english = [c for c in cases if not c.query.isascii()]
    assert len(short_hard) >= 5
    assert len(long_easy) >= 2
    assert len(non_english) >= 20


def test_the_file_is_one_json_object_per_line() -> None:
    path = Path(golden_module.__file__).parent / "data" / "golden.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        row = json.loads(line)
        assert {"id", "query", "task_type", "tier", "split"} <= set(row), number
        allowed = {"id", "query", "task_type", "tier", "split", "documents", "persona", "note"}
        assert set(row) <= allowed, number


# --------------------------------------------------------------------------- loader


def test_loading_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "golden.jsonl"
    path.write_text(
        '{"id": "a", "query": "hi", "task_type": "general_qa", "tier": "fast", '
        '"split": "tune"}\n\n'
        '{"id": "b", "query": "q", "task_type": "legal_review", "tier": "quality", '
        '"split": "holdout", "documents": ["doc"], "note": "custom task", '
        '"persona": "legal_team"}\n',
        encoding="utf-8",
    )
    loaded = load_golden_set(path)
    assert [case.id for case in loaded] == ["a", "b"]
    assert loaded[1].documents == ("doc",)
    assert loaded[1].tier is Tier.QUALITY
    assert (loaded[0].persona, loaded[1].persona) == (None, "legal_team")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", r"golden\.jsonl:1: not valid JSON"),
        (
            '{"id": "a", "query": "x", "task_type": "math", "tier": "huge", "split": "tune"}\n',
            r"golden\.jsonl:1: invalid case: tier",
        ),
        (
            '{"id": "a", "query": "x", "task_type": "math", "tier": "fast", "split": "tune"}\n'
            '{"id": "a", "query": "y", "task_type": "math", "tier": "fast", "split": "tune"}\n',
            r"golden\.jsonl:2: duplicate id 'a' \(first on line 1\)",
        ),
        (
            '{"id": "a", "query": "x", "task_type": "Not A Task", "tier": "fast", '
            '"split": "tune"}\n',
            r"invalid case: task_type",
        ),
        (
            '{"id": "a", "query": "x", "task_type": "math", "tier": "fast", "split": "tune", '
            '"persona": "Night Owl"}\n',
            r"golden\.jsonl:1: invalid case: persona: .*invalid persona name 'Night Owl'",
        ),
    ],
)
def test_invalid_files_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "golden.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GoldenSetError, match=message):
        load_golden_set(path)


def test_a_missing_file_is_a_golden_set_error(tmp_path: Path) -> None:
    with pytest.raises(GoldenSetError, match="cannot read golden set"):
        load_golden_set(tmp_path / "absent.jsonl")


# --------------------------------------------------------------------------- report


def _case(case_id: str, task: str, tier: str, split: str, persona: str | None = None) -> GoldenCase:
    return GoldenCase.model_validate(
        {
            "id": case_id,
            "query": case_id,
            "task_type": task,
            "tier": tier,
            "split": split,
            "persona": persona,
        }
    )


def test_report_counts_per_split_with_confusion() -> None:
    cases = [
        _case("a", "math", "fast", "tune"),
        _case("b", "math", "quality", "tune"),
        _case("c", "creative", "balanced", "holdout"),
        _case("d", "general_qa", "fast", "holdout"),
    ]
    answers = {
        "a": ("math", "fast"),
        "b": ("math", "balanced"),
        "c": ("general_qa", "balanced"),
        "d": ("general_qa", "fast"),
    }

    def predict(case: GoldenCase) -> GoldenPrediction:
        task, tier = answers[case.id]
        return GoldenPrediction(task_type=task, tier=Tier(tier))

    report = evaluate_golden(cases, predict)
    tune, holdout, overall = report.split("tune"), report.split("holdout"), report.split("all")
    assert (tune.cases, tune.task_accuracy, tune.tier_accuracy, tune.joint_accuracy) == (
        2,
        1.0,
        0.5,
        0.5,
    )
    assert (holdout.task_accuracy, holdout.tier_accuracy, holdout.joint_accuracy) == (
        0.5,
        1.0,
        0.5,
    )
    assert overall.cases == 4
    assert overall.task_confusion["creative"] == {"general_qa": 1}
    assert overall.tier_confusion["quality"] == {"balanced": 1}
    assert [miss.id for miss in report.misses] == ["b", "c"]
    assert report.shortfalls() == [
        "holdout task accuracy 0.500 is below 0.90",
        "holdout joint accuracy 0.500 is below 0.80",
    ]

    again = GoldenReport.model_validate_json(report.model_dump_json())
    assert again == report

    text = report.render_text(show_misses=True)
    assert "holdout" in text
    assert "50.0%" in text
    assert "task confusion" in text
    assert "creative->general_qa" in text
    # No persona cases: no persona figures, and no persona target to miss.
    assert (holdout.persona_cases, holdout.persona_tier_accuracy) == (0, None)


def test_report_scores_persona_cases_per_split() -> None:
    cases = [
        _case("a", "math", "fast", "tune"),
        _case("b", "math", "balanced", "tune", persona="developer"),
        _case("c", "creative", "quality", "holdout", persona="writer"),
        _case("d", "creative", "balanced", "holdout", persona="writer"),
        _case("e", "general_qa", "fast", "holdout", persona="casual"),
        _case("f", "general_qa", "quality", "holdout"),
    ]
    wrong_tier = {"d", "f"}

    def predict(case: GoldenCase) -> GoldenPrediction:
        tier = Tier.FAST if case.id in wrong_tier else case.tier
        return GoldenPrediction(task_type=case.task_type, tier=tier)

    report = evaluate_golden(cases, predict)
    tune, holdout, overall = report.split("tune"), report.split("holdout"), report.split("all")
    assert (tune.persona_cases, tune.persona_tier_accuracy) == (1, 1.0)
    assert (holdout.persona_cases, holdout.persona_tier_accuracy) == (3, 0.6667)
    assert (overall.persona_cases, overall.persona_tier_accuracy) == (4, 0.75)
    # Persona cases count in the split's own figures as well.
    assert (holdout.cases, holdout.tier_accuracy) == (4, 0.5)
    assert {miss.id: miss.persona for miss in report.misses} == {"d": "writer", "f": None}
    assert "holdout persona tier accuracy 0.667 is below 0.85" in report.shortfalls()
    assert GOLDEN_TARGETS.persona_tier == 0.85
    lenient = GoldenTargets(task=0, tier=0, joint=0, persona_tier=0.6)
    assert report.shortfalls(lenient) == []
    assert report.shortfalls(split="tune") == []

    again = GoldenReport.model_validate_json(report.model_dump_json())
    assert again == report
    assert GoldenReport.model_validate(json.loads(report.model_dump_json())) == report

    text = report.render_text(show_misses=True)
    assert "persona tier" in text
    assert "66.7% of 3" in text
    assert "[writer] 'd'" in text


def test_scores_written_before_persona_figures_still_load() -> None:
    legacy = {
        "cases": 1,
        "task_accuracy": 1.0,
        "tier_accuracy": 1.0,
        "joint_accuracy": 1.0,
        "task_confusion": {"math": {"math": 1}},
        "tier_confusion": {"fast": {"fast": 1}},
    }
    scores = SplitScores.model_validate(legacy)
    assert (scores.persona_cases, scores.persona_tier_accuracy) == (0, None)


def test_router_predictor_routes_each_case_under_its_persona(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ragged_graph.errors import UnknownPersonaError
    from ragged_graph.routing.router import RouteOptions, Router

    router = Router()
    seen: list[str | None] = []
    personalise = router.personalise

    def spy(*args: Any, **kwargs: Any) -> Any:
        options = args[3] if len(args) > 3 else kwargs["options"]
        assert isinstance(options, RouteOptions)
        seen.append(options.persona)
        return personalise(*args, **kwargs)

    monkeypatch.setattr(router, "personalise", spy)
    predict = router_predictor(router)
    hard = "Prove that every finite integral domain is a field, justifying every step"
    plain = predict(_case("x", "math", "quality", "tune").model_copy(update={"query": hard}))
    casual = predict(
        _case("y", "math", "quality", "tune", persona="casual").model_copy(update={"query": hard})
    )
    assert seen == [None, "casual"]
    # Whatever the plain tier, the casual persona never asks for more.
    assert casual.tier.rank <= plain.tier.rank
    with pytest.raises(UnknownPersonaError):
        predict(_case("z", "math", "fast", "tune", persona="no_such_persona"))


def test_unknown_split_is_a_key_error() -> None:
    report = evaluate_golden([_case("a", "math", "fast", "tune")])
    with pytest.raises(KeyError, match="no split 'holdout'"):
        report.split("holdout")


def test_package_level_reexports() -> None:
    import ragged_graph.learning as learning

    assert learning.load_golden_set is load_golden_set
    with pytest.raises(AttributeError):
        _ = learning.no_such_name  # type: ignore[attr-defined]
