from __future__ import annotations

import pytest

from ragged_graph.errors import ContextOverflowError, NoModelAvailableError
from ragged_graph.registry.cards import Capability, Tier
from ragged_graph.routing.selection import SelectionRequest, select_model
from ragged_graph.routing.task_types import TaskType
from tests.support.registries import offline_registry, registry_with_installed

EVERYTHING_SMALL = [
    "llama3.2:3b",
    "qwen2.5:7b",
    "qwen2.5-coder:7b",
    "deepseek-r1:8b",
    "gemma3:4b",
    "qwen2.5:14b",
    "qwen2.5-coder:14b",
    "phi4:14b",
    "llama3.3:70b",
]


def request(task: str, tier: Tier, context: int = 2000, **kwargs: object) -> SelectionRequest:
    return SelectionRequest(task_type=task, tier=tier, required_context=context, **kwargs)  # type: ignore[arg-type]


def test_code_goes_to_a_code_specialist_of_the_wanted_tier() -> None:
    snapshot = registry_with_installed(EVERYTHING_SMALL).snapshot()
    assert select_model(snapshot, request(TaskType.CODE_GENERATION, Tier.FAST)).entry.name == (
        "qwen2.5-coder:7b"
    )
    assert select_model(snapshot, request(TaskType.CODE_GENERATION, Tier.BALANCED)).entry.name == (
        "qwen2.5-coder:14b"
    )


def test_specialist_one_tier_away_beats_generalist_but_not_two() -> None:
    snapshot = registry_with_installed(
        ["qwen2.5-coder:7b", "qwen2.5:14b", "llama3.3:70b"]
    ).snapshot()
    one_away = select_model(snapshot, request(TaskType.CODE_GENERATION, Tier.BALANCED))
    assert one_away.entry.name == "qwen2.5-coder:7b"
    two_away = select_model(snapshot, request(TaskType.CODE_GENERATION, Tier.QUALITY))
    assert two_away.entry.name == "llama3.3:70b"


def test_only_installed_models_that_fit_are_chosen() -> None:
    snapshot = registry_with_installed(EVERYTHING_SMALL, memory_gb=12).snapshot()
    chosen = select_model(snapshot, request(TaskType.REASONING, Tier.QUALITY)).entry
    assert chosen.card.memory_gb <= 12
    assert chosen.installed
    assert chosen.name != "llama3.3:70b"


def test_quality_request_without_quality_model_says_so() -> None:
    snapshot = registry_with_installed(["qwen2.5:14b", "llama3.2:3b"]).snapshot()
    selection = select_model(snapshot, request(TaskType.GENERAL_QA, Tier.QUALITY))
    assert selection.entry.name == "qwen2.5:14b"
    assert "no better quality-tier fit" in selection.reason


def test_loaded_models_win_ties() -> None:
    installed = ["llama3.2:3b", "llama3.1:8b"]
    cold = select_model(
        registry_with_installed(installed).snapshot(), request(TaskType.GENERAL_QA, Tier.FAST)
    )
    warm = select_model(
        registry_with_installed(installed, loaded=["llama3.1:8b"]).snapshot(),
        request(TaskType.GENERAL_QA, Tier.FAST),
    )
    assert cold.entry.name == "llama3.2:3b"
    assert warm.entry.name == "llama3.1:8b"
    assert "already loaded" in warm.reason


def test_missing_capability_is_relaxed_and_recorded() -> None:
    snapshot = registry_with_installed(["mistral:7b", "qwen2.5:7b"]).snapshot()
    selection = select_model(
        snapshot,
        request(
            TaskType.GENERAL_QA, Tier.FAST, required_capabilities=frozenset({Capability.VISION})
        ),
    )
    assert selection.relaxations
    assert "vision" in selection.relaxations[0]


def test_required_capability_filters_when_some_model_has_it() -> None:
    snapshot = registry_with_installed(["llama3.2:3b", "gemma3:4b"]).snapshot()
    selection = select_model(
        snapshot,
        request(
            TaskType.GENERAL_QA, Tier.FAST, required_capabilities=frozenset({Capability.VISION})
        ),
    )
    assert selection.entry.name == "gemma3:4b"
    assert not selection.relaxations


def test_context_too_large_for_every_model_is_a_typed_error() -> None:
    snapshot = registry_with_installed(["mistral:7b", "llama3.2:3b"]).snapshot()
    with pytest.raises(ContextOverflowError, match="500,000 tokens") as caught:
        select_model(snapshot, request(TaskType.SUMMARISATION, Tier.FAST, context=500_000))
    assert caught.value.largest == 131_072
    assert isinstance(caught.value, ValueError)


def test_context_need_excludes_small_windows() -> None:
    snapshot = registry_with_installed(["mistral:7b", "llama3.1:8b"]).snapshot()
    selection = select_model(snapshot, request(TaskType.RAG_QUERY, Tier.FAST, context=60_000))
    assert selection.entry.name == "llama3.1:8b"


def test_no_installed_model_is_a_typed_error() -> None:
    snapshot = registry_with_installed([]).snapshot()
    with pytest.raises(NoModelAvailableError, match="no models are installed"):
        select_model(snapshot, request(TaskType.GENERAL_QA, Tier.FAST))


def test_nothing_fits_the_budget_names_it() -> None:
    snapshot = registry_with_installed(["llama3.3:70b"], memory_gb=8).snapshot()
    with pytest.raises(NoModelAvailableError, match=r"8\.0 GB"):
        select_model(snapshot, request(TaskType.GENERAL_QA, Tier.FAST))


def test_offline_registry_still_decides_from_cards() -> None:
    snapshot = offline_registry(memory_gb=64).snapshot()
    selection = select_model(snapshot, request(TaskType.MATH, Tier.BALANCED))
    assert Capability.MATHS in selection.entry.card.specialisations
    assert selection.entry.card.tier is Tier.BALANCED


def test_selection_is_deterministic() -> None:
    snapshot = registry_with_installed(EVERYTHING_SMALL).snapshot()
    first = select_model(snapshot, request(TaskType.REASONING, Tier.BALANCED))
    for _ in range(5):
        again = select_model(snapshot, request(TaskType.REASONING, Tier.BALANCED))
        assert again.entry.name == first.entry.name
        assert [e.name for e in again.ranked] == [e.name for e in first.ranked]


def test_embedding_models_are_never_chosen_to_chat() -> None:
    from ragged_graph.registry.cards import ModelCardSpec
    from ragged_graph.registry.registry import ModelRegistry
    from ragged_graph.registry.sources.config_file import ConfigFileSource
    from tests.support.registries import budget

    spec = ModelCardSpec(
        name="embedder:1b",
        tier=Tier.FAST,
        context_window=8192,
        capabilities=frozenset({Capability.EMBEDDING}),
    )
    registry = ModelRegistry(budget=budget(64), overrides=ConfigFileSource([spec]))
    ranked = select_model(registry.snapshot(), request(TaskType.GENERAL_QA, Tier.FAST)).ranked
    assert "embedder:1b" not in {entry.name for entry in ranked}
