"""Fallback chains: which models to try, in order, when the chosen one fails.

The chain for a chosen model holds other qualified candidates (installed, within the memory
budget, able to hold the request), each at most once, in this order:

1. the same tier as the chosen model, sharing the task's specialisation first;
2. one tier down, keeping the task's specialisation;
3. everything else that qualified, by selection score (general models).

Within each group, selection's own ranking decides. The chain is cut at ``max_length``.
:class:`~ragged_graph.routing.router.Router` then appends the embedded model, when there is
one able to serve the request, as the last resort of every chain.
"""

from __future__ import annotations

from collections.abc import Sequence

from ragged_graph.registry.cards import Capability
from ragged_graph.registry.registry import RegistryEntry

__all__ = ["fallback_chain"]


def fallback_chain(
    chosen: RegistryEntry,
    ranked: Sequence[RegistryEntry],
    *,
    specialisation: Capability | None,
    max_length: int,
) -> tuple[RegistryEntry, ...]:
    """Fallbacks for ``chosen`` drawn from ``ranked`` (best first), at most ``max_length``."""
    tier_rank = chosen.card.tier.rank

    def group(entry: RegistryEntry) -> int:
        card = entry.card
        specialised = specialisation is not None and specialisation in card.specialisations
        if card.tier.rank == tier_rank:
            return 0 if specialised or specialisation is None else 1
        if card.tier.rank == tier_rank - 1 and specialised:
            return 2
        return 3

    others = [entry for entry in ranked if entry.name != chosen.name]
    # sorted() is stable, so selection's ranking orders each group.
    return tuple(sorted(others, key=group)[:max_length])
