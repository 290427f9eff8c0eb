"""Model cards, the model registry and its sources, hardware detection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ragged_graph.registry.cards import Capability, CardOrigin, ModelCard, Tier
from ragged_graph.registry.hardware import (
    HardwareOverride,
    HardwareProfile,
    MemoryBudget,
    detect_hardware,
    memory_budget,
)
from ragged_graph.registry.registry import ModelRegistry, RegistryEntry, RegistrySnapshot

if TYPE_CHECKING:
    import httpx

    from ragged_graph.config import RouterConfig

__all__ = [
    "Capability",
    "CardOrigin",
    "HardwareOverride",
    "HardwareProfile",
    "MemoryBudget",
    "ModelCard",
    "ModelRegistry",
    "RegistryEntry",
    "RegistrySnapshot",
    "Tier",
    "build_registry",
    "detect_hardware",
    "memory_budget",
]


def build_registry(
    config: RouterConfig,
    *,
    profile: HardwareProfile | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ModelRegistry:
    """The registry a config describes, its budget from detected (or given) hardware."""
    detected = profile if profile is not None else detect_hardware()
    budget = memory_budget(detected, config.hardware)
    return ModelRegistry.from_config(config, budget=budget, transport=transport)
