"""Learning from routing data: golden sets, routing history and trained routers.

Submodules: :mod:`.golden` (the labelled golden set and its evaluation), :mod:`.routellm`
(RouteLLM's weak/strong routing data and the APGR/CPT metrics). The golden-set API is also
available here; it is imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragged_graph.learning.golden import (
        GOLDEN_TARGETS,
        GoldenCase,
        GoldenReport,
        evaluate_golden,
        load_golden_set,
    )

__all__ = [
    "GOLDEN_TARGETS",
    "GoldenCase",
    "GoldenReport",
    "evaluate_golden",
    "load_golden_set",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from ragged_graph.learning import golden

        return getattr(golden, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
