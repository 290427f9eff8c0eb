"""An on-disk cache of embeddings, so a training set is embedded once, not at every run.

:class:`CachedEmbeddings` wraps any LangChain ``Embeddings``. Vectors are kept in one SQLite
file per embedding model under :func:`default_embedding_cache_dir`, keyed by a hash of the
text, and read back as float32. Only texts never seen before reach the wrapped model, in
chunks committed one by one, so an interrupted run keeps what it computed.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Final

from langchain_core.embeddings import Embeddings

from ragged_graph.learning.embeddings import embeddings_name

__all__ = ["CACHE_DIR_ENV_VAR", "CachedEmbeddings", "default_embedding_cache_dir"]

CACHE_DIR_ENV_VAR: Final = "RAGGED_GRAPH_EMBEDDING_CACHE"
"""Environment variable naming the cache folder (overrides the XDG default)."""

_CHUNK: Final = 256
_SAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


def default_embedding_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$RAGGED_GRAPH_EMBEDDING_CACHE`` if set, else ``$XDG_CACHE_HOME/ragged-graph/embeddings``
    (``~/.cache`` when ``XDG_CACHE_HOME`` is unset)."""
    env = environ if environ is not None else os.environ
    if env.get(CACHE_DIR_ENV_VAR):
        return Path(env[CACHE_DIR_ENV_VAR])
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return cache / "ragged-graph" / "embeddings"


class CachedEmbeddings(Embeddings):
    """``underlying_embeddings`` with every vector it computes kept on disk.

    ``namespace`` (default: :func:`~ragged_graph.learning.embeddings.embeddings_name` of the
    wrapped model) names the cache file, so two models never share vectors.
    """

    def __init__(
        self,
        underlying_embeddings: Embeddings,
        *,
        cache_dir: Path | None = None,
        namespace: str | None = None,
    ) -> None:
        self.underlying_embeddings = underlying_embeddings
        self.namespace = namespace or embeddings_name(underlying_embeddings)
        folder = cache_dir if cache_dir is not None else default_embedding_cache_dir()
        digest = hashlib.sha256(self.namespace.encode()).hexdigest()[:12]
        self.path = folder / f"{_SAFE.sub('_', self.namespace)[:80]}-{digest}.sqlite3"
        self._lock = threading.Lock()
        self.hits = 0
        """Texts served from the cache since this object was made."""
        self.misses = 0
        """Texts the wrapped model had to embed since this object was made."""

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)"
            )
            yield connection

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for ``texts``: cached ones read back, the others computed and stored."""
        if not texts:
            return []
        import numpy as np

        keys = [self._key(text) for text in texts]
        found: dict[str, list[float]] = {}
        with self._lock, self._connect() as connection:
            distinct = list(dict.fromkeys(keys))
            for start in range(0, len(distinct), 500):
                chunk = distinct[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, blob in connection.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk
                ):
                    found[key] = np.frombuffer(blob, dtype=np.float32).tolist()
            missing = [
                (key, text)
                for key, text in dict(zip(keys, texts, strict=True)).items()
                if key not in found
            ]
            self.hits += len(texts) - len(missing)
            self.misses += len(missing)
            for start in range(0, len(missing), _CHUNK):
                chunk_items = missing[start : start + _CHUNK]
                vectors = self.underlying_embeddings.embed_documents([t for _, t in chunk_items])
                # Returned as stored (float32), so a vector reads the same before and after.
                stored = [np.asarray(vector, dtype=np.float32) for vector in vectors]
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [
                        (key, vector.tobytes())
                        for (key, _), vector in zip(chunk_items, stored, strict=True)
                    ],
                )
                connection.commit()
                for (key, _), vector in zip(chunk_items, stored, strict=True):
                    found[key] = vector.tolist()
        return [found[key] for key in keys]

    def embed_query(self, text: str) -> list[float]:
        """The vector of one text (cached like any other)."""
        return self.embed_documents([text])[0]

    def uncached_count(self, texts: Sequence[str]) -> int:
        """How many distinct texts of ``texts`` the wrapped model would still have to embed."""
        return len(set(texts)) - self.cached_count(texts)

    def cached_count(self, texts: Sequence[str]) -> int:
        """How many distinct texts of ``texts`` are already in the cache."""
        keys = list(dict.fromkeys(self._key(text) for text in texts))
        count = 0
        with self._lock, self._connect() as connection:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                row = connection.execute(
                    f"SELECT COUNT(*) FROM vectors WHERE key IN ({marks})", chunk
                ).fetchone()
                count += int(row[0])
        return count
