"""Reading the small JSON files of the learned routing models (task model, tier model).

Both are a JSON object with a ``format`` version; a file that cannot be read, is not an
object or has another format is a :class:`~ragged_graph.errors.LearnedModelError` that names
the file and says how to train it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ragged_graph.errors import LearnedModelError

__all__ = ["ModelFile"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelFile:
    """One kind of model file."""

    kind: str
    """What the file holds, for messages: ``task model``, ``tier model``."""
    script: str
    """The script that trains it, for messages."""
    format: int
    """The layout version this ragged_graph reads."""
    packaged: str
    """The name of the file shipped in ``ragged_graph/routing/data``."""

    def error(self, source: Path | str, problem: str) -> LearnedModelError:
        """The error for a file ``source`` with ``problem``."""
        return LearnedModelError(
            source, problem, kind=self.kind, remedy=f"Train it again with {self.script}."
        )

    def read(self, path: Path | str) -> tuple[dict[str, Any], str]:
        """The file's JSON object, checked for the format, and its name for messages."""
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise self.error(source, f"cannot be read ({exc})") from exc
        return self.checked(data, str(source)), str(source)

    def read_packaged(self) -> tuple[dict[str, Any], str]:
        """The shipped file's JSON object and its name."""
        shipped = resources.files("ragged_graph.routing.data").joinpath(self.packaged)
        source = f"ragged_graph/routing/data/{self.packaged}"
        return self.checked(json.loads(shipped.read_text("utf-8")), source), source

    def checked(self, data: object, source: str) -> dict[str, Any]:
        """``data`` if it is a JSON object of this format."""
        if not isinstance(data, dict):
            raise self.error(source, f"is not a {self.kind} (expected a JSON object)")
        if data.get("format") != self.format:
            found = data.get("format")
            raise self.error(source, f"has format {found!r}, expected {self.format}")
        return data
