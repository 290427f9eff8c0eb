"""The abstract model source every registry source implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import ClassVar

from ragged_graph.registry.cards import CardOrigin, ModelCard

__all__ = ["ModelSource", "estimate_memory_gb"]

# Weights alone understate what Ollama needs: the KV cache for a default context and the
# runtime's buffers add roughly a fifth on top of the file size for common quantisations.
_RUNTIME_OVERHEAD = 1.2


def estimate_memory_gb(weights_gb: float) -> float:
    """Memory needed to serve a model whose weights take ``weights_gb`` on disk."""
    return round(weights_gb * _RUNTIME_OVERHEAD, 1)


class ModelSource(ABC):
    """Supplies model cards to the registry.

    Sources are consulted in order; each sees the cards gathered so far (``known``, keyed by
    normalised name) and returns the cards it adds or replaces.
    """

    origin: ClassVar[CardOrigin]

    @abstractmethod
    def cards(self, known: Mapping[str, ModelCard]) -> Sequence[ModelCard]:
        """Cards this source contributes, given those of the sources before it."""
