"""The learned router as a selection strategy: learned, blended, and the rules' fall-backs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.learning.embeddings import HashingEmbeddings
from ragged_graph.learning.learned_router import (
    LearnedRouter,
    LearnedRouterSettings,
    LearnedStrategy,
    TrainingExample,
)
from ragged_graph.routing.router import RouteOptions, Router

FACTS = [f"What is the capital of country number {i}?" for i in range(12)]
QUESTION = "What is the capital of country number 40?"


def config(tmp_path: Path, strategy: str) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "hardware": {"memory_gb": 64},
            "providers": {
                "embedded": {"enabled": False},
                "ollama": {"hosts": [{"name": "x", "base_url": "http://127.0.0.1:9"}]},
            },
            "learning": {"strategy": strategy, "model_path": str(tmp_path / "learned.zip")},
        }
    )


def train(tmp_path: Path, qualities: dict[str, float]) -> None:
    # The history says which models answered these questions well.
    examples = [
        TrainingExample(query=query, model=model, quality=quality)
        for query in FACTS
        for model, quality in qualities.items()
    ]
    settings = LearnedRouterSettings(strategy=LearnedStrategy.UTILITY, cost_weight=0.0)
    learned = LearnedRouter.fit(examples, HashingEmbeddings(), settings=settings)
    learned.save(tmp_path / "learned.zip")


def test_the_learned_strategy_picks_the_model_the_history_rates_best(tmp_path: Path) -> None:
    rules = Router(config(tmp_path, "rules")).decide(QUESTION)
    train(tmp_path, {rules.model: 0.2, "qwen2.5:72b": 0.95, "mistral:7b": 0.6})
    decision = Router(config(tmp_path, "learned")).decide(QUESTION)
    assert decision.model == "qwen2.5:72b"
    assert "learned router (learned) chose qwen2.5:72b" in decision.reason
    assert f"the rules would have chosen {rules.model}" in decision.reason
    assert decision.fallbacks[0] == rules.model
    assert decision.tier == rules.tier  # what the query calls for does not change


def test_blended_keeps_the_rules_tier_and_lets_the_history_pick_within_it(
    tmp_path: Path,
) -> None:
    rules = Router(config(tmp_path, "rules")).decide(QUESTION)
    train(tmp_path, {rules.model: 0.2, "qwen2.5:72b": 0.95, "mistral:7b": 0.6})
    decision = Router(config(tmp_path, "blended")).decide(QUESTION)
    assert decision.model == "mistral:7b"
    assert decision.model_tier == rules.model_tier


def test_without_a_saved_router_the_rules_decide_and_say_so(tmp_path: Path) -> None:
    rules = Router(config(tmp_path, "rules")).decide(QUESTION)
    decision = Router(config(tmp_path, "learned")).decide(QUESTION)
    assert decision.model == rules.model
    assert "no learned router saved yet" in decision.reason


def test_an_explicit_model_is_not_second_guessed(tmp_path: Path) -> None:
    train(tmp_path, {"llama3.2:3b": 0.1, "qwen2.5:72b": 0.95})
    router = Router(config(tmp_path, "learned"))
    decision = router.decide(QUESTION, options=RouteOptions(model="llama3.2:3b"))
    assert decision.model == "llama3.2:3b"
    assert "learned" not in decision.reason


def test_a_retrained_router_takes_effect_without_a_restart(tmp_path: Path) -> None:
    rules = Router(config(tmp_path, "rules")).decide(QUESTION)
    train(tmp_path, {rules.model: 0.2, "qwen2.5:72b": 0.95})
    router = Router(config(tmp_path, "learned"))
    assert router.decide(QUESTION).model == "qwen2.5:72b"
    path = tmp_path / "learned.zip"
    before = path.stat().st_mtime
    train(tmp_path, {rules.model: 0.95, "qwen2.5:72b": 0.2})
    if path.stat().st_mtime == before:  # a coarse file clock: make the change visible
        os.utime(path, (before + 1, before + 1))
    assert router.decide(QUESTION).model == rules.model


@pytest.mark.parametrize("strategy", ["learned", "blended"])
def test_a_router_knowing_none_of_the_candidates_leaves_it_to_the_rules(
    tmp_path: Path, strategy: str
) -> None:
    train(tmp_path, {"some-model-not-installed:1b": 0.9, "another:2b": 0.1})
    rules = Router(config(tmp_path, "rules")).decide(QUESTION)
    decision = Router(config(tmp_path, strategy)).decide(QUESTION)
    assert decision.model == rules.model
    assert "knows none of the candidates" in decision.reason
