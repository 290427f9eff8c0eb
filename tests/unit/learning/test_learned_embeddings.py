"""Embeddings for the learned router: the hashing fallback, the disk cache, names, features."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from ragged_graph.learning.embedding_cache import (
    CACHE_DIR_ENV_VAR,
    CachedEmbeddings,
    default_embedding_cache_dir,
)
from ragged_graph.learning.embeddings import (
    MINILM_MODEL_NAME,
    HashingEmbeddings,
    MiniLMEmbeddings,
    embeddings_name,
    ollama_embeddings,
)
from ragged_graph.learning.features import (
    COMPLEXITY_FEATURES,
    TEXT_FEATURES,
    QueryFeaturizer,
    text_stats,
)


class CountingEmbeddings(Embeddings):
    """Records every text it is asked to embed."""

    model_name = "counting-3"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return [[float(len(t)), 1.0 / 3.0, -2.0] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_hashing_embeddings_are_deterministic_unit_vectors() -> None:
    embeddings = HashingEmbeddings(64)
    first = embeddings.embed_documents(["How many apples are left?", "Prove Fermat's theorem"])
    again = HashingEmbeddings(64).embed_query("How many apples are left?")

    assert len(first) == 2
    assert all(len(vector) == 64 for vector in first)
    assert first[0] == again
    assert first[0] != first[1]
    assert math.isclose(math.fsum(v * v for v in first[0]), 1.0, rel_tol=1e-6)
    assert embeddings.embed_documents([]) == []
    assert embeddings_name(embeddings) == "hashing-64"
    with pytest.raises(ValueError, match="at least 8"):
        HashingEmbeddings(4)


def test_the_cache_embeds_each_text_once(tmp_path: Path) -> None:
    inner = CountingEmbeddings()
    cached = CachedEmbeddings(inner, cache_dir=tmp_path)

    first = cached.embed_documents(["a", "bb", "a"])
    second = cached.embed_documents(["bb", "ccc"])
    reopened = CachedEmbeddings(CountingEmbeddings(), cache_dir=tmp_path)

    assert inner.seen == ["a", "bb", "ccc"]
    assert first[0] == first[2] == [1.0, pytest.approx(1 / 3), -2.0]
    assert second[0] == first[1]
    # Vectors are kept as float32 and returned as stored, before and after a round trip.
    assert first[0][1] == reopened.embed_query("a")[1]
    assert reopened.uncached_count(["a", "bb", "dddd", "dddd"]) == 1
    assert cached.hits == 2  # the repeated "a", then "bb"
    assert cached.misses == 3
    assert cached.path.parent == tmp_path
    assert cached.path.name.startswith("CountingEmbeddings_counting-3-")
    # The cache is named after what it wraps.
    assert embeddings_name(cached) == "CountingEmbeddings:counting-3"


def test_different_models_never_share_vectors(tmp_path: Path) -> None:
    one = CachedEmbeddings(HashingEmbeddings(16), cache_dir=tmp_path)
    two = CachedEmbeddings(HashingEmbeddings(32), cache_dir=tmp_path)

    assert len(one.embed_query("same text")) == 16
    assert len(two.embed_query("same text")) == 32
    assert one.path != two.path


def test_default_cache_dir_follows_the_environment(tmp_path: Path) -> None:
    assert default_embedding_cache_dir({CACHE_DIR_ENV_VAR: str(tmp_path)}) == tmp_path
    assert default_embedding_cache_dir({"XDG_CACHE_HOME": "/x"}) == Path(
        "/x/ragged-graph/embeddings"
    )
    assert default_embedding_cache_dir({}).parts[-3:] == (".cache", "ragged-graph", "embeddings")


def test_ollama_embeddings_are_configuration_only() -> None:
    embeddings = ollama_embeddings("nomic-embed-text", base_url="http://127.0.0.1:9")

    assert embeddings.model == "nomic-embed-text"
    assert embeddings.base_url == "http://127.0.0.1:9"
    assert embeddings_name(embeddings) == "OllamaEmbeddings:nomic-embed-text"


def test_minilm_says_what_to_install_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    embeddings = MiniLMEmbeddings()

    with pytest.raises(ModuleNotFoundError, match=r"pip install torch==2\.13\.0"):
        embeddings.embed_query("hello")
    assert embeddings.model_name == MINILM_MODEL_NAME
    assert embeddings.dimension == 384


def test_importing_the_learned_router_loads_no_numerics() -> None:
    code = (
        "import sys, ragged_graph.learning as learning\n"
        "learning.LearnedRouter, learning.TrainingExample\n"
        "import ragged_graph.learning.learned_store, ragged_graph.learning.learned_eval\n"
        "heavy = [m for m in ('numpy', 'sklearn', 'torch', 'sentence_transformers')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_featurizer_columns_and_a_given_breakdown() -> None:
    featurizer = QueryFeaturizer(HashingEmbeddings(16))
    query = "Tom has 3 apples and buys twice as many. How many apples does he have now?"

    matrix = featurizer.transform([query, "Hi"])
    names = featurizer.feature_names()
    given = featurizer.transform([query], [{"steps": 1.0}])

    assert matrix.shape == (2, 16 + len(COMPLEXITY_FEATURES) + len(TEXT_FEATURES))
    assert names[:2] == ["emb_0", "emb_1"]
    assert names[16:] == [*COMPLEXITY_FEATURES, *TEXT_FEATURES]
    steps = names.index("cx_steps")
    assert matrix[0, steps] > 0
    assert given[0, steps] == 1.0
    assert given[0, names.index("cx_reasoning_depth")] == 0.0
    with pytest.raises(ValueError, match="one each"):
        featurizer.transform([query], [])


def test_featurizer_without_embeddings() -> None:
    featurizer = QueryFeaturizer(None, use_text=False)

    assert featurizer.transform(["What is 2 + 2?"]).shape == (1, len(COMPLEXITY_FEATURES))
    assert featurizer.feature_names() == list(COMPLEXITY_FEATURES)
    with pytest.raises(ValueError, match="needs embeddings"):
        QueryFeaturizer(None, use_complexity=False, use_text=False)


def test_text_stats() -> None:
    stats = dict(
        zip(TEXT_FEATURES, text_stats("It costs $1,250.50, or 20% off. Half? Yes."), strict=True)
    )

    assert stats["txt_log_numbers"] == pytest.approx(math.log1p(2))
    assert stats["txt_log_largest_number"] == pytest.approx(math.log1p(1250.5))
    assert stats["txt_has_money"] == 1.0
    assert stats["txt_has_percent"] == 1.0
    assert stats["txt_has_decimal"] == 1.0
    assert stats["txt_has_fraction"] == 1.0
    assert stats["txt_questions"] == 1.0
