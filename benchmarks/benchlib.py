"""What the benchmarks share: statistics, the machine's description, Markdown report pieces.

Pure functions only (no servers, no clocks), so that ``tests/unit/benchmarks`` can check them.
"""

from __future__ import annotations

import math
import os
import platform
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Summary",
    "Target",
    "added",
    "interleaved_orders",
    "machine",
    "markdown_table",
    "percentile",
    "replace_section",
    "summarize",
]


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0-1) percentile of ``values``, by the nearest-rank method.

    Nearest rank never invents a value that was not measured: the p99 of 100 timings is the
    99th smallest, of 50 timings the largest.
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0-1, got {share}")
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Summary:
    """A sample of timings (or any measure) reduced to what the reports show."""

    n: int
    p50: float
    p99: float
    mean: float

    def scaled(self, factor: float) -> Summary:
        """The same summary in another unit (e.g. ``1000`` for seconds to milliseconds)."""
        return Summary(self.n, self.p50 * factor, self.p99 * factor, self.mean * factor)


def summarize(values: Sequence[float]) -> Summary:
    """n, median, p99 and mean of ``values``."""
    if not values:
        raise ValueError("summary of no values")
    return Summary(
        n=len(values),
        p50=statistics.median(values),
        p99=percentile(values, 0.99),
        mean=statistics.fmean(values),
    )


def added(variant: Summary, reference: Summary) -> tuple[float, float]:
    """What ``variant`` adds over ``reference``: (difference of medians, difference of p99s)."""
    return variant.p50 - reference.p50, variant.p99 - reference.p99


def machine() -> str:
    """A one-line description of the machine and interpreter."""
    cores = os.cpu_count() or 0
    memory = ""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages * page_size / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    return (
        f"{platform.machine()}, {cores} cores{memory}, {platform.system()}, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; cells are written with ``str()`` and ``|`` escaped."""
    width = len(header)
    for row in rows:
        if len(row) != width:
            raise ValueError(f"row {list(row)!r} has {len(row)} cells, the header {width}")

    def line(cells: Sequence[object]) -> str:
        return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(header), "|" + "---|" * width, *(line(row) for row in rows)])


Comparison = Literal["<=", ">="]


@dataclass(frozen=True, slots=True)
class Target:
    """A target figure and what was measured against it."""

    name: str
    measured: float | None
    """None when it could not be measured (e.g. an optional dependency is missing)."""
    comparison: Comparison
    limit: float
    unit: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the measurement meets the target; None when there is no measurement."""
        if self.measured is None:
            return None
        if self.comparison == "<=":
            return self.measured <= self.limit
        return self.measured >= self.limit

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "not measured"}[self.met]


def replace_section(document: str, begin: str, end: str, body: str, *, heading: str) -> str:
    """``document`` with the text between the ``begin`` and ``end`` marker lines set to ``body``.

    When the markers are not there yet, ``heading`` and the marked ``body`` are appended as a
    new section at the end. Text outside the markers (hand-written analysis) is kept as is.
    """
    block = f"{begin}\n{body.strip()}\n{end}"
    start = document.find(begin)
    if start == -1:
        if end in document:
            raise ValueError(f"{end!r} without {begin!r}")
        return f"{document.rstrip()}\n\n{heading}\n\n{block}\n"
    stop = document.find(end, start)
    if stop == -1:
        raise ValueError(f"{begin!r} without {end!r}")
    if document.find(begin, start + len(begin)) != -1:
        raise ValueError(f"{begin!r} appears more than once")
    return document[:start] + block + document[stop + len(end) :]


def interleaved_orders(names: Sequence[str], count: int, *, seed: int = 0) -> list[list[str]]:
    """``count`` orders of ``names`` for interleaved runs, each a fresh (seeded) shuffle.

    A fixed rotation would keep every variant behind the same neighbour, which then hands it
    its leftovers (background threads, garbage) every time; shuffling spreads them evenly.
    """
    rng = random.Random(seed)
    orders = []
    for _ in range(count):
        order = list(names)
        rng.shuffle(order)
        orders.append(order)
    return orders
