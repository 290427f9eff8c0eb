from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ragged_graph.errors import ConfigError
from ragged_graph.registry.cards import Capability, CardOrigin, ModelCard, ModelCardSpec, Tier
from ragged_graph.registry.sources.builtin import BUILTIN_CARDS, BuiltinSource
from ragged_graph.registry.sources.config_file import ConfigFileSource
from ragged_graph.registry.sources.ollama import OllamaSource, infer_card, parse_parameter_size
from tests.support.registries import refusing

# Tags that exist in Ollama's library (SPEC section 4); none of the roadmap's invented ones.
REAL_TAGS = {
    "llama3.2:1b",
    "llama3.2:3b",
    "llama3.1:8b",
    "llama3.1:70b",
    "mistral:7b",
    "qwen2.5:7b",
    "qwen2.5:14b",
    "qwen2.5:32b",
    "qwen2.5:72b",
    "qwen2.5-coder:7b",
    "qwen2.5-coder:14b",
    "qwen2.5-coder:32b",
    "deepseek-coder:6.7b",
    "deepseek-coder:33b",
    "codellama:13b",
    "codellama:34b",
    "deepseek-r1:8b",
    "deepseek-r1:14b",
    "deepseek-r1:32b",
    "deepseek-r1:70b",
    "gemma3:4b",
    "gemma3:12b",
    "gemma3:27b",
    "phi4:14b",
    "llama3.3:70b",
}


def fake_ollama(
    tags: list[dict[str, Any]],
    shows: dict[str, dict[str, Any]],
    ps: list[dict[str, Any]] | None = None,
    calls: list[str] | None = None,
) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(request.url.path)
        if request.url.path == "/api/tags":
            return httpx.Response(200, json={"models": tags})
        if request.url.path == "/api/ps":
            return httpx.Response(200, json={"models": ps or []})
        if request.url.path == "/api/show":
            name = json.loads(request.content)["model"]
            if name in shows:
                return httpx.Response(200, json=shows[name])
            return httpx.Response(404, json={"error": f"model '{name}' not found"})
        return httpx.Response(404)

    return httpx.MockTransport(handle)


def tag(name: str, size_gb: float, parameter_size: str, digest: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "model": name,
        "size": int(size_gb * 1e9),
        "digest": digest or f"sha-{name}",
        "details": {
            "family": "llama",
            "parameter_size": parameter_size,
            "quantization_level": "Q4_K_M",
        },
    }


def show(arch: str, context: int, capabilities: list[str]) -> dict[str, Any]:
    return {
        "model_info": {"general.architecture": arch, f"{arch}.context_length": context},
        "capabilities": capabilities,
    }


def test_builtin_cards_span_tiers_and_specialisations_with_real_tags() -> None:
    cards = BuiltinSource().cards({})
    assert len(cards) >= 12
    assert {card.name for card in cards} <= REAL_TAGS
    assert {card.tier for card in cards} == set(Tier)
    specialised = set().union(*(card.capabilities for card in cards))
    for needed in (
        Capability.CODE,
        Capability.REASONING,
        Capability.MATHS,
        Capability.MULTILINGUAL,
        Capability.LONG_CONTEXT,
        Capability.VISION,
    ):
        assert needed in specialised, needed
    assert all(card.local and card.input_price_per_mtok == 0 for card in cards)


def test_builtin_tiers_follow_parameter_counts() -> None:
    for card in BUILTIN_CARDS:
        assert card.parameters_b is not None
        if card.tier is Tier.FAST:
            assert card.parameters_b <= 10
        elif card.tier is Tier.QUALITY:
            assert card.parameters_b >= 60


def test_config_override_changes_only_given_fields() -> None:
    known = {card.key: card for card in BUILTIN_CARDS}
    spec = ModelCardSpec(name="qwen2.5:7b", memory_gb=3.0)
    (card,) = ConfigFileSource([spec]).cards(known)
    original = known["qwen2.5:7b"]
    assert card.memory_gb == 3.0
    assert card.context_window == original.context_window
    assert card.capabilities == original.capabilities


def test_config_new_model_gets_tier_from_parameters() -> None:
    spec = ModelCardSpec(
        name="my-legal:22b",
        parameters_b=22,
        context_window=32768,
        specialisations=frozenset({Capability.REASONING}),
    )
    (card,) = ConfigFileSource([spec]).cards({})
    assert card.tier is Tier.BALANCED
    assert Capability.REASONING in card.capabilities


def test_config_new_model_without_context_names_the_key() -> None:
    specs = [
        ModelCardSpec(name="a:1b", parameters_b=1, context_window=2048),
        ModelCardSpec(name="mystery:7b", tier=Tier.FAST),
    ]
    with pytest.raises(ConfigError) as caught:
        ConfigFileSource(specs, source="router.yaml").cards({})
    assert caught.value.issues[0].key == "models.1.context_window"
    assert "router.yaml" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "billions"),
    [("7.6B", 7.6), ("135M", 0.135), ("70B", 70.0), ("1.5T", 1500.0), ("", None), ("big", None)],
)
def test_parameter_size_strings_parse(text: str, billions: float | None) -> None:
    assert parse_parameter_size(text) == billions


def test_unknown_installed_model_gets_inferred_card() -> None:
    transport = fake_ollama(
        [tag("granite-code:20b", 11.6, "20.1B")],
        {"granite-code:20b": show("granite", 131072, ["completion", "tools"])},
    )
    source = OllamaSource("http://ollama.test", transport=transport)
    (card,) = source.cards({})
    assert card.tier is Tier.BALANCED
    assert card.context_window == 131072
    assert Capability.CODE in card.specialisations
    assert {Capability.TOOLS, Capability.LONG_CONTEXT} <= card.capabilities
    assert card.memory_gb == pytest.approx(13.9, abs=0.1)


def test_known_models_are_not_inferred_again() -> None:
    transport = fake_ollama([tag("qwen2.5:7b", 4.7, "7.6B")], {})
    source = OllamaSource("http://ollama.test", transport=transport)
    known = {card.key: card for card in BUILTIN_CARDS}
    assert source.cards(known) == []
    assert [m.name for m in source.inventory().installed] == ["qwen2.5:7b"]


def test_vision_and_thinking_capabilities_are_mapped() -> None:
    from ragged_graph.registry.sources.ollama import InstalledModel

    card = infer_card(
        InstalledModel(
            name="x:4b",
            size_bytes=3_000_000_000,
            parameter_size="4B",
            capabilities=("completion", "vision", "thinking"),
        )
    )
    assert {Capability.VISION, Capability.THINKING, Capability.REASONING} <= card.capabilities
    assert card.tier is Tier.FAST


def test_inventory_is_cached_for_the_ttl() -> None:
    calls: list[str] = []
    now = [100.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    transport = fake_ollama([tag("a:1b", 1, "1B")], {"a:1b": show("llama", 4096, [])}, calls=calls)
    source = OllamaSource("http://ollama.test", ttl_s=30, transport=transport, clock=clock)
    source.inventory()
    source.inventory()
    assert calls.count("/api/tags") == 1
    now[0] += 31
    source.inventory()
    assert calls.count("/api/tags") == 2
    # Details never change for one digest, so they are asked once.
    assert calls.count("/api/show") == 1


def test_unreachable_server_is_a_state_not_an_error() -> None:
    source = OllamaSource("http://127.0.0.1:9", transport=refusing())
    inventory = source.inventory()
    assert inventory.reachable is False
    assert "ConnectError" in (inventory.error or "")
    assert source.cards({}) == []


def test_failed_show_degrades_to_tags_details() -> None:
    transport = fake_ollama([tag("odd:3b", 2, "3.2B")], shows={})
    (card,) = OllamaSource("http://ollama.test", transport=transport).cards({})
    assert card.parameters_b == 3.2
    assert card.context_window == 4096


def test_card_origin_order_is_documented() -> None:
    assert [o.value for o in CardOrigin] == ["inferred", "builtin", "embedded", "config"]
    assert isinstance(BUILTIN_CARDS[0], ModelCard)
