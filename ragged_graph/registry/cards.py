"""Model cards: what ragged_graph knows about one model, independent of where it runs."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Capability",
    "CardOrigin",
    "ModelCard",
    "ModelCardSpec",
    "Tier",
    "normalise_model_name",
    "tier_for_parameters",
]


class Tier(StrEnum):
    """How capable (and how expensive to run) a model is."""

    FAST = "fast"
    BALANCED = "balanced"
    QUALITY = "quality"

    @property
    def rank(self) -> int:
        return _TIER_RANK[self]


_TIER_RANK = {Tier.FAST: 0, Tier.BALANCED: 1, Tier.QUALITY: 2}


class Capability(StrEnum):
    """What a model can do well enough to be chosen for it."""

    GENERAL = "general"
    CODE = "code"
    REASONING = "reasoning"
    MATHS = "maths"
    MULTILINGUAL = "multilingual"
    LONG_CONTEXT = "long_context"
    TOOLS = "tools"
    VISION = "vision"
    CREATIVE = "creative"
    THINKING = "thinking"
    EMBEDDING = "embedding"


class CardOrigin(StrEnum):
    """Which source a card came from; later sources in this order win on conflicts."""

    INFERRED = "inferred"
    """Inferred from a live Ollama server's ``/api/show`` for a model no other source knows."""
    BUILTIN = "builtin"
    """Shipped with ragged_graph."""
    EMBEDDED = "embedded"
    """The embedded model (``llama-cpp-python`` and a local GGUF file), found on this machine."""
    CONFIG = "config"
    """Declared or overridden in the user's config file."""


# Parameter-count boundaries (billions) between tiers, from SPEC section 2: fast is about
# 1-8B, balanced about 12-35B, quality about 70B and up. The gaps are split between them.
FAST_MAX_PARAMETERS_B = 10.0
BALANCED_MAX_PARAMETERS_B = 50.0

LONG_CONTEXT_MIN_TOKENS = 65_536


def tier_for_parameters(parameters_b: float) -> Tier:
    """The tier a local model of ``parameters_b`` billion parameters belongs to."""
    if parameters_b <= FAST_MAX_PARAMETERS_B:
        return Tier.FAST
    if parameters_b <= BALANCED_MAX_PARAMETERS_B:
        return Tier.BALANCED
    return Tier.QUALITY


def normalise_model_name(name: str) -> str:
    """Ollama's canonical form of a model reference: ``llama3.1`` means ``llama3.1:latest``."""
    name = name.strip()
    if ":" not in name.rsplit("/", 1)[-1]:
        return f"{name}:latest"
    return name


class ModelCard(BaseModel):
    """Everything routing needs to know about one model."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: str = Field(min_length=1)
    """The model's name as its provider knows it, e.g. ``qwen2.5-coder:7b``."""

    provider: str = "ollama"
    """Which provider serves it: ``ollama``, ``anthropic``, ``openai``, ``embedded``."""

    tier: Tier
    """The capability tier the model belongs to."""

    parameters_b: float | None = Field(default=None, gt=0)
    """Parameter count in billions, where known."""

    context_window: int = Field(gt=0)
    """Maximum context length in tokens."""

    capabilities: frozenset[Capability] = frozenset({Capability.GENERAL})
    """What the model can do."""

    specialisations: frozenset[Capability] = frozenset()
    """What the model is notably better at than others of its tier (a subset of capabilities)."""

    quantisation: str | None = None
    """Quantisation level, e.g. ``Q4_K_M``; None for cloud models."""

    memory_gb: float = Field(default=0.0, ge=0)
    """Memory needed to run it at its quantisation (weights plus a default context), in GB."""

    tokens_per_second: float | None = Field(default=None, gt=0)
    """Typical generation speed on modest hardware, used to predict latency."""

    first_token_ms: float | None = Field(default=None, gt=0)
    """Typical time to the first token of a short prompt on a warm (loaded) model, in ms;
    None: predicted from the model's size (see :mod:`ragged_graph.routing.latency`)."""

    input_price_per_mtok: float = Field(default=0.0, ge=0)
    """Price per million input tokens in US dollars (0 for local models)."""

    output_price_per_mtok: float = Field(default=0.0, ge=0)
    """Price per million output tokens in US dollars (0 for local models)."""

    local: bool = True
    """Whether the model runs on the user's own hardware (no data leaves the machine)."""

    domains: tuple[str, ...] = ()
    """Subject domains the model was fine-tuned for, e.g. ``("legal",)``."""

    description: str = ""
    """A human-readable note on the model."""

    @model_validator(mode="after")
    def _specialisations_are_capabilities(self) -> ModelCard:
        missing = self.specialisations - self.capabilities
        if missing:
            names = ", ".join(sorted(missing))
            raise ValueError(f"specialisations {names} must also be listed under capabilities")
        return self

    @property
    def key(self) -> str:
        """The normalised name used to match cards across sources."""
        return normalise_model_name(self.name) if self.provider == "ollama" else self.name

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities


class ModelCardSpec(BaseModel):
    """A model declared or overridden in the config file.

    For a model another source already knows, only the fields given replace the known ones.
    A new model needs at least ``context_window`` and either ``tier`` or ``parameters_b``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    name: str = Field(min_length=1)
    """The model's name as its provider knows it."""
    provider: str | None = None
    """Provider serving it; ``ollama`` when omitted for a new model."""
    tier: Tier | None = None
    """Capability tier; inferred from ``parameters_b`` when omitted."""
    parameters_b: float | None = Field(default=None, gt=0)
    """Parameter count in billions."""
    context_window: int | None = Field(default=None, gt=0)
    """Maximum context length in tokens."""
    capabilities: frozenset[Capability] | None = None
    """What the model can do."""
    specialisations: frozenset[Capability] | None = None
    """What it is notably better at than others of its tier."""
    quantisation: str | None = None
    """Quantisation level."""
    memory_gb: float | None = Field(default=None, ge=0)
    """Memory it needs, in GB."""
    tokens_per_second: float | None = Field(default=None, gt=0)
    """Typical generation speed."""
    first_token_ms: float | None = Field(default=None, gt=0)
    """Typical time to the first token on a warm model, in ms."""
    input_price_per_mtok: float | None = Field(default=None, ge=0)
    """US dollars per million input tokens."""
    output_price_per_mtok: float | None = Field(default=None, ge=0)
    """US dollars per million output tokens."""
    local: bool | None = None
    """Whether it runs on the user's own hardware."""
    domains: tuple[str, ...] | None = None
    """Subject domains it was fine-tuned for."""
    description: str | None = None
    """A human-readable note."""

    def given_fields(self) -> dict[str, Any]:
        """The fields the user actually set (``name`` included)."""
        return self.model_dump(exclude_unset=True)
