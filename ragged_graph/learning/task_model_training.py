"""Training the learned task model of :mod:`ragged_graph.routing.task_model`.

The data
    - The golden set's ``tune`` split (never its holdout).
    - The task corpus, ``data/task_corpus.jsonl``: 595 queries (ids ``e1-``... ``e4-``) written
      by four isolated AI helpers who had seen nothing of the router, its cues or the golden
      set, each in a different voice (engineers and students; office workers and people
      writing in a second language; researchers, clinicians and a support team with a RAG
      assistant; hobbyists, SREs and teenagers), 15 queries of each task type apiece, every
      one labelled by its writer from the written task definitions (SPEC section 2). It is
      training data only: the cue tables were never tuned on it, and the golden figures do
      not include it.

    - Chat turns, ``data/chat_turns.jsonl`` (:func:`load_chat_turns`): 138 short
      conversational turns, for evaluation only, never trained on. They set how much the
      model must know of a query before it decides one no cue matched
      (:data:`~ragged_graph.routing.classifier.MODEL_MIN_KNOWN_FEATURES`).

    ``rag_query`` cases are left out: the classifier asks the model only about queries that
    come without retrieved documents, where the task is what the words ask for.

The model
    Multinomial logistic regression (scikit-learn, lbfgs, L2 strength ``C``) over TF-IDF
    weighted words and word pairs of each query's instruction (as
    :func:`~ragged_graph.routing.classifier.prepare_query` finds it), sublinear counts,
    L2-normalised, features seen in at least ``min_df`` queries.

The check
    :func:`cross_validate_by_writer` trains on everything but one corpus writer and classifies
    that writer's queries with the cues and the model together, as the classifier does: how
    the classifier does on people whose phrasing it has not seen.

Your own data
    :func:`load_labelled_queries` reads a JSON Lines file of your own labelled queries
    (``{"query": ..., "task_type": ..., "documents": [...]}``, documents optional; task
    types may be your own, as in ``tasks:`` of the config). ``ragged-graph learn-tasks``
    trains a model on them (with the shipped data, unless told not to) and saves it for
    ``learning.task_model``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ragged_graph.errors import EvaluationDataError, LearnedModelError
from ragged_graph.learning.golden import (
    GoldenCase,
    GoldenSplit,
    load_golden_set,
    parse_cases,
    read_data_file,
    validation_problems,
)
from ragged_graph.routing.classifier import TaskClassification
from ragged_graph.routing.query_text import PreparedQuery, prepare_query
from ragged_graph.routing.task_model import TaskModel, model_features
from ragged_graph.routing.task_types import TaskType, validate_task_name

__all__ = [
    "DEFAULT_MIN_DF",
    "DEFAULT_REGULARISATION",
    "LabelledQuery",
    "TaskExample",
    "WriterScores",
    "cross_validate_by_writer",
    "default_training_examples",
    "labelled_examples",
    "load_chat_turns",
    "load_labelled_queries",
    "load_task_corpus",
    "render_by_writer",
    "task_examples",
    "train_task_model",
]

DEFAULT_REGULARISATION: Final = 10.0
"""Inverse L2 strength ``C`` of the logistic regression."""

DEFAULT_MIN_DF: Final = 2
"""A word or word pair must occur in this many training queries to be a feature."""

_CORPUS_DATA: Final = ("data", "task_corpus.jsonl")
_CHAT_TURNS_DATA: Final = ("data", "chat_turns.jsonl")


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskExample:
    """One labelled query, ready for training."""

    id: str
    """The case's id."""
    tokens: tuple[str, ...]
    """The words of the query's instruction."""
    task_type: str
    """Its label."""
    source: str
    """Where it comes from: ``golden`` or the corpus writer (``e1``...)."""


def load_task_corpus(path: str | Path | None = None) -> list[GoldenCase]:
    """The task corpus (the one shipped with the package unless ``path`` is given)."""
    text, source = read_data_file(path, _CORPUS_DATA, what="task corpus")
    return parse_cases(text.splitlines(), source)


def task_examples(cases: Sequence[GoldenCase], *, source: str | None = None) -> list[TaskExample]:
    """Training examples from labelled cases: tune split only, ``rag_query`` left out.
    ``source`` names where they come from (default: the id's prefix before ``-``)."""
    found = (
        _example(
            case.id, case.query, case.documents, case.task_type, source or case.id.partition("-")[0]
        )
        for case in cases
        if case.split is GoldenSplit.TUNE
    )
    return [example for example in found if example is not None]


def _example(
    id: str, query: str, documents: Sequence[str], task_type: str, source: str
) -> TaskExample | None:
    """One training example, or None for a ``rag_query`` (the model is never asked about
    queries with retrieved documents, where the task is ``rag_query``)."""
    if task_type == TaskType.RAG_QUERY:
        return None
    prepared = prepare_query(query, documents)
    return TaskExample(
        id=id, tokens=prepared.instruction_tokens, task_type=task_type, source=source
    )


class LabelledQuery(BaseModel):
    """One line of a file of your own labelled queries."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    query: str = Field(min_length=1)
    """The query as a user wrote it."""
    task_type: str
    """Its task type: a built-in one or your own (lowercase snake_case)."""
    documents: tuple[str, ...] = ()
    """Retrieved documents that came with it, if any."""

    @field_validator("task_type")
    @classmethod
    def _valid_task_name(cls, value: str) -> str:
        return validate_task_name(value)


def load_labelled_queries(path: str | Path) -> list[LabelledQuery]:
    """Read a JSON Lines file of :class:`LabelledQuery`; :class:`EvaluationDataError` names
    the file and line of anything wrong in it."""
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvaluationDataError(f"cannot read labelled queries {source}: {exc}") from exc
    return _parse_labelled_queries(lines, source)


def load_chat_turns() -> list[LabelledQuery]:
    """138 short conversational turns ("ok", "go on", "make it shorter", "merci"), labelled
    from SPEC section 2 by an isolated writer before the router saw them: what chat users
    type between real requests. Evaluation data only; no model is trained on it."""
    text, source = read_data_file(None, _CHAT_TURNS_DATA, what="chat turns")
    return _parse_labelled_queries(text.splitlines(), source)


def _parse_labelled_queries(lines: Sequence[str], source: str | Path) -> list[LabelledQuery]:
    found: list[LabelledQuery] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            found.append(LabelledQuery.model_validate(json.loads(line)))
        except json.JSONDecodeError as exc:
            raise EvaluationDataError(f"{source}:{number}: not valid JSON: {exc.msg}") from exc
        except ValidationError as exc:
            problems = validation_problems(exc, whole="<line>")
            raise EvaluationDataError(
                f"{source}:{number}: {problems} (expected "
                '{"query": "...", "task_type": "...", "documents": [...]})'
            ) from exc
    if not found:
        raise EvaluationDataError(f"{source}: no labelled queries in it")
    return found


def labelled_examples(queries: Sequence[LabelledQuery], *, source: str) -> list[TaskExample]:
    """Training examples from your own labelled queries (``rag_query`` left out, as in
    :func:`task_examples`)."""
    found = (
        _example(f"{source}:{number}", q.query, q.documents, q.task_type, source)
        for number, q in enumerate(queries, start=1)
    )
    return [example for example in found if example is not None]


def default_training_examples() -> list[TaskExample]:
    """The shipped model's training data: golden tune split and the task corpus."""
    return task_examples(load_golden_set(), source="golden") + task_examples(load_task_corpus())


def train_task_model(
    examples: Sequence[TaskExample],
    *,
    regularisation: float = DEFAULT_REGULARISATION,
    min_df: int = DEFAULT_MIN_DF,
) -> TaskModel:
    """Fit the model on ``examples`` (needs scikit-learn: the ``learned`` extra)."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = [example.task_type for example in examples]
    if len(set(labels)) < 2:
        raise LearnedModelError(
            None,
            "needs labelled queries of at least two task types (rag_query ones do not count)",
            kind="task model",
            remedy="Add queries of more task types (ragged-graph learn-tasks: more --data "
            "files, or keep --builtin-data).",
        )
    vectoriser = TfidfVectorizer(
        analyzer=model_features, sublinear_tf=True, min_df=min_df, lowercase=False
    )
    matrix = vectoriser.fit_transform([list(example.tokens) for example in examples])
    classifier = LogisticRegression(C=regularisation, max_iter=5000)
    classifier.fit(matrix, labels)
    classes = [str(name) for name in classifier.classes_]
    coefficients, intercepts = classifier.coef_, classifier.intercept_
    if len(classes) == 2:
        # scikit-learn keeps one row for two classes, P(second) = sigmoid(z): the same as a
        # softmax over -z/2 and z/2.
        coefficients = np.vstack([-coefficients[0] / 2, coefficients[0] / 2])
        intercepts = np.asarray([-intercepts[0] / 2, intercepts[0] / 2])
    features = {
        str(name): (float(vectoriser.idf_[column]), coefficients[:, column].tolist())
        for name, column in vectoriser.vocabulary_.items()
    }
    sources: dict[str, int] = {}
    for example in examples:
        sources[example.source] = sources.get(example.source, 0) + 1
    return TaskModel(
        classes=classes,
        intercepts=intercepts.tolist(),
        features=features,
        details={
            "examples": len(examples),
            "examples_by_source": dict(sorted(sources.items())),
            "regularisation": regularisation,
            "min_df": min_df,
            "trained_by": "ragged_graph.learning.task_model_training.train_task_model",
        },
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class WriterScores:
    """Agreement with one held-out writer's labels: without and with a learned model."""

    writer: str
    """The corpus writer (``e1``...)."""
    cases: int
    """Queries of that writer."""
    baseline: float
    """Agreement without the model (the cues alone; the score thresholds)."""
    with_model: float
    """Agreement with the model trained without this writer."""


def render_by_writer(scores: Sequence[WriterScores], *, baseline: str) -> str:
    """A table of ``scores``, one row a writer and a last row for all (weighted by cases);
    ``baseline`` names the column without the model."""
    width = max(len(baseline), 10)
    lines = [f"{'writer':8} {'cases':>5} {baseline:>{width}} {'with model':>11}"]
    for row in scores:
        lines.append(
            f"{row.writer:8} {row.cases:5d} {row.baseline:{width}.1%} {row.with_model:11.1%}"
        )
    cases = sum(row.cases for row in scores)
    alone = sum(row.baseline * row.cases for row in scores) / cases
    with_model = sum(row.with_model * row.cases for row in scores) / cases
    lines.append(f"{'all':8} {cases:5d} {alone:{width}.1%} {with_model:11.1%}")
    return "\n".join(lines)


Classify = Callable[[PreparedQuery, TaskModel | None], TaskClassification]
"""Classify a prepared query with the given task model (None: cues only)."""


def cross_validate_by_writer(
    golden: Sequence[GoldenCase],
    corpus: Sequence[GoldenCase],
    classify: Classify,
    *,
    regularisation: float = DEFAULT_REGULARISATION,
    min_df: int = DEFAULT_MIN_DF,
) -> list[WriterScores]:
    """For each corpus writer: train on the golden tune split and the other writers, then
    classify that writer's queries (all of them, documents and ``rag_query`` included) with
    the cues alone and with the model."""
    golden_examples = task_examples(golden, source="golden")
    corpus_examples = task_examples(corpus)
    writers = sorted({case.id.partition("-")[0] for case in corpus})
    scores = []
    for writer in writers:
        model = train_task_model(
            golden_examples + [e for e in corpus_examples if e.source != writer],
            regularisation=regularisation,
            min_df=min_df,
        )
        held_out = [case for case in corpus if case.id.partition("-")[0] == writer]
        right_alone = right_with = 0
        for case in held_out:
            prepared = prepare_query(case.query, case.documents)
            right_alone += classify(prepared, None).task_type == case.task_type
            right_with += classify(prepared, model).task_type == case.task_type
        scores.append(
            WriterScores(
                writer=writer,
                cases=len(held_out),
                baseline=right_alone / len(held_out),
                with_model=right_with / len(held_out),
            )
        )
    return scores
