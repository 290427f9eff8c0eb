"""`ragged-graph learn-tasks`: a task model trained on your own labelled queries, then used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragged_graph.cli import app
from ragged_graph.config import RouterConfig
from ragged_graph.routing.router import Router

pytestmark = pytest.mark.integration

pytest.importorskip("sklearn")

# Contract questions no cue knows, labelled with a task of the user's own.
CONTRACTS = [
    "is the indemnity in this supplier agreement capped",
    "does our NDA with acme survive termination",
    "which party bears liability for late delivery under the master agreement",
    "can the licensor terminate the licence for convenience",
    "what notice period does the lease require before renewal",
    "is the non compete in my employment agreement enforceable",
]


def write_labelled(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_a_model_trained_on_your_own_task_reads_your_queries(tmp_path: Path) -> None:
    data = write_labelled(
        tmp_path / "mine.jsonl",
        [{"query": query, "task_type": "contract_review"} for query in CONTRACTS]
        + [
            {
                "query": "what does our refund policy say?",
                "task_type": "rag_query",
                "documents": ["Refunds within 30 days."],
            }
        ],
    )
    output = tmp_path / "models" / "tasks.json"
    result = CliRunner().invoke(
        app, ["learn-tasks", "--data", str(data), "--output", str(output), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["path"] == str(output)
    assert "contract_review" in summary["task_types"]
    assert "rag_query" not in summary["task_types"]
    assert output.exists()

    router = Router(RouterConfig.model_validate({"learning": {"task_model": str(output)}}))
    task = router.classify(router.prepare("is the indemnity clause in the lease agreement capped"))
    assert task.task_type == "contract_review"
    assert task.reason.startswith("the learned task model reads contract_review")


def test_bad_labelled_files_are_refused_with_the_line_and_what_to_write(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "hi", "task_type": "greeting"}\n{"query": "hi"}\n', "utf-8")
    result = CliRunner().invoke(app, ["learn-tasks", "--data", str(bad)])
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.output
    assert "task_type" in result.output

    one_task = write_labelled(
        tmp_path / "one.jsonl", [{"query": q, "task_type": "contract_review"} for q in CONTRACTS]
    )
    result = CliRunner().invoke(app, ["learn-tasks", "--data", str(one_task), "--no-builtin-data"])
    assert result.exit_code == 2
    assert "at least two task types" in result.output
