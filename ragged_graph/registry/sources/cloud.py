"""Cloud chat models from ``cloud:`` in the config: cards with ``local: false`` and prices.

A model is offered only while ``cloud.enabled`` is true and its provider's LangChain
integration is installed (the ``cloud`` extra: ``langchain``, ``langchain-openai``,
``langchain-anthropic``); otherwise it is left out, with one warning, so that no decision
names a model that cannot be called.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

from ragged_graph.registry.cards import CardOrigin, ModelCard
from ragged_graph.registry.sources.base import ModelSource

if TYPE_CHECKING:
    from ragged_graph.config import CloudModelSpec, CloudSettings

__all__ = ["INTEGRATION_MODULES", "CloudSource", "cloud_card", "integration_installed"]

logger = logging.getLogger(__name__)

INTEGRATION_MODULES = {"openai": "langchain_openai", "anthropic": "langchain_anthropic"}
"""The LangChain integration module each cloud provider needs."""


def integration_installed(provider: str) -> bool:
    """Whether ``provider``'s LangChain integration can be imported here."""
    module = INTEGRATION_MODULES.get(provider)
    return module is not None and importlib.util.find_spec(module) is not None


def cloud_card(spec: CloudModelSpec) -> ModelCard:
    """The card of a cloud model declared under ``cloud.models``."""
    return ModelCard(
        name=spec.name,
        provider=spec.provider,
        tier=spec.tier,
        context_window=spec.context_window,
        capabilities=spec.capabilities | spec.specialisations,
        specialisations=spec.specialisations,
        memory_gb=0.0,
        tokens_per_second=spec.tokens_per_second,
        first_token_ms=spec.first_token_ms,
        input_price_per_mtok=spec.input_price_per_mtok,
        output_price_per_mtok=spec.output_price_per_mtok,
        local=False,
        description=spec.description or f"{spec.provider} cloud model",
    )


class CloudSource(ModelSource):
    """Contributes the configured cloud models whose integration is installed."""

    origin: ClassVar[CardOrigin] = CardOrigin.CONFIG

    def __init__(
        self,
        settings: CloudSettings,
        *,
        installed: Callable[[str], bool] = integration_installed,
    ) -> None:
        self._settings = settings
        self._installed = installed
        self._warned: set[str] = set()

    def cards(self, known: Mapping[str, ModelCard]) -> Sequence[ModelCard]:
        if not self._settings.enabled:
            return ()
        cards = []
        for spec in self._settings.models:
            if not self._installed(spec.provider):
                if spec.provider not in self._warned:
                    self._warned.add(spec.provider)
                    logger.warning(
                        "cloud models of %s are left out: install the `cloud` extra "
                        "(pip install 'ragged-graph[cloud]')",
                        spec.provider,
                    )
                continue
            cards.append(cloud_card(spec))
        return cards
