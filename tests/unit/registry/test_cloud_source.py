"""Cloud models in the registry: cards with prices and ``local: false``, only when usable."""

from __future__ import annotations

import logging

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.registry.sources.cloud import CloudSource, integration_installed
from tests.support.cloud import cloud_config, hybrid_router


def test_enabled_cloud_models_become_priced_non_local_cards() -> None:
    cards = CloudSource(cloud_config().cloud, installed=lambda _p: True).cards({})
    by_name = {card.name: card for card in cards}
    gpt = by_name["gpt-4o"]
    assert gpt.provider == "openai"
    assert not gpt.local
    assert (gpt.input_price_per_mtok, gpt.output_price_per_mtok) == (2.5, 10.0)
    assert gpt.first_token_ms == 500
    assert gpt.memory_gb == 0


def test_disabled_cloud_offers_nothing() -> None:
    settings = cloud_config(cloud={"enabled": False, "models": []}).cloud
    assert CloudSource(settings, installed=lambda _p: True).cards({}) == ()


def test_models_without_their_integration_are_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = CloudSource(cloud_config().cloud, installed=lambda provider: provider == "openai")
    with caplog.at_level(logging.WARNING):
        cards = source.cards({})
        source.cards({})
    assert {card.provider for card in cards} == {"openai"}
    assert sum("cloud` extra" in record.message for record in caplog.records) == 1


def test_the_integrations_are_installed_in_the_dev_environment() -> None:
    assert integration_installed("openai")
    assert integration_installed("anthropic")
    assert not integration_installed("ollama")


def test_cloud_candidates_are_always_installed_and_fit() -> None:
    snapshot = hybrid_router(("llama3.2:3b",)).registry.snapshot()
    cloud = [entry for entry in snapshot.candidates if not entry.card.local]
    assert {entry.name for entry in cloud} == {"gpt-4o", "claude-sonnet-4-5", "gpt-4o-mini"}


def test_the_default_registry_has_no_cloud_models() -> None:
    assert RouterConfig().cloud.models == ()
