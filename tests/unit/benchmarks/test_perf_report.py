"""The report perf_suite writes into BENCHMARKS.md: targets, tables, and keeping the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from perf_suite import BEGIN, END, HEADING, render, targets, write_report
from subjects import DIRECT, GRAPH, LITELLM, RAGGED_ROUTER, WITH_FALLBACKS


def _ms(p50: float, p99: float) -> dict[str, float]:
    return {"n": 400, "p50": p50, "p99": p99, "mean": p50}


def _row(p50: float, p99: float, direct: tuple[float, float] = (2.0, 4.0)) -> dict[str, Any]:
    return {
        "ms": _ms(p50, p99),
        "added_p50_ms": p50 - direct[0],
        "added_p99_ms": p99 - direct[1],
        "cpu_ms": p50 * 0.8,
    }


def _rate(level: int, variant: str, rate: float) -> dict[str, Any]:
    return {
        "level": level,
        "variant": variant,
        "requests": 300,
        "errors": 0,
        "requests_per_s": rate,
        "ms": _ms(level / rate * 1000, level / rate * 2000),
        "cpu_ms_per_request": 1000 / rate,
    }


def results(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "command": ".venv/bin/python benchmarks/perf_suite.py --write BENCHMARKS.md",
        "machine": "x86_64, 2 cores, 24 GiB, Linux, CPython 3.11.7",
        "versions": {"langgraph": "1.2.24"},
        "started": "2026-11-25 23:00 UTC",
        "load_before": 0.5,
        "load_after": 1.5,
        "seconds": 330.0,
        "litellm": False,
        "litellm_note": "LiteLLM is not installed: its rows are left out.",
        "route": {"queries": 1000, "rounds": 5, "us": _ms(80.0, 300.0)},
        "overhead": {
            "calls": 400,
            "gap_ms": 5.0,
            "primary": "llama3.2:3b",
            "secondary": "gemma3:4b",
            "variants": {
                DIRECT: _row(2.0, 4.0),
                GRAPH: _row(3.5, 8.0),
                RAGGED_ROUTER: _row(3.8, 8.5),
                WITH_FALLBACKS: _row(2.1, 4.2),
                GRAPH + ", one fallback": _row(5.5, 9.5),
            },
        },
        "concurrency": {
            "levels": [1, 100],
            "rounds": 3,
            "rows": [
                _rate(1, DIRECT, 400.0),
                _rate(1, RAGGED_ROUTER, 200.0),
                _rate(100, DIRECT, 300.0),
                _rate(100, GRAPH, 240.0),
                _rate(100, RAGGED_ROUTER, 150.0),
            ],
        },
        "memory": {
            "in_flight": 100,
            "delay_s": 3.0,
            "rounds": 3,
            "kb_per_request": {DIRECT: 25.0, GRAPH: 60.0, RAGGED_ROUTER: 64.0},
            "kb_change_between_looks": {DIRECT: 0.0, GRAPH: 0.1, RAGGED_ROUTER: 0.2},
        },
        "imports": {
            "runs": 5,
            "seconds": {
                "import ragged_graph": 0.02,
                "import ragged_graph; ragged_graph.graph": 1.6,
            },
            "spread": {
                "import ragged_graph": [0.019, 0.03],
                "import ragged_graph; ragged_graph.graph": [1.5, 1.7],
            },
        },
        "history": {
            "records": 20000,
            "stored": 20000,
            "seconds": 0.8,
            "records_per_s": 25000.0,
            "record_call_us": 0.7,
        },
    }
    base.update(changes)
    return base


def test_each_target_is_judged_on_its_own_figure() -> None:
    verdicts = {target.name: (target.measured, target.met) for target in targets(results())}
    assert verdicts["`route()` p50"] == (80.0, True)
    assert verdicts["graph overhead p50, healthy"] == (1.5, True)
    assert verdicts["graph overhead p50, one fallback"] == (3.5, False)
    assert verdicts["graph overhead p99, healthy"] == (4.0, True)
    assert verdicts["graph overhead p99, one fallback"] == (5.5, False)
    # RaggedRouter's rate over the direct call's, at 100 concurrent: 150 / 300.
    assert verdicts["`RaggedRouter` throughput at 100 concurrent, × direct"] == (0.5, False)
    assert verdicts["memory per request in flight (`RaggedRouter`)"] == (64.0, False)
    assert verdicts["`import ragged_graph`"] == (0.02, True)
    assert verdicts["`import ragged_graph; ragged_graph.graph`"] == (1.6, False)
    assert verdicts["history writes to SQLite"] == (25000.0, True)


def test_a_figure_that_was_not_measured_is_said_so() -> None:
    measured = results()
    rows = measured["concurrency"]["rows"]
    measured["concurrency"]["rows"] = [row for row in rows if row["level"] == 1]
    by_name = {target.name: target for target in targets(measured)}
    target = by_name["`RaggedRouter` throughput at 100 concurrent, × direct"]
    assert target.measured is None
    assert target.verdict == "not measured"


def test_the_report_shows_the_command_the_targets_and_every_table() -> None:
    report = render(results())
    assert "Command: `.venv/bin/python benchmarks/perf_suite.py --write BENCHMARKS.md`" in report
    assert "**Note:** LiteLLM is not installed" in report
    assert "| graph overhead p50, one fallback | 3.50 ms | <= 3.00 ms | **missed** |" in report
    assert "| `route()` p50 | 80.0 µs | <= 100.0 µs | met |" in report
    assert f"| {GRAPH} | 3.50 ms | 8.00 ms | +1.50 ms | +4.00 ms | 2.80 ms |" in report
    assert f"| 100 | {GRAPH} | 300 | 240 | 0.80× |" in report
    assert f"| {RAGGED_ROUTER} | 64.0 KB | +39.0 KB | +0.20 KB |" in report
    assert "**25,000 records/s**" in report
    assert LITELLM not in report.replace("LiteLLM is not installed", "")


def test_writing_the_report_keeps_the_other_sections_and_can_be_repeated(
    tmp_path: Path,
) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\n## Routing quality\n\nkept as is\n", "utf-8")
    write_report(path, results())
    first = path.read_text("utf-8")
    assert first.startswith("# Benchmarks\n\n## Routing quality\n\nkept as is\n\n" + HEADING)
    assert first.count(BEGIN) == first.count(END) == 1
    path.write_text(first + "\nWhy a target is missed, by hand.\n", "utf-8")
    write_report(path, results(load_after=2.5))
    second = path.read_text("utf-8")
    assert second.endswith("\nWhy a target is missed, by hand.\n")
    assert "2.5 after" in second
    assert "1.5 after" not in second


@pytest.mark.parametrize("broken", [BEGIN, END])
def test_a_report_with_a_broken_marker_is_refused(tmp_path: Path, broken: str) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(f"# Benchmarks\n\n{broken}\n", "utf-8")
    with pytest.raises(ValueError, match="without"):
        write_report(path, results())
