"""With no Ollama host answering, requests go to models that need none: the embedded model,
or a cloud model where the request may leave the machine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

from ragged_graph.config import RouterConfig
from ragged_graph.providers.embedded import EMBEDDED_MODEL_NAME
from ragged_graph.registry.cards import CardOrigin, ModelCard
from ragged_graph.registry.registry import ModelRegistry
from ragged_graph.registry.sources.base import ModelSource
from ragged_graph.registry.sources.builtin import BuiltinSource
from ragged_graph.registry.sources.cloud import CloudSource
from ragged_graph.registry.sources.embedded import embedded_card
from ragged_graph.registry.sources.ollama import OllamaSource
from ragged_graph.routing.router import RouteOptions, Router
from tests.support.cloud import CLOUD_MODELS, cloud_config
from tests.support.registries import budget, refusing

HARD = (
    "Analyse the architectural trade-offs between event sourcing and a CRUD design for a "
    "bank's core ledger: consistency, audit, failure modes, migration risk and cost."
)
CLOUD = {model["name"] for model in CLOUD_MODELS}


class _Embedded(ModelSource):
    origin: ClassVar[CardOrigin] = CardOrigin.EMBEDDED

    def cards(self, known: Mapping[str, ModelCard]) -> Sequence[ModelCard]:
        return (embedded_card(8192, Path("smollm2.gguf")),)


def offline_router(*, embedded: bool = True, config: RouterConfig | None = None) -> Router:
    config = config if config is not None else cloud_config()

    host = OllamaSource("http://127.0.0.1:9", host="gone", transport=refusing())
    sources: list[ModelSource] = [
        BuiltinSource(),
        CloudSource(config.cloud, installed=lambda _provider: True),
    ]
    if embedded:
        sources.append(_Embedded())
    registry = ModelRegistry(budget=budget(64), static_sources=tuple(sources), hosts=[host])
    return Router(config, registry=registry)


def test_a_hard_query_goes_to_a_cloud_model_with_the_embedded_one_as_last_resort() -> None:
    decision = offline_router().decide(HARD)
    assert decision.model in CLOUD
    assert decision.reason.startswith(
        f"no Ollama server answered, so the cloud model {decision.model}"
    )
    assert "installed models were assumed" not in decision.reason
    assert decision.fallbacks[-1] == EMBEDDED_MODEL_NAME
    assert set(decision.fallbacks) <= CLOUD | {EMBEDDED_MODEL_NAME}


def test_a_request_that_must_stay_local_goes_to_the_embedded_model() -> None:
    router = offline_router()
    local = router.decide(HARD, options=RouteOptions(local_only=True))
    private = router.decide(HARD + " Reply to jane.doe@example.com.")
    for decision in (local, private):
        assert decision.model == EMBEDDED_MODEL_NAME
        assert "the embedded model" in decision.reason
        assert decision.fallbacks == []


def test_without_an_embedded_model_the_cloud_answers_and_local_requests_keep_the_old_path() -> None:
    router = offline_router(embedded=False)
    assert router.decide("What is Paris?").model in CLOUD
    local = router.decide("What is Paris?", options=RouteOptions(local_only=True))
    assert local.model not in CLOUD
    assert "installed models were assumed" in local.reason


def test_with_cloud_off_nothing_changes() -> None:
    decision = offline_router(config=RouterConfig()).decide(HARD)
    assert decision.model == EMBEDDED_MODEL_NAME
