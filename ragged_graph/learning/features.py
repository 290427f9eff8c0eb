"""The learned router's view of a query: its embedding, its complexity breakdown, text stats.

:class:`QueryFeaturizer` turns queries into one numeric row each, in three blocks:

- ``emb_0 ... emb_{d-1}``: the query's vector from a LangChain ``Embeddings`` (its topic and
  meaning; which subjects a small model handles well is mostly a matter of topic);
- ``cx_<dimension>``: the :class:`~ragged_graph.routing.complexity.ComplexityAnalyser`
  breakdown (reasoning depth, steps, choices, ...), taken from the routing state when the
  graph already computed it;
- ``txt_<stat>``: cheap text statistics (length, quantities, sentences, lines, ...).

numpy is imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Final

from langchain_core.embeddings import Embeddings

from ragged_graph.routing.complexity import DIMENSIONS, ComplexityAnalyser

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = [
    "COMPLEXITY_FEATURES",
    "TEXT_FEATURES",
    "QueryFeaturizer",
    "complexity_breakdown",
    "text_stats",
]

COMPLEXITY_FEATURES: Final = tuple(f"cx_{dimension}" for dimension in DIMENSIONS)
"""Names of the complexity-breakdown block, in :data:`DIMENSIONS` order."""

TEXT_FEATURES: Final = (
    "txt_log_chars",
    "txt_log_words",
    "txt_log_numbers",
    "txt_log_distinct_numbers",
    "txt_log_sentences",
    "txt_log_lines",
    "txt_questions",
    "txt_digit_share",
    "txt_mean_word_length",
    "txt_log_largest_number",
    "txt_has_decimal",
    "txt_has_percent",
    "txt_has_money",
    "txt_has_fraction",
)
"""Names of the text-statistics block."""

_NUMBER: Final = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD: Final = re.compile(r"\w+")
_SENTENCE_END: Final = re.compile(r"[.!?](?:\s|$)")
_FRACTION: Final = re.compile(r"\b\d+/\d+\b|\b(?:half|third|quarter|fourth|fifth)s?\b", re.I)


def text_stats(text: str) -> list[float]:
    """The :data:`TEXT_FEATURES` of ``text``, in that order."""
    words = _WORD.findall(text)
    numbers = _NUMBER.findall(text)
    values: list[float] = []
    for number in numbers:
        try:
            values.append(abs(float(number.replace(",", ""))))
        except ValueError:
            continue
    chars = max(len(text), 1)
    digits = sum(character.isdigit() for character in text)
    return [
        math.log1p(len(text)),
        math.log1p(len(words)),
        math.log1p(len(numbers)),
        math.log1p(len(set(numbers))),
        math.log1p(len(_SENTENCE_END.findall(text))),
        math.log1p(text.count("\n")),
        float(min(text.count("?"), 5)),
        digits / chars,
        (sum(len(word) for word in words) / len(words)) if words else 0.0,
        math.log1p(min(max(values, default=0.0), 1e12)),
        float(any("." in number for number in numbers)),
        float("%" in text or "percent" in text.lower()),
        float("$" in text or "€" in text or "£" in text),
        float(_FRACTION.search(text) is not None),
    ]


def complexity_breakdown(text: str, analyser: ComplexityAnalyser | None = None) -> dict[str, float]:
    """The complexity breakdown of ``text`` (each dimension 0 to 1), as the router computes it."""
    from ragged_graph.routing.query_text import prepare_query

    return (analyser or ComplexityAnalyser()).breakdown(prepare_query(text))


class QueryFeaturizer:
    """Queries in, a float matrix out: embedding, complexity breakdown and text stats.

    ``use_embeddings``, ``use_complexity`` and ``use_text`` switch the blocks (at least one must
    stay on); :attr:`feature_names` names the columns.
    """

    def __init__(
        self,
        embeddings: Embeddings | None,
        *,
        analyser: ComplexityAnalyser | None = None,
        use_complexity: bool = True,
        use_text: bool = True,
    ) -> None:
        if embeddings is None and not (use_complexity or use_text):
            raise ValueError("a featurizer needs embeddings, the complexity block or text stats")
        self.embeddings = embeddings
        self.analyser = analyser or ComplexityAnalyser()
        self.use_complexity = use_complexity
        self.use_text = use_text
        self._dimension: int | None = None

    @property
    def embedding_dimension(self) -> int | None:
        """Length of the embedding block; known once a query has been embedded."""
        return self._dimension

    def feature_names(self, embedding_dimension: int | None = None) -> list[str]:
        """The column names, embedding block first."""
        dimension = embedding_dimension if embedding_dimension is not None else self._dimension
        names: list[str] = []
        if self.embeddings is not None:
            if dimension is None:
                raise ValueError("embed a query first, or pass embedding_dimension")
            names += [f"emb_{index}" for index in range(dimension)]
        if self.use_complexity:
            names += COMPLEXITY_FEATURES
        if self.use_text:
            names += TEXT_FEATURES
        return names

    def transform(
        self,
        queries: Sequence[str],
        breakdowns: Sequence[Mapping[str, float] | None] | None = None,
    ) -> npt.NDArray[np.float64]:
        """One row per query. ``breakdowns[i]``, where given, is used as query ``i``'s complexity
        breakdown instead of computing it again (missing dimensions count as 0)."""
        import numpy as np

        if breakdowns is not None and len(breakdowns) != len(queries):
            raise ValueError(
                f"got {len(breakdowns)} breakdowns for {len(queries)} queries; pass one each"
            )
        blocks: list[npt.NDArray[np.float64]] = []
        if self.embeddings is not None:
            vectors = np.asarray(self.embeddings.embed_documents(list(queries)), dtype=np.float64)
            if vectors.ndim != 2 or vectors.shape[0] != len(queries):
                raise ValueError(
                    f"the embeddings returned {vectors.shape[0] if vectors.ndim else 0} vectors "
                    f"for {len(queries)} texts"
                )
            self._dimension = int(vectors.shape[1])
            blocks.append(vectors)
        if self.use_complexity:
            rows = []
            for index, query in enumerate(queries):
                given = breakdowns[index] if breakdowns is not None else None
                breakdown = (
                    given if given is not None else complexity_breakdown(query, self.analyser)
                )
                rows.append([float(breakdown.get(d, 0.0)) for d in DIMENSIONS])
            blocks.append(np.asarray(rows, dtype=np.float64).reshape(len(queries), len(DIMENSIONS)))
        if self.use_text:
            stats = [text_stats(query) for query in queries]
            blocks.append(
                np.asarray(stats, dtype=np.float64).reshape(len(queries), len(TEXT_FEATURES))
            )
        return np.hstack(blocks)
