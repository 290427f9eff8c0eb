"""Load with faults: many concurrent requests through RaggedRouter against three test hosts.

Run: python benchmarks/reliability.py [--requests 500] [--fault-rate 0.2] [--seed 7] [--json]

Three Ollama-protocol test servers on loopback each serve some of the models; every model
fails a share of its requests at random (server error, out of memory, a model missing,
a connection dropped mid-answer, a hang past the timeout) and answers after a random delay.
Every request must end, within its deadline, in an answer or a typed ragged_graph error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ragged_graph import RaggedGraphError, RaggedRouter
from ragged_graph.config import RouterConfig
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import DEFAULT_MODELS, Fault, OllamaServer, ScriptedModel

FAULTS = (
    Fault.SERVER_ERROR,
    Fault.OUT_OF_MEMORY,
    Fault.NOT_FOUND,
    Fault.DROP_MID_STREAM,
    Fault.HANG,
)
QUERIES = (
    "What is Paris?",
    "Write a Python function that merges two sorted lists",
    "Explain quicksort and compare it with mergesort",
    "Translate 'good morning, how are you?' into German",
    "Summarise: the meeting moved to Thursday because the room was double-booked.",
)


def scripted_hosts(fault_rate: float) -> list[list[ScriptedModel]]:
    chat_models = [m for m in DEFAULT_MODELS if "completion" in m.capabilities]
    hosts: list[list[ScriptedModel]] = [[], [], []]
    for index, model in enumerate(chat_models):
        faulty = replace(
            model,
            fault=FAULTS[index % len(FAULTS)],
            fault_rate=fault_rate,
            first_token_jitter=0.05,
            hang_seconds=5.0,
        )
        hosts[index % 3].append(faulty)
    return hosts


async def run(requests: int, fault_rate: float, seed: int, deadline_s: float) -> dict[str, Any]:
    history = Path(tempfile.mkdtemp(prefix="ragged-graph-reliability-")) / "history.sqlite3"
    servers = [
        OllamaServer(models, seed=seed + i).start()
        for i, models in enumerate(scripted_hosts(fault_rate))
    ]
    try:
        config = RouterConfig.model_validate(
            {
                "providers": {
                    "ollama": {
                        "hosts": [
                            {"name": f"host{i}", "base_url": s.base_url}
                            for i, s in enumerate(servers)
                        ],
                        "request_timeout_s": 0.5,
                    }
                },
                "hardware": {"memory_gb": 64},
                "fallbacks": {"max_retries": 1, "retry_backoff_s": 0.05, "health_file": None},
                "history": {"url": f"sqlite:///{history}"},
            }
        )
        router = RaggedRouter(config=config)
        outcomes: Counter[str] = Counter()
        failed_attempts: Counter[str] = Counter()
        latencies: list[float] = []
        fallbacks = 0

        async def one(index: int) -> None:
            nonlocal fallbacks
            started = time.perf_counter()
            try:
                message = await asyncio.wait_for(
                    router.ainvoke(QUERIES[index % len(QUERIES)]), deadline_s
                )
            except TimeoutError:
                outcomes["missed deadline"] += 1
            except RaggedGraphError as exc:
                outcomes[f"typed error {exc.code}"] += 1
            except Exception as exc:  # a bug: counted, never hidden
                outcomes[f"untyped {type(exc).__name__}"] += 1
            else:
                attempts = message.response_metadata["routing"]["attempts"]
                outcomes["answered"] += 1
                failed_attempts.update(a["error_code"] for a in attempts if not a["ok"])
                if not attempts[0]["ok"]:
                    fallbacks += 1
            latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        wall = time.perf_counter() - started
        served = sum(len(s.chat_requests()) for s in servers)
        router.close()  # flushes the routing history
        recorded = HistoryStore(f"sqlite:///{history}").records()
        ordered = sorted(latencies)
        return {
            "requests": requests,
            "fault_rate": fault_rate,
            "chat_calls_served": served,
            "outcomes": dict(outcomes),
            "failed_attempts_in_answered_requests": dict(failed_attempts),
            "recovered_after_a_failure": fallbacks,
            "history_records": len(recorded),
            "history_request_ids_distinct": len({record.request_id for record in recorded}),
            "ended": len(latencies),
            "p50_ms": statistics.median(ordered),
            "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))],
            "wall_s": wall,
        }
    finally:
        for server in servers:
            server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--deadline", type=float, default=15.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.requests, args.fault_rate, args.seed, args.deadline))
    print(json.dumps(result, indent=2) if args.json else result)


if __name__ == "__main__":
    main()
