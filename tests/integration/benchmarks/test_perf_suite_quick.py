"""The performance suite runs end to end (`--quick`, without LiteLLM) and writes its report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
BEGIN = "<!-- perf_suite:begin"
END = "<!-- perf_suite:end -->"


def test_the_quick_suite_measures_every_figure_and_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\n## Routing quality\n\nkept as is\n", "utf-8")
    raw = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "perf_suite.py"),
            "--quick",
            "--no-litellm",
            "--write",
            str(report),
            "--json",
            str(raw),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(raw.read_text("utf-8"))

    assert results["route"]["us"]["n"] == results["route"]["queries"] > 0
    variants = results["overhead"]["variants"]
    assert set(variants) == {
        "ChatOllama (direct)",
        "routing graph",
        "RaggedRouter",
        "ChatOllama.with_fallbacks",
        "routing graph, one fallback",
        "RaggedRouter, one fallback",
        "ChatOllama.with_fallbacks, one fallback",
    }
    assert all(row["ms"]["n"] == results["overhead"]["calls"] for row in variants.values())
    rows = results["concurrency"]["rows"]
    assert {(row["level"], row["variant"]) for row in rows} == {
        (level, variant)
        for level in (1, 10, 100)
        for variant in ("ChatOllama (direct)", "routing graph", "RaggedRouter")
    }
    assert all(row["errors"] == 0 and row["requests_per_s"] > 0 for row in rows)
    assert all(row["cpu_ms_per_request"] > 0 for row in rows)
    assert all(kb > 0 for kb in results["memory"]["kb_per_request"].values())
    assert results["imports"]["seconds"]["import ragged_graph"] > 0
    assert results["history"]["stored"] == results["history"]["records"]
    assert "not installed" in results["litellm_note"] or "left out" in results["litellm_note"]

    written = report.read_text("utf-8")
    assert written.startswith("# Benchmarks\n\n## Routing quality\n\nkept as is\n")
    assert "## Performance and scale (issue 11)" in written
    assert written.count(BEGIN) == written.count(END) == 1
    assert "### Targets" in written
    assert "--quick --no-litellm" in written
