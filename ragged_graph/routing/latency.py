"""How long a request will take on a model: time to first token, generation, a cold load.

A prediction for one model and one request::

    load        = 0 if the model is loaded (or not local), else memory_gb x cold_load_s_per_gb
    first token = load + the model's time to first token + the prompt's prefill
    total       = first token + expected output tokens / the model's tokens per second

The model's time to first token and speed are learned from the routing history as moving
averages (:class:`LatencyStats`, kept fresh by :mod:`ragged_graph.telemetry.latency_stats`),
seeded from its card (``first_token_ms``, ``tokens_per_second``) or, where the card says
nothing, from its size. Whether a model is loaded comes from the registry snapshot (a live
Ollama's ``/api/ps``). Cloud and in-process models never need a load.

The output length is not known before the answer: :func:`expected_output_tokens` takes a
typical length for the task (translations as long as what they translate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from ragged_graph.registry.cards import ModelCard

__all__ = [
    "DEFAULT_COLD_LOAD_S_PER_GB",
    "EXPECTED_OUTPUT_TOKENS",
    "NO_STATS",
    "LatencyPrediction",
    "LatencyRates",
    "LatencyStats",
    "ModelSpeed",
    "expected_output_tokens",
    "latency_rates",
    "predict_latency",
    "seed_speed",
]

DEFAULT_COLD_LOAD_S_PER_GB: Final = 0.5
"""Seconds to load one GB of weights into memory: about 2 GB/s from a fast SSD, with
Ollama's own start-up on top."""
_LOCAL_FIRST_TOKEN_MS: Final = 80.0
"""A warm local model's time to first token, before its size is counted."""
_FIRST_TOKEN_MS_PER_B: Final = 10.0
"""Added per billion parameters (a bigger model does more work per token)."""
_CLOUD_FIRST_TOKEN_MS: Final = 700.0
"""A cloud model's time to first token (network and queueing) when its card says nothing."""
_DEFAULT_TOKENS_PER_SECOND: Final = 30.0
_PREFILL_SPEEDUP: Final = 20.0
"""A local model reads a prompt about this many times faster than it generates."""
_CLOUD_PREFILL_MS_PER_TOKEN: Final = 0.02

EXPECTED_OUTPUT_TOKENS: Mapping[str, int] = MappingProxyType(
    {
        "code_generation": 450,
        "math": 350,
        "reasoning": 550,
        "summarisation": 250,
        "creative": 450,
        "extraction": 120,
        "translation": 200,
        "query_rewriting": 50,
        "rag_query": 250,
        "general_qa": 150,
    }
)
"""A typical answer's length in tokens, per task type."""
_DEFAULT_OUTPUT_TOKENS: Final = 250


def expected_output_tokens(
    task_type: str, *, input_tokens: int, max_tokens: int | None = None
) -> int:
    """Tokens an answer to a ``task_type`` request of ``input_tokens`` will probably have."""
    expected = EXPECTED_OUTPUT_TOKENS.get(task_type, _DEFAULT_OUTPUT_TOKENS)
    if task_type == "translation":
        expected = max(expected, input_tokens)
    if max_tokens is not None:
        expected = min(expected, max_tokens)
    return expected


@dataclass(frozen=True, kw_only=True)
class ModelSpeed:
    """How fast a model answers when it is warm."""

    first_token_ms: float
    """Time to the first token of a short prompt, in ms."""
    tokens_per_second: float
    """Generation speed."""
    samples: int = 0
    """Answers the figures were learned from (0: the card's or a guess from size)."""

    def updated(
        self, *, first_token_ms: float | None, tokens_per_second: float | None, smoothing: float
    ) -> ModelSpeed:
        """These figures moved towards one new observation (an exponential moving average;
        ``smoothing`` is the new observation's weight, 0-1)."""
        first = self.first_token_ms
        if first_token_ms is not None and first_token_ms > 0:
            first += smoothing * (first_token_ms - first)
        speed = self.tokens_per_second
        if tokens_per_second is not None and tokens_per_second > 0:
            speed += smoothing * (tokens_per_second - speed)
        return ModelSpeed(first_token_ms=first, tokens_per_second=speed, samples=self.samples + 1)


def seed_speed(card: ModelCard) -> ModelSpeed:
    """The speed a model's card suggests, before anything is learned."""
    first = card.first_token_ms
    if first is None:
        if not card.local:
            first = _CLOUD_FIRST_TOKEN_MS
        else:
            size_b = card.parameters_b if card.parameters_b is not None else card.memory_gb * 1.6
            first = _LOCAL_FIRST_TOKEN_MS + _FIRST_TOKEN_MS_PER_B * size_b
    speed = card.tokens_per_second or _DEFAULT_TOKENS_PER_SECOND
    return ModelSpeed(first_token_ms=first, tokens_per_second=speed)


@dataclass(frozen=True, kw_only=True)
class LatencyStats:
    """Learned speeds per model name, at one moment (replaced whole, never changed)."""

    speeds: Mapping[str, ModelSpeed] = field(default_factory=dict)
    """Learned figures per model name; a model missing here uses its card's."""

    def speed_for(self, card: ModelCard) -> ModelSpeed:
        """The learned speed of ``card``'s model, else its card's."""
        learned = self.speeds.get(card.name)
        return learned if learned is not None else seed_speed(card)


NO_STATS: Final = LatencyStats()


@dataclass(frozen=True, kw_only=True)
class LatencyPrediction:
    """How long a request should take on one model."""

    first_token_ms: float
    """Until the first token, a cold load included."""
    total_ms: float
    """Until the last token of an answer of the expected length."""
    load_ms: float = 0.0
    """The cold load's share (0 when the model is loaded or needs no load)."""
    learned: bool = False
    """Whether the figures came from the routing history rather than the card."""


@dataclass(frozen=True, kw_only=True)
class LatencyRates:
    """One model's latency as a function of a request's size: worked out once per model
    (and registry snapshot), applied to each request with a few multiplications."""

    load_ms: float
    """The cold load, when one is needed (else 0)."""
    first_token_ms: float
    """The warm time to first token."""
    prefill_ms_per_token: float
    """Added to the first token per prompt token."""
    ms_per_output_token: float
    """Generation time per answer token."""
    learned: bool = False
    """Whether the figures came from the routing history."""

    def times_ms(self, input_tokens: int, output_tokens: int) -> tuple[float, float]:
        """``(first token, total)`` in ms for a request of this size."""
        first = self.load_ms + self.first_token_ms + input_tokens * self.prefill_ms_per_token
        return first, first + output_tokens * self.ms_per_output_token

    def predict(self, input_tokens: int, output_tokens: int) -> LatencyPrediction:
        """The prediction for a request of ``input_tokens`` and ``output_tokens``."""
        first, total = self.times_ms(input_tokens, output_tokens)
        return LatencyPrediction(
            first_token_ms=round(first, 1),
            total_ms=round(total, 1),
            load_ms=round(self.load_ms, 1),
            learned=self.learned,
        )


def latency_rates(
    card: ModelCard,
    *,
    speed: ModelSpeed,
    loaded: bool,
    cold_load_s_per_gb: float = DEFAULT_COLD_LOAD_S_PER_GB,
) -> LatencyRates:
    """``card``'s latency rates at ``speed``, loaded or not."""
    needs_load = card.local and card.provider == "ollama" and not loaded
    if card.local:
        prefill = 1000 / (speed.tokens_per_second * _PREFILL_SPEEDUP)
    else:
        prefill = _CLOUD_PREFILL_MS_PER_TOKEN
    return LatencyRates(
        load_ms=card.memory_gb * cold_load_s_per_gb * 1000 if needs_load else 0.0,
        first_token_ms=speed.first_token_ms,
        prefill_ms_per_token=prefill,
        ms_per_output_token=1000 / speed.tokens_per_second,
        learned=speed.samples > 0,
    )


def predict_latency(
    card: ModelCard,
    *,
    speed: ModelSpeed,
    loaded: bool,
    input_tokens: int,
    output_tokens: int,
    cold_load_s_per_gb: float = DEFAULT_COLD_LOAD_S_PER_GB,
) -> LatencyPrediction:
    """The latency of a request of ``input_tokens`` and ``output_tokens`` on ``card``."""
    rates = latency_rates(card, speed=speed, loaded=loaded, cold_load_s_per_gb=cold_load_s_per_gb)
    return rates.predict(input_tokens, output_tokens)
