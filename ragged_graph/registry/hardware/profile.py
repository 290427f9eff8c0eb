"""Value types of hardware detection: GPUs, the hardware profile, overrides and the budget.

All memory figures are in decimal gigabytes (1 GB = 10**9 bytes), the unit Ollama prints
and the unit of :attr:`ragged_graph.registry.cards.ModelCard.memory_gb`, so that a budget
and a model's needs compare directly. Detected figures are rounded to 10 MB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BYTES_PER_GB",
    "Accelerator",
    "GpuInfo",
    "GpuVendor",
    "HardwareOverride",
    "HardwareProfile",
    "MemoryBudget",
    "bytes_to_gb",
    "vendor_label",
]

BYTES_PER_GB = 1_000_000_000
"""Bytes in the gigabyte every ``*_gb`` figure uses (decimal, as Ollama and model cards)."""

GpuVendor = Literal["nvidia", "amd", "apple"]
"""Who made a GPU ragged_graph can place models on."""

Accelerator = Literal["cpu", "nvidia", "amd", "apple"]
"""Where Ollama runs models: on the CPU from system RAM, or on one vendor's GPUs."""

_VALUE = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

_VENDOR_LABELS: dict[str, str] = {
    "nvidia": "NVIDIA",
    "amd": "AMD",
    "apple": "Apple Silicon",
    "cpu": "CPU",
}


def vendor_label(accelerator: Accelerator) -> str:
    """How an accelerator is named to people: ``NVIDIA``, ``AMD``, ``Apple Silicon``, ``CPU``."""
    return _VENDOR_LABELS[accelerator]


def bytes_to_gb(size_bytes: float) -> float:
    """``size_bytes`` in decimal gigabytes, rounded to 10 MB."""
    return round(size_bytes / BYTES_PER_GB, 2)


class GpuInfo(BaseModel):
    """One GPU as its vendor's tool reports it."""

    model_config = _VALUE

    vendor: GpuVendor
    """Who made it."""

    name: str = Field(min_length=1)
    """The product name, e.g. ``NVIDIA GeForce RTX 4090`` or ``Apple M3 Max``."""

    vram_total_gb: float = Field(ge=0)
    """Its memory in GB; for Apple Silicon the whole unified memory shared with the CPU."""

    vram_free_gb: float | None = Field(default=None, ge=0)
    """Memory free at detection time, where the tool reports it (never for Apple Silicon).

    Informational only: the budget uses totals so that routing does not depend on what
    happens to be loaded at the moment.
    """


class HardwareOverride(BaseModel):
    """What a user writes under ``hardware:`` in the config to replace detected facts.

    Any field left out keeps the detected value. ``memory_gb`` sets the budget outright;
    the other fields replace facts and the budget rule is applied to the result. Setting
    ``accelerator`` together with ``vram_gb`` (or ``ram_gb`` for ``cpu`` and ``apple``)
    describes a machine completely, so routing is the same wherever the config is used.
    """

    model_config = _VALUE

    memory_gb: float | None = Field(default=None, ge=0)
    """The memory budget in GB, used as it is (no reserve is taken off)."""

    accelerator: Accelerator | None = None
    """Where models run: ``cpu``, ``nvidia``, ``amd`` or ``apple``."""

    vram_gb: float | None = Field(default=None, ge=0)
    """Total GPU memory in GB, taken as one GPU of the accelerator's vendor.

    For ``apple`` it is the unified memory, like ``ram_gb`` (it wins if both are set).
    """

    ram_gb: float | None = Field(default=None, ge=0)
    """Total system RAM in GB."""

    cpu_cores: int | None = Field(default=None, gt=0)
    """Number of CPU cores."""

    @model_validator(mode="after")
    def _vram_needs_a_gpu(self) -> HardwareOverride:
        if self.accelerator == "cpu" and self.vram_gb is not None:
            raise ValueError(
                "vram_gb describes GPU memory but accelerator is 'cpu'; "
                "drop vram_gb or set accelerator to nvidia, amd or apple"
            )
        return self

    @property
    def overridden_fields(self) -> tuple[str, ...]:
        """Names of the fields this override sets, in declaration order."""
        return tuple(name for name in type(self).model_fields if getattr(self, name) is not None)


class HardwareProfile(BaseModel):
    """The facts about this machine that decide which models can run on it."""

    model_config = _VALUE

    cpu_cores: int = Field(gt=0)
    """Number of CPU cores the process may use."""

    ram_total_gb: float = Field(ge=0)
    """Total system RAM in GB (0 when it could not be read)."""

    ram_available_gb: float | None = Field(default=None, ge=0)
    """RAM available to new processes at detection time, in GB; None when unknown."""

    gpus: tuple[GpuInfo, ...] = ()
    """Every GPU detected, of any vendor."""

    accelerator: Accelerator = "cpu"
    """Where Ollama places models: the vendor whose GPUs are used, or ``cpu``."""

    unified_memory: bool = False
    """Whether CPU and GPU share one memory pool (Apple Silicon)."""

    loaded_models: Mapping[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    """Models Ollama has loaded now, by name, with the GB of each held in GPU memory.

    Filled by the caller from Ollama's ``/api/ps`` (``size_vram``). Informational: the
    budget is what the machine can hold, not what is free this moment, since Ollama evicts
    idle models to load another.
    """

    overrides: tuple[str, ...] = ()
    """Names of the :class:`HardwareOverride` fields that replaced detected facts."""

    @model_validator(mode="after")
    def _accelerator_has_gpus(self) -> HardwareProfile:
        if self.accelerator != "cpu" and not self.gpus_of(self.accelerator):
            raise ValueError(f"accelerator {self.accelerator!r} needs at least one such GPU")
        if self.accelerator == "apple" and not self.unified_memory:
            raise ValueError("Apple Silicon has unified memory; set unified_memory")
        return self

    def __hash__(self) -> int:
        # The default frozen-model hash fails on the loaded_models dict.
        return hash(
            (
                self.cpu_cores,
                self.ram_total_gb,
                self.ram_available_gb,
                self.gpus,
                self.accelerator,
                self.unified_memory,
                tuple(sorted(self.loaded_models.items())),
                self.overrides,
            )
        )

    def gpus_of(self, vendor: Accelerator) -> tuple[GpuInfo, ...]:
        """The GPUs made by ``vendor`` (none for ``cpu``)."""
        return tuple(gpu for gpu in self.gpus if gpu.vendor == vendor)

    def with_loaded_models(self, loaded: Mapping[str, float]) -> HardwareProfile:
        """This profile with ``loaded_models`` replaced (name -> GB in GPU memory)."""
        return self.model_validate({**self.model_dump(), "loaded_models": dict(loaded)})

    def with_override(self, override: HardwareOverride) -> HardwareProfile:
        """The profile with the facts ``override`` sets replacing the detected ones.

        - ``cpu_cores`` and ``ram_gb`` replace the core count and total RAM (available RAM
          is capped at the new total).
        - ``accelerator`` chooses where models run. ``nvidia`` or ``amd`` needs a GPU of that
          vendor: a detected one, or ``vram_gb``.
        - ``vram_gb`` replaces the accelerator's GPUs by one GPU with that much memory. For
          ``apple`` it sets the unified memory, and so does ``ram_gb``.
        - ``memory_gb`` is not a fact about the machine and is left to
          :func:`~ragged_graph.registry.hardware.memory_budget`.

        Raises:
            ValueError: the override names a GPU accelerator with no GPU to back it, or gives
                ``vram_gb`` while models run on the CPU.
        """
        set_fields = tuple(name for name in override.overridden_fields if name != "memory_gb")
        if not set_fields:
            return self
        accelerator = override.accelerator or self.accelerator
        ram_total = override.ram_gb if override.ram_gb is not None else self.ram_total_gb
        gpus = self.gpus
        if accelerator in ("nvidia", "amd"):
            label = vendor_label(accelerator)
            if override.vram_gb is not None:
                gpu = GpuInfo(
                    vendor=accelerator,
                    name=f"{label} GPU (override)",
                    vram_total_gb=override.vram_gb,
                )
                gpus = (*(g for g in gpus if g.vendor != accelerator), gpu)
            elif not self.gpus_of(accelerator):
                raise ValueError(
                    f"hardware override sets accelerator {accelerator!r} but no {label} GPU "
                    "was detected; also set vram_gb (the GPU memory in GB) or memory_gb"
                )
        elif accelerator == "apple":
            detected = self.gpus_of("apple")
            if override.vram_gb is not None:
                unified = override.vram_gb
                if override.ram_gb is None:
                    ram_total = unified
            elif override.ram_gb is not None or not detected:
                unified = ram_total
            else:
                unified = detected[0].vram_total_gb
            name = detected[0].name if detected else "Apple Silicon (override)"
            gpu = GpuInfo(vendor="apple", name=name, vram_total_gb=unified)
            gpus = (*(g for g in gpus if g.vendor != "apple"), gpu)
        elif override.vram_gb is not None:
            raise ValueError(
                "hardware override gives vram_gb but models run on the CPU here; "
                "also set accelerator to nvidia, amd or apple"
            )
        available = self.ram_available_gb
        if available is not None:
            available = min(available, ram_total)
        unified_memory = (
            accelerator == "apple" if override.accelerator is not None else self.unified_memory
        )
        return self.model_validate(
            {
                **self.model_dump(),
                "cpu_cores": override.cpu_cores or self.cpu_cores,
                "ram_total_gb": ram_total,
                "ram_available_gb": available,
                "gpus": gpus,
                "accelerator": accelerator,
                "unified_memory": unified_memory,
                "overrides": tuple(dict.fromkeys((*self.overrides, *set_fields))),
            }
        )


class MemoryBudget(BaseModel):
    """How much memory models may take on this machine, and why."""

    model_config = _VALUE

    budget_gb: float = Field(ge=0)
    """The largest memory need, in GB, of a model that may be chosen."""

    accelerator: Accelerator
    """Where models run, as in :attr:`HardwareProfile.accelerator`."""

    rule: str
    """One line saying how the budget was computed, for people."""

    overridden: bool = False
    """Whether a ``hardware:`` override from the config changed the result."""

    def fits(self, memory_gb: float) -> bool:
        """Whether a model needing ``memory_gb`` fits in the budget."""
        return memory_gb <= self.budget_gb
