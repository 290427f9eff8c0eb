"""The learned router as a selection strategy: on its own, or blended with the rules.

``learning.strategy`` says which:

- ``rules`` (the default): the scored rules of :mod:`~ragged_graph.routing.selection` decide.
- ``learned``: the rules only filter (capabilities, context, memory, privacy, limits); among
  every qualified candidate the learned router (trained by ``ragged-graph learn``) picks by
  its decision rule, from the qualities it predicts for this query.
- ``blended``: the rules decide the tier (their choice's tier); the learned router picks
  among the qualified candidates of that tier.

The rules' own choice heads the fallback chain of a learned pick. Until a learned router
is saved at ``learning.model_path``, or when it knows none of the candidates, the rules
decide and the reason says why. An explicit model is never second-guessed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ragged_graph.errors import LearnedModelError
from ragged_graph.registry.registry import RegistryEntry
from ragged_graph.routing.selection import Selection, handed_over, with_note

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ragged_graph.config import RouterConfig
    from ragged_graph.learning.learned_router import LearnedRouter

__all__ = ["LearnedRefinement", "LearnedStrategySelector"]

logger = logging.getLogger("ragged_graph.routing")

LearnedRefinement = tuple[Selection, tuple[RegistryEntry, ...]]
"""A selection and its fallback chain, after the learned router had its say."""


class LearnedStrategySelector:
    """Applies ``config.learning.strategy`` to the rules' selection; thread-safe.

    The saved learned router is read on first use and again whenever its file changes, so
    that a retraining (``ragged-graph learn`` or the background one) takes effect without a
    restart.
    """

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.strategy = config.learning.strategy
        self._path = Path(config.learning.model_path).expanduser()
        self._lock = threading.Lock()
        self._loaded: LearnedRouter | None = None
        self._loaded_mtime: float | None = None

    @property
    def active(self) -> bool:
        """Whether the learned router takes part at all."""
        return self.strategy != "rules"

    def refine(
        self,
        selection: Selection,
        fallbacks: tuple[RegistryEntry, ...],
        *,
        query: str,
        breakdown: Mapping[str, float],
    ) -> LearnedRefinement:
        """The learned router's pick among ``selection``'s qualified candidates, with the
        rules' choice first in its fallback chain; ``selection`` unchanged (its reason saying
        why) when it cannot pick."""
        learned = self._router()
        if learned is None:
            return with_note(
                selection, "no learned router saved yet, so the rules decided"
            ), fallbacks
        from ragged_graph.learning.learned_router import LearnedCandidate, card_cost

        chosen = selection.entry
        pool = selection.ranked or (chosen,)
        if self.strategy == "blended":
            pool = tuple(entry for entry in pool if entry.card.tier == chosen.card.tier)
        local_cost = self.config.local_cost_per_million
        candidates = [
            LearnedCandidate(entry.name, card_cost(entry.card, local_cost_per_million=local_cost))
            for entry in pool
        ]
        try:
            choice = learned.choose(query, candidates, breakdown)
        except ValueError:
            note = "the learned router knows none of the candidates, so the rules decided"
            return with_note(selection, note), fallbacks
        if choice.model == chosen.name:
            return with_note(selection, f"the learned router agrees: {choice.reason}"), fallbacks
        pick = next(entry for entry in pool if entry.name == choice.model)
        reason = f"learned router ({self.strategy}) chose {pick.name}: {choice.reason}; " + (
            f"the rules would have chosen {chosen.name}"
        )
        limit = self.config.fallbacks.max_chain_length
        return handed_over(selection, fallbacks, pick, reason, max_chain_length=limit)

    def _router(self) -> LearnedRouter | None:
        try:
            mtime = self._path.stat().st_mtime
        except OSError:
            return None
        with self._lock:
            if self._loaded is not None and self._loaded_mtime == mtime:
                return self._loaded
            from ragged_graph.learning.history_training import learning_embeddings
            from ragged_graph.learning.learned_router import LearnedRouter

            try:
                self._loaded = LearnedRouter.load(self._path, learning_embeddings(self.config))
            except LearnedModelError as exc:
                logger.warning("the learned router cannot be used; the rules decide: %s", exc)
                self._loaded = None
            self._loaded_mtime = mtime
            return self._loaded
