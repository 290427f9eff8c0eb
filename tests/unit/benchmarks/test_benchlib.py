"""The benchmarks' shared statistics and report pieces."""

from __future__ import annotations

import pytest
from benchlib import (
    Summary,
    Target,
    added,
    interleaved_orders,
    markdown_table,
    percentile,
    replace_section,
    summarize,
)


def test_percentile_is_the_nearest_rank_and_never_invents_a_value() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 100 .. 1, unsorted on purpose
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.0) == 1.0
    assert percentile([3.0, 1.0], 0.99) == 3.0, "p99 of a small sample is its largest value"
    assert percentile([7.5], 0.99) == 7.5


@pytest.mark.parametrize(("values", "share"), [([], 0.5), ([1.0], -0.1), ([1.0], 1.5)])
def test_percentile_refuses_nonsense(values: list[float], share: float) -> None:
    with pytest.raises(ValueError, match=r"percentile|share"):
        percentile(values, share)


def test_summary_and_what_a_variant_adds() -> None:
    direct = summarize([2.0, 1.0, 4.0, 3.0])
    assert direct == Summary(n=4, p50=2.5, p99=4.0, mean=2.5)
    routed = summarize([5.0, 4.0, 9.0, 6.0])
    assert added(routed, direct) == (3.0, 5.0)
    assert direct.scaled(1000) == Summary(n=4, p50=2500.0, p99=4000.0, mean=2500.0)
    with pytest.raises(ValueError, match="no values"):
        summarize([])


def test_markdown_table_escapes_pipes_and_checks_row_widths() -> None:
    table = markdown_table(["a", "b"], [["x|y", 1], ["z", 2.5]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 1 |", "| z | 2.5 |"]
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(["a", "b", "c"], [["x", "y"]])


def test_targets_say_met_missed_or_not_measured() -> None:
    assert Target("p50", 99.9, "<=", 100).verdict == "met"
    assert Target("p50", 100.1, "<=", 100).verdict == "**missed**"
    assert Target("rate", 5000, ">=", 5000).met is True
    assert Target("rate", 4999, ">=", 5000).met is False
    assert Target("ratio", None, ">=", 0.7).verdict == "not measured"


BEGIN, END = "<!-- gen:begin -->", "<!-- gen:end -->"


def test_replace_section_appends_a_new_section_then_replaces_only_its_marked_part() -> None:
    document = "# Benchmarks\n\n## Older\n\nkept\n"
    first = replace_section(document, BEGIN, END, "figures 1", heading="## New")
    assert first == f"# Benchmarks\n\n## Older\n\nkept\n\n## New\n\n{BEGIN}\nfigures 1\n{END}\n"
    annotated = first + "\nHand-written analysis.\n\n## Later\n\nalso kept\n"
    second = replace_section(annotated, BEGIN, END, "figures 2\n", heading="## New")
    assert second == annotated.replace("figures 1", "figures 2")
    assert replace_section(second, BEGIN, END, "figures 2", heading="## New") == second


@pytest.mark.parametrize(
    "document", [f"{BEGIN}\nno end\n", f"{END}\nno begin\n", f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n"]
)
def test_replace_section_refuses_broken_markers(document: str) -> None:
    with pytest.raises(ValueError, match=r"without|more than once"):
        replace_section(document, BEGIN, END, "x", heading="## New")


def test_interleaved_orders_are_seeded_permutations_that_vary_who_comes_first() -> None:
    names = ["direct", "graph", "router", "litellm"]
    orders = interleaved_orders(names, 60, seed=3)
    assert len(orders) == 60
    assert all(sorted(order) == sorted(names) for order in orders)
    assert orders == interleaved_orders(names, 60, seed=3)
    assert {order[0] for order in orders} == set(names)
    # Each variant follows more than one other variant (a rotation would fix its neighbour).
    for name in names:
        before = {order[order.index(name) - 1] for order in orders if order[0] != name}
        assert len(before) > 1
