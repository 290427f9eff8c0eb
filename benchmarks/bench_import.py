"""Import time: `import ragged_graph`, and what its lazy parts cost on first use.

Run: python benchmarks/bench_import.py [--runs N] [--json]
(`benchmarks/perf_suite.py` runs this with the other benchmarks and writes BENCHMARKS.md.)

Each import runs in a fresh interpreter (`python -c`), timed inside it with
`time.perf_counter` around the statement (so the interpreter's own start is not counted);
the median over `--runs` runs is reported. `langchain_ollama` and `litellm` are timed the
same way for reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from importlib.util import find_spec
from typing import Any

from benchlib import machine

STATEMENTS = {
    "import ragged_graph": "import ragged_graph",
    "import ragged_graph; ragged_graph.graph": "import ragged_graph; ragged_graph.graph",
    "from ragged_graph import RaggedRouter": "from ragged_graph import RaggedRouter",
    "import langchain_ollama (reference)": "import langchain_ollama",
    "import litellm (reference)": "import litellm",
}


def time_import(statement: str) -> float:
    """Seconds ``statement`` takes in a fresh interpreter."""
    script = (
        "import time\n"
        "started = time.perf_counter()\n"
        f"{statement}\n"
        "print(time.perf_counter() - started)\n"
    )
    # litellm fetches its model cost map at import unless told to use its own copy.
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def bench_imports(runs: int, *, litellm: bool = True) -> dict[str, Any]:
    """Median seconds per statement; the runs of the statements alternate."""
    statements = dict(STATEMENTS)
    if not litellm or find_spec("litellm") is None:
        del statements["import litellm (reference)"]
    timings: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(runs):
        for name, statement in statements.items():
            timings[name].append(time_import(statement))
    return {
        "runs": runs,
        "seconds": {name: statistics.median(values) for name, values in timings.items()},
        "spread": {name: [min(values), max(values)] for name, values in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-litellm", action="store_true", help="leave LiteLLM out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"machine": machine(), **bench_imports(args.runs, litellm=not args.no_litellm)}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for name, seconds in results["seconds"].items():
        low, high = results["spread"][name]
        print(f"{name:45s} {seconds * 1000:8.1f} ms  ({low * 1000:.1f}-{high * 1000:.1f})")


if __name__ == "__main__":
    main()
