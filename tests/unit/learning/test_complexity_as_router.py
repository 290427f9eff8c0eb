"""The complexity score as a weak/strong router on RouteLLM's real GSM8K and MMLU data.

Prompts are scored as the evaluation harness scores them (prepare_query, TaskClassifier,
ComplexityAnalyser) and judged by APGR, contaminated prompts left out. The weights behind
the figures are fitted by ``scripts/calibrate_complexity.py`` (cross-validated there).

The data lives outside the repository, in ``../shared/data/routellm`` next to the repo root.
These tests fail (never skip) when it is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.learning.routellm import (
    RoutellmDataset,
    RouterEvaluation,
    evaluate_router,
    load_routellm_dataset,
)
from ragged_graph.routing.classifier import TaskClassifier
from ragged_graph.routing.complexity import ComplexityAnalyser
from ragged_graph.routing.query_text import prepare_query

# tests/unit/learning/<this file>: parents[3] is the repository root.
REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_ROOT = REPO_ROOT / ".." / "shared" / "data" / "routellm"

MIN_APGR = 0.58
"""What the score must reach on each set (random routing gets 0.50, prompt length about 0.60
on GSM8K and 0.575 on MMLU)."""


def load(name: str) -> RoutellmDataset:
    folder = DATA_ROOT / name
    if not folder.is_dir():
        pytest.fail(
            f"RouteLLM data folder {folder.resolve()} is missing; it is expected at "
            f"../shared/data/routellm/{name} relative to the repository root {REPO_ROOT}"
        )
    return load_routellm_dataset(folder)


@pytest.fixture(scope="module")
def gsm8k() -> RoutellmDataset:
    return load("gsm8k")


@pytest.fixture(scope="module")
def mmlu() -> RoutellmDataset:
    return load("mmlu")


@pytest.fixture(scope="module")
def complexity_router() -> tuple[TaskClassifier, ComplexityAnalyser]:
    return TaskClassifier(), ComplexityAnalyser()


def judge(
    dataset: RoutellmDataset, complexity_router: tuple[TaskClassifier, ComplexityAnalyser]
) -> RouterEvaluation:
    classifier, analyser = complexity_router

    def score(prompt: str) -> float:
        prepared = prepare_query(prompt)
        return analyser.assess(prepared, task_type=classifier.classify(prepared)).score

    return evaluate_router(dataset, score, "complexity")


@pytest.fixture(scope="module")
def on_gsm8k(
    gsm8k: RoutellmDataset, complexity_router: tuple[TaskClassifier, ComplexityAnalyser]
) -> RouterEvaluation:
    return judge(gsm8k, complexity_router)


@pytest.fixture(scope="module")
def on_mmlu(
    mmlu: RoutellmDataset, complexity_router: tuple[TaskClassifier, ComplexityAnalyser]
) -> RouterEvaluation:
    return judge(mmlu, complexity_router)


def test_contaminated_prompts_are_left_out(gsm8k: RoutellmDataset, mmlu: RoutellmDataset) -> None:
    assert gsm8k.excluded_contaminated > 0
    assert mmlu.excluded_contaminated > 0


def test_complexity_routes_gsm8k_better_than_random(on_gsm8k: RouterEvaluation) -> None:
    assert on_gsm8k.apgr >= MIN_APGR, on_gsm8k
    assert on_gsm8k.cpt50 is not None
    assert on_gsm8k.cpt50 < 0.5


def test_complexity_routes_mmlu_better_than_random(on_mmlu: RouterEvaluation) -> None:
    assert on_mmlu.apgr >= MIN_APGR, on_mmlu
    assert on_mmlu.cpt50 is not None
    assert on_mmlu.cpt50 < 0.5
