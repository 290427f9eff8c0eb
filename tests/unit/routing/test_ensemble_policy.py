from __future__ import annotations

import pytest

from ragged_graph.config import EnsembleSettings, RouterConfig
from ragged_graph.registry.cards import ModelCardSpec, Tier
from ragged_graph.registry.registry import ModelRegistry
from ragged_graph.registry.sources.config_file import ConfigFileSource
from ragged_graph.registry.sources.ollama import OllamaSource
from ragged_graph.routing.ensemble import Role, ensemble_wanted, role_request
from ragged_graph.routing.router import RouteOptions, Router
from tests.support.registries import budget, registry_with_installed, serving

ARCHITECTURE = (
    "Analyse the architectural trade-offs between microservices and a monolith for a payments "
    "platform, considering consistency, latency, team structure and failure modes"
)
INSTALLED = ["llama3.2:3b", "qwen2.5:7b", "qwen2.5:14b", "llama3.3:70b", "qwen2.5:72b"]


def _serving(installed: list[str]) -> OllamaSource:
    return OllamaSource("http://box.test", host="box", transport=serving(installed))


POLICY = EnsembleSettings(
    enabled=True, personas=("researcher",), tiers=(Tier.QUALITY,), min_complexity=6.0
)


def wanted(settings: EnsembleSettings, **given: object) -> tuple[bool, str]:
    request: dict[str, object] = {
        "mode": "auto",
        "persona": "researcher",
        "tier": Tier.QUALITY,
        "complexity": 7.5,
    }
    request.update(given)
    return ensemble_wanted(settings, **request)  # type: ignore[arg-type]


def test_the_policy_runs_the_ensemble_when_every_condition_holds() -> None:
    run, why = wanted(POLICY)
    assert run
    assert why == "the ensemble policy holds: quality tier, persona researcher, complexity 7.5"


@pytest.mark.parametrize(
    ("given", "because"),
    [
        ({"persona": "casual"}, "persona casual is not one of ensemble.personas"),
        ({"persona": None}, "persona none is not one of ensemble.personas"),
        ({"tier": Tier.BALANCED}, "the balanced tier is not one of ensemble.tiers"),
        ({"complexity": 5.9}, "complexity 5.9 is below ensemble.min_complexity 6"),
    ],
)
def test_one_failed_condition_keeps_one_model(given: dict[str, object], because: str) -> None:
    assert wanted(POLICY, **given) == (False, because)


def test_empty_conditions_let_every_request_in() -> None:
    run, _ = wanted(EnsembleSettings(enabled=True), persona=None, tier=Tier.FAST, complexity=0.5)
    assert run


def test_the_ensemble_is_off_unless_enabled() -> None:
    assert wanted(EnsembleSettings()) == (False, "the ensemble is not enabled (ensemble.enabled)")


def test_the_request_mode_wins_over_the_policy() -> None:
    assert wanted(EnsembleSettings(), mode="always")[0]
    assert not wanted(POLICY, mode="never")[0]


def test_tools_or_a_schema_keep_one_model_even_when_asked() -> None:
    run, why = wanted(POLICY, mode="always", single_only="tools are bound")
    assert not run
    assert why == "one model answers: tools are bound"


def test_the_rewriter_asks_for_a_fast_general_model_holding_the_question() -> None:
    request = role_request(
        Role.REWRITER,
        task_type="reasoning",
        required_context=30_000,
        question_tokens=40,
        local_only=True,
        primary="qwen2.5:14b",
    )
    assert (request.task_type, request.tier, request.prefer_fast) == (
        "query_rewriting",
        Tier.FAST,
        True,
    )
    assert request.required_context < 2_000, "the documents are not the rewriter's"
    assert request.local_only


def test_the_verifier_asks_for_quality_other_than_the_primary_with_room_for_the_answer() -> None:
    request = role_request(
        Role.VERIFIER,
        task_type="code_generation",
        required_context=3_000,
        question_tokens=40,
        local_only=False,
        primary="qwen2.5:14b",
    )
    assert (request.task_type, request.tier) == ("code_generation", Tier.QUALITY)
    assert request.avoided_models == ("qwen2.5:14b",)
    assert request.required_context > 3_000


def test_the_primary_is_not_a_role_request() -> None:
    with pytest.raises(ValueError, match="normal routing"):
        role_request(
            Role.PRIMARY,
            task_type="general_qa",
            required_context=1,
            question_tokens=1,
            local_only=False,
            primary="m",
        )


@pytest.fixture
def router() -> Router:
    return Router(RouterConfig(), registry=registry_with_installed(INSTALLED, memory_gb=128))


def test_each_role_gets_a_model_fit_for_it(router: Router) -> None:
    query = "Explain quicksort and compare it with mergesort"
    decision = router.decide(query)
    plan = router.plan_ensemble(router.prepare(query), decision, reason="asked")
    assert plan.rewriter is not None
    assert plan.rewriter.model_tier is Tier.FAST
    assert plan.verifier is not None
    assert plan.verifier.model_tier is Tier.QUALITY
    assert plan.verifier.model != decision.model
    assert plan.escalation is not None
    assert plan.escalation.model != decision.model
    assert plan.escalation.model in ("llama3.3:70b", "qwen2.5:72b")
    assert plan.verifier.chain[0] == plan.verifier.model
    assert set(plan.to_state()["models"]) == {"rewriter", "verifier", "escalation"}


def test_the_verifier_differs_from_a_quality_primary_when_another_quality_model_exists(
    router: Router,
) -> None:
    decision = router.decide(ARCHITECTURE)
    assert decision.model_tier is Tier.QUALITY
    plan = router.plan_ensemble(router.prepare(ARCHITECTURE), decision, reason="asked")
    assert plan.verifier is not None
    assert plan.verifier.model != decision.model
    assert plan.verifier.model_tier is Tier.QUALITY


def test_with_one_model_it_verifies_itself_and_has_nowhere_to_escalate() -> None:
    only = Router(RouterConfig(), registry=registry_with_installed(["qwen2.5:7b"]))
    decision = only.decide("What is Paris?")
    plan = only.plan_ensemble(only.prepare("What is Paris?"), decision, reason="asked")
    assert plan.verifier is not None
    assert plan.verifier.model == "qwen2.5:7b"
    assert plan.escalation is None


def test_rewriting_and_escalation_can_be_left_out(router: Router) -> None:
    decision = router.decide("What is Paris?")
    plan = router.plan_ensemble(
        router.prepare("What is Paris?"), decision, reason="asked", rewrite=False, escalate=False
    )
    assert (plan.rewriter, plan.escalation) == (None, None)
    assert plan.verifier is not None


def test_roles_of_a_local_only_request_stay_local() -> None:
    # The two largest models stand for remote ones here.
    remote = [ModelCardSpec(name=name, local=False) for name in ("llama3.3:70b", "qwen2.5:72b")]
    registry = ModelRegistry(
        budget=budget(128), hosts=[_serving(INSTALLED)], overrides=ConfigFileSource(remote)
    )
    router = Router(RouterConfig(), registry=registry)
    query = "Explain quicksort and compare it with mergesort"
    anywhere = router.plan_ensemble(router.prepare(query), router.decide(query), reason="asked")
    assert anywhere.verifier is not None
    assert anywhere.verifier.model in (
        "llama3.3:70b",
        "qwen2.5:72b",
    )
    decision = router.decide(query, options=RouteOptions(local_only=True))
    plan = router.plan_ensemble(router.prepare(query), decision, reason="asked")
    for choice in (plan.rewriter, plan.verifier, plan.escalation):
        assert choice is not None
        assert router.registry.get(choice.model).card.local, choice
