"""The learned router on small synthetic histories: fitting, choosing, calibrating.

The embeddings are HashingEmbeddings (no model); the history is made so that which model
answers well is plain from the query's vocabulary: "cheap" answers recipes well and proofs
badly, "dear" answers both well.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from ragged_graph.learning.embeddings import HashingEmbeddings
from ragged_graph.learning.learned_router import (
    LearnedCandidate,
    LearnedChoice,
    LearnedRouter,
    LearnedRouterSettings,
    LearnedStrategy,
    TrainingExample,
    candidates_from_cards,
    card_cost,
)
from ragged_graph.learning.quality_model import QualityModelSettings
from ragged_graph.registry.cards import ModelCard, Tier

CHEAP, DEAR = "llama3.2:3b", "qwen2.5:72b"
CANDIDATES = [LearnedCandidate(CHEAP, 1.0), LearnedCandidate(DEAR, 5.0)]

_FOODS = ["pancakes", "lentil soup", "banana bread", "risotto", "tomato salad", "omelette"]
_OBJECTS = ["group of order p squared", "compact metric space", "Banach space", "prime ideal"]


def recipe(rng: random.Random) -> str:
    return f"Give me a simple recipe for {rng.choice(_FOODS)} for {rng.randint(2, 8)} people."


def proof(rng: random.Random) -> str:
    return (
        f"Prove rigorously that every {rng.choice(_OBJECTS)} has property "
        f"{rng.randint(1, 99)}, deriving each lemma and justifying every step of the argument."
    )


def history(size: int = 160, seed: int = 0) -> list[TrainingExample]:
    """Recipes: both models good. Proofs: only the dear model good (with a little noise)."""
    rng = random.Random(seed)
    examples = []
    for index in range(size):
        hard = index % 2 == 1
        query = proof(rng) if hard else recipe(rng)
        cheap_good = (not hard) if rng.random() > 0.05 else hard
        examples.append(TrainingExample(query=query, model=CHEAP, quality=float(cheap_good)))
        examples.append(TrainingExample(query=query, model=DEAR, quality=1.0))
    return examples


@pytest.fixture(scope="module")
def router() -> LearnedRouter:
    return LearnedRouter.fit(history(), HashingEmbeddings(256), model_costs={CHEAP: 1.0, DEAR: 5.0})


def test_training_examples_are_validated() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        TrainingExample(query="q", model="m", quality=1.5)
    with pytest.raises(ValueError, match="non-empty query"):
        TrainingExample(query="", model="m", quality=0.5)
    with pytest.raises(ValueError, match="model name"):
        TrainingExample(query="q", model="", quality=0.5)
    with pytest.raises(ValueError, match="no examples"):
        LearnedRouter.fit([], HashingEmbeddings(64))


def test_predicted_qualities_follow_the_history(router: LearnedRouter) -> None:
    rng = random.Random(99)
    easy = router.predict_qualities(recipe(rng))
    hard = router.predict_qualities(proof(rng))

    assert set(easy) == {CHEAP, DEAR}
    assert easy[CHEAP] > 0.7
    assert hard[CHEAP] < 0.3
    assert hard[DEAR] > 0.7


def test_threshold_strategy_escalates_only_the_hard_queries(router: LearnedRouter) -> None:
    rng = random.Random(7)
    # Calibrated on traffic that is one third proofs, to escalate a third of the calls:
    # exactly its proofs.
    traffic = [proof(rng) if i % 3 == 0 else recipe(rng) for i in range(90)]
    router.calibrate(traffic, 1 / 3)
    easy = router.choose(traffic[1], CANDIDATES)
    hard = router.choose(traffic[0], CANDIDATES)

    assert isinstance(easy, LearnedChoice)
    assert (easy.model, hard.model) == (CHEAP, DEAR)
    assert hard.strategy is LearnedStrategy.THRESHOLD
    assert hard.escalation_score is not None
    assert hard.threshold is not None
    assert hard.escalation_score >= hard.threshold
    assert DEAR in hard.reason
    assert "threshold" in hard.reason


def test_target_quality_picks_the_cheapest_model_that_clears_it(router: LearnedRouter) -> None:
    rng = random.Random(8)
    easy = router.choose(recipe(rng), CANDIDATES, strategy="target_quality", target_quality=0.7)
    hard = router.choose(proof(rng), CANDIDATES, strategy="target_quality", target_quality=0.7)
    unreachable = router.choose(
        proof(rng), CANDIDATES, strategy=LearnedStrategy.TARGET_QUALITY, target_quality=1.0
    )

    assert (easy.model, hard.model) == (CHEAP, DEAR)
    assert "cheapest model predicted to reach" in easy.reason
    # Nothing reaches 1.0: the best predicted model, said so.
    assert unreachable.model == DEAR
    assert "no model predicted to reach" in unreachable.reason


def test_cost_weight_trades_quality_for_cost(router: LearnedRouter) -> None:
    query = proof(random.Random(9))
    free = router.choose(query, CANDIDATES, strategy="utility", cost_weight=0.0)
    stingy = router.choose(query, CANDIDATES, strategy="utility", cost_weight=5.0)
    gap = free.predicted_quality[DEAR] - free.predicted_quality[CHEAP]
    just_below = router.choose(query, CANDIDATES, strategy="utility", cost_weight=gap * 0.9)
    just_above = router.choose(query, CANDIDATES, strategy="utility", cost_weight=gap * 1.1)

    assert free.model == DEAR
    assert stingy.model == CHEAP
    # Rescaled costs run 0..1, so the weight is exactly the quality given up for the dearest.
    assert (just_below.model, just_above.model) == (DEAR, CHEAP)


def test_candidate_costs_come_from_the_caller_not_from_training(router: LearnedRouter) -> None:
    """Cost order is the candidates' own: make the 'dear' model free and it wins outright."""
    query = recipe(random.Random(10))
    flipped = [LearnedCandidate(CHEAP, 5.0), LearnedCandidate(DEAR, 0.0)]

    choice = router.choose(query, flipped, strategy="target_quality", target_quality=0.5)

    assert choice.model == DEAR


def test_unknown_candidates_are_left_out_and_named(router: LearnedRouter) -> None:
    query = proof(random.Random(11))
    # A quality target the cheap model clearly misses on a proof (its calibrated threshold
    # puts this query near the line); the cheaper unknown candidate must not be picked.
    choice = router.choose(
        query,
        [*CANDIDATES, LearnedCandidate("mystery:7b", 0.1)],
        strategy="target_quality",
        target_quality=0.8,
    )

    assert choice.model == DEAR
    assert choice.unknown_candidates == ("mystery:7b",)
    assert "no history for mystery:7b" in choice.reason
    with pytest.raises(ValueError, match="none of the candidates"):
        router.choose(query, [LearnedCandidate("mystery:7b", 0.1)])


def test_a_precomputed_breakdown_is_used(router: LearnedRouter) -> None:
    query = recipe(random.Random(12))
    computed = router.predict_qualities(query)
    extreme = {"reasoning_depth": 1.0, "steps": 1.0, "structure": 1.0, "domain_specificity": 1.0}

    assert router.predict_qualities(query, breakdown=extreme) != computed


@pytest.mark.parametrize("share", [0.1, 0.25, 0.5, 0.8])
def test_threshold_calibration_hits_the_target_share(router: LearnedRouter, share: float) -> None:
    rng = random.Random(13)
    # Distinct queries, so distinct scores: no ties to blur the share.
    queries = [recipe(rng) if i % 3 else proof(rng) for i in range(200)]
    queries = list(dict.fromkeys(queries))

    threshold = router.calibrate(queries, strong_share=share)

    escalated = sum(router.escalation_score(q) >= threshold for q in queries)
    assert router.threshold == threshold
    assert escalated == round(share * len(queries))
    assert router.settings.strong_share == share


def test_training_calibrates_to_the_settings_share() -> None:
    examples = history(120, seed=3)
    settings = LearnedRouterSettings(strong_share=0.3)

    router = LearnedRouter.fit(examples, HashingEmbeddings(128), settings=settings)

    # Calibrated on the training queries as predicted for new ones (none its own neighbour).
    predicted = router.predictor.training_predictions
    assert predicted is not None
    cheap, dear = router.models.index(CHEAP), router.models.index(DEAR)
    escalation = predicted[:, dear] - predicted[:, cheap]
    queries = list(dict.fromkeys(e.query for e in examples))
    assert len(escalation) == router.calibration_queries == len(queries)
    assert int((escalation >= router.threshold).sum()) == round(0.3 * len(queries))


def test_without_costs_the_better_model_counts_as_dearer() -> None:
    router = LearnedRouter.fit(history(80), HashingEmbeddings(128))

    assert router.model_costs[DEAR] > router.model_costs[CHEAP]


def test_sparse_soft_history_trains_every_model() -> None:
    """Each query answered by one model only, with graded (not 0/1) quality."""
    rng = random.Random(4)
    examples = []
    for index in range(120):
        hard = index % 2 == 1
        query = proof(rng) if hard else recipe(rng)
        if index % 4 in (0, 1):
            examples.append(TrainingExample(query=query, model=CHEAP, quality=0.2 if hard else 0.9))
        else:
            examples.append(TrainingExample(query=query, model=DEAR, quality=0.8 if hard else 0.95))

    router = LearnedRouter.fit(examples, HashingEmbeddings(128))
    hard = router.predict_qualities(proof(random.Random(5)))

    assert router.predictor.training_rows == {CHEAP: 60, DEAR: 60}
    assert hard[DEAR] > hard[CHEAP]


def test_no_embeddings_still_learns_from_complexity_and_text() -> None:
    router = LearnedRouter.fit(history(120), None)
    rng = random.Random(14)

    assert router.embedding_model is None
    assert router.predictor.scales == ()
    assert router.choose(proof(rng), CANDIDATES).model == DEAR
    assert router.choose(recipe(rng), CANDIDATES).model == CHEAP


def test_nested_choice_of_scales_and_strength_is_recorded() -> None:
    settings = LearnedRouterSettings(
        quality_model=QualityModelSettings(scale_grid=((5,), (5, 20)), regularisation_grid=(0.1, 1))
    )
    router = LearnedRouter.fit(history(120), HashingEmbeddings(128), settings=settings)
    predictor = router.predictor

    assert predictor.scales in ((5,), (5, 20))
    assert predictor.regularisation in (0.1, 1.0)
    assert predictor.validation_log_loss is not None
    assert predictor.input_names[0].startswith("neighbours@5:")


def test_candidates_the_inner_cv_cannot_tell_apart_are_averaged() -> None:
    """With a wide margin every candidate is kept, and the one linear model over the union of
    their scales gives the mean of the candidates' own logits."""
    grid = {"scale_grid": ((5,), (5, 20)), "regularisation_grid": (0.1, 1.0)}
    averaged = LearnedRouter.fit(
        history(120),
        HashingEmbeddings(128),
        settings=LearnedRouterSettings(
            quality_model=QualityModelSettings(**grid, average_within=1e9)
        ),
    )
    best_only = LearnedRouter.fit(
        history(120),
        HashingEmbeddings(128),
        settings=LearnedRouterSettings(
            quality_model=QualityModelSettings(**grid, average_within=0)
        ),
    )
    rows = averaged.featurizer.transform([proof(random.Random(21)), recipe(random.Random(22))])

    def logits(router: LearnedRouter) -> np.ndarray:
        p = router.predictor.predict(rows)
        return np.log(p / (1 - p))

    members = averaged.predictor.members
    assert sorted(members) == [((5,), 0.1), ((5,), 1.0), ((5, 20), 0.1), ((5, 20), 1.0)]
    assert averaged.predictor.scales == (5, 20)
    assert members[0] == best_only.predictor.members[0]
    assert len(best_only.predictor.members) == 1
    singles = [
        LearnedRouter.fit(
            history(120),
            HashingEmbeddings(128),
            settings=LearnedRouterSettings(
                quality_model=QualityModelSettings(scale_grid=(scales,), regularisation_grid=(c,))
            ),
        )
        for scales, c in members
    ]
    assert logits(averaged) == pytest.approx(
        np.mean([logits(single) for single in singles], axis=0), abs=1e-6
    )


def test_candidates_from_registry_cards() -> None:
    local_small = ModelCard(name="llama3.2:3b", tier=Tier.FAST, parameters_b=3, context_window=8192)
    local_big = ModelCard(
        name="qwen2.5:72b", tier=Tier.QUALITY, parameters_b=72, context_window=32768
    )
    cloud = ModelCard(
        name="gpt-4o",
        provider="openai",
        tier=Tier.QUALITY,
        context_window=128000,
        input_price_per_mtok=2.5,
        output_price_per_mtok=10.0,
        local=False,
    )

    candidates = candidates_from_cards([cloud, local_big, local_small])

    assert [c.name for c in sorted(candidates, key=lambda c: c.cost)] == [
        "llama3.2:3b",
        "qwen2.5:72b",
        "gpt-4o",
    ]
    assert card_cost(local_small) == pytest.approx(0.003)
    assert card_cost(cloud) == pytest.approx(12.5)
