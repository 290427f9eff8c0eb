"""Routing speed: `route()` latency, and what the graph adds over a direct ChatOllama call.

Run: python benchmarks/bench_routing.py [--rounds N] [--calls N] [--no-litellm] [--json]
(`benchmarks/perf_suite.py` runs this with the other benchmarks and writes BENCHMARKS.md.)

- `route()`: every query of the golden set, `--rounds` times, with no model server.
- Overhead: sequential calls to a zero-delay Ollama-protocol test server (in a child
  process), healthy and with the first model failing (404) so that one fallback happens:
  a direct `ChatOllama`, the routing graph, `RaggedRouter`, LangChain's `with_fallbacks`
  and LiteLLM's `Router` (when installed). Variants alternate call by call, in a new random
  order each round, with a short pause after each call so that one client's background work
  does not land in the next one's timing; what a variant adds is the difference of its
  median (and p99) and the direct call's.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Mapping
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from benchlib import Summary, added, interleaved_orders, machine, summarize
from subjects import (
    DIRECT,
    GRAPH,
    LITELLM,
    QUERY,
    RAGGED_ROUTER,
    WITH_FALLBACKS,
    ServerProcess,
    Subject,
    SyncCall,
    build_subjects,
    plan_for,
)

from ragged_graph import route
from ragged_graph.config import RouterConfig

QUERIES_FILE = "golden.jsonl"
FALLBACK = ", one fallback"


def golden_queries() -> list[str]:
    text = resources.files("ragged_graph.learning.data").joinpath(QUERIES_FILE).read_text("utf-8")
    return [json.loads(line)["query"] for line in text.splitlines() if line.strip()]


def offline_config() -> RouterConfig:
    """No model server at all: `route()` decides from the built-in catalogue."""
    return RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {"hosts": [{"name": "none", "base_url": "http://127.0.0.1:9"}]}
            },
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None},
            "history": {"enabled": False},
        }
    )


def bench_route(queries: list[str], rounds: int) -> dict[str, Any]:
    """`ragged_graph.route()` over ``queries``, ``rounds`` times: µs per decision."""
    config = offline_config()
    for query in queries:  # warm the router and its caches
        route(query, config=config)
    timings = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter_ns()
            route(query, config=config)
            timings.append((time.perf_counter_ns() - started) / 1000)
    return {"queries": len(queries), "rounds": rounds, "us": asdict(summarize(timings))}


def interleave(
    variants: Mapping[str, SyncCall], calls: int, *, gap_s: float
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """``calls`` calls of each variant, interleaved: ms per call, and client CPU ms per call.

    After each call the process idles ``gap_s``, so that the client's background work (its
    threads, e.g. a history writer or logging callbacks) ends before the next call starts;
    that work is counted in the CPU time of the call that caused it.
    """
    timings: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, float] = dict.fromkeys(variants, 0.0)
    for order in interleaved_orders(list(variants), calls):
        for name in order:
            call = variants[name]
            cpu_started = time.process_time()
            started = time.perf_counter()
            call(QUERY)
            timings[name].append((time.perf_counter() - started) * 1000)
            time.sleep(gap_s)
            cpu[name] += time.process_time() - cpu_started
    return timings, {name: total * 1000 / calls for name, total in cpu.items()}


def bench_overhead(
    calls: int, directory: Path, *, litellm: bool = True, gap_s: float = 0.005
) -> dict[str, Any]:
    """Latency of each client, and what it adds over the direct call (ms)."""
    names = [DIRECT, GRAPH, RAGGED_ROUTER, WITH_FALLBACKS, *([LITELLM] if litellm else [])]
    with ServerProcess() as healthy:
        plan = plan_for(healthy.base_url, directory)
        failing = [{"name": plan.primary, "fault": "not_found"}]
        with ServerProcess(failing) as faulty:
            subjects: dict[str, Subject] = build_subjects(
                plan, healthy.base_url, directory / "healthy", names=names
            )
            falling_back = build_subjects(
                plan, faulty.base_url, directory / "fallback", names=names[1:]
            )
            try:
                variants: dict[str, SyncCall] = {n: s.call for n, s in subjects.items()}
                variants |= {n + FALLBACK: s.call for n, s in falling_back.items()}
                for name, call in variants.items():
                    expected = plan.secondary if name.endswith(FALLBACK) else plan.primary
                    answer = call(QUERY)
                    if expected not in answer:
                        raise RuntimeError(f"{name} answered {answer!r}, not from {expected}")
                    for _ in range(min(20, calls)):  # warm: connections, caches, imports
                        call(QUERY)
                timings, cpu = interleave(variants, calls, gap_s=gap_s)
            finally:
                for subject in [*subjects.values(), *falling_back.values()]:
                    subject.close()
    summaries = {name: summarize(values) for name, values in timings.items()}
    direct = summaries[DIRECT]
    rows: dict[str, dict[str, Any]] = {}
    for name, summary in summaries.items():
        added_p50, added_p99 = added(summary, direct)
        rows[name] = {
            "ms": asdict(summary),
            "added_p50_ms": added_p50,
            "added_p99_ms": added_p99,
            "cpu_ms": cpu[name],
        }
    return {
        "calls": calls,
        "gap_ms": gap_s * 1000,
        "primary": plan.primary,
        "secondary": plan.secondary,
        "litellm": LITELLM in subjects,
        "variants": rows,
    }


def print_results(results: Mapping[str, Any]) -> None:
    route_us = Summary(**results["route"]["us"])
    print(
        f"route(): {route_us.n} decisions over the golden set's {results['route']['queries']} "
        f"queries: p50 {route_us.p50:.1f} µs, p99 {route_us.p99:.1f} µs"
    )
    overhead = results["overhead"]
    print(
        f"sequential calls to a zero-delay test server ({overhead['calls']} each, alternating; "
        f"{overhead['primary']}, falling back to {overhead['secondary']}):"
    )
    for name, row in overhead["variants"].items():
        ms = Summary(**row["ms"])
        print(
            f"  {name:45s} p50 {ms.p50:6.2f} ms  p99 {ms.p99:6.2f} ms  "
            f"added p50 {row['added_p50_ms']:+6.2f} ms  p99 {row['added_p99_ms']:+6.2f} ms  "
            f"CPU {row['cpu_ms']:.2f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragged-graph-bench-") as tmp:
        results = {
            "machine": machine(),
            "route": bench_route(golden_queries(), args.rounds),
            "overhead": bench_overhead(args.calls, Path(tmp), litellm=not args.no_litellm),
        }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_results(results)


if __name__ == "__main__":
    main()
