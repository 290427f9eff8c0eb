"""`detect_hardware`: run every probe and assemble a :class:`HardwareProfile`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ragged_graph.registry.hardware.amd import probe_amd
from ragged_graph.registry.hardware.apple import probe_apple
from ragged_graph.registry.hardware.nvidia import probe_nvidia
from ragged_graph.registry.hardware.profile import (
    Accelerator,
    GpuInfo,
    GpuVendor,
    HardwareProfile,
)
from ragged_graph.registry.hardware.runner import (
    DEFAULT_TIMEOUT_S,
    CommandRunner,
    PlatformFacts,
    SubprocessRunner,
    read_proc_meminfo,
)
from ragged_graph.registry.hardware.system import probe_cpu_cores, probe_ram

__all__ = ["detect_hardware"]

logger = logging.getLogger(__name__)

_PREFERENCE: tuple[GpuVendor, ...] = ("nvidia", "amd", "apple")
"""Which GPUs Ollama is taken to use when several vendors' are present."""


def detect_hardware(
    *,
    runner: CommandRunner | None = None,
    read_meminfo: Callable[[], str | None] = read_proc_meminfo,
    platform_facts: PlatformFacts | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> HardwareProfile:
    """Detect this machine's CPU cores, RAM and GPUs.

    Probes: CPU cores (the CPUs this process may use; ``sysctl hw.ncpu`` on macOS), RAM
    (``/proc/meminfo``; ``sysctl hw.memsize`` and ``vm_stat`` on macOS), NVIDIA GPUs
    (``nvidia-smi``), AMD GPUs (``rocm-smi``) and Apple Silicon (``sysctl``). A tool that is
    missing, fails or takes longer than ``timeout`` seconds is skipped; one that answers
    with garbage is skipped with a warning. Detection never raises for either.

    The accelerator is the first of NVIDIA, AMD and Apple Silicon with a GPU found, else
    ``cpu``. Detection assumes Ollama runs on this machine; for a remote Ollama host, describe
    that host under ``hardware:`` in the config.

    Args:
        runner: runs the tools; :class:`SubprocessRunner` by default.
        read_meminfo: returns the text of ``/proc/meminfo``, or None where there is none.
        platform_facts: operating system, architecture and CPU count; the current ones by
            default.
        timeout: seconds each tool may take.
    """
    runner = runner if runner is not None else SubprocessRunner()
    facts = platform_facts if platform_facts is not None else PlatformFacts.current()

    cpu_cores = probe_cpu_cores(runner, facts, timeout)
    ram = probe_ram(runner, read_meminfo() if facts.system != "Darwin" else None, facts, timeout)
    ram_total_gb = ram.total_gb if ram is not None else 0.0

    gpus: list[GpuInfo] = []
    if facts.system == "Darwin":
        apple = probe_apple(runner, facts, ram_total_gb, timeout)
        if apple is not None:
            gpus.append(apple)
    else:
        gpus.extend(probe_nvidia(runner, timeout))
        gpus.extend(probe_amd(runner, timeout))

    accelerator: Accelerator = "cpu"
    for vendor in _PREFERENCE:
        if any(gpu.vendor == vendor for gpu in gpus):
            accelerator = vendor
            break
    profile = HardwareProfile(
        cpu_cores=cpu_cores,
        ram_total_gb=ram_total_gb,
        ram_available_gb=ram.available_gb if ram is not None else None,
        gpus=tuple(gpus),
        accelerator=accelerator,
        unified_memory=accelerator == "apple",
    )
    logger.debug("detected hardware: %s", profile)
    return profile
