"""Which kind of task a query is: weighted cues, and a small learned model where they are unsure.

Every task type has a table of cues (words, phrases, and for code and arithmetic, guarded
regular expressions) with weights (:mod:`~ragged_graph.routing.task_cues`, scored by the
engine of :mod:`~ragged_graph.routing.cues`). A query's score for a task is the sum of the
weights of the task's cues that match it (each cue counts once); the best score wins, and the
reason names what matched. All cues sit in one word index, so classifying a query is one
pass over its words (made ready by :func:`~ragged_graph.routing.query_text.prepare_query`)
plus the few regular expressions whose guards match.

Decisions worth knowing:

- Text is lowercased once and the built-in cues are written in lowercase, so there is no
  ``re.IGNORECASE`` anywhere in the built-ins (the original design notes' case-insensitive
  ``[A-Z]{2,}`` matched every word).
- Where a match sits matters. Users put the instruction at the start or the end and paste
  material in between, so a match in the middle of a long query counts for less
  (:data:`BODY_WEIGHT`), except for patterns that recognise code itself, which count
  wherever the code is.
- Work is bounded: at most
  :data:`~ragged_graph.routing.query_text.SCAN_HEAD_CHARS` from the start and
  :data:`~ragged_graph.routing.query_text.SCAN_TAIL_CHARS` from the end of a query are
  scanned, whatever its length.
- With retrieved documents the task is ``rag_query``, unless the query clearly asks to
  *transform* those documents: to summarise, extract from or translate them (score at least
  :data:`DOCUMENT_TRANSFORM_MIN_SCORE`). Then the transformation is the task, because that is
  what the chosen model has to be good at. Questions *about* the documents, even hard ones,
  stay ``rag_query``.
- With no pattern scoring at least :data:`MIN_DECISIVE_SCORE`, or with the cues unsure
  (confidence below :data:`MODEL_CONSULTED_BELOW`), a query without retrieved documents is
  read by the learned task model (:mod:`~ragged_graph.routing.task_model`), which weighs
  every word; it decides when the cues found nothing and it knows at least
  :data:`MODEL_MIN_KNOWN_FEATURES` of the query's words and word pairs, and when it is more
  than :data:`MODEL_MIN_PROBABILITY` sure otherwise. People who phrase things in ways the cues
  were not written for are this model's job: on 595 queries by four writers the router had
  never seen, the cues alone got 75% of task types right, cues and model 86% (each writer's
  queries classified by a model trained without them). Without the model (``task_model=None``)
  a query with no decisive cue is ``general_qa``.
- The model only overrules built-in task types: a task matched by ``extra_patterns`` stays.
- One idea counts once: naming a language ("in python", "python") is one weak piece of code
  evidence, which a definition question ("what is the GIL in python") outweighs; "explain
  why" is a "why". A request's opening verb (summarise, translate, extract) adds to its task,
  so that material about maths or code does not take the task over. A prose artefact between
  "write" and a code noun ("write a launch email for our app") is what is being written.
- A prompt that carries its retrieved context inline (``Context: ... Question: ...``, as
  LangChain RAG prompt templates produce) counts as ``rag_query`` too.
- Users add patterns per task (new task names allowed) through ``extra_patterns``. They are
  matched case-insensitively against the original text (use ``(?-i:...)`` for a
  case-sensitive part, such as an acronym).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from ragged_graph.routing.cues import PatternMatch
from ragged_graph.routing.query_text import DocumentLike, PreparedQuery, prepare_query
from ragged_graph.routing.task_cues import TASK_CUES, TASK_ORDER
from ragged_graph.routing.task_model import TaskModel, default_task_model
from ragged_graph.routing.task_types import TaskType, as_task_type

__all__ = [
    "BODY_WEIGHT",
    "DEFAULT_EXTRA_PATTERN_WEIGHT",
    "DOCUMENT_TRANSFORM_MIN_SCORE",
    "MIN_DECISIVE_SCORE",
    "MODEL_CONSULTED_BELOW",
    "MODEL_MIN_KNOWN_FEATURES",
    "MODEL_MIN_PROBABILITY",
    "RETRIEVED_DOCUMENTS_SCORE",
    "TaskClassification",
    "TaskClassifier",
]

BODY_WEIGHT: Final = 0.35
"""Weight of a match in pasted material rather than in the instruction of a long query."""

MIN_DECISIVE_SCORE: Final = 1.0
"""Below this best score no task is evident and the query is ``general_qa``."""

DOCUMENT_TRANSFORM_MIN_SCORE: Final = 2.5
"""Score a summarise/extract/translate request needs to beat ``rag_query`` when documents
are supplied."""

RETRIEVED_DOCUMENTS_SCORE: Final = 4.0
"""Score ``rag_query`` gets from the presence of retrieved documents."""

DEFAULT_EXTRA_PATTERN_WEIGHT: Final = 2.5
"""Weight of each pattern added through config, enough to decide a task on its own."""

MODEL_CONSULTED_BELOW: Final = 0.7
"""Below this confidence of the cues the learned task model is asked too."""

MODEL_MIN_PROBABILITY: Final = 0.5
"""How sure the learned task model must be to overrule cues that did find something."""

MODEL_MIN_KNOWN_FEATURES: Final = 4
"""How many of a query's words and word pairs the learned task model must know to decide a
query no cue matched. Its inputs are normalised, so one or two known words ("ok", "go on",
"option 2") would vote at full strength: chat turns went to code, translation or maths.
On 138 short conversational turns this took the model's part from 77.5% to 94.2% right,
at a cost of 2 of 595 task-corpus queries in leave-one-writer-out (86.6% to 86.2%)."""

_NO_SIGNAL_CONFIDENCE: Final = 0.3
_CONFIDENCE_SLACK: Final = 1.0
_REASON_MATCHES: Final = 4
_REASON_MATCH_CHARS: Final = 40

_DOCUMENT_TRANSFORM_TASKS: Final = frozenset(
    {TaskType.SUMMARISATION, TaskType.EXTRACTION, TaskType.TRANSLATION}
)


class _ExtraPatterns:
    """Patterns from config: compiled one by one so that each error names its pattern."""

    __slots__ = ("_regexes", "_weight")

    def __init__(self, task: str, patterns: Sequence[str], weight: float) -> None:
        if isinstance(patterns, str):
            raise ValueError(
                f"task_patterns for {task!r} must be a list of regular expressions, "
                f"got a single string {patterns!r}"
            )
        compiled: list[re.Pattern[str]] = []
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern:
                raise ValueError(
                    f"invalid pattern for task {task!r}: expected a non-empty regular "
                    f"expression string, got {pattern!r}"
                )
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE | re.MULTILINE))
            except re.error as exc:
                raise ValueError(
                    f"invalid regular expression for task {task!r}: {pattern!r}: {exc}"
                ) from exc
        self._regexes = tuple(compiled)
        self._weight = weight

    def scan(self, text: str) -> list[PatternMatch]:
        found = []
        for regex in self._regexes:
            match = regex.search(text)
            if match is not None:
                found.append(PatternMatch(text=match.group()[:80], weight=self._weight))
        return found


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskClassification:
    """What kind of task a query is, how sure the classifier is and why."""

    task_type: str
    """The task type: a :class:`TaskType` member for built-ins, a plain ``str`` for custom."""

    confidence: float
    """How sure the classifier is, from 0 to 1 (share of the evidence behind the winner)."""

    score: float
    """The winning task's raw pattern score."""

    runner_up: str | None
    """The second-best task type, if any pattern pointed elsewhere."""

    runner_up_score: float
    """The runner-up's raw pattern score (0 when there is none)."""

    reason: str
    """What decided it, e.g. ``matched code_generation: 'write a python function'``."""


class TaskClassifier:
    """Classifies a query into a task type with weighted cues and a learned task model.

    ``extra_patterns`` maps task names (built-in or new) to regular expressions added to
    that task, each worth ``extra_pattern_weight``. An invalid expression raises
    ``ValueError`` naming the task and the pattern. ``task_model`` reads queries the cues
    are unsure of (see the module docstring): the model shipped with the package by default,
    another :class:`~ragged_graph.routing.task_model.TaskModel`, or None for cues alone.
    """

    __slots__ = ("_extra", "_model", "_tasks")

    def __init__(
        self,
        extra_patterns: Mapping[str, Sequence[str]] | None = None,
        *,
        extra_pattern_weight: float = DEFAULT_EXTRA_PATTERN_WEIGHT,
        task_model: TaskModel | Literal["builtin"] | None = "builtin",
    ) -> None:
        if not math.isfinite(extra_pattern_weight) or extra_pattern_weight <= 0:
            raise ValueError(
                f"extra_pattern_weight must be a positive number, got {extra_pattern_weight!r}"
            )
        extra: list[tuple[str, _ExtraPatterns]] = []
        for name, patterns in (extra_patterns or {}).items():
            try:
                task = as_task_type(name)
            except ValueError as exc:
                raise ValueError(f"invalid task_patterns key: {exc}") from exc
            extra.append((task, _ExtraPatterns(task, patterns, extra_pattern_weight)))
        self._extra = tuple(extra)
        self._tasks = tuple(dict.fromkeys([*TASK_CUES.names, *(t for t, _ in extra)]))
        self._model = default_task_model() if task_model == "builtin" else task_model

    @property
    def task_model(self) -> TaskModel | None:
        """The learned task model consulted when the cues are unsure (None: cues alone)."""
        return self._model

    @property
    def task_types(self) -> tuple[str, ...]:
        """Every task type this classifier can return, built-in ones first."""
        return self._tasks

    def classify(
        self,
        query: str | PreparedQuery,
        documents: Sequence[str | DocumentLike | object] | None = None,
    ) -> TaskClassification:
        """Classify ``query``; ``documents`` are retrieved context, if any."""
        prepared = query if isinstance(query, PreparedQuery) else prepare_query(query, documents)
        has_documents = bool(documents) or bool(prepared.documents)
        results = TASK_CUES.scan(
            prepared.lowered,
            prepared.tokens,
            prepared.material_tokens,
            material_span=(prepared.head_end, prepared.tail_start),
            has_digit=prepared.has_digit,
            has_cjk=prepared.has_cjk,
            material_weight=BODY_WEIGHT,
        )
        scores = {task: result.score for task, result in results.items()}
        evidence = {task: list(result.matches) for task, result in results.items()}
        for task, extra_patterns in self._extra:
            found = extra_patterns.scan(prepared.text)
            if found:
                scores[task] = scores.get(task, 0.0) + sum(m.weight for m in found)
                evidence.setdefault(task, []).extend(found)

        if has_documents:
            return self._with_documents(scores, evidence)
        decided = _decide(scores, evidence)
        if (
            self._model is None
            or decided.confidence >= MODEL_CONSULTED_BELOW
            or decided.task_type not in TASK_ORDER  # a custom task from extra_patterns
        ):
            return decided
        return _consult_model(self._model, prepared, decided, scores)

    def _with_documents(
        self, scores: dict[str, float], evidence: dict[str, list[PatternMatch]]
    ) -> TaskClassification:
        transform = max(
            (task for task in scores if task in _DOCUMENT_TRANSFORM_TASKS),
            key=scores.__getitem__,
            default=None,
        )
        if transform is not None and scores[transform] >= DOCUMENT_TRANSFORM_MIN_SCORE:
            decided = _decide(scores, evidence)
            if decided.task_type == transform:
                return _with_reason_suffix(decided, "retrieved documents are to be transformed")
        scores[TaskType.RAG_QUERY] = scores.get(TaskType.RAG_QUERY, 0.0) + RETRIEVED_DOCUMENTS_SCORE
        rag_evidence = evidence.setdefault(TaskType.RAG_QUERY, [])
        rag_evidence.insert(
            0, PatternMatch(text="<retrieved documents>", weight=RETRIEVED_DOCUMENTS_SCORE)
        )
        # Questions about the documents are rag_query however strong the other signals.
        others = {t: s for t, s in scores.items() if t != TaskType.RAG_QUERY}
        runner_up = min(others, key=lambda t: (-others[t], TASK_ORDER.get(t, 99)), default=None)
        runner_up_score = others[runner_up] if runner_up is not None else 0.0
        score = scores[TaskType.RAG_QUERY]
        return TaskClassification(
            task_type=TaskType.RAG_QUERY,
            confidence=_confidence(score, runner_up_score),
            score=round(score, 3),
            runner_up=runner_up,
            runner_up_score=round(runner_up_score, 3),
            reason=_reason(TaskType.RAG_QUERY, rag_evidence),
        )


def _consult_model(
    model: TaskModel,
    prepared: PreparedQuery,
    decided: TaskClassification,
    scores: Mapping[str, float],
) -> TaskClassification:
    """The learned task model's decision where it may overrule the cues' ``decided``."""
    guess = model.guess(prepared.instruction_tokens)
    no_signal = decided.score < MIN_DECISIVE_SCORE
    if guess is None:
        return decided
    if no_signal and guess.known_features < MODEL_MIN_KNOWN_FEATURES:
        return decided
    if not no_signal and guess.probability <= MODEL_MIN_PROBABILITY:
        return decided
    task = as_task_type(guess.task_type)
    if task == decided.task_type and not no_signal:
        return decided
    why = (
        "no task pattern was decisive"
        if no_signal
        else f"the cues were unsure ({decided.reason}, confidence {decided.confidence:.2f})"
    )
    runner_up = decided.task_type if not no_signal else as_task_type(guess.runner_up)
    return TaskClassification(
        task_type=task,
        confidence=guess.probability,
        score=round(scores.get(task, 0.0), 3),
        runner_up=runner_up,
        runner_up_score=round(scores.get(runner_up, 0.0), 3),
        reason=f"the learned task model reads {task} (p {guess.probability:.2f}); {why}",
    )


def _confidence(score: float, runner_up_score: float) -> float:
    return round(min(1.0, score / (score + runner_up_score + _CONFIDENCE_SLACK)), 3)


def _reason(task: str, found: list[PatternMatch]) -> str:
    strongest = sorted(found, key=lambda m: m.weight, reverse=True)[:_REASON_MATCHES]
    shown = ", ".join(repr(m.text[:_REASON_MATCH_CHARS]) for m in strongest)
    return f"matched {task}: {shown}"


def _decide(
    scores: dict[str, float], evidence: dict[str, list[PatternMatch]]
) -> TaskClassification:
    # Ties go to the task listed first: the built-ins end with general_qa, the catch-all.
    ranked = sorted(scores.items(), key=lambda item: (-item[1], TASK_ORDER.get(item[0], 99)))
    if not ranked or ranked[0][1] < MIN_DECISIVE_SCORE:
        best_other = ranked[0] if ranked else None
        return TaskClassification(
            task_type=TaskType.GENERAL_QA,
            confidence=_NO_SIGNAL_CONFIDENCE,
            score=round(scores.get(TaskType.GENERAL_QA, 0.0), 3),
            runner_up=best_other[0]
            if best_other and best_other[0] != TaskType.GENERAL_QA
            else None,
            runner_up_score=round(best_other[1], 3) if best_other else 0.0,
            reason="no task pattern was decisive; defaulting to general_qa",
        )
    task, score = ranked[0]
    runner_up, runner_up_score = ranked[1] if len(ranked) > 1 else (None, 0.0)
    return TaskClassification(
        task_type=task,
        confidence=_confidence(score, runner_up_score),
        score=round(score, 3),
        runner_up=runner_up,
        runner_up_score=round(runner_up_score, 3),
        reason=_reason(task, evidence[task]),
    )


def _with_reason_suffix(result: TaskClassification, suffix: str) -> TaskClassification:
    return TaskClassification(
        task_type=result.task_type,
        confidence=result.confidence,
        score=result.score,
        runner_up=result.runner_up,
        runner_up_score=result.runner_up_score,
        reason=f"{result.reason} ({suffix})",
    )
