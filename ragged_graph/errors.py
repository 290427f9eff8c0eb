"""Typed errors raised by ragged_graph.

Every error carries a stable ``code`` (for logs, metrics and programmatic handling) and a
message that says what was wrong and what to do about it. Each subclasses the builtin that
fits, so callers that already catch ``ValueError`` or ``LookupError`` keep working.

The hierarchy::

    RaggedGraphError
    ├── ConfigError (ValueError)             a config file or value is invalid
    ├── UnknownModelError (LookupError)      a model name the registry does not know
    ├── NoModelAvailableError (LookupError)  no installed model fits the memory budget
    └── HardwareDetectionError (RuntimeError) a detection tool answered with garbage
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "ErrorCode",
    "HardwareDetectionError",
    "NoModelAvailableError",
    "RaggedGraphError",
    "UnknownModelError",
]


class ErrorCode(StrEnum):
    """Stable identifiers for every error ragged_graph raises."""

    INVALID_CONFIG = "INVALID_CONFIG"
    UNKNOWN_MODEL = "UNKNOWN_MODEL"
    HARDWARE_DETECTION = "HARDWARE_DETECTION"
    NO_MODEL_AVAILABLE = "NO_MODEL_AVAILABLE"


class RaggedGraphError(Exception):
    """Base class of every error ragged_graph raises on purpose."""

    code: ErrorCode

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} [{self.code}]"


@dataclass(frozen=True, kw_only=True)
class ConfigIssue:
    """One problem found in a configuration source."""

    key: str
    """Dotted path of the offending key, e.g. ``models.2.tier``; empty for the whole file."""

    problem: str
    """What was wrong and what was expected."""

    def render(self) -> str:
        where = self.key or "<top level>"
        return f"{where}: {self.problem}"


class ConfigError(RaggedGraphError, ValueError):
    """A configuration file or value is invalid.

    The message names the file (or ``<inline config>``), every offending key path and what
    was expected there.
    """

    code = ErrorCode.INVALID_CONFIG

    def __init__(self, source: Path | str | None, issues: Sequence[ConfigIssue]) -> None:
        self.source = str(source) if source is not None else "<inline config>"
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {issue.render()}" for issue in self.issues)
        noun = "problem" if len(self.issues) == 1 else "problems"
        super().__init__(
            f"invalid configuration in {self.source} ({len(self.issues)} {noun}):\n{lines}"
        )


class UnknownModelError(RaggedGraphError, LookupError):
    """A model name that no registry source knows."""

    code = ErrorCode.UNKNOWN_MODEL

    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name = name
        self.known = tuple(sorted(known))
        shown = ", ".join(self.known[:20]) + (" ..." if len(self.known) > 20 else "")
        super().__init__(
            f"unknown model {name!r}; known models: {shown}. "
            "Pull it with `ollama pull NAME` or add it under `models:` in your config file."
        )


class NoModelAvailableError(RaggedGraphError, LookupError):
    """No model is both installed and within the memory budget, so nothing can be chosen."""

    code = ErrorCode.NO_MODEL_AVAILABLE

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"no model can serve this request: {detail}. Pull a model that fits "
            "(`ollama pull llama3.2:3b`), check `ragged-graph models`, or raise the budget "
            "under `hardware:` in your config."
        )


class HardwareDetectionError(RaggedGraphError, RuntimeError):
    """A hardware tool ran but its output could not be understood."""

    code = ErrorCode.HARDWARE_DETECTION
