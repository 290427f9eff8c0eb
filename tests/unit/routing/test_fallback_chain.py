from __future__ import annotations

from ragged_graph.registry.cards import Capability, Tier
from ragged_graph.routing.fallbacks import fallback_chain
from ragged_graph.routing.selection import SelectionRequest, select_model
from ragged_graph.routing.task_types import TaskType
from tests.support.registries import registry_with_installed

INSTALLED = [
    "llama3.2:3b",
    "qwen2.5:7b",
    "qwen2.5-coder:7b",
    "qwen2.5:14b",
    "qwen2.5-coder:14b",
    "codellama:13b",
    "phi4:14b",
    "llama3.3:70b",
    "qwen2.5:72b",
    "deepseek-r1:70b",
]


def chain_for(task: str, tier: Tier, length: int = 3, memory_gb: float = 128) -> list[str]:
    snapshot = registry_with_installed(INSTALLED, memory_gb=memory_gb).snapshot()
    selection = select_model(
        snapshot, SelectionRequest(task_type=task, tier=tier, required_context=2000)
    )
    spec = Capability.CODE if task == TaskType.CODE_GENERATION else None
    chain = fallback_chain(
        selection.entry, selection.ranked, specialisation=spec, max_length=length
    )
    return [selection.entry.name, *(entry.name for entry in chain)]


def test_same_tier_specialists_come_first_then_same_tier_then_down() -> None:
    chain = chain_for(TaskType.CODE_GENERATION, Tier.BALANCED, length=4)
    assert chain[0] == "qwen2.5-coder:14b"
    assert chain[1] == "codellama:13b"  # same tier, same specialisation
    assert chain[2] in {"qwen2.5:14b", "phi4:14b"}  # same tier
    assert "qwen2.5-coder:7b" in chain[2:] or len(chain) == 5


def test_chain_is_bounded_and_distinct() -> None:
    chain = chain_for(TaskType.GENERAL_QA, Tier.FAST, length=3)
    assert len(chain) == 4
    assert len(set(chain)) == len(chain)


def test_quality_model_falls_back_within_quality_before_going_down() -> None:
    chain = chain_for(TaskType.REASONING, Tier.QUALITY, length=3)
    snapshot = registry_with_installed(INSTALLED, memory_gb=128).snapshot()
    tiers = {entry.name: entry.card.tier for entry in snapshot.entries}
    assert tiers[chain[0]] is Tier.QUALITY
    assert [tiers[name] for name in chain[1:3]] == [Tier.QUALITY, Tier.QUALITY]


def test_models_that_do_not_fit_are_never_offered() -> None:
    chain = chain_for(TaskType.REASONING, Tier.QUALITY, length=5, memory_gb=20)
    assert not {"llama3.3:70b", "qwen2.5:72b", "deepseek-r1:70b"} & set(chain)
