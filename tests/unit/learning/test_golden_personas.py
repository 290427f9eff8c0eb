"""The golden set's persona cases: coverage of the built-in personas, and their accuracy.

Persona cases carry the tier the persona's definition calls for (its description and rules
as a user reads them), not what the router answered; see :mod:`ragged_graph.learning.golden`.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources

import pytest

from ragged_graph.learning.golden import (
    GOLDEN_TARGETS,
    GoldenCase,
    GoldenReport,
    GoldenSplit,
    evaluate_golden,
    load_golden_set,
)

MIN_PERSONA_CASES = 70
MIN_PER_PERSONA = 10


def _builtin_personas() -> set[str]:
    folder = resources.files("ragged_graph.personas")
    return {
        entry.name.rsplit(".", 1)[0]
        for entry in folder.iterdir()
        if entry.name.endswith((".yaml", ".yml"))
    }


@pytest.fixture(scope="module")
def persona_cases() -> list[GoldenCase]:
    return [case for case in load_golden_set() if case.persona is not None]


@pytest.fixture(scope="module")
def report() -> GoldenReport:
    return evaluate_golden(load_golden_set())


def test_there_are_enough_persona_cases(persona_cases: list[GoldenCase]) -> None:
    assert len(persona_cases) >= MIN_PERSONA_CASES


def test_every_builtin_persona_is_covered_in_both_splits(
    persona_cases: list[GoldenCase],
) -> None:
    builtin = _builtin_personas()
    assert builtin >= {"researcher", "developer", "casual", "writer", "private"}
    per_persona = Counter(case.persona for case in persona_cases)
    assert set(per_persona) == builtin, per_persona
    assert min(per_persona.values()) >= MIN_PER_PERSONA, per_persona
    for persona in builtin:
        splits = {case.split for case in persona_cases if case.persona == persona}
        assert splits == set(GoldenSplit), persona


def test_some_queries_are_asked_under_several_personas(
    persona_cases: list[GoldenCase],
) -> None:
    personas_per_query: dict[str, set[str]] = {}
    for case in persona_cases:
        assert case.persona is not None
        personas_per_query.setdefault(case.query, set()).add(case.persona)
    shared = [query for query, names in personas_per_query.items() if len(names) >= 2]
    assert len(shared) >= 10


def test_report_counts_the_persona_cases(
    report: GoldenReport, persona_cases: list[GoldenCase]
) -> None:
    assert report.split("all").persona_cases == len(persona_cases)
    held_out = sum(case.split == GoldenSplit.HOLDOUT for case in persona_cases)
    assert report.split("holdout").persona_cases == held_out


def test_holdout_persona_tier_accuracy_meets_the_target(report: GoldenReport) -> None:
    accuracy = report.split("holdout").persona_tier_accuracy
    assert accuracy is not None
    assert accuracy >= GOLDEN_TARGETS.persona_tier == 0.85, report.render_text(show_misses=True)
