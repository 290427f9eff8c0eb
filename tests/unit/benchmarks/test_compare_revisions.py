"""compare_revisions: the figures read off each run, and the medians per revision."""

from __future__ import annotations

from typing import Any

from compare_revisions import RunFigures, run_figures, summary_rows
from subjects import DIRECT, GRAPH, RAGGED_ROUTER


def _results(route_us: float, direct_ms: float, graph_ms: float) -> dict[str, Any]:
    return {
        "route": {"us": {"n": 10, "p50": route_us, "p99": route_us * 3, "mean": route_us}},
        "overhead": {
            "variants": {
                DIRECT: {"ms": {"p50": direct_ms}, "added_p50_ms": 0.0},
                GRAPH: {"ms": {"p50": direct_ms + graph_ms}, "added_p50_ms": graph_ms},
                RAGGED_ROUTER: {"ms": {"p50": direct_ms + 3.0}, "added_p50_ms": 3.0},
                GRAPH + ", one fallback": {"ms": {"p50": 9.0}, "added_p50_ms": 7.0},
            }
        },
    }


def test_a_run_keeps_route_p50_the_direct_call_and_what_the_graph_and_router_add() -> None:
    figures = run_figures("abc123", _results(route_us=95.0, direct_ms=1.5, graph_ms=1.8))
    assert figures == RunFigures(
        revision="abc123",
        route_p50_us=95.0,
        direct_p50_ms=1.5,
        graph_added_p50_ms=1.8,
        router_added_p50_ms=3.0,
    )


def test_the_summary_takes_medians_per_revision_in_order_of_first_run() -> None:
    runs = [
        run_figures("base", _results(route_us=120.0, direct_ms=2.0, graph_ms=2.4)),
        run_figures("current", _results(route_us=100.0, direct_ms=2.0, graph_ms=2.0)),
        run_figures("base", _results(route_us=110.0, direct_ms=1.0, graph_ms=1.4)),
        run_figures("current", _results(route_us=90.0, direct_ms=1.0, graph_ms=1.0)),
        run_figures("base", _results(route_us=130.0, direct_ms=1.5, graph_ms=1.9)),
        run_figures("current", _results(route_us=95.0, direct_ms=1.5, graph_ms=1.5)),
    ]
    base, current = summary_rows(runs)
    assert base == ["base", "3", "120.0 µs", "1.50 ms", "+1.90 ms", "1.27×", "+3.00 ms"]
    assert current == ["current", "3", "95.0 µs", "1.50 ms", "+1.50 ms", "1.00×", "+3.00 ms"]
