"""The memory budget: how much memory the models ragged_graph chooses may need.

The rule (all figures in decimal GB; a budget is never negative):

- NVIDIA or AMD GPUs: the sum of the VRAM totals of that vendor's GPUs, minus a reserve of
  1 GB per GPU (driver context, display, Ollama's compute buffers). Models are placed in
  VRAM; one that would spill into system RAM runs many times slower, so it does not count
  as fitting.
- Apple Silicon: 75% of the unified memory (macOS lets the GPU wire about that share;
  the rest stays with the system), minus a 2 GB reserve for the other programs on the GPU.
- CPU only: total RAM minus a reserve of the larger of 2 GB and 20% of RAM, left to the
  operating system and the application itself.

Totals are used, not what is free at the moment: routing then does not change with what
happens to be loaded (Ollama evicts idle models to load another), and
:attr:`HardwareProfile.loaded_models` is reported but not subtracted.

A :class:`HardwareOverride` from the config's ``hardware:`` block applies on top:
``memory_gb`` is the budget outright; ``accelerator``, ``vram_gb``, ``ram_gb`` and
``cpu_cores`` replace the detected facts and the rule is applied to them.
"""

from __future__ import annotations

from ragged_graph.registry.hardware.profile import (
    HardwareOverride,
    HardwareProfile,
    MemoryBudget,
    vendor_label,
)

__all__ = [
    "APPLE_GPU_SHARE",
    "APPLE_RESERVE_GB",
    "CPU_MIN_RESERVE_GB",
    "CPU_RESERVE_FRACTION",
    "GPU_RESERVE_GB",
    "memory_budget",
]

GPU_RESERVE_GB = 1.0
"""Kept free on every discrete GPU."""

APPLE_GPU_SHARE = 0.75
"""Share of Apple Silicon's unified memory the GPU may use."""

APPLE_RESERVE_GB = 2.0
"""Kept free of the GPU's share on Apple Silicon."""

CPU_MIN_RESERVE_GB = 2.0
"""The least RAM kept free when models run on the CPU."""

CPU_RESERVE_FRACTION = 0.20
"""Share of RAM kept free when models run on the CPU, if more than the minimum."""


def _apply_rule(profile: HardwareProfile) -> tuple[float, str]:
    accelerator = profile.accelerator
    if accelerator in ("nvidia", "amd"):
        gpus = profile.gpus_of(accelerator)
        total = sum(gpu.vram_total_gb for gpu in gpus)
        raw = total - GPU_RESERVE_GB * len(gpus)
        rule = (
            f"{len(gpus)} x {vendor_label(accelerator)} GPU VRAM {total:.1f} GB"
            f" - {GPU_RESERVE_GB:.1f} GB reserve per GPU"
        )
        where = "models are placed in VRAM"
    elif accelerator == "apple":
        unified = profile.gpus_of("apple")[0].vram_total_gb
        raw = unified * APPLE_GPU_SHARE - APPLE_RESERVE_GB
        rule = (
            f"Apple Silicon unified memory {unified:.1f} GB x {APPLE_GPU_SHARE:.0%} GPU share"
            f" - {APPLE_RESERVE_GB:.1f} GB reserve"
        )
        where = "models are placed in the GPU's share of unified memory"
    else:
        ram = profile.ram_total_gb
        reserve = max(CPU_MIN_RESERVE_GB, CPU_RESERVE_FRACTION * ram)
        raw = ram - reserve
        rule = (
            f"CPU only: RAM {ram:.1f} GB - {reserve:.1f} GB reserve"
            f" (the larger of {CPU_MIN_RESERVE_GB:.1f} GB and {CPU_RESERVE_FRACTION:.0%} of RAM)"
        )
        where = "models run from system RAM"
    budget = round(max(raw, 0.0), 2)
    clamped = " (never negative)" if raw < 0 else ""
    return budget, f"{rule} = {budget:.1f} GB{clamped}; {where}"


def memory_budget(
    profile: HardwareProfile, override: HardwareOverride | None = None
) -> MemoryBudget:
    """The memory budget of ``profile``, with ``override`` (the config's ``hardware:``) on top.

    The rule, in decimal GB and never below zero:

    - NVIDIA / AMD: sum of the VRAM totals of that vendor's GPUs - 1 GB per GPU (models are
      placed in VRAM).
    - Apple Silicon: 75% of unified memory - 2 GB.
    - CPU only: total RAM - max(2 GB, 20% of total RAM).

    With ``override.memory_gb`` set, that is the budget, as it is. Otherwise the override's
    facts replace the detected ones (:meth:`HardwareProfile.with_override`) and the rule is
    applied to the result. Either way the ``rule`` text says an override was used.
    Available RAM, free VRAM and loaded models play no part.

    Raises:
        ValueError: the override names a GPU accelerator with no GPU to back it (see
            :meth:`HardwareProfile.with_override`).
    """
    if override is not None and override.memory_gb is not None:
        return MemoryBudget(
            budget_gb=override.memory_gb,
            accelerator=override.accelerator or profile.accelerator,
            rule=f"override: memory_gb = {override.memory_gb:.1f} GB, set in the config",
            overridden=True,
        )
    if override is not None:
        profile = profile.with_override(override)
    budget, rule = _apply_rule(profile)
    if profile.overrides:
        rule = f"override ({', '.join(profile.overrides)}): {rule}"
    return MemoryBudget(
        budget_gb=budget,
        accelerator=profile.accelerator,
        rule=rule,
        overridden=bool(profile.overrides),
    )
