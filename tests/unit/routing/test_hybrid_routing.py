"""Hybrid routing: cloud models beside local ones, cost and latency limits, budgets, and the
privacy guard that keeps personal data on this machine whatever else is asked."""

from __future__ import annotations

import itertools

import pytest
from langchain_core.documents import Document

from ragged_graph.registry.cards import Tier
from ragged_graph.routing.decision import RoutingDecision
from ragged_graph.routing.latency import LatencyStats, ModelSpeed
from ragged_graph.routing.router import RouteOptions, Router
from tests.support.cloud import CLOUD_MODELS, cloud_config, hybrid_router
from tests.unit.routing.test_privacy import SAMPLES

CLOUD_NAMES = frozenset(model["name"] for model in CLOUD_MODELS)
HARD = (
    "Analyse the architectural trade-offs between microservices and a monolith for a payments "
    "platform, considering consistency, latency, team structure and failure modes"
)
SMALL_LOCAL = ("llama3.1:8b", "llama3.2:3b")


def all_models(decision: RoutingDecision) -> list[str]:
    return [decision.model, *decision.fallbacks]


def assert_local(decision: RoutingDecision) -> None:
    assert decision.provider not in ("openai", "anthropic")
    assert not CLOUD_NAMES & set(all_models(decision)), all_models(decision)
    assert decision.local_only


@pytest.fixture
def small_local() -> Router:
    """Only small local models: a hard request goes to the cloud unless something stops it."""
    return hybrid_router(SMALL_LOCAL)


def test_a_hard_request_goes_to_a_cloud_model_when_nothing_stops_it(small_local: Router) -> None:
    decision = small_local.decide(HARD)
    assert decision.tier is Tier.QUALITY
    assert decision.model in CLOUD_NAMES
    assert decision.provider in ("openai", "anthropic")
    assert decision.privacy == []
    assert not decision.local_only
    assert decision.estimated_cost_usd is not None
    assert decision.estimated_cost_usd > 0
    assert decision.predicted_latency_ms is not None
    assert decision.predicted_latency_ms > 0


def test_a_tight_cost_limit_keeps_requests_local(small_local: Router) -> None:
    decision = small_local.decide(HARD, options=RouteOptions(cost_limit=0.0001))
    assert decision.model in SMALL_LOCAL
    assert not CLOUD_NAMES & set(all_models(decision))
    assert decision.estimated_cost_usd == 0
    assert decision.cost_limit_usd == pytest.approx(0.0001)
    assert "cost limit $0.0001: left out" in decision.reason
    assert "gpt-4o (est. $" in decision.reason


def test_a_cost_limit_above_the_estimate_leaves_cloud_models_in(small_local: Router) -> None:
    decision = small_local.decide(HARD, options=RouteOptions(cost_limit=1.0))
    assert decision.model in CLOUD_NAMES


def test_over_the_daily_budget_routing_moves_to_free_models() -> None:
    router = hybrid_router(SMALL_LOCAL, budgets={"daily": 1.0})
    assert router.decide(HARD).model in CLOUD_NAMES
    router.spend.add(1.0)
    decision = router.decide(HARD)
    assert decision.model in SMALL_LOCAL
    assert decision.cost_limit_usd == 0
    assert "over budget (daily budget $1.00" in decision.reason


def test_a_session_over_its_budget_goes_local_while_others_do_not() -> None:
    router = hybrid_router(SMALL_LOCAL, budgets={"per_session": 0.01})
    router.spend.add(0.02, session_id="spent")
    spent = router.decide(HARD, options=RouteOptions(session_id="spent"))
    fresh = router.decide(HARD, options=RouteOptions(session_id="fresh"))
    assert spent.model in SMALL_LOCAL
    assert "session budget $0.01" in spent.reason
    assert fresh.model in CLOUD_NAMES


def test_a_cheaper_cloud_tier_is_chosen_before_going_local() -> None:
    # gpt-4o-mini (balanced) fits a limit that the quality-tier cloud models exceed.
    router = hybrid_router(("llama3.2:3b",))
    decision = router.decide(HARD, options=RouteOptions(cost_limit=0.001))
    assert decision.model == "gpt-4o-mini"
    assert decision.estimated_cost_usd is not None
    assert decision.estimated_cost_usd <= 0.001


def test_a_tight_latency_limit_picks_a_loaded_fast_model_over_a_cold_large_one() -> None:
    router = hybrid_router(
        ("llama3.3:70b", "llama3.1:8b"), loaded=("llama3.1:8b",), config=cloud_config(cloud={})
    )
    unlimited = router.decide(HARD)
    assert unlimited.model == "llama3.3:70b"
    decision = router.decide(HARD, options=RouteOptions(latency_limit=15))
    assert decision.model == "llama3.1:8b"
    assert decision.predicted_latency_ms is not None
    assert decision.predicted_latency_ms <= 15_000
    assert unlimited.predicted_latency_ms is not None
    assert unlimited.predicted_latency_ms > 15_000
    assert "latency limit 15 s: left out llama3.3:70b (predicted" in decision.reason
    assert decision.latency_limit_s == 15
    assert decision.fallbacks == [] or "llama3.3:70b" not in decision.fallbacks


def test_loaded_state_matters_to_the_latency_limit() -> None:
    # The same 70B, already loaded, is no longer held back by a cold load.
    router = hybrid_router(
        ("llama3.3:70b", "llama3.1:8b"),
        loaded=("llama3.3:70b", "llama3.1:8b"),
        config=cloud_config(cloud={}),
    )
    cold = hybrid_router(
        ("llama3.3:70b", "llama3.1:8b"), loaded=("llama3.1:8b",), config=cloud_config(cloud={})
    )
    options = RouteOptions(latency_limit=70)
    assert router.decide(HARD, options=options).model == "llama3.3:70b"
    assert cold.decide(HARD, options=options).model == "llama3.1:8b"


def test_when_every_model_is_too_slow_the_fastest_is_kept_and_recorded() -> None:
    router = hybrid_router(("llama3.3:70b", "qwen2.5:32b"), config=cloud_config(cloud={}))
    decision = router.decide(HARD, options=RouteOptions(latency_limit=0.5))
    assert decision.model == "qwen2.5:32b"
    assert any("no model is within the latency limit" in note for note in decision.relaxations)


def test_learned_speeds_change_the_prediction() -> None:
    router = hybrid_router(
        ("llama3.3:70b", "llama3.1:8b"),
        loaded=("llama3.3:70b", "llama3.1:8b"),
        config=cloud_config(cloud={}),
    )
    options = RouteOptions(latency_limit=30)
    assert router.decide(HARD, options=options).model == "llama3.1:8b"
    router.latency_stats = LatencyStats(
        speeds={"llama3.3:70b": ModelSpeed(first_token_ms=150, tokens_per_second=40, samples=20)}
    )
    assert router.decide(HARD, options=options).model == "llama3.3:70b"


def test_latency_mode_picks_the_fastest_model_at_most_a_tier_down() -> None:
    router = hybrid_router(
        ("llama3.3:70b", "qwen2.5:32b", "llama3.2:3b"),
        loaded=("qwen2.5:32b", "llama3.2:3b"),
        config=cloud_config(cloud={}),
    )
    assert router.decide(HARD).model == "llama3.3:70b"
    decision = router.decide(HARD, options=RouteOptions(optimise="latency"))
    # The loaded 32B beats the cold 70B; the 3B is two tiers down, too far.
    assert decision.model == "qwen2.5:32b"
    assert decision.optimise == "latency"
    assert "optimised for latency" in decision.reason


def test_cost_mode_prefers_free_models_at_most_a_tier_down() -> None:
    router = hybrid_router(("qwen2.5:14b", "llama3.2:3b"))
    assert router.decide(HARD).model in CLOUD_NAMES
    decision = router.decide(HARD, options=RouteOptions(optimise="cost"))
    assert decision.model == "qwen2.5:14b"
    assert decision.estimated_cost_usd == 0
    # With only small local models, the cheapest model close enough is a cheap cloud one.
    assert (
        hybrid_router(SMALL_LOCAL).decide(HARD, options=RouteOptions(optimise="cost")).model
        == "gpt-4o-mini"
    )


def test_a_decision_without_constraints_is_memoised_and_cheap(small_local: Router) -> None:
    first = small_local.decide(HARD)
    second = small_local.decide(HARD)
    assert first == second


# --------------------------------------------------------------------------- privacy guard

PERSONAS = (None, "researcher", "developer", "casual", "writer", "private")
LIMITS = (
    RouteOptions(),
    RouteOptions(cost_limit=100.0),
    RouteOptions(cost_limit=0.0),
    RouteOptions(latency_limit=1000.0),
    RouteOptions(optimise="latency"),
    RouteOptions(optimise="cost"),
    RouteOptions(model="gpt-4o"),
    RouteOptions(tier=Tier.QUALITY),
)
PII = [(kind, texts[0]) for kind, texts in SAMPLES.items()]


@pytest.mark.parametrize(("kind", "sample"), PII)
def test_personal_data_never_reaches_a_cloud_model(kind: str, sample: str) -> None:
    """Every persona x every limit x this kind of personal data: only local models, in the
    choice and in every fallback, and (unless the persona was local-only already) the
    decision says what was found."""
    router = hybrid_router(SMALL_LOCAL)
    for persona, options in itertools.product(PERSONAS, LIMITS):
        for query in (f"{HARD}. {sample}", f"{sample}\n{HARD}"):
            decision = router.decide(
                query, options=RouteOptions(**{**options.__dict__, "persona": persona})
            )
            assert_local(decision)
            if persona != "private":
                assert kind in decision.privacy, (persona, options, decision.privacy)
                assert "kept on local models" in decision.reason


def test_the_same_requests_without_personal_data_do_reach_cloud_models() -> None:
    """The control: the property test above can fail."""
    router = hybrid_router(SMALL_LOCAL)
    reached = {
        (persona, options.model)
        for persona, options in itertools.product(PERSONAS, LIMITS)
        if router.decide(
            HARD, options=RouteOptions(**{**options.__dict__, "persona": persona})
        ).model
        in CLOUD_NAMES
    }
    assert (None, None) in reached
    assert ("developer", "gpt-4o") in reached
    assert not any(persona == "private" for persona, _ in reached)


def test_a_document_marked_private_keeps_the_request_local(small_local: Router) -> None:
    private = Document(page_content="Q3 revenue by region", metadata={"private": True})
    decision = small_local.decide(HARD, documents=[private])
    assert_local(decision)
    assert decision.privacy == ["private_document"]
    assert small_local.decide(HARD, documents=["Q3 revenue by region"]).model in CLOUD_NAMES


def test_personal_data_in_a_document_keeps_the_request_local(small_local: Router) -> None:
    decision = small_local.decide(HARD, documents=["Contact: jane.doe@example.org"])
    assert_local(decision)
    assert decision.privacy == ["email"]


def test_an_explicit_cloud_model_is_refused_for_private_data(small_local: Router) -> None:
    decision = small_local.decide(
        f"{HARD} my key is sk-abcdefghijklmnopqrstuvwxyz123456",
        options=RouteOptions(model="claude-sonnet-4-5"),
    )
    assert_local(decision)
    assert "claude-sonnet-4-5 is a cloud model, so it was not used" in decision.reason
    assert not decision.explicit_model


def test_local_only_and_the_private_persona_still_force_local(small_local: Router) -> None:
    assert_local(small_local.decide(HARD, options=RouteOptions(local_only=True)))
    assert_local(small_local.decide(HARD, options=RouteOptions(persona="private")))
    assert_local(small_local.decide(HARD, options=RouteOptions(local_only=True, model="gpt-4o")))


def test_without_cloud_models_nothing_is_scanned() -> None:
    router = hybrid_router(SMALL_LOCAL, config=cloud_config(cloud={}))
    decision = router.decide(f"{HARD} jane@example.org")
    assert decision.privacy == []
    assert not decision.local_only
