"""The small JSON files of the learned routing models (task model, tier model).

Each is a JSON object with a ``format`` version. :class:`ModelFile` reads one kind: from a
path, from the copy shipped in ``ragged_graph/routing/data`` (read once), or as a
``learning.*_model`` setting names it. A file that cannot be read, is not an object, has
another format or lacks what the model needs is a
:class:`~ragged_graph.errors.LearnedModelError` that names the file and says how to train it
again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Generic, TypeVar

from ragged_graph.errors import LearnedModelError

__all__ = ["ModelFile"]

ModelT = TypeVar("ModelT")

_PACKAGE = "ragged_graph.routing.data"


@dataclass(frozen=True, kw_only=True)
class ModelFile(Generic[ModelT]):
    """One kind of model file."""

    kind: str
    """What the file holds, for messages: ``task model``, ``tier model``."""
    script: str
    """What trains it, for messages."""
    format: int
    """The layout version this ragged_graph reads."""
    packaged: str
    """The name of the file shipped in ``ragged_graph/routing/data``."""
    parse: Callable[[Mapping[str, Any]], ModelT]
    """Builds the model from a checked JSON object; ``KeyError``, ``TypeError``,
    ``ValueError`` or ``IndexError`` mean the object is not such a model."""
    _shipped: dict[str, ModelT] = field(default_factory=dict, compare=False, repr=False)

    def error(self, source: Path | str, problem: str) -> LearnedModelError:
        """The error for a file ``source`` with ``problem``."""
        return LearnedModelError(
            source, problem, kind=self.kind, remedy=f"Train it again with {self.script}."
        )

    def from_json(self, data: object, source: str) -> ModelT:
        """The model in ``data`` (read from ``source``)."""
        if not isinstance(data, Mapping):
            raise self.error(source, f"is not a {self.kind} (expected a JSON object)")
        if data.get("format") != self.format:
            found = data.get("format")
            raise self.error(source, f"has format {found!r}, expected {self.format}")
        try:
            return self.parse(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise self.error(source, f"is not a {self.kind} ({exc})") from exc

    def load(self, path: Path | str) -> ModelT:
        """The model in the file at ``path``."""
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise self.error(source, f"cannot be read ({exc})") from exc
        return self.from_json(data, str(source))

    def shipped(self) -> ModelT:
        """The model shipped with the package (read once)."""
        if self.packaged not in self._shipped:
            text = resources.files(_PACKAGE).joinpath(self.packaged).read_text("utf-8")
            source = f"ragged_graph/routing/data/{self.packaged}"
            self._shipped[self.packaged] = self.from_json(json.loads(text), source)
        return self._shipped[self.packaged]

    def from_setting(self, setting: str | None) -> ModelT | None:
        """The model a ``learning.*_model`` setting names: ``builtin``, a file path (``~``
        expanded), or None for none."""
        if setting is None:
            return None
        if setting == "builtin":
            return self.shipped()
        return self.load(Path(setting).expanduser())

    def shipped_path(self) -> Path:
        """Where the shipped file is in a source checkout (for the training scripts)."""
        return Path(str(resources.files(_PACKAGE).joinpath(self.packaged)))

    def matches_shipped(self, stored: Mapping[str, Any]) -> bool:
        """Whether ``stored`` (a model's JSON form) is what the shipped file holds."""
        path = self.shipped_path()
        if not path.exists():
            return False
        return bool(json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(stored)))
