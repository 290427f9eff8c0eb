from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragged_graph.cli import app

pytestmark = pytest.mark.integration

ROUTELLM = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "routellm"


def test_eval_golden_json_reports_every_split() -> None:
    result = CliRunner().invoke(app, ["eval", "golden", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"tune", "holdout", "all"} <= set(report["splits"])
    for scores in report["splits"].values():
        assert 0 <= scores["task_accuracy"] <= 1


def test_eval_golden_text_shows_the_confusion_matrix(tmp_path: Path) -> None:
    data = tmp_path / "mini.jsonl"
    data.write_text(
        '{"id": "m1", "query": "What is Paris?", "task_type": "general_qa", "tier": "fast", '
        '"split": "holdout"}\n'
        '{"id": "m2", "query": "Write a haiku about rain", "task_type": "creative", '
        '"tier": "fast", "split": "tune"}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["eval", "golden", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "task confusion" in result.stdout
    assert "holdout" in result.stdout


def test_eval_golden_annotator_scores_the_second_opinion_on_the_holdout() -> None:
    result = CliRunner().invoke(app, ["eval", "golden", "--annotator", "--json"])
    assert result.exit_code == 0, result.output
    holdout = json.loads(result.stdout)["splits"]["holdout"]
    assert holdout["cases"] >= 400
    assert holdout["task_accuracy"] > 0.9


def test_eval_golden_names_a_missing_file_without_a_traceback(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "golden", "--data", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "cannot read golden set" in result.output
    assert "EVALUATION_DATA" in result.output


def test_eval_routellm_reports_apgr_for_each_router() -> None:
    if not ROUTELLM.is_dir():
        pytest.fail(f"RouteLLM data missing at {ROUTELLM}")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "routellm",
            "--data",
            str(ROUTELLM / "gsm8k"),
            "--router",
            "length",
            "--router",
            "oracle",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {row["router"]: row for row in json.loads(result.stdout)}
    assert rows["oracle"]["apgr"] > rows["length"]["apgr"] > 0.55
    assert rows["length"]["excluded_contaminated"] > 0


def test_eval_routellm_with_a_bad_folder_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "routellm", "--data", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such folder" in result.stderr
