"""Model cards declared or overridden under ``models:`` in the user's config file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import ValidationError

from ragged_graph.errors import ConfigError, ConfigIssue
from ragged_graph.registry.cards import (
    CardOrigin,
    ModelCard,
    ModelCardSpec,
    normalise_model_name,
    tier_for_parameters,
)
from ragged_graph.registry.sources.base import ModelSource

__all__ = ["ConfigFileSource"]


class ConfigFileSource(ModelSource):
    """Cards from ``RouterConfig.models``: partial overrides of known models, or new ones."""

    origin: ClassVar[CardOrigin] = CardOrigin.CONFIG

    def __init__(self, specs: Sequence[ModelCardSpec], *, source: str | None = None) -> None:
        self._specs = tuple(specs)
        self._source = source

    def cards(self, known: Mapping[str, ModelCard]) -> Sequence[ModelCard]:
        cards: list[ModelCard] = []
        issues: list[ConfigIssue] = []
        for index, spec in enumerate(self._specs):
            try:
                cards.append(self._card_for(spec, known))
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    field = ".".join(str(part) for part in error["loc"])
                    key = f"models.{index}" + (f".{field}" if field else "")
                    issues.append(ConfigIssue(key=key, problem=error["msg"]))
        if issues:
            raise ConfigError(self._source, issues)
        return cards

    @staticmethod
    def _card_for(spec: ModelCardSpec, known: Mapping[str, ModelCard]) -> ModelCard:
        given = spec.given_fields()
        base = known.get(normalise_model_name(spec.name))
        if base is not None:
            merged: dict[str, Any] = {**base.model_dump(), **given}
        else:
            merged = dict(given)
            if "tier" not in merged and spec.parameters_b is not None:
                merged["tier"] = tier_for_parameters(spec.parameters_b)
            if "specialisations" in merged and "capabilities" not in merged:
                merged["capabilities"] = {"general", *merged["specialisations"]}
        return ModelCard.model_validate(merged)
