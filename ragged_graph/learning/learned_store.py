"""Saving and loading a :class:`~ragged_graph.learning.learned_router.LearnedRouter`.

The file is a zip archive (any name; ``learned-router.zip`` reads well) holding:

- ``metadata.json``: ``format`` (``ragged-graph/learned-router``), ``format_version``
  (:data:`FORMAT_VERSION`), the ragged_graph version that wrote it, ``trained_at``, the
  embedding model's name and dimension, the feature list, the models and their costs, the
  calibrated threshold, the settings, the training size and any metrics;
- ``arrays/<name>.npy``: the predictor's numbers (standardisation, coefficients), read with
  ``allow_pickle=False``, so loading a file never runs code from it.

``unzip -p learned-router.zip metadata.json`` shows what a file holds. Every problem on
loading raises :class:`~ragged_graph.errors.LearnedModelError` naming the file and the fix.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from langchain_core.embeddings import Embeddings
from pydantic import ValidationError

from ragged_graph.errors import LearnedModelError
from ragged_graph.learning.embeddings import embeddings_name

if TYPE_CHECKING:
    from ragged_graph.learning.learned_router import LearnedRouter

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "load_learned_router",
    "read_metadata",
    "save_learned_router",
]

FORMAT_NAME: Final = "ragged-graph/learned-router"
"""The ``format`` field of every learned-router file."""

FORMAT_VERSION: Final = 2
"""The file layout this code writes; a change of layout bumps it. Version 2 lists the
predictor's averaged candidates (``members``) and ``average_within`` in its settings."""

_READABLE_VERSIONS: Final = (1, FORMAT_VERSION)
# Version 1 files hold one candidate: they read as a predictor whose only member it is.

_METADATA: Final = "metadata.json"
_ARRAYS: Final = "arrays/"


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ragged-graph")
    except PackageNotFoundError:
        return "unknown"


def save_learned_router(router: LearnedRouter, path: Path) -> Path:
    """Write ``router`` to ``path`` (parent folders are created); returns the path.

    The archive is written to a temporary name beside ``path`` and moved over it, so a
    reader never sees half a file.
    """
    import numpy as np

    featurizer = router.featurizer
    metadata: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "written_by": f"ragged-graph {_package_version()}",
        "trained_at": router.trained_at.isoformat(),
        "embedding_model": router.embedding_model,
        "embedding_dimension": router.embedding_dimension,
        "use_complexity": featurizer.use_complexity,
        "use_text": featurizer.use_text,
        "predictor": router.predictor.describe(),
        "model_costs": router.model_costs,
        "threshold": router.threshold,
        "calibration_queries": router.calibration_queries,
        "training_examples": router.training_examples,
        "settings": router.settings.model_dump(mode="json"),
        "metrics": router.metrics,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_METADATA, json.dumps(metadata, indent=2, sort_keys=True))
        for name, array in router.predictor.to_arrays().items():
            buffer = io.BytesIO()
            if array.dtype.kind not in "fiu":
                raise TypeError(f"array {name!r} is not numeric ({array.dtype})")
            np.save(buffer, array, allow_pickle=False)
            archive.writestr(f"{_ARRAYS}{name}.npy", buffer.getvalue())
    temporary.replace(path)
    return path


def read_metadata(path: Path) -> dict[str, Any]:
    """The ``metadata.json`` of a learned-router file, checked for format and version."""
    if not path.is_file():
        raise LearnedModelError(
            path, "no such file", remedy="Check the path, or train and save a router first."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            raw = archive.read(_METADATA)
    except (zipfile.BadZipFile, KeyError, OSError) as error:
        raise LearnedModelError(
            path, f"is not a learned-router file (no readable {_METADATA}: {error})"
        ) from error
    try:
        metadata = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise LearnedModelError(path, f"has a corrupt {_METADATA} ({error})") from error
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        found = metadata.get("format") if isinstance(metadata, dict) else None
        raise LearnedModelError(
            path, f"is not a learned-router file (format {found!r}, expected {FORMAT_NAME!r})"
        )
    version = metadata.get("format_version")
    if version not in _READABLE_VERSIONS:
        if isinstance(version, int) and version > FORMAT_VERSION:
            raise LearnedModelError(
                path,
                f"has format version {version}, newer than this ragged_graph reads "
                f"({FORMAT_VERSION}); it was {metadata.get('written_by', 'written elsewhere')}",
                remedy="Upgrade ragged-graph, or retrain the router with this version.",
            )
        raise LearnedModelError(
            path,
            f"has format version {version!r}; this ragged_graph reads versions "
            f"{', '.join(map(str, _READABLE_VERSIONS))}",
        )
    return metadata


def load_learned_router(path: Path, embeddings: Embeddings | None) -> LearnedRouter:
    """Read the router in ``path``; ``embeddings`` must be the embedding model it was trained
    with (None if it was trained without embeddings)."""
    import numpy as np

    from ragged_graph.learning.features import QueryFeaturizer
    from ragged_graph.learning.learned_router import LearnedRouter, LearnedRouterSettings
    from ragged_graph.learning.quality_model import QualityPredictor

    metadata = read_metadata(path)
    saved_embedding = metadata.get("embedding_model")
    given = embeddings_name(embeddings) if embeddings is not None else None
    if saved_embedding != given:
        raise LearnedModelError(
            path,
            f"was trained with the embeddings {saved_embedding!r}, but {given!r} were given",
            remedy=(
                "Load it with the embedding model it was trained with, or retrain it on your "
                "routing history with the new one."
            ),
        )
    try:
        arrays: dict[str, Any] = {}
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.startswith(_ARRAYS) and member.endswith(".npy"):
                    name = member[len(_ARRAYS) : -len(".npy")]
                    arrays[name] = np.load(io.BytesIO(archive.read(member)), allow_pickle=False)
        predictor = QualityPredictor.from_arrays(arrays, metadata["predictor"])
        settings = LearnedRouterSettings.model_validate(metadata["settings"])
        featurizer = QueryFeaturizer(
            embeddings,
            use_complexity=bool(metadata["use_complexity"]),
            use_text=bool(metadata["use_text"]),
        )
        dimension = metadata.get("embedding_dimension")
        expected = featurizer.feature_names(
            embedding_dimension=int(dimension) if dimension is not None else None
        )
        if list(predictor.feature_names) != expected:
            raise ValueError(
                "its feature list does not match what this version of ragged_graph computes"
            )
        router = LearnedRouter(
            featurizer=featurizer,
            predictor=predictor,
            settings=settings,
            model_costs={str(k): float(v) for k, v in dict(metadata["model_costs"]).items()},
            threshold=float(metadata["threshold"]),
            calibration_queries=int(metadata["calibration_queries"]),
            embedding_model=saved_embedding,
            embedding_dimension=int(dimension) if dimension is not None else None,
            trained_at=datetime.fromisoformat(str(metadata["trained_at"])),
            training_examples=int(metadata["training_examples"]),
            metrics=dict(metadata.get("metrics") or {}),
        )
    except LearnedModelError:
        raise
    except (
        KeyError,
        TypeError,
        ValueError,
        ValidationError,
        zipfile.BadZipFile,
        OSError,
    ) as error:
        raise LearnedModelError(path, f"is corrupt or incomplete ({error})") from error
    return router
