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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from ragged_graph.learning.agreement import load_second_opinion
from ragged_graph.learning.golden import GoldenCase, GoldenSplit
from ragged_graph.learning.task_model_training import WriterScores
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.router import Router
from ragged_graph.routing.tier_model import TierModel, tier_features

__all__ = [
    "DEFAULT_TIER_REGULARISATION",
    "TierExample",
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
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    if len({example.tier for example in examples}) < 3:
        raise ValueError("training a tier model needs examples of all three tiers")
    names = sorted(examples[0].features)
    matrix = np.asarray([[e.features.get(n, 0.0) for n in names] for e in examples])
    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale < 1e-12] = 1.0
    labels = [example.tier.value for example in examples]
    classifier = LogisticRegression(C=regularisation, max_iter=5000)
    classifier.fit((matrix - mean) / scale, labels)
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
    writers = sorted({e.source for e in examples} - {"golden"})
    scores = []
    for writer in writers:
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
