"""NVIDIA GPUs, from ``nvidia-smi`` (no CUDA libraries or torch needed)."""

from __future__ import annotations

import logging
import math

from ragged_graph.errors import HardwareDetectionError
from ragged_graph.registry.hardware.profile import GpuInfo, bytes_to_gb
from ragged_graph.registry.hardware.runner import CommandRunner

__all__ = ["NVIDIA_SMI_ARGV", "parse_nvidia_smi", "probe_nvidia"]

logger = logging.getLogger(__name__)

NVIDIA_SMI_ARGV = (
    "nvidia-smi",
    "--query-gpu=name,memory.total,memory.free",
    "--format=csv,noheader,nounits",
)
"""The query: one line per GPU, ``name, total MiB, free MiB``."""

_MIB = 1024 * 1024
_NOT_AVAILABLE = {"[N/A]", "N/A", "[Not Supported]"}


def _mib(field: str) -> float:
    value = float(field)
    if not math.isfinite(value) or value < 0:
        raise ValueError(field)
    return bytes_to_gb(value * _MIB)


def parse_nvidia_smi(text: str) -> tuple[GpuInfo, ...]:
    """GPUs from the output of :data:`NVIDIA_SMI_ARGV` (memory in MiB).

    A free-memory figure of ``[N/A]`` (some virtual GPUs) is read as unknown.

    Raises:
        HardwareDetectionError: a line is not ``name, total MiB, free MiB``.
    """
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        # GPU names contain no commas; split from the right in case one ever does.
        fields = [field.strip() for field in line.rsplit(",", 2)]
        if len(fields) != 3 or not fields[0]:
            raise HardwareDetectionError(
                f"nvidia-smi line {line.strip()!r} is not 'name, total MiB, free MiB'"
            )
        name, total, free = fields
        try:
            vram_total_gb = _mib(total)
            vram_free_gb = None if free in _NOT_AVAILABLE else _mib(free)
        except ValueError:
            raise HardwareDetectionError(
                f"nvidia-smi line {line.strip()!r} has a memory figure that is not a "
                "non-negative number"
            ) from None
        gpus.append(
            GpuInfo(
                vendor="nvidia",
                name=name,
                vram_total_gb=vram_total_gb,
                vram_free_gb=vram_free_gb,
            )
        )
    return tuple(gpus)


def probe_nvidia(runner: CommandRunner, timeout: float) -> tuple[GpuInfo, ...]:
    """NVIDIA GPUs; none when ``nvidia-smi`` is missing, fails, or answers with garbage."""
    out = runner.run(NVIDIA_SMI_ARGV, timeout)
    if out is None:
        return ()
    try:
        return parse_nvidia_smi(out)
    except HardwareDetectionError as exc:
        logger.warning("ignoring NVIDIA GPUs: unreadable nvidia-smi output: %s", exc.message)
        return ()
