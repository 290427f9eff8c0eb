from __future__ import annotations

import pytest

from ragged_graph.errors import UnknownModelError
from ragged_graph.registry.cards import CardOrigin, ModelCardSpec, Tier
from ragged_graph.registry.registry import ModelRegistry
from ragged_graph.registry.sources.config_file import ConfigFileSource
from ragged_graph.registry.sources.ollama import OllamaSource
from tests.support.registries import budget, refusing

from .test_registry_sources import fake_ollama, show, tag


def registry_with(
    gb: float, *, overrides: list[ModelCardSpec] | None = None, reachable: bool = True
) -> ModelRegistry:
    if reachable:
        transport = fake_ollama(
            [
                tag("qwen2.5:7b", 4.7, "7.6B"),
                tag("llama3.3:70b", 43, "70.6B"),
                tag("granite-code:20b", 11.6, "20.1B"),
            ],
            {"granite-code:20b": show("granite", 8192, ["completion"])},
            ps=[{"name": "qwen2.5:7b", "size": 6_000_000_000, "size_vram": 0}],
        )
    else:
        transport = refusing()
    host = OllamaSource("http://ollama.test", host="box", transport=transport)
    source = ConfigFileSource(overrides) if overrides else None
    return ModelRegistry(budget=budget(gb), hosts=[host], overrides=source)


def test_installed_loaded_and_fitting_models_are_marked() -> None:
    snapshot = registry_with(16).snapshot()
    by_name = {entry.name: entry for entry in snapshot.entries}
    assert snapshot.availability_known
    assert by_name["qwen2.5:7b"].installed_on == ("box",)
    assert by_name["qwen2.5:7b"].loaded
    assert by_name["llama3.3:70b"].installed
    assert not by_name["llama3.3:70b"].fits
    assert not by_name["mistral:7b"].installed
    assert by_name["granite-code:20b"].origin is CardOrigin.INFERRED
    assert {e.name for e in snapshot.candidates} == {"qwen2.5:7b", "granite-code:20b"}


def test_entries_are_sorted_by_tier() -> None:
    tiers = [entry.card.tier.rank for entry in registry_with(16).snapshot().entries]
    assert tiers == sorted(tiers)


def test_without_a_server_every_fitting_card_is_a_candidate() -> None:
    snapshot = registry_with(8, reachable=False).snapshot()
    assert not snapshot.availability_known
    candidates = snapshot.candidates
    assert candidates
    assert all(entry.card.memory_gb <= 8 for entry in candidates)
    assert all(not entry.installed for entry in candidates)


def test_config_overrides_win_over_inferred_and_builtin_cards() -> None:
    overrides = [
        ModelCardSpec(name="granite-code:20b", tier=Tier.QUALITY),
        ModelCardSpec(name="qwen2.5:7b", memory_gb=99),
    ]
    snapshot = registry_with(16, overrides=overrides).snapshot()
    by_name = {entry.name: entry for entry in snapshot.entries}
    assert by_name["granite-code:20b"].card.tier is Tier.QUALITY
    assert by_name["granite-code:20b"].origin is CardOrigin.CONFIG
    # Loaded now, so it evidently fits whatever its card claims.
    assert by_name["qwen2.5:7b"].card.memory_gb == 99
    assert by_name["qwen2.5:7b"].fits


def test_snapshot_is_reused_while_inventories_are_unchanged() -> None:
    registry = registry_with(16)
    assert registry.snapshot() is registry.snapshot()
    assert registry.snapshot(refresh=True) is not None


def test_get_accepts_untagged_names_and_rejects_unknown() -> None:
    registry = registry_with(16)
    assert registry.get("qwen2.5:7b").card.tier is Tier.FAST
    with pytest.raises(UnknownModelError) as caught:
        registry.get("llama3.2:8b")
    assert "llama3.2:3b" in str(caught.value)
    assert isinstance(caught.value, LookupError)
