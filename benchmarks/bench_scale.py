"""Scale: throughput and latency under concurrency, client CPU and memory per request.

Run: python benchmarks/bench_scale.py [--levels 1 10 100 1000] [--rounds N] [--no-litellm]
(`benchmarks/perf_suite.py` runs this with the other benchmarks and writes BENCHMARKS.md.)

- Concurrency: at each level N, N workers send requests back to back (`ainvoke`) to a
  zero-delay Ollama-protocol test server in a child process, until a fixed number of
  requests is done: requests/s, latency p50/p99, and the client's CPU time per request
  (`time.process_time` around the batch, divided; the server's CPU is its own process's).
  Batches of the variants alternate within each round, in a new random order each time.
- Memory: N requests held in flight against a server that waits before answering; the
  growth of the Python heap (`tracemalloc`) from before they start until all wait, divided
  by N. A warm-up batch of the same size comes first, so that the connection pool and
  caches are full already and only what each request holds is counted.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchlib import interleaved_orders, machine, summarize
from subjects import (
    DIRECT,
    GRAPH,
    LITELLM,
    QUERY,
    RAGGED_ROUTER,
    AsyncCall,
    ServerProcess,
    Subject,
    build_subjects,
    plan_for,
)

LEVELS = (1, 10, 100, 1000)


ONCE_FROM = 1000
"""Levels from this one up run in the first round only: with 1,000 requests queued in
httpx's connection pool, a batch takes tens of seconds (see BENCHMARKS.md)."""


def requests_for(level: int, scale: float = 1.0) -> int:
    """Requests per batch at a concurrency level: several waves below 1,000, one at 1,000.

    Small batches and more rounds (rather than the reverse) interleave the variants finely,
    so that the machine's drift hits them alike."""
    wanted = level if level >= ONCE_FROM else max(100, 2 * level)
    return max(level, int(wanted * scale))


async def batch(call: AsyncCall, concurrency: int, requests: int) -> dict[str, Any]:
    """``requests`` calls by ``concurrency`` workers: latencies (ms), wall and CPU seconds."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while next(counter) < requests:
            started = time.perf_counter()
            try:
                await call(QUERY)
            except Exception:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    cpu_started = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, requests))))
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    return {"latencies": latencies, "wall_s": wall, "cpu_s": cpu, "errors": errors}


async def bench_concurrency(
    subjects: dict[str, Subject], levels: Sequence[int], rounds: int, scale: float
) -> dict[str, Any]:
    names = list(subjects)
    for subject in subjects.values():  # warm: connections, caches, lazy imports
        await batch(subject.acall, 10, 50)
    raw: dict[tuple[int, str], list[dict[str, Any]]] = {}
    orders = iter(interleaved_orders(names, rounds * len(levels), seed=1))
    for round_ in range(rounds):
        for level in levels:
            order = next(orders)
            if round_ and level >= ONCE_FROM:
                continue
            for name in order:
                result = await batch(subjects[name].acall, level, requests_for(level, scale))
                raw.setdefault((level, name), []).append(result)
                gc.collect()
    rows = []
    for (level, name), results in sorted(
        raw.items(), key=lambda i: (i[0][0], names.index(i[0][1]))
    ):
        latencies = [value for result in results for value in result["latencies"]]
        done = sum(len(result["latencies"]) for result in results)
        errors = sum(result["errors"] for result in results)
        rate = statistics.median(len(result["latencies"]) / result["wall_s"] for result in results)
        cpu_ms = sum(result["cpu_s"] for result in results) * 1000 / max(done + errors, 1)
        rows.append(
            {
                "level": level,
                "variant": name,
                "requests": done,
                "errors": errors,
                "requests_per_s": rate,
                "ms": asdict(summarize(latencies)) if latencies else None,
                "cpu_ms_per_request": cpu_ms,
            }
        )
    return {"levels": list(levels), "rounds": rounds, "rows": rows}


async def bench_memory(
    subjects: dict[str, Subject], in_flight: int, delay_s: float, rounds: int
) -> dict[str, Any]:
    """KB of Python heap per request in flight, per variant (median over rounds)."""
    per_request: dict[str, list[float]] = {name: [] for name in subjects}
    settled: dict[str, list[float]] = {name: [] for name in subjects}
    for subject in subjects.values():  # warm at full size: the pool's connections are open
        await batch(subject.acall, in_flight, in_flight)
    tracemalloc.start()
    try:
        for order in interleaved_orders(list(subjects), rounds, seed=2):
            for name in order:
                gc.collect()
                before = tracemalloc.get_traced_memory()[0]
                call = subjects[name].acall
                tasks = [asyncio.ensure_future(call(QUERY)) for _ in range(in_flight)]
                # Two looks while every request waits for the server: the second one counts,
                # the first tells whether the requests had all been sent by then.
                await asyncio.sleep(delay_s * 0.45)
                early = tracemalloc.get_traced_memory()[0]
                await asyncio.sleep(delay_s * 0.25)
                during = tracemalloc.get_traced_memory()[0]
                waiting = sum(not task.done() for task in tasks)
                await asyncio.gather(*tasks)
                if waiting != in_flight:
                    raise RuntimeError(
                        f"{name}: only {waiting} of {in_flight} requests were still in flight; "
                        "raise the server's delay"
                    )
                per_request[name].append((during - before) / in_flight / 1024)
                settled[name].append((during - early) / in_flight / 1024)
    finally:
        tracemalloc.stop()
    return {
        "in_flight": in_flight,
        "delay_s": delay_s,
        "rounds": rounds,
        "kb_per_request": {name: statistics.median(values) for name, values in per_request.items()},
        "kb_change_between_looks": {
            name: statistics.median(values) for name, values in settled.items()
        },
    }


def run(
    directory: Path,
    *,
    levels: Sequence[int] = LEVELS,
    rounds: int = 6,
    scale: float = 1.0,
    in_flight: int = 100,
    delay_s: float = 3.0,
    memory_rounds: int = 3,
    litellm: bool = True,
) -> dict[str, Any]:
    """Both benchmarks, each against its own test server, in one event loop."""
    names = [DIRECT, GRAPH, RAGGED_ROUTER, *([LITELLM] if litellm else [])]

    async def main() -> dict[str, Any]:
        results: dict[str, Any] = {}
        with ServerProcess() as server:
            plan = plan_for(server.base_url, directory)
            subjects = build_subjects(plan, server.base_url, directory / "scale", names=names)
            try:
                results["concurrency"] = await bench_concurrency(subjects, levels, rounds, scale)
            finally:
                for subject in subjects.values():
                    subject.close()
        slow = [{"name": plan.primary, "first_token_delay": delay_s}]
        with ServerProcess(slow) as server:
            subjects = build_subjects(
                plan, server.base_url, directory / "memory", names=[DIRECT, GRAPH, RAGGED_ROUTER]
            )
            try:
                results["memory"] = await bench_memory(subjects, in_flight, delay_s, memory_rounds)
            finally:
                for subject in subjects.values():
                    subject.close()
        results["litellm"] = any(
            row["variant"] == LITELLM for row in results["concurrency"]["rows"]
        )
        return results

    return asyncio.run(main())


def print_results(results: dict[str, Any]) -> None:
    print("concurrent requests to a zero-delay test server:")
    for row in results["concurrency"]["rows"]:
        ms = row["ms"] or {"p50": float("nan"), "p99": float("nan")}
        print(
            f"  {row['level']:5d}  {row['variant']:22s} {row['requests_per_s']:7.0f} req/s  "
            f"p50 {ms['p50']:7.2f} ms  p99 {ms['p99']:7.2f} ms  "
            f"CPU {row['cpu_ms_per_request']:.2f} ms/request  errors {row['errors']}"
        )
    memory = results["memory"]
    print(f"memory per request in flight ({memory['in_flight']} at once):")
    for name, kb in memory["kb_per_request"].items():
        print(f"  {name:22s} {kb:6.1f} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--levels", type=int, nargs="+", default=list(LEVELS))
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--scale", type=float, default=1.0, help="share of the usual requests")
    parser.add_argument("--in-flight", type=int, default=100)
    parser.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ragged-graph-bench-") as tmp:
        results = run(
            Path(tmp),
            levels=args.levels,
            rounds=args.rounds,
            scale=args.scale,
            in_flight=args.in_flight,
            litellm=not args.no_litellm,
        )
    results["machine"] = machine()
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print_results(results)


if __name__ == "__main__":
    main()
