from __future__ import annotations

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.errors import UnknownModelError, UnknownPersonaError
from ragged_graph.registry.cards import Tier
from ragged_graph.routing.router import RouteOptions, Router
from tests.support.registries import offline_registry, registry_with_installed

ARCHITECTURE = (
    "Analyse the architectural trade-offs between microservices and a monolith for a payments "
    "platform, considering consistency, latency, team structure and failure modes"
)


@pytest.fixture
def router() -> Router:
    return Router(RouterConfig(), registry=offline_registry(memory_gb=64))


def test_roadmap_examples(router: Router) -> None:
    code = router.decide("Write a Python function that checks whether a string is a palindrome")
    assert code.task_type == "code_generation"
    assert "coder" in code.model
    assert router.decide("What is Paris?").tier is Tier.FAST
    assert router.decide(ARCHITECTURE).tier is Tier.QUALITY


def test_decision_carries_the_contract_fields(router: Router) -> None:
    dumped = router.decide("Explain quicksort and compare it with mergesort").model_dump()
    for field in (
        "model",
        "tier",
        "task_type",
        "task_confidence",
        "complexity",
        "complexity_breakdown",
        "persona",
        "reason",
        "fallbacks",
        "provider",
    ):
        assert field in dumped
    assert 0 <= dumped["complexity"] <= 10
    assert dumped["complexity_breakdown"]
    assert dumped["provider"] == "ollama"


def test_offline_decision_is_marked_as_assumed(router: Router) -> None:
    decision = router.decide("hello")
    assert decision.availability_assumed
    assert "assumed" in decision.reason


def test_tier_is_what_the_query_calls_for_even_when_memory_forces_another() -> None:
    small = Router(
        RouterConfig(),
        registry=registry_with_installed(["qwen2.5:14b", "llama3.2:3b"], memory_gb=16),
    )
    decision = small.decide(ARCHITECTURE)
    assert decision.tier is Tier.QUALITY
    assert decision.model_tier is Tier.BALANCED
    assert "quality-tier" in decision.reason


def test_retrieved_documents_make_a_rag_query_and_raise_the_context_need(router: Router) -> None:
    documents = ["Paris is the capital of France. " * 400]
    decision = router.decide("What does the document say about Paris?", documents=documents)
    assert decision.task_type == "rag_query"
    assert decision.required_context > 3000


def test_explicit_model_wins_and_keeps_fallbacks(router: Router) -> None:
    decision = router.decide("What is Paris?", options=RouteOptions(model="phi4:14b"))
    assert decision.model == "phi4:14b"
    assert decision.explicit_model
    assert "explicit model" in decision.reason
    assert decision.fallbacks
    assert "phi4:14b" not in decision.fallbacks


def test_unknown_explicit_model_lists_known_ones(router: Router) -> None:
    with pytest.raises(UnknownModelError, match=r"llama3\.2:3b"):
        router.decide("hi", options=RouteOptions(model="llama3.2:8b"))


def test_forced_tier_overrides_complexity(router: Router) -> None:
    decision = router.decide("What is Paris?", options=RouteOptions(tier=Tier.QUALITY))
    assert decision.tier is Tier.QUALITY
    assert decision.model_tier is Tier.QUALITY
    assert "forced" in decision.reason


def test_unknown_persona_lists_the_known_ones() -> None:
    config = RouterConfig.model_validate({"personas": {"tester": {}}})
    router = Router(config, registry=offline_registry())
    assert router.decide("hi", options=RouteOptions(persona="tester")).persona == "tester"
    with pytest.raises(UnknownPersonaError, match="tester"):
        router.decide("hi", options=RouteOptions(persona="nobody"))


def test_same_inputs_give_the_same_decision(router: Router) -> None:
    first = router.decide(ARCHITECTURE)
    assert all(router.decide(ARCHITECTURE) == first for _ in range(3))


def test_threshold_config_moves_the_tier() -> None:
    strict = Router(
        RouterConfig.model_validate({"tiers": {"fast_below": 0.5, "balanced_below": 1}}),
        registry=offline_registry(),
    )
    assert strict.decide("What is Paris?").tier is not Tier.FAST


def test_a_query_prepared_again_is_the_same_preparation_and_another_query_is_not() -> None:
    router = Router(RouterConfig(), registry=offline_registry())
    first = router.prepare("Summarise this", ["a document"])
    assert router.prepare("Summarise this", ["a document"]) is first
    assert router.prepare("Summarise this", ["another document"]).documents == ("another document",)
    assert router.prepare("Summarise that", ["a document"]).text == "Summarise that"
    assert router.prepare("Summarise this").documents == ()
