"""CPU cores and system RAM: ``/proc/meminfo`` on Linux, ``sysctl`` and ``vm_stat`` on macOS."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from ragged_graph.errors import HardwareDetectionError
from ragged_graph.registry.hardware.profile import bytes_to_gb
from ragged_graph.registry.hardware.runner import CommandRunner, PlatformFacts

__all__ = [
    "RamInfo",
    "parse_meminfo",
    "parse_vm_stat",
    "probe_cpu_cores",
    "probe_ram",
    "sysctl",
]

logger = logging.getLogger(__name__)

_MEMINFO_LINE = re.compile(r"^(?P<key>[\w()]+):\s+(?P<value>\d+)(?:\s+(?P<unit>kB))?\s*$")
_VM_STAT_PAGE_SIZE = re.compile(r"page size of (\d+) bytes")
_VM_STAT_LINE = re.compile(r'^"?(?P<key>[^":]+)"?:\s+(?P<value>\d+)\.?\s*$')


@dataclass(frozen=True, kw_only=True)
class RamInfo:
    """System RAM in GB."""

    total_gb: float
    """Total RAM."""

    available_gb: float | None
    """RAM available to new processes, or None when unknown."""


def sysctl(runner: CommandRunner, name: str, timeout: float) -> str | None:
    """The value of the macOS ``sysctl`` variable ``name``, or None if it cannot be read."""
    out = runner.run(["sysctl", "-n", name], timeout)
    if out is None or not out.strip():
        return None
    return out.strip()


def probe_cpu_cores(runner: CommandRunner, facts: PlatformFacts, timeout: float) -> int:
    """CPU cores: ``sysctl -n hw.ncpu`` on macOS, else the CPUs this process may use."""
    if facts.system == "Darwin":
        value = sysctl(runner, "hw.ncpu", timeout)
        if value is not None:
            if value.isdigit() and int(value) > 0:
                return int(value)
            logger.warning("sysctl hw.ncpu answered %r, not a core count; ignoring it", value)
    if facts.cpu_count is not None and facts.cpu_count > 0:
        return facts.cpu_count
    logger.warning("could not count CPU cores; assuming 1")
    return 1


def parse_meminfo(text: str) -> RamInfo:
    """RAM from the text of Linux's ``/proc/meminfo`` (values in KiB).

    Available RAM is ``MemAvailable``; kernels older than 3.14 lack it, and then it is
    estimated as ``MemFree + Buffers + Cached``.

    Raises:
        HardwareDetectionError: there is no readable ``MemTotal`` line.
    """
    values: dict[str, int] = {}
    for line in text.splitlines():
        match = _MEMINFO_LINE.match(line.strip())
        if match:
            values[match["key"]] = int(match["value"]) * (1024 if match["unit"] else 1)
    total = values.get("MemTotal")
    if not total:
        raise HardwareDetectionError("/proc/meminfo has no readable MemTotal line")
    available = values.get("MemAvailable")
    if available is None and "MemFree" in values:
        available = values["MemFree"] + values.get("Buffers", 0) + values.get("Cached", 0)
    return RamInfo(
        total_gb=bytes_to_gb(total),
        available_gb=bytes_to_gb(min(available, total)) if available is not None else None,
    )


def parse_vm_stat(text: str) -> int:
    """Bytes available from macOS ``vm_stat`` output: free plus inactive pages.

    This is what ``psutil`` reports as available memory on macOS (``vm_stat``'s free count
    already excludes speculative pages).

    Raises:
        HardwareDetectionError: the page size or either page count is missing.
    """
    size_match = _VM_STAT_PAGE_SIZE.search(text)
    pages: dict[str, int] = {}
    for line in text.splitlines():
        match = _VM_STAT_LINE.match(line.strip())
        if match:
            pages[match["key"].strip()] = int(match["value"])
    if size_match is None or "Pages free" not in pages or "Pages inactive" not in pages:
        raise HardwareDetectionError(
            "vm_stat output lacks the page size or the free and inactive page counts"
        )
    return (pages["Pages free"] + pages["Pages inactive"]) * int(size_match.group(1))


def _macos_ram(runner: CommandRunner, timeout: float) -> RamInfo | None:
    memsize = sysctl(runner, "hw.memsize", timeout)
    if memsize is None:
        return None
    if not memsize.isdigit() or int(memsize) == 0:
        raise HardwareDetectionError(f"sysctl hw.memsize answered {memsize!r}, not a byte count")
    total = int(memsize)
    available: int | None = None
    vm_stat = runner.run(["vm_stat"], timeout)
    if vm_stat is not None:
        try:
            available = min(parse_vm_stat(vm_stat), total)
        except HardwareDetectionError as exc:
            logger.warning("ignoring unreadable vm_stat output: %s", exc.message)
    return RamInfo(
        total_gb=bytes_to_gb(total),
        available_gb=bytes_to_gb(available) if available is not None else None,
    )


def probe_ram(
    runner: CommandRunner,
    meminfo: str | None,
    facts: PlatformFacts,
    timeout: float,
) -> RamInfo | None:
    """System RAM: from ``meminfo`` (the text of ``/proc/meminfo``) or, on macOS, ``sysctl``.

    Returns None, after logging a warning, when RAM cannot be read (Windows, or garbled
    output); set ``hardware.ram_gb`` or ``hardware.memory_gb`` in the config there.
    """
    try:
        if meminfo is not None:
            return parse_meminfo(meminfo)
        if facts.system == "Darwin":
            ram = _macos_ram(runner, timeout)
            if ram is not None:
                return ram
    except HardwareDetectionError as exc:
        logger.warning("ignoring unreadable RAM information: %s", exc.message)
        return None
    logger.warning(
        "could not read the size of RAM on %s; set hardware.ram_gb or hardware.memory_gb "
        "in the config",
        facts.system or "this system",
    )
    return None
