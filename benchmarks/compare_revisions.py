"""Routing speed of two revisions, side by side: `route()` and what the graph adds.

Run: python benchmarks/compare_revisions.py --base REV [--rounds N] [--route-rounds N]
[--calls N] [--json]

The shared host's speed drifts by 10-30 % within minutes, so two figures measured apart say
little about a change. This checks ``REV`` out into a temporary git worktree and runs
``bench_routing.py`` (from this checkout, so both sides are measured the same way) against
each revision's package in turn, alternating base and current ``--rounds`` times, each run in
a fresh process. It reports every run and the median of each side's runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchlib import machine, markdown_table
from subjects import DIRECT, GRAPH, RAGGED_ROUTER

__all__ = ["RunFigures", "compare", "run_figures", "summary_rows"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True, slots=True)
class RunFigures:
    """One run of one revision: the figures the comparison reports."""

    revision: str
    route_p50_us: float
    direct_p50_ms: float
    graph_added_p50_ms: float
    router_added_p50_ms: float


def run_figures(revision: str, results: Mapping[str, Any]) -> RunFigures:
    """The comparison's figures from ``bench_routing.py --json`` output."""
    variants = results["overhead"]["variants"]
    return RunFigures(
        revision=revision,
        route_p50_us=results["route"]["us"]["p50"],
        direct_p50_ms=variants[DIRECT]["ms"]["p50"],
        graph_added_p50_ms=variants[GRAPH]["added_p50_ms"],
        router_added_p50_ms=variants[RAGGED_ROUTER]["added_p50_ms"],
    )


def summary_rows(runs: Sequence[RunFigures]) -> list[list[str]]:
    """Per revision (in order of first appearance) the median of its runs' figures, and the
    graph's added time as a share of the direct call (comparable across the host's moods)."""
    revisions = list(dict.fromkeys(run.revision for run in runs))
    rows = []
    for revision in revisions:
        mine = [run for run in runs if run.revision == revision]
        direct = statistics.median(run.direct_p50_ms for run in mine)
        graph = statistics.median(run.graph_added_p50_ms for run in mine)
        share = statistics.median(run.graph_added_p50_ms / run.direct_p50_ms for run in mine)
        rows.append(
            [
                revision,
                str(len(mine)),
                f"{statistics.median(run.route_p50_us for run in mine):.1f} µs",
                f"{direct:.2f} ms",
                f"+{graph:.2f} ms",
                f"{share:.2f}×",
                f"+{statistics.median(run.router_added_p50_ms for run in mine):.2f} ms",
            ]
        )
    return rows


SUMMARY_HEADER = (
    "revision",
    "runs",
    "`route()` p50",
    "direct call p50",
    "graph adds (p50)",
    "graph adds / direct",
    "`RaggedRouter` adds (p50)",
)


@contextmanager
def worktree(revision: str) -> Iterator[Path]:
    """``revision`` checked out in a temporary git worktree, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="ragged-graph-compare-") as tmp:
        path = Path(tmp) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(path), revision],
            cwd=ROOT,
            check=True,
        )
        try:
            yield path
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False
            )


def _measure(tree: Path, *, route_rounds: int, calls: int) -> dict[str, Any]:
    """``bench_routing.py`` from this checkout, importing the package from ``tree``."""
    # The script's own folder comes first on its path (benchlib, subjects); the package from
    # ``tree`` comes before the installed one.
    path = os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "bench_routing.py"),
            "--json",
            "--no-litellm",
            "--rounds",
            str(route_rounds),
            "--calls",
            str(calls),
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench_routing.py failed on {tree}:\n{done.stderr[-3000:]}")
    results: dict[str, Any] = json.loads(done.stdout)
    return results


def compare(base: str, *, rounds: int, route_rounds: int, calls: int) -> list[RunFigures]:
    """Alternate runs of ``base`` and of this checkout's working tree, ``rounds`` each."""
    runs = []
    with worktree(base) as base_tree:
        for _ in range(rounds):
            for label, tree in ((base, base_tree), ("current", ROOT)):
                results = _measure(tree, route_rounds=route_rounds, calls=calls)
                runs.append(run_figures(label, results))
                print(f"compare: {runs[-1]}", file=sys.stderr, flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base", required=True, help="the revision to compare with (git rev)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each revision")
    parser.add_argument("--route-rounds", type=int, default=3, help="golden-set passes per run")
    parser.add_argument("--calls", type=int, default=150, help="calls per client per run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = compare(args.base, rounds=args.rounds, route_rounds=args.route_rounds, calls=args.calls)
    if args.json:
        print(json.dumps({"machine": machine(), "runs": [asdict(run) for run in runs]}, indent=2))
        return
    print(f"{machine()}; runs alternate, each in a fresh process:\n")
    print(
        markdown_table(
            ("revision", "`route()` p50 µs", "direct p50 ms", "graph adds ms", "router adds ms"),
            [
                [
                    run.revision,
                    f"{run.route_p50_us:.1f}",
                    f"{run.direct_p50_ms:.2f}",
                    f"{run.graph_added_p50_ms:+.2f}",
                    f"{run.router_added_p50_ms:+.2f}",
                ]
                for run in runs
            ],
        )
    )
    print("\nMedians of the runs:\n")
    print(markdown_table(SUMMARY_HEADER, summary_rows(runs)))


if __name__ == "__main__":
    main()
