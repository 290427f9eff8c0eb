"""Training the learned tier model of :mod:`ragged_graph.routing.tier_model`.

The data
    - The golden set's plain ``tune`` cases (never its holdout, never persona cases, whose
      tier includes the persona's rules), each labelled by the *consensus* of three: its
      writer and two independent annotators who had the written tier definitions
      (``data/annotations/tune_annotator_a.jsonl`` and ``_b``); the majority tier, or the
      middle one where all three differ. The writer alone labelled a tier higher than the
      definitions in about one case in three.
    - The task corpus (``data/task_corpus.jsonl``), 595 queries by four more writers, each
      labelled by its writer from the written definitions.

The model
    Multinomial logistic regression (scikit-learn, lbfgs, L2 strength ``C``) over
    :func:`~ragged_graph.routing.tier_model.tier_features`, standardised: the analyser's
    dimensions, the task type (as the classifier, with its task model, decides it), the
    score and the query's length.

The check
    :func:`cross_validate_tiers_by_writer` trains on everything but one corpus writer and
    compares the model's tiers and the score thresholds' tiers with that writer's labels.

Other ways of reading a query
    :func:`compare_representations` asks whether a text embedding (any LangChain
    ``Embeddings``, e.g. a real sentence model) predicts these tiers better than the
    analyser's dimensions, alone or beside them, under the same checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ragged_graph.learning.agreement import load_second_opinion
from ragged_graph.learning.golden import GoldenCase, GoldenSplit
from ragged_graph.learning.task_model_training import WriterScores
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.router import Router
from ragged_graph.routing.tier_model import TierModel, tier_features

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

__all__ = [
    "DEFAULT_TIER_REGULARISATION",
    "REGULARISATION_GRID",
    "RepresentationScores",
    "TierExample",
    "compare_representations",
    "consensus_tiers",
    "cross_validate_tiers_by_writer",
    "default_tier_examples",
    "tier_examples",
    "train_tier_model",
]

DEFAULT_TIER_REGULARISATION: Final = 0.3
"""Inverse L2 strength ``C`` of the logistic regression."""

_ANNOTATORS: Final = ("annotations/tune_annotator_a.jsonl", "annotations/tune_annotator_b.jsonl")


@dataclass(frozen=True, kw_only=True, slots=True)
class TierExample:
    """One labelled query, ready for training."""

    id: str
    """The case's id."""
    query: str
    """The query's text."""
    features: Mapping[str, float]
    """Its :func:`~ragged_graph.routing.tier_model.tier_features`."""
    tier: Tier
    """Its label."""
    threshold_tier: Tier
    """The tier the analyser's score thresholds give it (for comparison)."""
    source: str
    """``golden`` or the corpus writer (``e1``...)."""


def consensus_tiers(cases: Sequence[GoldenCase]) -> dict[str, Tier]:
    """For each case both tune annotators labelled: the majority of the writer's and their
    two tiers, or the middle one where all three differ."""
    from importlib import resources

    data = resources.files("ragged_graph.learning").joinpath("data")
    annotators = [load_second_opinion(str(data.joinpath(name))) for name in _ANNOTATORS]
    consensus: dict[str, Tier] = {}
    for case in cases:
        if not all(case.id in labels for labels in annotators):
            continue
        votes = [case.tier, *(labels[case.id].tier for labels in annotators)]
        by_count = sorted(set(votes), key=lambda tier: (-votes.count(tier), tier.rank))
        if votes.count(by_count[0]) >= 2:
            consensus[case.id] = by_count[0]
        else:
            consensus[case.id] = sorted(votes, key=lambda tier: tier.rank)[1]
    return consensus


def tier_examples(
    cases: Sequence[GoldenCase],
    router: Router,
    *,
    labels: Mapping[str, Tier] | None = None,
    source: str | None = None,
) -> list[TierExample]:
    """Training examples from plain ``tune`` cases, labelled by ``labels`` where given (else
    by the case's own tier); features as ``router`` (its tier model off) measures them.
    ``source`` names where they come from (default: the id's prefix before ``-``)."""
    examples = []
    for case in cases:
        if case.split is not GoldenSplit.TUNE or case.persona is not None:
            continue
        prepared = router.prepare(case.query, case.documents)
        task = router.classify(prepared)
        assessment = router.assess(prepared, task)
        examples.append(
            TierExample(
                id=case.id,
                query=case.query,
                features=tier_features(
                    assessment.breakdown, str(task.task_type), assessment.score, prepared.length
                ),
                tier=(labels or {}).get(case.id, case.tier),
                threshold_tier=router.analyser.thresholds.tier_for(assessment.score),
                source=source or case.id.partition("-")[0],
            )
        )
    return examples


def default_tier_examples(router: Router | None = None) -> list[TierExample]:
    """The shipped model's training data: the golden tune split by consensus, and the task
    corpus by its writers."""
    from ragged_graph.config import RouterConfig
    from ragged_graph.learning.golden import load_golden_set
    from ragged_graph.learning.task_model_training import load_task_corpus

    active = router or Router(RouterConfig.model_validate({"learning": {"tier_model": None}}))
    golden = load_golden_set()
    return tier_examples(
        golden, active, labels=consensus_tiers(golden), source="golden"
    ) + tier_examples(load_task_corpus(), active)


def train_tier_model(
    examples: Sequence[TierExample], *, regularisation: float = DEFAULT_TIER_REGULARISATION
) -> TierModel:
    """Fit the model on ``examples`` (needs scikit-learn: the ``learned`` extra)."""
    if len({example.tier for example in examples}) < 3:
        raise ValueError("training a tier model needs examples of all three tiers")
    names, matrix = _feature_matrix(examples)
    labels = [example.tier.value for example in examples]
    classifier, mean, scale = _fit_standardised(matrix, labels, regularisation)
    sources: dict[str, int] = {}
    for example in examples:
        sources[example.source] = sources.get(example.source, 0) + 1
    return TierModel(
        tiers=[str(name) for name in classifier.classes_],
        feature_names=names,
        mean=mean.tolist(),
        scale=scale.tolist(),
        coefficients=classifier.coef_.tolist(),
        intercepts=classifier.intercept_.tolist(),
        details={
            "examples": len(examples),
            "examples_by_source": dict(sorted(sources.items())),
            "regularisation": regularisation,
            "trained_by": "ragged_graph.learning.tier_model_training.train_tier_model",
        },
    )


def cross_validate_tiers_by_writer(
    examples: Sequence[TierExample], *, regularisation: float = DEFAULT_TIER_REGULARISATION
) -> list[WriterScores]:
    """For each corpus writer: train on every other example, then compare tiers with that
    writer's labels."""
    scores = []
    for writer in _corpus_writers(examples):
        held_out = [e for e in examples if e.source == writer]
        model = train_tier_model(
            [e for e in examples if e.source != writer], regularisation=regularisation
        )
        scores.append(
            WriterScores(
                writer=writer,
                cases=len(held_out),
                baseline=sum(e.threshold_tier == e.tier for e in held_out) / len(held_out),
                with_model=sum(model.guess(e.features).tier == e.tier for e in held_out)
                / len(held_out),
            )
        )
    return scores


def _corpus_writers(examples: Sequence[TierExample]) -> list[str]:
    return sorted({example.source for example in examples} - {"golden"})


def _feature_matrix(examples: Sequence[TierExample]) -> tuple[list[str], Any]:
    """The features' names (sorted) and one row of their values per example."""
    import numpy as np

    names = sorted(examples[0].features)
    return names, np.asarray([[e.features.get(n, 0.0) for n in names] for e in examples])


def _fit_standardised(matrix: Any, labels: Any, regularisation: float) -> tuple[Any, Any, Any]:
    """A logistic regression over ``matrix`` standardised column by column (a constant
    column is only centred): the classifier, the columns' means and their scales."""
    from sklearn.linear_model import LogisticRegression

    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale < 1e-12] = 1.0
    classifier = LogisticRegression(C=regularisation, max_iter=5000)
    classifier.fit((matrix - mean) / scale, labels)
    return classifier, mean, scale


REGULARISATION_GRID: Final = (0.03, 0.1, 0.3, 1.0)
"""The values of ``C`` :func:`compare_representations` tries for each representation."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RepresentationScores:
    """How well one way of reading queries predicts their tiers, at its best ``C``."""

    representation: str
    """``dimensions`` (the tier model's features), ``embedding``, or ``dimensions +
    embedding``."""
    regularisation: float
    """The ``C`` of :data:`REGULARISATION_GRID` with the best mean of the two figures below
    (chosen on the same checks, so both figures flatter every representation alike)."""
    by_writer: float
    """Agreement with each corpus writer's tiers, by a model trained without that writer;
    weighted by the writers' cases."""
    golden_folds: float
    """Agreement with the golden tune split's consensus tiers, ``folds``-fold: each fold
    judged by a model trained on the other folds and the whole corpus."""


def compare_representations(
    examples: Sequence[TierExample],
    embeddings: Embeddings,
    *,
    folds: int = 5,
    seed: int = 0,
) -> list[RepresentationScores]:
    """Tier agreement of logistic regressions over the analyser's dimensions, over
    ``embeddings`` of the queries, and over both, under the per-writer check of
    :func:`cross_validate_tiers_by_writer` and a ``folds``-fold check on the golden examples
    (needs scikit-learn: the ``learned`` extra)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    _, dimensions = _feature_matrix(examples)
    vectors = np.asarray(embeddings.embed_documents([e.query for e in examples]), dtype=float)
    labels = np.asarray([e.tier.value for e in examples])
    sources = np.asarray([e.source for e in examples])
    golden = np.flatnonzero(sources == "golden")
    writers = _corpus_writers(examples)
    if not writers or len(golden) < folds:
        raise ValueError("comparing representations needs golden examples and corpus writers")
    by_writer = [np.flatnonzero(sources == writer) for writer in writers]
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    by_fold = [golden[test] for _, test in splitter.split(golden, labels[golden])]

    def agreement(matrix: Any, held_out_sets: Sequence[Any], regularisation: float) -> float:
        right = 0
        for held_out in held_out_sets:
            train = np.ones(len(labels), dtype=bool)
            train[held_out] = False
            classifier, mean, scale = _fit_standardised(
                matrix[train], labels[train], regularisation
            )
            guesses = classifier.predict((matrix[held_out] - mean) / scale)
            right += int((guesses == labels[held_out]).sum())
        return right / sum(len(held_out) for held_out in held_out_sets)

    representations = {
        "dimensions": dimensions,
        "embedding": vectors,
        "dimensions + embedding": np.hstack([dimensions, vectors]),
    }
    scores = []
    for name, matrix in representations.items():
        candidates = [
            RepresentationScores(
                representation=name,
                regularisation=regularisation,
                by_writer=agreement(matrix, by_writer, regularisation),
                golden_folds=agreement(matrix, by_fold, regularisation),
            )
            for regularisation in REGULARISATION_GRID
        ]
        scores.append(max(candidates, key=lambda c: c.by_writer + c.golden_folds))
    return scores
