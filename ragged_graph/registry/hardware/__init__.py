"""Hardware detection and the memory budget that decides which models can run here.

:func:`detect_hardware` gathers a :class:`HardwareProfile`: CPU cores, RAM, GPUs
(``nvidia-smi``, ``rocm-smi``, Apple Silicon via ``sysctl``) and the accelerator Ollama
places models on. Missing tools are normal and leave models on the CPU; garbled output from
a tool that did run is logged as a warning and that probe ignored.

:func:`memory_budget` turns a profile into a :class:`MemoryBudget`. The rule, in decimal GB
(10**9 bytes, the unit of model cards and of Ollama), never below zero:

- NVIDIA or AMD: the sum of VRAM totals over that vendor's GPUs - 1 GB reserve per GPU;
  models are placed in VRAM.
- Apple Silicon: 75% of unified memory (the GPU's usable share) - 2 GB reserve.
- CPU only: total RAM - a reserve of max(2 GB, 20% of RAM).

The config's ``hardware:`` block is a :class:`HardwareOverride`: ``memory_gb`` sets the
budget directly; ``accelerator``, ``vram_gb``, ``ram_gb`` and ``cpu_cores`` replace the
detected facts (:meth:`HardwareProfile.with_override`) and the rule is applied again. The
budget's ``rule`` text says when an override was used.

:attr:`HardwareProfile.loaded_models` (what Ollama's ``/api/ps`` says is loaded, filled by
the caller with :meth:`HardwareProfile.with_loaded_models`) is reported but takes no part in
the budget, which counts totals, not what happens to be free now.

Example::

    profile = detect_hardware()
    budget = memory_budget(profile, config.hardware)
    budget.fits(card.memory_gb)
"""

from __future__ import annotations

from ragged_graph.registry.hardware.amd import parse_rocm_smi
from ragged_graph.registry.hardware.budget import (
    APPLE_GPU_SHARE,
    APPLE_RESERVE_GB,
    CPU_MIN_RESERVE_GB,
    CPU_RESERVE_FRACTION,
    GPU_RESERVE_GB,
    memory_budget,
)
from ragged_graph.registry.hardware.detect import detect_hardware
from ragged_graph.registry.hardware.nvidia import parse_nvidia_smi
from ragged_graph.registry.hardware.profile import (
    BYTES_PER_GB,
    Accelerator,
    GpuInfo,
    GpuVendor,
    HardwareOverride,
    HardwareProfile,
    MemoryBudget,
    bytes_to_gb,
)
from ragged_graph.registry.hardware.runner import (
    DEFAULT_TIMEOUT_S,
    CommandRunner,
    PlatformFacts,
    SubprocessRunner,
    read_proc_meminfo,
)
from ragged_graph.registry.hardware.system import RamInfo, parse_meminfo, parse_vm_stat

__all__ = [
    "APPLE_GPU_SHARE",
    "APPLE_RESERVE_GB",
    "BYTES_PER_GB",
    "CPU_MIN_RESERVE_GB",
    "CPU_RESERVE_FRACTION",
    "DEFAULT_TIMEOUT_S",
    "GPU_RESERVE_GB",
    "Accelerator",
    "CommandRunner",
    "GpuInfo",
    "GpuVendor",
    "HardwareOverride",
    "HardwareProfile",
    "MemoryBudget",
    "PlatformFacts",
    "RamInfo",
    "SubprocessRunner",
    "bytes_to_gb",
    "detect_hardware",
    "memory_budget",
    "parse_meminfo",
    "parse_nvidia_smi",
    "parse_rocm_smi",
    "parse_vm_stat",
    "read_proc_meminfo",
]
