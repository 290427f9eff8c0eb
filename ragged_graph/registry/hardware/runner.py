"""What detection reads from the outside world, behind seams that tests replace.

- :class:`CommandRunner` runs a tool (``nvidia-smi``, ``rocm-smi``, ``sysctl``, ``vm_stat``)
  and returns its standard output, or None when the tool is missing, fails or times out.
- :func:`read_proc_meminfo` reads ``/proc/meminfo`` (None where there is none).
- :class:`PlatformFacts` holds the operating system, the machine architecture and the CPU
  count the process may use.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "CommandRunner",
    "PlatformFacts",
    "SubprocessRunner",
    "read_proc_meminfo",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 5.0
"""How long one detection tool may run before it counts as missing."""

_PROC_MEMINFO = Path("/proc/meminfo")


class CommandRunner(Protocol):
    """Runs a detection tool."""

    def run(self, argv: Sequence[str], timeout: float) -> str | None:
        """The tool's standard output, or None if it is missing, fails or times out."""
        ...


class SubprocessRunner:
    """Runs real tools: looked up with :func:`shutil.which`, in the C locale, with a timeout."""

    def run(self, argv: Sequence[str], timeout: float) -> str | None:
        """The tool's standard output, or None if it is missing, fails or times out."""
        if not argv:
            return None
        executable = shutil.which(argv[0])
        if executable is None:
            logger.debug("%s is not installed", argv[0])
            return None
        try:
            completed = subprocess.run(
                [executable, *argv[1:]],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": "C"},
            )
        except subprocess.TimeoutExpired:
            logger.warning("%s did not answer within %.0f s; ignoring it", argv[0], timeout)
            return None
        except (OSError, subprocess.SubprocessError, UnicodeDecodeError) as exc:
            logger.debug("%s could not be run: %s", argv[0], exc)
            return None
        if completed.returncode != 0:
            logger.debug(
                "%s exited with status %d: %s",
                argv[0],
                completed.returncode,
                completed.stderr.strip()[:200],
            )
            return None
        return completed.stdout


def read_proc_meminfo() -> str | None:
    """The text of ``/proc/meminfo``, or None where it does not exist (macOS, Windows)."""
    try:
        return _PROC_MEMINFO.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


@dataclass(frozen=True, kw_only=True)
class PlatformFacts:
    """What Python knows about the platform without running any tool."""

    system: str
    """``platform.system()``: ``Linux``, ``Darwin`` or ``Windows``."""

    machine: str
    """``platform.machine()``: ``x86_64``, ``arm64``, ``aarch64``, ``AMD64`` ..."""

    cpu_count: int | None
    """CPUs this process may use, or None when unknown."""

    @classmethod
    def current(cls) -> PlatformFacts:
        """The facts of the machine this runs on."""
        cpu_count: int | None
        try:
            cpu_count = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cpu_count = os.cpu_count()
        return cls(system=platform.system(), machine=platform.machine(), cpu_count=cpu_count)

    @property
    def is_apple_silicon(self) -> bool:
        """Whether this is a Mac with an Apple Silicon (arm64) chip."""
        return self.system == "Darwin" and self.machine == "arm64"
