from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.errors import ConfigError, UnknownPersonaError
from ragged_graph.registry.cards import Capability, ModelCardSpec, Tier
from ragged_graph.registry.registry import ModelRegistry
from ragged_graph.registry.sources.config_file import ConfigFileSource
from ragged_graph.routing.router import RouteOptions, Router
from tests.support.registries import budget, offline_registry

BUILTIN = ("casual", "developer", "private", "researcher", "writer")


def router_for(config: RouterConfig | None = None, **registry_kwargs: float) -> Router:
    return Router(config or RouterConfig(), registry=offline_registry(**registry_kwargs))


def decide(router: Router, query: str, persona: str | None = None, **options: object):  # type: ignore[no-untyped-def]
    return router.decide(query, options=RouteOptions(persona=persona, **options))  # type: ignore[arg-type]


def test_the_five_built_in_personas_exist() -> None:
    assert set(BUILTIN) <= set(router_for().personas.names)


def test_roadmap_examples() -> None:
    router = router_for()
    researcher = decide(router, "Explain neural networks", "researcher")
    assert researcher.tier is Tier.QUALITY
    assert researcher.persona == "researcher"
    assert researcher.persona_rule == "rule explanations-in-depth"
    developer = decide(router, "Write a sorting function", "developer")
    assert "coder" in developer.model
    assert developer.persona_rule == "task override code_generation"


def test_casual_leans_fast_and_writer_favours_creative_work() -> None:
    router = router_for()
    question = "Explain quicksort and compare it with mergesort"
    plain = decide(router, question)
    assert plain.tier is Tier.BALANCED
    assert plain.complexity < 6  # below casual's keep-it-quick threshold
    assert decide(router, question, "casual").tier is Tier.FAST
    hard = "Design a distributed consensus protocol tolerant to byzantine faults"
    assert decide(router, hard).tier is Tier.QUALITY
    assert decide(router, hard, "casual").tier is Tier.BALANCED  # leans one step to fast
    poem = "Write a short poem about autumn leaves"
    assert decide(router, poem, "writer").tier.rank == decide(router, poem).tier.rank + 1


def test_private_persona_uses_only_local_models() -> None:
    cloud = ModelCardSpec(
        name="cloud-giant",
        provider="openai",
        tier=Tier.QUALITY,
        context_window=128_000,
        local=False,
        input_price_per_mtok=5,
        output_price_per_mtok=15,
        capabilities=frozenset({Capability.GENERAL, Capability.REASONING}),
        specialisations=frozenset({Capability.REASONING}),
    )
    registry = ModelRegistry(budget=budget(8), overrides=ConfigFileSource([cloud]))
    router = Router(RouterConfig(), registry=registry)
    hard = "Prove that there are infinitely many primes and discuss the proof's history"
    assert decide(router, hard).model == "cloud-giant"
    private = decide(router, hard, "private")
    assert private.model != "cloud-giant"
    assert private.provider == "ollama"


def test_priority_explicit_model_beats_task_override() -> None:
    decision = decide(router_for(), "Write a sorting function", "developer", model="llama3.2:3b")
    assert decision.model == "llama3.2:3b"
    assert decision.explicit_model


def test_priority_task_override_beats_rules_and_default() -> None:
    config = RouterConfig.model_validate(
        {
            "personas": {
                "p": {
                    "default_tier": "fast",
                    "rules": [{"name": "all-fast", "then": {"set_tier": "fast"}}],
                    "task_overrides": {"math": {"tier": "quality"}},
                }
            }
        }
    )
    decision = decide(router_for(config), "What is 17 * 23?", "p")
    assert decision.tier is Tier.QUALITY
    assert decision.persona_rule == "task override math"


def test_priority_specialisation_beats_the_tier_a_rule_sets() -> None:
    config = RouterConfig.model_validate(
        {"personas": {"p": {"rules": [{"name": "up", "then": {"set_tier": "balanced"}}]}}}
    )
    registry = offline_registry()
    router = Router(config, registry=registry)
    decision = decide(router, "Write a Python function that reverses a string", "p")
    assert decision.tier is Tier.BALANCED
    assert "coder" in decision.model


def test_priority_rules_beat_default_tier_and_first_rule_wins() -> None:
    config = RouterConfig.model_validate(
        {
            "personas": {
                "p": {
                    "default_tier": "quality",
                    "rules": [
                        {
                            "name": "first",
                            "when": {"task": ["general_qa"]},
                            "then": {"set_tier": "fast"},
                        },
                        {"name": "second", "then": {"set_tier": "balanced"}},
                    ],
                }
            }
        }
    )
    decision = decide(router_for(config), "What is Paris?", "p")
    assert decision.tier is Tier.FAST
    assert decision.persona_rule == "rule first"


def test_default_tier_leans_one_step_when_no_rule_fires() -> None:
    config = RouterConfig.model_validate({"personas": {"up": {"default_tier": "quality"}}})
    router = router_for(config)
    assert decide(router, "What is Paris?").tier is Tier.FAST
    leaned = decide(router, "What is Paris?", "up")
    assert leaned.tier is Tier.BALANCED
    assert leaned.persona_rule == "default tier quality"


def test_rule_conditions_on_complexity_context_and_language() -> None:
    config = RouterConfig.model_validate(
        {
            "personas": {
                "p": {
                    "rules": [
                        {
                            "name": "long",
                            "when": {"context_tokens_at_least": 5000},
                            "then": {"set_tier": "quality"},
                        },
                        {
                            "name": "foreign",
                            "when": {"language": ["non_en"]},
                            "then": {"upgrade": 1},
                        },
                        {
                            "name": "hard",
                            "when": {"complexity_at_least": 7},
                            "then": {"set_model": "qwen2.5:72b"},
                        },
                    ]
                }
            }
        }
    )
    router = router_for(config)
    long_docs = ["The report covers quarterly revenue. " * 600]
    assert (
        router.decide(
            "What was the revenue?", documents=long_docs, options=RouteOptions(persona="p")
        ).persona_rule
        == "rule long"
    )
    assert (
        decide(router, "Quelle est la capitale de la France ?", "p").persona_rule == "rule foreign"
    )
    hard = decide(
        router,
        "Analyse the architectural trade-offs between microservices and a "
        "monolith for a payments platform, considering consistency and failure modes",
        "p",
    )
    assert hard.model == "qwen2.5:72b"
    assert hard.persona_rule == "rule hard"


def test_extends_inherits_and_changes_only_what_differs() -> None:
    config = RouterConfig.model_validate(
        {
            "personas": {
                "senior-dev": {
                    "extends": "developer",
                    "response_style": "Terse.",
                }
            }
        }
    )
    router = router_for(config)
    child, parent = router.personas.get("senior-dev"), router.personas.get("developer")
    assert child.task_overrides == parent.task_overrides
    assert child.default_tier is parent.default_tier
    assert child.response_style == "Terse."


def test_extends_cycle_and_unknown_parent_are_config_errors() -> None:
    cycle = RouterConfig.model_validate(
        {"personas": {"a": {"extends": "b"}, "b": {"extends": "a"}}}
    )
    with pytest.raises(ConfigError, match="cycle"):
        router_for(cycle)
    orphan = RouterConfig.model_validate({"personas": {"a": {"extends": "nobody"}}})
    with pytest.raises(ConfigError, match="nobody"):
        router_for(orphan)


def test_preferred_and_avoided_models_steer_selection() -> None:
    config = RouterConfig.model_validate(
        {
            "personas": {
                "likes": {"preferred_models": ["mistral:7b"]},
                "dislikes": {"avoided_models": ["llama3.2:1b"]},
            }
        }
    )
    router = router_for(config)
    assert decide(router, "What is Paris?").model == "llama3.2:1b"
    assert decide(router, "What is Paris?", "likes").model == "mistral:7b"
    assert decide(router, "What is Paris?", "dislikes").model != "llama3.2:1b"


def test_min_context_excludes_small_windows() -> None:
    config = RouterConfig.model_validate({"personas": {"long": {"min_context": 100_000}}})
    decision = decide(router_for(config), "What is Paris?", "long")
    assert decision.required_context >= 100_000


def test_unknown_persona_lists_the_known_ones() -> None:
    with pytest.raises(UnknownPersonaError) as caught:
        decide(router_for(), "hi", "astronaut")
    for name in BUILTIN:
        assert name in str(caught.value)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def config_with_dir(tmp_path: Path) -> Path:
    config = tmp_path / "router.yaml"
    config.write_text("persona_dir: personas\n", encoding="utf-8")
    return config


def test_persona_folder_adds_personas(tmp_path: Path) -> None:
    write(tmp_path / "personas", "analyst", "extends: researcher\nmin_context: 8192\n")
    router = router_for(RouterConfig.from_file(config_with_dir(tmp_path)))
    assert router.personas.get("analyst").min_context == 8192
    assert decide(router, "Explain neural networks", "analyst").tier is Tier.QUALITY


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ("default_tier: turbo\n", "default_tier", "fast"),
        ("task_overrides:\n  cooking: {tier: fast}\n", "task_overrides.cooking", "unknown task"),
        (
            "rules:\n  - name: r\n    when: {mood: happy}\n    then: {upgrade: 1}\n",
            "rules.0.when.mood",
            "unknown key",
        ),
        (
            "rules:\n  - name: r\n    then: {upgrade: 1, set_tier: fast}\n",
            "rules.0.then",
            "exactly one",
        ),
        ("task_overrides:\n  math: {}\n", "task_overrides.math", "exactly one of tier or model"),
    ],
    ids=["bad-tier", "unknown-task", "unknown-condition", "two-actions", "empty-override"],
)
def test_persona_file_mistakes_name_the_file_and_key(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path / "personas", "broken", text)
    with pytest.raises(ConfigError) as caught:
        router_for(RouterConfig.from_file(config_with_dir(tmp_path)))
    assert caught.value.source == str(path)
    assert any(issue.key.startswith(key) for issue in caught.value.issues), caught.value.issues
    assert expected in str(caught.value)


def test_persona_mistake_in_the_config_file_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "router.yaml"
    config.write_text("personas:\n  p:\n    default_tier: turbo\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        RouterConfig.from_file(config)
    assert caught.value.issues[0].key == "personas.p.default_tier"


def test_missing_persona_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        router_for(RouterConfig.from_file(config_with_dir(tmp_path)))
