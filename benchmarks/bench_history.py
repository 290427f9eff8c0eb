"""Routing history: write throughput on SQLite, and what history + decision log add to a request.

Run: python benchmarks/bench_history.py [--records N] [--calls N] [--json]

- Throughput: N records through ``HistoryWriter`` into a new SQLite file, from the first
  ``record()`` until ``flush()`` returns (target: at least 5,000 records/s).
- Overhead: two routing graphs against the same zero-delay Ollama-protocol test server, one
  with the history and a JSON decision log (to a file) on, one with both off; calls alternate
  so that drift on a shared machine hits both alike. The overhead is the difference of the
  medians (target: under 5 %). The cost of the reporting step alone (build the record, queue
  it, log the line) is timed too.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchlib import machine

from ragged_graph.config import RouterConfig
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Services, build_graph
from ragged_graph.routing_graph.report import report_request
from ragged_graph.telemetry import AttemptSummary, HistoryWriter, RoutingRecord
from ragged_graph.telemetry.decision_log import DECISION_LOGGER
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import OllamaServer


def sample_record(i: int) -> RoutingRecord:
    return RoutingRecord(
        time=datetime.now(UTC),
        request_id=f"bench-{i}",
        persona="developer" if i % 3 else None,
        task_type="code_generation",
        task_confidence=0.8,
        complexity=4.5,
        complexity_breakdown={"structure": 1.0, "reasoning_depth": 2.0, "output_detail": 1.5},
        tier="balanced",
        model="qwen2.5-coder:14b",
        model_tier="balanced",
        provider="ollama",
        reason="code_generation at balanced tier; specialised in code",
        answered_by="qwen2.5-coder:14b",
        host="local",
        attempts=(
            AttemptSummary(
                model="qwen2.5-coder:14b",
                host="local",
                ok=True,
                latency_ms=812.5,
                first_token_ms=120.0,
            ),
        ),
        outcome="answered",
        latency_ms=815.0,
        first_token_ms=122.5,
        tokens_in=350,
        tokens_out=420,
        tokens_per_s=38.2,
        query_hash="ab" * 32,
    )


def bench_throughput(records: int, directory: Path) -> dict[str, float]:
    url = f"sqlite:///{directory / 'throughput.sqlite3'}"
    batch = [sample_record(i) for i in range(records)]
    HistoryStore(url).create_schema()  # the table's creation is not part of the rate
    writer = HistoryWriter(url, queue_size=records + 1)
    started = time.perf_counter()
    for record in batch:
        writer.record(record)
    queued = time.perf_counter()
    writer.flush()
    elapsed = time.perf_counter() - started
    writer.close()
    stored = HistoryStore(url).count()
    return {
        "records": records,
        "stored": stored,
        "seconds": elapsed,
        "records_per_s": records / elapsed,
        "record_call_us": (queued - started) / records * 1e6,
    }


def _config(base_url: str, history: dict[str, Any], logging_: dict[str, Any]) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "providers": {"ollama": {"hosts": [{"name": "bench", "base_url": base_url}]}},
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None},
            "history": history,
            "logging": logging_,
        }
    )


def bench_overhead(calls: int, directory: Path) -> dict[str, Any]:
    query = "What is the capital of France?"
    with OllamaServer() as server:
        plain = Services.for_router(Router(_config(server.base_url, {"enabled": False}, {})))
        observed = Services.for_router(
            Router(
                _config(
                    server.base_url,
                    {"url": f"sqlite:///{directory / 'overhead.sqlite3'}"},
                    {"format": "json", "file": str(directory / "decisions.log")},
                )
            )
        )
        graphs = {
            "off": build_graph(lambda _context: plain),
            "on": build_graph(lambda _context: observed),
        }
        for graph in graphs.values():  # warm: discovery, connections, the table
            for _ in range(20):
                graph.invoke({"query": query})
        timings: dict[str, list[float]] = {"off": [], "on": []}
        for i in range(calls):
            order = ("off", "on") if i % 2 == 0 else ("on", "off")
            for name in order:
                started = time.perf_counter()
                graphs[name].invoke({"query": query})
                timings[name].append((time.perf_counter() - started) * 1000)
        state = graphs["on"].invoke({"query": query})
        assert observed.history is not None
        observed.history.flush()
        report_us = _time_report(observed, state)
        observed.history.close()
        stored = HistoryStore(observed.history.url).count()
        lines = len((directory / "decisions.log").read_text("utf-8").splitlines())
    off, on = statistics.median(timings["off"]), statistics.median(timings["on"])
    return {
        "calls": calls,
        "off_p50_ms": off,
        "on_p50_ms": on,
        "overhead_ms": on - off,
        "overhead_pct": (on - off) / off * 100,
        "report_step_us": report_us,
        "report_step_pct": report_us / 1000 / off * 100,
        "records_stored": stored,
        "log_lines": lines,
    }


def _time_report(services: Services, state: dict[str, Any], rounds: int = 2000) -> float:
    """Median µs of one reporting step (build, queue, log) on a finished request's state."""
    # The graph's output leaves out the internal keys the reporting step reads.
    state = {**state, "query": "What is the capital of France?", "started_at": time.time()}
    message = state["messages"][-1]
    attempts = state["attempts"]
    card = services.router.registry.get(attempts[-1]["model"]).card
    timings = []
    for _ in range(rounds):
        started = time.perf_counter_ns()
        report_request(services, state, {}, attempts, answer=message, card=card)  # type: ignore[arg-type]
        timings.append((time.perf_counter_ns() - started) / 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    logging.getLogger(DECISION_LOGGER)  # created before timing
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        results: dict[str, Any] = {
            "machine": machine(),
            "throughput": bench_throughput(args.records, directory),
            "overhead": bench_overhead(args.calls, directory),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    throughput, overhead = results["throughput"], results["overhead"]
    print(
        f"history writes to SQLite: {throughput['records']:,} records in "
        f"{throughput['seconds']:.2f} s = {throughput['records_per_s']:,.0f} records/s "
        f"(record() itself {throughput['record_call_us']:.1f} µs; target ≥ 5,000/s)"
    )
    print(
        f"history + JSON decision log on a request to a zero-delay test server "
        f"({overhead['calls']} alternating calls each): off p50 {overhead['off_p50_ms']:.2f} ms, "
        f"on p50 {overhead['on_p50_ms']:.2f} ms, overhead {overhead['overhead_ms']:+.3f} ms "
        f"({overhead['overhead_pct']:+.1f} %; target < 5 %); the reporting step alone "
        f"{overhead['report_step_us']:.1f} µs ({overhead['report_step_pct']:.1f} % of a request)"
    )


if __name__ == "__main__":
    main()
