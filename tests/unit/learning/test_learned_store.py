"""Saving and loading the learned router: a versioned zip with JSON metadata and .npy arrays."""

from __future__ import annotations

import json
import random
import zipfile
from pathlib import Path

import pytest

from ragged_graph.errors import ErrorCode, LearnedModelError, RaggedGraphError
from ragged_graph.learning.embeddings import HashingEmbeddings
from ragged_graph.learning.learned_router import LearnedRouter, TrainingExample
from ragged_graph.learning.learned_store import FORMAT_NAME, FORMAT_VERSION, read_metadata

CHEAP, DEAR = "mistral:7b", "llama3.3:70b"


def examples(size: int = 80) -> list[TrainingExample]:
    rng = random.Random(1)
    rows = []
    for index in range(size):
        hard = index % 2 == 1
        query = (
            f"Derive the closed form of recurrence {rng.randint(1, 500)} and prove it by induction"
            if hard
            else f"What is the capital of country number {rng.randint(1, 500)}?"
        )
        rows.append(TrainingExample(query=query, model=CHEAP, quality=0.0 if hard else 1.0))
        rows.append(TrainingExample(query=query, model=DEAR, quality=1.0))
    return rows


@pytest.fixture(scope="module")
def router() -> LearnedRouter:
    trained = LearnedRouter.fit(examples(), HashingEmbeddings(128))
    trained.metrics["note"] = "unit test"
    return trained


QUERIES = [
    "What is the capital of country number 12?",
    "Derive the closed form of recurrence 7 and prove it by induction",
    "Something else entirely",
]


def rewrite_metadata(path: Path, change: dict[str, object]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    metadata = json.loads(members["metadata.json"])
    metadata.update(change)
    members["metadata.json"] = json.dumps(metadata).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_round_trip_predicts_the_same(router: LearnedRouter, tmp_path: Path) -> None:
    path = router.save(tmp_path / "models" / "learned-router.zip")

    loaded = LearnedRouter.load(path, HashingEmbeddings(128))

    for query in QUERIES:
        assert loaded.predict_qualities(query) == pytest.approx(
            router.predict_qualities(query), abs=1e-6
        )
    assert loaded.threshold == router.threshold
    assert loaded.models == router.models
    assert loaded.model_costs == router.model_costs
    assert loaded.predictor.scales == router.predictor.scales
    assert loaded.predictor.members == router.predictor.members
    assert loaded.trained_at == router.trained_at
    assert loaded.metrics == {"note": "unit test"}
    assert loaded.settings == router.settings


def test_the_metadata_says_what_the_file_holds(router: LearnedRouter, tmp_path: Path) -> None:
    path = router.save(tmp_path / "learned-router.zip")

    metadata = read_metadata(path)

    assert metadata["format"] == FORMAT_NAME
    assert metadata["format_version"] == FORMAT_VERSION
    assert metadata["embedding_model"] == "hashing-128"
    assert metadata["embedding_dimension"] == 128
    assert metadata["predictor"]["models"] == [DEAR, CHEAP]
    assert metadata["predictor"]["feature_names"][0] == "emb_0"
    assert "cx_reasoning_depth" in metadata["predictor"]["feature_names"]
    assert metadata["training_examples"] == 160
    assert metadata["trained_at"].startswith("20")
    with zipfile.ZipFile(path) as archive:
        assert "arrays/coefficients.npy" in archive.namelist()
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_router_without_embeddings_round_trips(tmp_path: Path) -> None:
    plain = LearnedRouter.fit(examples(40), None)
    path = plain.save(tmp_path / "plain.zip")

    loaded = LearnedRouter.load(path, None)

    assert loaded.predict_qualities(QUERIES[1]) == pytest.approx(
        plain.predict_qualities(QUERIES[1])
    )


def test_a_version_1_file_reads_as_one_candidate(router: LearnedRouter, tmp_path: Path) -> None:
    path = router.save(tmp_path / "learned-router.zip")
    with zipfile.ZipFile(path) as archive:
        metadata = json.loads(archive.read("metadata.json"))
    # What version 1 wrote: no averaged candidates, no setting for them.
    del metadata["predictor"]["members"]
    del metadata["settings"]["quality_model"]["average_within"]
    best_scales, best_c = router.predictor.members[0]
    metadata["predictor"]["neighbour_scales"] = list(best_scales)
    metadata["predictor"]["regularisation"] = best_c
    rewrite_metadata(path, {**metadata, "format_version": 1})

    loaded = LearnedRouter.load(path, HashingEmbeddings(128))

    assert loaded.predictor.members == (loaded.predictor.members[0],)
    assert loaded.predictor.members[0][1] == best_c


@pytest.mark.parametrize(
    ("version", "says"),
    [
        (FORMAT_VERSION + 1, "Upgrade ragged-graph"),
        (0, "Retrain the router"),
        ("one", "Retrain the router"),
    ],
)
def test_another_format_version_raises_the_typed_error(
    router: LearnedRouter, tmp_path: Path, version: object, says: str
) -> None:
    path = router.save(tmp_path / "learned-router.zip")
    rewrite_metadata(path, {"format_version": version})

    with pytest.raises(LearnedModelError) as caught:
        LearnedRouter.load(path, HashingEmbeddings(128))

    error = caught.value
    assert isinstance(error, RaggedGraphError)
    assert isinstance(error, ValueError)
    assert error.code is ErrorCode.LEARNED_MODEL
    assert str(path) in str(error)
    assert "format version" in str(error)
    assert says in str(error)


def test_other_embeddings_are_refused(router: LearnedRouter, tmp_path: Path) -> None:
    path = router.save(tmp_path / "learned-router.zip")

    with pytest.raises(LearnedModelError, match=r"trained with the embeddings 'hashing-128'"):
        LearnedRouter.load(path, HashingEmbeddings(64))
    with pytest.raises(LearnedModelError, match="embedding model it was trained with"):
        LearnedRouter.load(path, None)


def test_corrupt_and_missing_files_raise_the_typed_error(
    router: LearnedRouter, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(LearnedModelError, match="not a learned-router file"):
        LearnedRouter.load(garbage, HashingEmbeddings(128))

    with pytest.raises(LearnedModelError, match="no such file"):
        LearnedRouter.load(tmp_path / "absent.zip", HashingEmbeddings(128))

    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"format": "something/else"}))
    with pytest.raises(LearnedModelError, match="not a learned-router file"):
        LearnedRouter.load(other, HashingEmbeddings(128))

    truncated = router.save(tmp_path / "truncated.zip")
    with zipfile.ZipFile(truncated) as archive:
        kept = {n: archive.read(n) for n in archive.namelist() if "coefficients" not in n}
    with zipfile.ZipFile(truncated, "w") as archive:
        for name, data in kept.items():
            archive.writestr(name, data)
    with pytest.raises(LearnedModelError, match="corrupt or incomplete"):
        LearnedRouter.load(truncated, HashingEmbeddings(128))


def test_embeddings_of_another_size_are_caught_when_used(
    router: LearnedRouter, tmp_path: Path
) -> None:
    """Same name, other dimension (an embedding model changed under its name)."""

    class Imposter(HashingEmbeddings):
        @property
        def model_name(self) -> str:
            return "hashing-128"

    path = router.save(tmp_path / "learned-router.zip")
    loaded = LearnedRouter.load(path, Imposter(64))

    with pytest.raises(LearnedModelError, match="embedding model it was trained with"):
        loaded.predict_qualities("anything")
