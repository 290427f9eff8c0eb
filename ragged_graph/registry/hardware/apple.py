"""Apple Silicon: its GPU shares the unified memory with the CPU."""

from __future__ import annotations

import logging

from ragged_graph.registry.hardware.profile import GpuInfo
from ragged_graph.registry.hardware.runner import CommandRunner, PlatformFacts
from ragged_graph.registry.hardware.system import sysctl

__all__ = ["is_apple_silicon", "probe_apple"]

logger = logging.getLogger(__name__)


def is_apple_silicon(runner: CommandRunner, facts: PlatformFacts, timeout: float) -> bool:
    """Whether this is an Apple Silicon Mac.

    ``platform.machine()`` says ``arm64``; a Python running under Rosetta says ``x86_64``
    even there, so on Intel-looking Macs ``sysctl hw.optional.arm64`` decides.
    """
    if facts.system != "Darwin":
        return False
    if facts.is_apple_silicon:
        return True
    return sysctl(runner, "hw.optional.arm64", timeout) == "1"


def probe_apple(
    runner: CommandRunner,
    facts: PlatformFacts,
    unified_memory_gb: float | None,
    timeout: float,
) -> GpuInfo | None:
    """The Apple Silicon GPU, whose memory is the machine's ``unified_memory_gb``.

    Its name comes from ``sysctl machdep.cpu.brand_string`` (``Apple M3 Max``). None on
    other machines, or when the memory size is unknown.
    """
    if not is_apple_silicon(runner, facts, timeout):
        return None
    if not unified_memory_gb:
        logger.warning("Apple Silicon found but the size of its unified memory is unknown")
        return None
    brand = sysctl(runner, "machdep.cpu.brand_string", timeout)
    name = brand if brand and brand.startswith("Apple") else "Apple Silicon"
    return GpuInfo(vendor="apple", name=name, vram_total_gb=unified_memory_gb)
