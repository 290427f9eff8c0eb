"""What the Ollama test server remembers about each request it received."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RecordedRequest"]


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordedRequest:
    """One request the server received, recorded before it was answered."""

    method: str
    """HTTP method, e.g. `"POST"`."""

    path: str
    """Path without the query string, e.g. `"/api/chat"`."""

    body: Any
    """The parsed JSON body; None when there was none or it was not JSON."""

    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers, names in lower case."""

    time: float = 0.0
    """When it arrived (`time.time()`)."""

    @property
    def model(self) -> str | None:
        """The `model` field of the body, if any."""
        if isinstance(self.body, Mapping) and isinstance(self.body.get("model"), str):
            return str(self.body["model"])
        return None
