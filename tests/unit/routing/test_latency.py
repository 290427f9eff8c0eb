"""Latency prediction: cards as seeds, moving averages, cold loads, output length."""

from __future__ import annotations

import pytest

from ragged_graph.registry.cards import ModelCard, Tier
from ragged_graph.routing.latency import (
    LatencyStats,
    ModelSpeed,
    expected_output_tokens,
    predict_latency,
    seed_speed,
)

BIG = ModelCard(
    name="llama3.3:70b",
    tier=Tier.QUALITY,
    parameters_b=70,
    context_window=131_072,
    memory_gb=51.0,
    tokens_per_second=9,
)
SMALL = ModelCard(
    name="llama3.1:8b",
    tier=Tier.FAST,
    parameters_b=8,
    context_window=131_072,
    memory_gb=5.9,
    tokens_per_second=60,
)
CLOUD = ModelCard(
    name="gpt-4o",
    provider="openai",
    tier=Tier.QUALITY,
    context_window=128_000,
    tokens_per_second=80,
    first_token_ms=500,
    local=False,
)


def test_seeds_come_from_the_card_or_the_size() -> None:
    assert seed_speed(CLOUD) == ModelSpeed(first_token_ms=500, tokens_per_second=80)
    assert seed_speed(BIG).first_token_ms > seed_speed(SMALL).first_token_ms
    assert seed_speed(SMALL).tokens_per_second == 60


def test_a_cold_load_costs_time_in_proportion_to_size() -> None:
    def load(card: ModelCard) -> float:
        return predict_latency(
            card,
            speed=seed_speed(card),
            loaded=False,
            input_tokens=100,
            output_tokens=100,
            cold_load_s_per_gb=0.5,
        ).load_ms

    assert load(BIG) == pytest.approx(51.0 * 500)
    assert load(SMALL) == pytest.approx(5.9 * 500)


def test_a_loaded_model_and_a_cloud_model_need_no_load() -> None:
    for card, loaded in ((SMALL, True), (CLOUD, False)):
        prediction = predict_latency(
            card, speed=seed_speed(card), loaded=loaded, input_tokens=100, output_tokens=100
        )
        assert prediction.load_ms == 0


def test_total_is_first_token_plus_generation() -> None:
    speed = ModelSpeed(first_token_ms=200, tokens_per_second=50)
    prediction = predict_latency(CLOUD, speed=speed, loaded=True, input_tokens=0, output_tokens=100)
    assert prediction.first_token_ms == pytest.approx(200)
    assert prediction.total_ms == pytest.approx(200 + 2000)
    assert not prediction.learned


def test_a_longer_prompt_takes_longer_to_the_first_token() -> None:
    def first(tokens: int) -> float:
        return predict_latency(
            SMALL, speed=seed_speed(SMALL), loaded=True, input_tokens=tokens, output_tokens=10
        ).first_token_ms

    assert first(20_000) > first(100)


def test_moving_averages_move_towards_observations() -> None:
    speed = ModelSpeed(first_token_ms=1000, tokens_per_second=10)
    moved = speed.updated(first_token_ms=200, tokens_per_second=30, smoothing=0.5)
    assert moved.first_token_ms == pytest.approx(600)
    assert moved.tokens_per_second == pytest.approx(20)
    assert moved.samples == 1
    kept = moved.updated(first_token_ms=None, tokens_per_second=None, smoothing=0.5)
    assert (kept.first_token_ms, kept.tokens_per_second) == (600, 20)


def test_learned_stats_win_over_the_card() -> None:
    learned = ModelSpeed(first_token_ms=50, tokens_per_second=120, samples=3)
    stats = LatencyStats(speeds={"llama3.1:8b": learned})
    assert stats.speed_for(SMALL) is learned
    assert stats.speed_for(BIG) == seed_speed(BIG)


def test_expected_output_follows_the_task() -> None:
    assert expected_output_tokens("reasoning", input_tokens=20) > expected_output_tokens(
        "general_qa", input_tokens=20
    )
    assert expected_output_tokens("translation", input_tokens=2000) == 2000
    assert expected_output_tokens("reasoning", input_tokens=20, max_tokens=64) == 64
    assert expected_output_tokens("my_custom_task", input_tokens=20) > 0
