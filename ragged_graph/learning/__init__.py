"""Learning from routing data: golden sets, routing history and trained routers.

Submodules: :mod:`.golden` (the labelled golden set and its evaluation), :mod:`.routellm`
(RouteLLM's weak/strong routing data and the APGR/CPT metrics), :mod:`.learned_router` (the
learned router: per-model quality predictions from routing history; with :mod:`.features`,
:mod:`.quality_model`, :mod:`.embeddings`, :mod:`.embedding_cache`, :mod:`.learned_store` and
:mod:`.learned_eval`). The golden-set and learned-router APIs are also available here; they
are imported on first use, so importing this package stays cheap (no numpy, no scikit-learn).
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
    from ragged_graph.learning.learned_router import (
        LearnedCandidate,
        LearnedChoice,
        LearnedRouter,
        LearnedRouterSettings,
        LearnedStrategy,
        TrainingExample,
        candidates_from_cards,
    )

__all__ = [
    "GOLDEN_TARGETS",
    "GoldenCase",
    "GoldenReport",
    "LearnedCandidate",
    "LearnedChoice",
    "LearnedRouter",
    "LearnedRouterSettings",
    "LearnedStrategy",
    "TrainingExample",
    "candidates_from_cards",
    "evaluate_golden",
    "load_golden_set",
]

_LEARNED_ROUTER_NAMES = frozenset(
    {
        "LearnedCandidate",
        "LearnedChoice",
        "LearnedRouter",
        "LearnedRouterSettings",
        "LearnedStrategy",
        "TrainingExample",
        "candidates_from_cards",
    }
)


def __getattr__(name: str) -> Any:
    if name in _LEARNED_ROUTER_NAMES:
        from ragged_graph.learning import learned_router

        return getattr(learned_router, name)
    if name in __all__:
        from ragged_graph.learning import golden

        return getattr(golden, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
