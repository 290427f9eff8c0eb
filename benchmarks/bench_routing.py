"""Routing speed: `route()` latency, and the graph's overhead over a direct ChatOllama call.

Run: python benchmarks/bench_routing.py [--rounds N] [--calls N] [--write BENCHMARKS.md]

Everything runs in one process. For the overhead, direct and routed calls alternate against
the same zero-delay Ollama-protocol test server, so drift on this shared machine hits both
alike; the overhead is the difference of the medians.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from importlib import resources

from langchain_ollama import ChatOllama

from ragged_graph.config import RouterConfig
from ragged_graph.routing.router import RouteOptions, Router
from ragged_graph.routing_graph import Services, build_graph
from ragged_graph.testing import OllamaServer

QUERIES_FILE = "golden.jsonl"


def golden_queries() -> list[str]:
    text = resources.files("ragged_graph.learning.data").joinpath(QUERIES_FILE).read_text("utf-8")
    return [json.loads(line)["query"] for line in text.splitlines() if line.strip()]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_route(router: Router, queries: list[str], rounds: int) -> dict[str, float]:
    options = RouteOptions()
    for query in queries:  # warm caches
        router.decide(query, options=options)
    timings = []
    for _ in range(rounds):
        for query in queries:
            started = time.perf_counter_ns()
            router.decide(query, options=options)
            timings.append((time.perf_counter_ns() - started) / 1000)
    return {
        "decisions": len(timings),
        "p50_us": statistics.median(timings),
        "p99_us": percentile(timings, 0.99),
    }


def bench_overhead(calls: int) -> dict[str, float]:
    with OllamaServer() as server:
        config = RouterConfig.model_validate(
            {
                "providers": {
                    "ollama": {"hosts": [{"name": "bench", "base_url": server.base_url}]}
                },
                "hardware": {"memory_gb": 64},
            }
        )
        services = Services.for_router(Router(config))
        graph = build_graph(lambda _context: services)
        query = "What is the capital of France?"
        model = graph.invoke({"query": query})["decision"]["model"]
        direct = ChatOllama(model=model, base_url=server.base_url)
        direct.invoke(query)
        direct_ms, routed_ms = [], []
        for _ in range(calls):
            started = time.perf_counter()
            direct.invoke(query)
            direct_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            graph.invoke({"query": query})
            routed_ms.append((time.perf_counter() - started) * 1000)
    direct_p50, routed_p50 = statistics.median(direct_ms), statistics.median(routed_ms)
    return {
        "calls": calls,
        "model": model,
        "direct_p50_ms": direct_p50,
        "routed_p50_ms": routed_p50,
        "overhead_p50_ms": routed_p50 - direct_p50,
        "direct_p99_ms": percentile(direct_ms, 0.99),
        "routed_p99_ms": percentile(routed_ms, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    offline = RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {"hosts": [{"name": "none", "base_url": "http://127.0.0.1:9"}]}
            },
            "hardware": {"memory_gb": 64},
        }
    )
    queries = golden_queries()
    results = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}",
        "route": bench_route(Router(offline), queries, args.rounds),
        "graph_overhead": bench_overhead(args.calls),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    route, overhead = results["route"], results["graph_overhead"]
    print(
        f"route(): {route['decisions']} decisions over the golden set's {len(queries)} queries: "
        f"p50 {route['p50_us']:.1f} µs, p99 {route['p99_us']:.1f} µs"
    )
    print(
        f"graph vs direct ChatOllama ({overhead['calls']} alternating calls, "
        f"model {overhead['model']}): direct p50 {overhead['direct_p50_ms']:.2f} ms, "
        f"routed p50 {overhead['routed_p50_ms']:.2f} ms, "
        f"overhead p50 {overhead['overhead_p50_ms']:.2f} ms; "
        f"p99 direct {overhead['direct_p99_ms']:.2f} ms / "
        f"routed {overhead['routed_p99_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
