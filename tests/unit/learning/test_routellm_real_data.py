"""The harness on RouteLLM's real GSM8K and MMLU data, checked against its README's figures.

The data lives outside the repository, in ``../shared/data/routellm`` next to the repo root.
These tests fail (never skip) when it is missing, so a broken checkout cannot pass silently.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragged_graph.learning.routellm import (
    CONTAMINATED_PROMPTS_FILE,
    RoutellmDataset,
    RouterEvaluation,
    evaluate_reference_routers,
    evaluate_router,
    load_routellm_dataset,
    prompt_length_score,
)
from ragged_graph.learning.routellm_metrics import ThresholdSweep

# tests/unit/learning/<this file>: parents[3] is the repository root.
REPO_ROOT = Path(__file__).resolve().parents[3]
DATA_ROOT = REPO_ROOT.parent / "shared" / "data" / "routellm"


def data_folder(name: str) -> Path:
    folder = DATA_ROOT / name
    if not folder.is_dir():
        pytest.fail(
            f"RouteLLM data folder {folder} is missing; it is expected at "
            f"../shared/data/routellm/{name} relative to the repository root {REPO_ROOT}"
        )
    return folder


@pytest.fixture(scope="module")
def gsm8k() -> RoutellmDataset:
    return load_routellm_dataset(data_folder("gsm8k"))


@pytest.fixture(scope="module")
def mmlu() -> RoutellmDataset:
    return load_routellm_dataset(data_folder("mmlu"))


@pytest.fixture(scope="module")
def gsm8k_references(gsm8k: RoutellmDataset) -> dict[str, RouterEvaluation]:
    return {evaluation.router: evaluation for evaluation in evaluate_reference_routers(gsm8k)}


@pytest.fixture(scope="module")
def mmlu_references(mmlu: RoutellmDataset) -> dict[str, RouterEvaluation]:
    return {evaluation.router: evaluation for evaluation in evaluate_reference_routers(mmlu)}


def test_row_counts_and_contamination(gsm8k: RoutellmDataset, mmlu: RoutellmDataset) -> None:
    assert (gsm8k.rows_read, gsm8k.excluded_contaminated, len(gsm8k)) == (1319, 12, 1307)
    assert (mmlu.rows_read, mmlu.excluded_contaminated, len(mmlu)) == (11792, 5, 11787)
    assert set(gsm8k.sources) == {"gsm8k"}
    assert len(set(mmlu.sources)) == 47


@pytest.mark.parametrize("name", ["gsm8k", "mmlu"])
def test_listed_contaminated_prompts_are_absent(
    name: str, gsm8k: RoutellmDataset, mmlu: RoutellmDataset
) -> None:
    dataset = {"gsm8k": gsm8k, "mmlu": mmlu}[name]
    listed = [
        json.loads(line)["eval_prompt"]
        for line in (data_folder(name) / CONTAMINATED_PROMPTS_FILE).read_text().splitlines()
        if line.strip()
    ]
    kept = set(dataset.prompts)

    assert listed
    assert not kept.intersection(listed)
    everything = set(load_routellm_dataset(data_folder(name), exclude_contaminated=False).prompts)
    assert everything.issuperset(listed)


def test_gsm8k_model_accuracies_match_the_readme() -> None:
    # The README's 0.638 / 0.857 are over all 1,319 prompts, before decontamination.
    everything = load_routellm_dataset(data_folder("gsm8k"), exclude_contaminated=False)

    assert round(everything.weak_accuracy, 3) == 0.638
    assert round(everything.strong_accuracy, 3) == 0.857


def test_oracle_beats_prompt_length_beats_random(
    gsm8k_references: dict[str, RouterEvaluation],
    mmlu_references: dict[str, RouterEvaluation],
) -> None:
    for references in (gsm8k_references, mmlu_references):
        oracle, length, random_ = (references[n] for n in ("oracle", "prompt length", "random"))
        assert oracle.apgr > length.apgr + 0.3
        assert length.apgr > random_.apgr + 0.05
        assert oracle.cpt50 is not None
        assert length.cpt50 is not None
        assert random_.cpt50 is not None
        assert oracle.cpt50 < length.cpt50 < random_.cpt50


def test_gsm8k_figures_match_the_readme(gsm8k_references: dict[str, RouterEvaluation]) -> None:
    # README: random 0.50 / CPT50 0.51, prompt length 0.60 / 0.37, oracle 1.03 / 0.11.
    random_, length, oracle = (gsm8k_references[n] for n in ("random", "prompt length", "oracle"))
    assert random_.apgr == pytest.approx(0.50, abs=0.02)
    assert random_.cpt50 == pytest.approx(0.51, abs=0.03)
    assert length.apgr == pytest.approx(0.60, abs=0.01)
    assert length.cpt50 == pytest.approx(0.37, abs=0.01)
    # The README's oracle broke ties among its zeros in some fixed order; ours averages them.
    assert oracle.apgr == pytest.approx(1.03, abs=0.02)
    assert oracle.cpt50 == pytest.approx(0.11, abs=0.005)


def test_mmlu_figures_are_close_to_the_readme(
    mmlu_references: dict[str, RouterEvaluation],
) -> None:
    # The README used all 57 subjects; only 47 are here, so close rather than equal.
    random_, length, oracle = (mmlu_references[n] for n in ("random", "prompt length", "oracle"))
    assert random_.apgr == pytest.approx(0.50, abs=0.02)
    assert length.apgr == pytest.approx(0.59, abs=0.03)
    assert length.cpt50 == pytest.approx(0.36, abs=0.04)
    assert oracle.apgr == pytest.approx(1.13, abs=0.05)
    assert oracle.cpt50 == pytest.approx(0.07, abs=0.03)


def test_routellm_quantile_sweep_agrees_with_the_exact_curve(gsm8k: RoutellmDataset) -> None:
    exact = evaluate_router(gsm8k, prompt_length_score, "prompt length")
    quantiles = evaluate_router(
        gsm8k, prompt_length_score, "prompt length", sweep=ThresholdSweep.ROUTELLM_QUANTILES
    )

    assert quantiles.apgr == pytest.approx(exact.apgr, abs=0.01)
    assert quantiles.cpt50 == pytest.approx(exact.cpt50, abs=0.01)
