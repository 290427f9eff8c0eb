"""TierModel: scikit-learn's probabilities in pure Python, its file, and the analyser's use."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.errors import LearnedModelError
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.complexity import ComplexityAnalyser
from ragged_graph.routing.router import Router
from ragged_graph.routing.tier_model import (
    TIER_MODEL_FORMAT,
    TierModel,
    default_tier_model,
    load_tier_model,
    tier_features,
)


def small_model(*, fast_bias: float = 0.0) -> TierModel:
    return TierModel(
        tiers=["balanced", "fast", "quality"],
        feature_names=["score", "task_math"],
        mean=[0.5, 0.1],
        scale=[0.2, 0.3],
        coefficients=[[0.0, 0.5], [-2.0, 0.0], [2.0, 1.0]],
        intercepts=[0.0, fast_bias, -1.0],
    )


def test_features_are_the_dimensions_the_task_the_score_and_the_length() -> None:
    features = tier_features({"steps": 0.5, "brevity": 1.0}, "math", 4.2, 99)
    assert features["dim_steps"] == 0.5
    assert features["task_math"] == 1.0
    assert features["task_general_qa"] == 0.0
    assert features["score"] == pytest.approx(0.42)
    assert features["log_length"] == pytest.approx(math.log(100) / 8)
    assert not any(v for k, v in tier_features({}, "legal_review", 0, 0).items() if k != "score")


def test_probabilities_are_a_softmax_over_standardised_inputs_by_hand() -> None:
    x = [(0.8 - 0.5) / 0.2, (1.0 - 0.1) / 0.3]
    logits = {"balanced": 0.5 * x[1], "fast": -2.0 * x[0], "quality": 2.0 * x[0] + x[1] - 1.0}
    total = sum(math.exp(v) for v in logits.values())
    found = small_model().probabilities({"score": 0.8, "task_math": 1.0, "other": 5.0})
    assert found[Tier.QUALITY] == pytest.approx(math.exp(logits["quality"]) / total)
    assert sum(found.values()) == pytest.approx(1.0)
    guess = small_model().guess({"score": 0.8, "task_math": 1.0})
    assert guess.tier is Tier.QUALITY
    assert small_model(fast_bias=50.0).guess({"score": 0.8}).tier is Tier.FAST


def test_it_agrees_with_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from ragged_graph.learning.tier_model_training import TierExample, train_tier_model

    rng = np.random.default_rng(0)
    examples = []
    for i in range(90):
        tier = (Tier.FAST, Tier.BALANCED, Tier.QUALITY)[i % 3]
        score = {Tier.FAST: 0.2, Tier.BALANCED: 0.5, Tier.QUALITY: 0.8}[tier] + rng.normal(0, 0.1)
        features = {"score": float(score), "dim_steps": float(rng.random())}
        examples.append(
            TierExample(
                id=str(i), query="", features=features, tier=tier, threshold_tier=tier, source="t"
            )
        )
    model = train_tier_model(examples, regularisation=2.0)
    names = sorted(examples[0].features)
    matrix = np.asarray([[e.features[n] for n in names] for e in examples])
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0)
    reference = LogisticRegression(C=2.0, max_iter=5000).fit(
        (matrix - mean) / scale, [e.tier.value for e in examples]
    )
    for row in matrix[:5]:
        expected = reference.predict_proba(((row - mean) / scale)[None, :])[0]
        found = model.probabilities(dict(zip(names, row, strict=True)))
        assert [found[Tier(c)] for c in reference.classes_] == pytest.approx(expected.tolist())


def test_a_saved_model_reads_back_and_bad_files_say_how_to_retrain(tmp_path: Path) -> None:
    path = small_model().save(tmp_path / "tiers.json")
    assert TierModel.load(path).probabilities({"score": 0.3}) == pytest.approx(
        small_model().probabilities({"score": 0.3})
    )
    assert load_tier_model(str(path)) is not None
    assert load_tier_model(None) is None
    assert load_tier_model("builtin") is default_tier_model()
    with pytest.raises(LearnedModelError, match=r"cannot be read.*train_tier_model\.py"):
        TierModel.load(tmp_path / "missing.json")
    (tmp_path / "new.json").write_text(
        json.dumps(small_model().to_json() | {"format": TIER_MODEL_FORMAT + 1})
    )
    with pytest.raises(LearnedModelError, match="has format 2, expected 1"):
        TierModel.load(tmp_path / "new.json")
    broken = small_model().to_json() | {"scale": [0.0, 1.0]}
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(LearnedModelError, match=r"not a tier model.*positive"):
        TierModel.load(tmp_path / "broken.json")


def test_the_analyser_takes_the_models_tier_and_says_so() -> None:
    query = "What is Paris?"
    by_thresholds = ComplexityAnalyser().assess(query, task_type="general_qa")
    assert by_thresholds.tier is Tier.FAST
    always_quality = TierModel(
        tiers=["balanced", "fast", "quality"],
        feature_names=["score"],
        mean=[0.0],
        scale=[1.0],
        coefficients=[[0.0], [0.0], [0.0]],
        intercepts=[0.0, 0.0, 5.0],
    )
    by_model = ComplexityAnalyser(tier_model=always_quality).assess(query, task_type="general_qa")
    assert by_model.tier is Tier.QUALITY
    assert by_model.score == by_thresholds.score
    assert by_model.reason.startswith(by_thresholds.reason)
    assert "the learned tier model reads quality (p 0.99)" in by_model.reason


def test_the_router_uses_a_tier_model_only_when_the_config_names_one() -> None:
    assert Router(RouterConfig()).analyser.tier_model is None
    chosen = Router(RouterConfig.model_validate({"learning": {"tier_model": "builtin"}}))
    assert chosen.analyser.tier_model is default_tier_model()
    assert chosen.decide("What is the capital of France?").tier == "fast"
