"""The golden set: labelled queries that say what a sensible router should decide.

Each line of ``data/golden.jsonl`` is one case: the query (with retrieved documents, if any),
the task type and tier it should get, and its split. Labels follow what the query needs
(SPEC section 2), not what any router answered, and were written before the cases were run.

How the splits came about, so that the held-out figures mean what they say:

1. A first batch of 363 cases was written and labelled, and 35% of each task type drawn
   at random (seed 20240611) as holdout. Patterns and weights were tuned on the rest, then
   the holdout was evaluated once: task 97.7%, tier 78.9%, joint 78.1%. Tier missed its
   target, and finding out why spent that holdout.
2. The whole first batch became ``tune``. A second batch of 200 new cases (20 per task
   type) was written and labelled before any further change, as the ``holdout``. Weights
   were re-fitted on ``tune`` only (5-fold cross-validation on it: tier 0.90 out of fold),
   and the new holdout was evaluated once: task 90.0%, tier 84.0%, joint 77.0%.
3. Its misses were mostly words the cues did not know (``45 x 12``, "pickup line", "this
   ad", German and French question forms). The vocabulary was widened in general terms,
   not case by case; the weights stayed fitted on ``tune`` alone. On that second holdout,
   now spent, the router scores task 99.5%, tier 85.0%, joint 84.5%, which is what the
   regression test holds it to. A fresh, independently written holdout is what would give
   an unbiased figure again.
4. 89 persona cases (ids ``p001``...) were added: 38 queries, each asked under one to four
   of the built-in personas (researcher 20, developer 17, casual 21, writer 17, private 14),
   so that the same query gets different tiers where the personas' definitions say so.
   Their ``tier`` is what the persona's definition (its description and rules as a user
   reads them) makes of a sensible complexity judgement of the query; each ``note`` says
   which rule decides. 35% of each persona's cases were drawn at random as holdout (seed
   20250612) before anything was run, and the set was evaluated once, with nothing changed
   afterwards: persona tier accuracy 87.9% on tune (58 cases), 93.5% on holdout (31).
5. Blind set 1 (ids ``b001``...): 220 cases written by someone who had not seen the cues,
   the weights or the earlier cases, evaluated once as holdout: task 86.8%, tier 75.0%,
   joint 65.9%. The step-3 holdout moved to ``tune`` with it; the classifier and the
   analyser were then improved on ``tune`` (5-fold CV of the weights: tier 0.883).
6. Blind set 2 (ids ``c001``...): 220 more, written the same way, evaluated once after
   step 5 (queries already in the set dropped, 212 left): task 80.2%, tier 76.9%, joint
   61.8%. These are the honest held-out figures: the targets (90% / 85% / 80%) are not met
   on text written by someone else, whose idea of "fast" and "balanced" differs from the
   rules'. The holdout (blind set 2 and the persona holdout) is 22% of the set, below the
   30% first aimed at, because every earlier holdout was spent and moved to ``tune``.
7. Blind set 3 (ids ``d001``...): 240 cases written by another helper who had seen nothing
   of the project, from written definitions of the task types and tiers (SPEC section 2
   with examples of each tier); 10 queries already in the set dropped. Evaluated once,
   before any change: task 88.7%, tier 69.1%, joint 62.6% (230 cases). It joins the
   holdout, which is now blind sets 2 and 3 plus the persona holdout: 473 cases, 36% of
   the set; together task 85.6%, tier 74.2%, joint 64.3%.
8. An independent annotator (an isolated AI helper, as every writer here) labelled the
   held-out queries of blind sets 2 and 3 without their labels
   (:mod:`ragged_graph.learning.agreement`). On blind set 2 it agrees with the writer on
   96.7% of task types and 70.8% of tiers; on blind set 3, where writer and annotator had
   the same written tier definitions, on 96.5% and 87.8%. Task types are a shared
   convention, so the task target is a matter of the classifier; tiers depend on the
   definition the labeller had in mind.
9. Two more annotators relabelled every plain tune case with those written definitions
   (``data/annotations/``): they agree with each other on 95.5% of tiers but with the tune
   labels on only 68-70%; the tune split leans one tier higher than the definitions, and the
   analyser was fitted on it. Moving only the tier thresholds to the annotators' consensus
   (majority of writer and two annotators) reaches 78.6% tier accuracy in 5-fold CV on tune
   and all but closes the balanced band, so it was not shipped. Re-fitting the weights and
   priors themselves on the consensus (the ordinal hinge fit of
   :mod:`ragged_graph.routing.complexity`) reaches only 72.6% in 5-fold CV, and a logistic
   tier model over the same dimensions, the task and the score 81.5% (adding word n-grams:
   81.7%). So the analyser's dimensions, not its calibration, limit tier accuracy against
   that definition: what separates "balanced" from "fast" there is mostly not in them.
   What it would take: new evidence in the analyser, judged on a fresh blind set.
10. Four more isolated writers wrote a task corpus of 595 queries in voices unlike the
    earlier ones (``data/task_corpus.jsonl``; training data only, never part of this set).
    On it the classifier's cues alone got 75.1% of task types right, most misses matching
    no cue at all, so a learned task model (:mod:`ragged_graph.routing.task_model`) was
    added for queries the cues are unsure of. Its design (features, when it is asked, how
    sure it must be) was chosen by leave-one-writer-out cross-validation on the corpus
    alone (86.6% with the model), it was trained on ``tune`` and the corpus, and then the
    holdout was evaluated once: task 91.1% (from 85.6%), tier 72.5% (from 74.2%: a task
    that changes moves the complexity score's task prior), joint 66.8% (from 64.3%).
11. The corpus writers also labelled tiers, from the written definitions. An opt-in learned
    tier model (:mod:`ragged_graph.routing.tier_model`) was designed by leave-one-writer-out
    cross-validation on the corpus (thresholds 63.7%, model 80.2%), trained on the corpus and
    the tune split's consensus tiers (step 9), then the holdout was evaluated once with it:
    tier 78.2%, joint 72.5%, but persona tier 74.2% (from 93.5%): the persona cases were
    labelled against the thresholds' tiers. So it stays off by default.
12. Chat turns: 138 short conversational turns ("ok", "go on", "yes please"), written and
    labelled by another isolated helper (``data/chat_turns.jsonl``, evaluation only). The
    learned task model decided 31 of them wrongly, each a turn no cue matched where it knew
    one or two words. It now decides such a query only if it knows at least four of its
    words and word pairs (chosen on the chat turns and the corpus, leave-one-writer-out:
    chat 77.5% to 94.2%, corpus 86.6% to 86.2%). The holdout, not used for the choice, is
    checked by the floor tests: task 91.1% to 90.9% (one case of 473), tier 72.5%, joint
    66.8% to 66.6%; with the opt-in tier model (retrained, as its inputs include the task)
    tier 78.0%, joint 71.9%.
13. Step 9 asked for new evidence. The strongest at hand is a real sentence model
    (all-MiniLM-L6-v2), which reads meaning rather than cue words:
    :func:`~ragged_graph.learning.tier_model_training.compare_representations` fits the same
    logistic regression over its embedding of the query, over the analyser's dimensions, and
    over both (``scripts/train_tier_model.py --compare-embeddings minilm``). Leave-one-writer-
    out on the corpus: dimensions 80.2%, embedding 67.1%, both 75.8%; 5-fold on the tune
    consensus: 79.1%, 72.3%, 80.3%. So about 80% is where every cheap reading of a query
    stops against tiers labelled from the written definitions, and the held-out labels
    themselves agree with an independent annotator's on 79.6% of tiers (blind sets 2 and 3,
    442 cases). The held-out tier target (85%) lies above that agreement between two
    labellers; nothing was changed, and the holdout was not looked at for this step.

A case with a ``persona`` counts in its split's task, tier and joint figures like any other
(its tier includes the persona's adjustment) and in the split's persona figures. Calibrating
the complexity score must skip such cases: their tier is not the complexity tier.

Typical use::

    report = evaluate_golden(load_golden_set())
    print(report.render_text())
    assert not report.shortfalls()  # holdout meets GOLDEN_TARGETS
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ragged_graph.errors import EvaluationDataError
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.task_types import validate_task_name

if TYPE_CHECKING:
    from ragged_graph.routing.router import Router

__all__ = [
    "GOLDEN_TARGETS",
    "GoldenCase",
    "GoldenMiss",
    "GoldenPrediction",
    "GoldenReport",
    "GoldenSetError",
    "GoldenSplit",
    "GoldenTargets",
    "PredictFn",
    "SplitScores",
    "evaluate_golden",
    "load_golden_set",
    "read_data_file",
    "router_predictor",
    "validation_problems",
]

_STRICT = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)
_PACKAGE_DATA = ("data", "golden.jsonl")
_PERSONA_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class GoldenSplit(StrEnum):
    """Which part of the golden set a case belongs to."""

    TUNE = "tune"
    """Used to calibrate patterns and weights."""
    HOLDOUT = "holdout"
    """Never used for calibration; measures how well the calibration generalises."""


class GoldenSetError(EvaluationDataError):
    """The golden set file is missing, unreadable or holds an invalid case."""


class GoldenCase(BaseModel):
    """One labelled query."""

    model_config = _STRICT

    id: str = Field(min_length=1)
    """Stable identifier, unique within the set, e.g. ``code-012``."""

    query: str = Field(min_length=1)
    """The query as a user would write it."""

    task_type: str
    """The task type a sensible router should assign."""

    tier: Tier
    """The tier the query calls for."""

    split: GoldenSplit
    """``tune`` (for calibration) or ``holdout`` (for judging it)."""

    documents: tuple[str, ...] = ()
    """Retrieved context supplied with the query, if any."""

    persona: str | None = None
    """The persona the query is asked under (its ``tier`` is then the tier after the
    persona's rules), or ``None`` for the plain router."""

    note: str | None = None
    """Why the case is there or why it is labelled so, for hard cases."""

    @field_validator("task_type")
    @classmethod
    def _valid_task_name(cls, value: str) -> str:
        return validate_task_name(value)

    @field_validator("persona")
    @classmethod
    def _valid_persona_name(cls, value: str | None) -> str | None:
        if value is not None and not _PERSONA_NAME.fullmatch(value):
            raise ValueError(
                f"invalid persona name {value!r}: expected lowercase snake_case "
                "(a letter, then letters, digits or underscores; at most 64 characters)"
            )
        return value


class GoldenPrediction(BaseModel):
    """What a router decided for one case."""

    model_config = _STRICT

    task_type: str
    """The predicted task type."""

    tier: Tier
    """The predicted tier."""


PredictFn = Callable[[GoldenCase], GoldenPrediction]
"""A router under evaluation: from a case to its decision."""


class GoldenTargets(BaseModel):
    """Minimum accuracies the holdout split must reach."""

    model_config = _STRICT

    task: float = Field(default=0.90, ge=0, le=1)
    """Share of cases with the right task type."""

    tier: float = Field(default=0.85, ge=0, le=1)
    """Share of cases with the right tier."""

    joint: float = Field(default=0.80, ge=0, le=1)
    """Share of cases with both right."""

    persona_tier: float = Field(default=0.85, ge=0, le=1)
    """Share of the cases asked under a persona with the right tier (judged only when the
    split holds such cases)."""


GOLDEN_TARGETS: Final = GoldenTargets()
"""The targets the built-in router is held to on the holdout split."""


class GoldenMiss(BaseModel):
    """One case the router got (at least partly) wrong."""

    model_config = _STRICT

    id: str
    """The case's id."""

    split: GoldenSplit
    """The case's split."""

    query: str
    """The start of the query (at most 120 characters)."""

    expected_task: str
    """The labelled task type."""

    predicted_task: str
    """The task type the router chose."""

    expected_tier: Tier
    """The labelled tier."""

    predicted_tier: Tier
    """The tier the router chose."""

    persona: str | None = None
    """The persona the case is asked under, if any."""


class SplitScores(BaseModel):
    """Accuracies over one split (or over all cases)."""

    model_config = _STRICT

    cases: int = Field(ge=0)
    """How many cases the split holds."""

    task_accuracy: float = Field(ge=0, le=1)
    """Share of cases with the right task type."""

    tier_accuracy: float = Field(ge=0, le=1)
    """Share of cases with the right tier."""

    joint_accuracy: float = Field(ge=0, le=1)
    """Share of cases with both right."""

    task_confusion: dict[str, dict[str, int]]
    """``task_confusion[expected][predicted]``: how often each task was taken for each."""

    tier_confusion: dict[str, dict[str, int]]
    """``tier_confusion[expected][predicted]`` for tiers."""

    persona_cases: int = Field(default=0, ge=0)
    """How many of the split's cases are asked under a persona."""

    persona_tier_accuracy: float | None = Field(default=None, ge=0, le=1)
    """Share of those with the right tier; ``None`` when the split holds none."""


class GoldenReport(BaseModel):
    """The result of evaluating a router on the golden set; plain, JSON-serialisable data."""

    model_config = _STRICT

    splits: dict[str, SplitScores]
    """Scores per split (``tune``, ``holdout``) and over ``all`` cases."""

    misses: tuple[GoldenMiss, ...]
    """Every case with a wrong task type or tier."""

    def split(self, name: GoldenSplit | str) -> SplitScores:
        """The scores of one split (``tune``, ``holdout`` or ``all``)."""
        try:
            return self.splits[str(name)]
        except KeyError:
            raise KeyError(
                f"no split {name!r} in this report; have {sorted(self.splits)}"
            ) from None

    def shortfalls(
        self, targets: GoldenTargets = GOLDEN_TARGETS, split: GoldenSplit | str = "holdout"
    ) -> list[str]:
        """Which targets ``split`` misses, in words; empty when it meets them all."""
        scores = self.split(split)
        found = []
        checks: list[tuple[str, float | None, float]] = [
            ("task", scores.task_accuracy, targets.task),
            ("tier", scores.tier_accuracy, targets.tier),
            ("joint", scores.joint_accuracy, targets.joint),
            ("persona tier", scores.persona_tier_accuracy, targets.persona_tier),
        ]
        for name, reached, wanted in checks:
            if reached is not None and reached < wanted:
                found.append(f"{split} {name} accuracy {reached:.3f} is below {wanted:.2f}")
        return found

    def render_text(self, *, show_misses: bool = False) -> str:
        """A readable table of the scores, the task confusion matrix and optionally misses."""
        lines = [
            f"{'split':<8} {'cases':>5} {'task':>7} {'tier':>7} {'joint':>7} {'persona tier':>14}",
            "-" * 53,
        ]
        for name, scores in self.splits.items():
            persona = "-"
            if scores.persona_tier_accuracy is not None:
                persona = f"{scores.persona_tier_accuracy:.1%} of {scores.persona_cases}"
            lines.append(
                f"{name:<8} {scores.cases:>5} {scores.task_accuracy:>7.1%} "
                f"{scores.tier_accuracy:>7.1%} {scores.joint_accuracy:>7.1%} {persona:>14}"
            )
        overall = self.splits.get("all")
        if overall is not None:
            lines += ["", "task confusion, all cases (rows: expected, columns: predicted)"]
            lines += _render_confusion(overall.task_confusion)
            lines += ["", "tier confusion, all cases"]
            lines += _render_confusion(overall.tier_confusion)
        if show_misses and self.misses:
            lines += ["", "misses"]
            for miss in self.misses:
                task = miss.expected_task
                if miss.predicted_task != miss.expected_task:
                    task = f"{miss.expected_task}->{miss.predicted_task}"
                tier = str(miss.expected_tier)
                if miss.predicted_tier != miss.expected_tier:
                    tier = f"{miss.expected_tier}->{miss.predicted_tier}"
                persona = f"[{miss.persona}] " if miss.persona else ""
                lines.append(
                    f"  {miss.id:<10} {miss.split:<8} {task:<34} {tier:<18} {persona}{miss.query!r}"
                )
        return "\n".join(lines)


def _render_confusion(matrix: dict[str, dict[str, int]]) -> list[str]:
    labels = sorted({*matrix, *(p for row in matrix.values() for p in row)})
    short = {label: label[:6] for label in labels}
    width = max((len(label) for label in labels), default=5)
    header = " " * width + " " + " ".join(f"{short[label]:>6}" for label in labels)
    rows = [header]
    for expected in labels:
        row = matrix.get(expected, {})
        cells = " ".join(f"{row.get(label, 0) or '.':>6}" for label in labels)
        rows.append(f"{expected:<{width}} {cells}")
    return rows


# --------------------------------------------------------------------------- loading


def load_golden_set(path: str | Path | None = None) -> list[GoldenCase]:
    """Read the golden set: the one shipped with the package unless ``path`` is given.

    Raises :class:`GoldenSetError` naming the file and line of any invalid case, or a
    duplicate id.
    """
    text, source = read_data_file(path, _PACKAGE_DATA, what="golden set")
    return parse_cases(text.splitlines(), source)


def validation_problems(exc: ValidationError, *, whole: str) -> str:
    """Each of ``exc``'s errors as ``key.path: message`` (``whole`` names the whole line)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or whole}: {error['msg']}"
        for error in exc.errors()
    )


def read_data_file(
    path: str | Path | None, package_data: tuple[str, ...], *, what: str
) -> tuple[str, str]:
    """The text of ``path``, or of the package's ``learning/<package_data>`` when None, and
    the name to report it by; :class:`GoldenSetError` says why a file cannot be read."""
    if path is None:
        resource = resources.files("ragged_graph.learning").joinpath(*package_data)
        return resource.read_text(encoding="utf-8"), "ragged_graph/learning/" + "/".join(
            package_data
        )
    try:
        return Path(path).read_text(encoding="utf-8"), str(path)
    except OSError as exc:
        raise GoldenSetError(f"cannot read {what} {path}: {exc}") from exc


def parse_cases(lines: Iterable[str], source: str) -> list[GoldenCase]:
    cases: list[GoldenCase] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            case = GoldenCase.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise GoldenSetError(f"{source}:{number}: not valid JSON: {exc.msg}") from exc
        except ValidationError as exc:
            problems = validation_problems(exc, whole="<case>")
            raise GoldenSetError(f"{source}:{number}: invalid case: {problems}") from exc
        if case.id in seen:
            raise GoldenSetError(
                f"{source}:{number}: duplicate id {case.id!r} (first on line {seen[case.id]})"
            )
        seen[case.id] = number
        cases.append(case)
    return cases


# --------------------------------------------------------------------------- evaluation


def router_predictor(router: Router | None = None) -> PredictFn:
    """The router's own decision steps as a :data:`PredictFn` (no model is called).

    Runs exactly what routing runs up to the tier: prepare, classify, complexity, persona
    (the case's own, if it names one; an unknown name raises
    :class:`~ragged_graph.errors.UnknownPersonaError`).
    """
    from ragged_graph.routing.router import RouteOptions, Router

    active = router if router is not None else Router()

    def predict(case: GoldenCase) -> GoldenPrediction:
        options = RouteOptions(persona=case.persona)
        prepared = active.prepare(case.query, case.documents)
        task = active.classify(prepared)
        assessment = active.assess(prepared, task)
        outcome = active.personalise(prepared, task, assessment, options)
        return GoldenPrediction(task_type=task.task_type, tier=outcome.tier)

    return predict


def evaluate_golden(cases: Sequence[GoldenCase], predict: PredictFn | None = None) -> GoldenReport:
    """Score a router on ``cases``: per split and overall, with confusion matrices.

    ``predict`` is the router under test; by default the built-in one, via
    :func:`router_predictor`.
    """
    if predict is None:
        predict = router_predictor()
    outcomes = [(case, predict(case)) for case in cases]
    splits: dict[str, SplitScores] = {}
    for split in GoldenSplit:
        selected = [(c, p) for c, p in outcomes if c.split == split]
        if selected:
            splits[str(split)] = _scores(selected)
    splits["all"] = _scores(outcomes)
    misses = tuple(
        GoldenMiss(
            id=case.id,
            split=case.split,
            query=case.query[:120],
            expected_task=case.task_type,
            predicted_task=prediction.task_type,
            expected_tier=case.tier,
            predicted_tier=prediction.tier,
            persona=case.persona,
        )
        for case, prediction in outcomes
        if prediction.task_type != case.task_type or prediction.tier != case.tier
    )
    return GoldenReport(splits=splits, misses=misses)


def _scores(outcomes: Sequence[tuple[GoldenCase, GoldenPrediction]]) -> SplitScores:
    count = len(outcomes)
    task_right = tier_right = both_right = 0
    persona_cases = persona_tier_right = 0
    task_confusion: dict[str, dict[str, int]] = {}
    tier_confusion: dict[str, dict[str, int]] = {}
    for case, prediction in outcomes:
        task_ok = prediction.task_type == case.task_type
        tier_ok = prediction.tier == case.tier
        task_right += task_ok
        tier_right += tier_ok
        both_right += task_ok and tier_ok
        if case.persona is not None:
            persona_cases += 1
            persona_tier_right += tier_ok
        task_row = task_confusion.setdefault(case.task_type, {})
        task_row[prediction.task_type] = task_row.get(prediction.task_type, 0) + 1
        tier_row = tier_confusion.setdefault(str(case.tier), {})
        tier_row[str(prediction.tier)] = tier_row.get(str(prediction.tier), 0) + 1
    return SplitScores(
        cases=count,
        task_accuracy=round(task_right / count, 4) if count else 0.0,
        tier_accuracy=round(tier_right / count, 4) if count else 0.0,
        joint_accuracy=round(both_right / count, 4) if count else 0.0,
        task_confusion=task_confusion,
        tier_confusion=tier_confusion,
        persona_cases=persona_cases,
        persona_tier_accuracy=(
            round(persona_tier_right / persona_cases, 4) if persona_cases else None
        ),
    )
