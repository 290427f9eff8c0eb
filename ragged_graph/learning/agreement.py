"""A second, independent annotator's labels for the golden set's held-out cases.

The golden labels are one writer's judgement. How far a router can be expected to agree with
them is bounded by how far another careful annotator agrees with them. To measure it, the
held-out queries (without their labels) were given to an annotator that had seen neither the
labels, the router, nor any other case, with written definitions of the task types and tiers
(SPEC section 2, with examples of each tier). The writers and the annotators are AI helpers
working in isolation, not people: two of them given the *same* written definitions agree
closely (see below), so these figures measure agreement between conventions rather than
between people. The labels are in ``data/golden_second_opinion.jsonl``;
:func:`annotator_predictor` turns them into a
:data:`~ragged_graph.learning.golden.PredictFn`, so the annotator is scored exactly like a
router (``ragged-graph eval golden --annotator``).

Measured once each, on the holdout cases without a persona:

- blind set 2 (212 cases): the annotator agrees on the task type in 96.7 %, on the tier in
  70.8 %, on both in 67.9 % of cases (the router: 80.2 %, 76.9 %, 61.8 %);
- blind set 3 (230 cases), whose writer had the same written tier definitions as the
  annotator: 96.5 %, 87.8 %, 84.3 % (the router: 88.7 %, 69.1 %, 62.6 %).

More annotations with the same written definitions are in ``data/annotations/`` (same format;
read them with :func:`load_second_opinion`): two annotators (``a``, ``b``) of every plain
``tune`` case, and a third (``c``) of the plain holdout. On ``tune`` the two agree with each
other on 99.9 % of task types and 95.5 % of tiers, but with the tune labels on only 68-70 %
of tiers: the tune split, on which the complexity analyser was fitted, was labelled one tier
higher than the written definitions put it. That, not the classifier, is what keeps the
router's held-out tier accuracy down on text labelled by those definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from ragged_graph.learning.golden import (
    GoldenCase,
    GoldenPrediction,
    GoldenSetError,
    PredictFn,
    read_data_file,
    validation_problems,
)
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.task_types import validate_task_name

__all__ = [
    "SecondOpinion",
    "annotated_cases",
    "annotator_predictor",
    "load_second_opinion",
]

_PACKAGE_DATA = ("data", "golden_second_opinion.jsonl")


class SecondOpinion(BaseModel):
    """The independent annotator's labels for one golden case."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    id: str
    """The golden case's id."""

    task_type: str
    """The task type the annotator chose."""

    tier: Tier
    """The tier the annotator chose."""

    @field_validator("task_type")
    @classmethod
    def _valid_task_name(cls, value: str) -> str:
        return validate_task_name(value)


def load_second_opinion(path: str | Path | None = None) -> dict[str, SecondOpinion]:
    """The annotator's labels by case id: the built-in file unless ``path`` is given.

    Raises :class:`~ragged_graph.learning.golden.GoldenSetError` naming the file and line of
    an invalid or repeated entry.
    """
    text, source = read_data_file(path, _PACKAGE_DATA, what="second opinion")
    return _parse(text.splitlines(), source)


def _parse(lines: Iterable[str], source: str) -> dict[str, SecondOpinion]:
    opinions: dict[str, SecondOpinion] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            opinion = SecondOpinion.model_validate_json(line)
        except ValidationError as exc:
            problems = validation_problems(exc, whole="<line>")
            raise GoldenSetError(f"{source}:{number}: invalid label: {problems}") from exc
        if opinion.id in opinions:
            raise GoldenSetError(f"{source}:{number}: a second label for {opinion.id!r}")
        opinions[opinion.id] = opinion
    return opinions


def annotated_cases(
    cases: Sequence[GoldenCase], opinions: Mapping[str, SecondOpinion]
) -> list[GoldenCase]:
    """The cases the annotator labelled, in the golden set's order.

    Raises :class:`~ragged_graph.learning.golden.GoldenSetError` if a label names a case
    that is not in ``cases``: labels for a different set would score nonsense.
    """
    known = {case.id for case in cases}
    stray = sorted(set(opinions) - known)
    if stray:
        shown = ", ".join(stray[:5]) + (" ..." if len(stray) > 5 else "")
        raise GoldenSetError(f"second-opinion labels for cases not in the golden set: {shown}")
    return [case for case in cases if case.id in opinions]


def annotator_predictor(opinions: Mapping[str, SecondOpinion]) -> PredictFn:
    """The annotator as a router under evaluation: their label for each case they labelled."""

    def predict(case: GoldenCase) -> GoldenPrediction:
        try:
            opinion = opinions[case.id]
        except KeyError:
            raise GoldenSetError(f"the annotator did not label case {case.id!r}") from None
        return GoldenPrediction(task_type=opinion.task_type, tier=opinion.tier)

    return predict
