"""Built-in model cards: real tags from Ollama's library, spanning the three tiers.

Sizes are the Ollama library's download sizes for the default quantisation of each tag; the
memory a card needs is derived from them by :func:`estimate_memory_gb`. Speeds are typical
generation rates on a single consumer GPU and serve only as priors until measured.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import ClassVar

from ragged_graph.registry.cards import Capability, CardOrigin, ModelCard, Tier
from ragged_graph.registry.sources.base import ModelSource, estimate_memory_gb

__all__ = ["BUILTIN_CARDS", "BuiltinSource"]

C = Capability
_FAST_TPS, _BALANCED_TPS, _QUALITY_TPS = 60.0, 25.0, 9.0


def _card(
    name: str,
    tier: Tier,
    parameters_b: float,
    context_window: int,
    weights_gb: float,
    capabilities: Collection[Capability],
    specialisations: Collection[Capability] = (),
    *,
    quantisation: str = "Q4_K_M",
    description: str,
) -> ModelCard:
    speed = {Tier.FAST: _FAST_TPS, Tier.BALANCED: _BALANCED_TPS, Tier.QUALITY: _QUALITY_TPS}
    caps = {C.GENERAL, *capabilities, *specialisations}
    if context_window >= 65_536:
        caps.add(C.LONG_CONTEXT)
    return ModelCard(
        name=name,
        tier=tier,
        parameters_b=parameters_b,
        context_window=context_window,
        capabilities=frozenset(caps),
        specialisations=frozenset(specialisations),
        quantisation=quantisation,
        memory_gb=estimate_memory_gb(weights_gb),
        tokens_per_second=speed[tier],
        description=description,
    )


F, B, Q = Tier.FAST, Tier.BALANCED, Tier.QUALITY

BUILTIN_CARDS: tuple[ModelCard, ...] = (
    # fast: about 1-8B parameters
    _card(
        "llama3.2:1b",
        F,
        1.2,
        131_072,
        1.3,
        {C.MULTILINGUAL, C.TOOLS},
        quantisation="Q8_0",
        description="Meta Llama 3.2 1B; tiny, for rewriting and chit-chat",
    ),
    _card(
        "llama3.2:3b",
        F,
        3.2,
        131_072,
        2.0,
        {C.MULTILINGUAL, C.TOOLS},
        description="Meta Llama 3.2 3B; fast general assistant",
    ),
    _card(
        "llama3.1:8b",
        F,
        8.0,
        131_072,
        4.9,
        {C.MULTILINGUAL, C.TOOLS, C.REASONING},
        description="Meta Llama 3.1 8B; solid general model",
    ),
    _card(
        "mistral:7b",
        F,
        7.2,
        32_768,
        4.4,
        {C.TOOLS, C.CREATIVE},
        quantisation="Q4_0",
        description="Mistral 7B v0.3",
    ),
    _card(
        "qwen2.5:7b",
        F,
        7.6,
        32_768,
        4.7,
        {C.TOOLS, C.MATHS},
        {C.MULTILINGUAL},
        description="Qwen 2.5 7B; strong multilingual small model",
    ),
    _card(
        "qwen2.5-coder:7b",
        F,
        7.6,
        32_768,
        4.7,
        {C.TOOLS},
        {C.CODE},
        description="Qwen 2.5 Coder 7B; code generation and repair",
    ),
    _card(
        "deepseek-r1:8b",
        F,
        8.2,
        131_072,
        5.2,
        {C.THINKING},
        {C.REASONING, C.MATHS},
        description="DeepSeek-R1 distilled 8B; step-by-step reasoning",
    ),
    _card(
        "gemma3:4b",
        F,
        4.3,
        131_072,
        3.3,
        {C.MULTILINGUAL},
        {C.VISION},
        description="Google Gemma 3 4B; image input",
    ),
    # balanced: about 12-35B parameters
    _card(
        "qwen2.5:14b",
        B,
        14.8,
        32_768,
        9.0,
        {C.TOOLS, C.MATHS, C.REASONING},
        {C.MULTILINGUAL},
        description="Qwen 2.5 14B",
    ),
    _card(
        "phi4:14b",
        B,
        14.7,
        16_384,
        9.1,
        {C.CODE},
        {C.REASONING, C.MATHS},
        description="Microsoft Phi-4 14B; maths and reasoning",
    ),
    _card(
        "gemma3:12b",
        B,
        12.2,
        131_072,
        8.1,
        {C.MULTILINGUAL, C.CREATIVE},
        {C.VISION},
        description="Google Gemma 3 12B; image input",
    ),
    _card(
        "qwen2.5-coder:14b",
        B,
        14.8,
        32_768,
        9.0,
        {C.TOOLS},
        {C.CODE},
        description="Qwen 2.5 Coder 14B",
    ),
    _card(
        "deepseek-r1:14b",
        B,
        14.8,
        131_072,
        9.0,
        {C.THINKING},
        {C.REASONING, C.MATHS},
        description="DeepSeek-R1 distilled 14B",
    ),
    _card(
        "codellama:13b",
        B,
        13.0,
        16_384,
        7.4,
        set(),
        {C.CODE},
        quantisation="Q4_0",
        description="Meta Code Llama 13B",
    ),
    _card(
        "gemma3:27b",
        B,
        27.4,
        131_072,
        17.0,
        {C.MULTILINGUAL, C.CREATIVE, C.REASONING},
        {C.VISION},
        description="Google Gemma 3 27B; image input",
    ),
    _card(
        "qwen2.5-coder:32b",
        B,
        32.8,
        32_768,
        20.0,
        {C.TOOLS, C.REASONING},
        {C.CODE},
        description="Qwen 2.5 Coder 32B; the strongest local coder of its size",
    ),
    _card(
        "deepseek-coder:33b",
        B,
        33.0,
        16_384,
        19.0,
        set(),
        {C.CODE},
        quantisation="Q4_0",
        description="DeepSeek Coder 33B",
    ),
    _card(
        "qwen2.5:32b",
        B,
        32.8,
        32_768,
        20.0,
        {C.TOOLS, C.MATHS, C.REASONING, C.CODE},
        {C.MULTILINGUAL},
        description="Qwen 2.5 32B",
    ),
    _card(
        "deepseek-r1:32b",
        B,
        32.8,
        131_072,
        20.0,
        {C.THINKING},
        {C.REASONING, C.MATHS},
        description="DeepSeek-R1 distilled 32B",
    ),
    # quality: about 70B and up
    _card(
        "llama3.3:70b",
        Q,
        70.6,
        131_072,
        43.0,
        {C.TOOLS, C.MULTILINGUAL, C.REASONING, C.CODE, C.CREATIVE, C.MATHS},
        description="Meta Llama 3.3 70B; broad high-quality assistant",
    ),
    _card(
        "qwen2.5:72b",
        Q,
        72.7,
        32_768,
        47.0,
        {C.TOOLS, C.CODE, C.REASONING, C.MATHS},
        {C.MULTILINGUAL},
        description="Qwen 2.5 72B",
    ),
    _card(
        "deepseek-r1:70b",
        Q,
        70.6,
        131_072,
        43.0,
        {C.THINKING, C.CODE},
        {C.REASONING, C.MATHS},
        description="DeepSeek-R1 distilled 70B",
    ),
)


class BuiltinSource(ModelSource):
    """The cards shipped with ragged_graph."""

    origin: ClassVar[CardOrigin] = CardOrigin.BUILTIN

    def cards(self, known: Mapping[str, ModelCard]) -> Sequence[ModelCard]:
        return BUILTIN_CARDS
