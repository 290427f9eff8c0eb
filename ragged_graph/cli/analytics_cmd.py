"""`ragged-graph analytics`: metrics over the routing history, per model, tier, persona, host."""

from __future__ import annotations

from rich import box
from rich.table import Column, Table

from ragged_graph.cli._output import (
    ConfigOption,
    JsonOption,
    SinceOption,
    console,
    load_cli_config,
    print_json,
    read_history,
    user_errors,
)

__all__ = ["analytics"]

_SECTIONS = (
    ("by_model", "chosen model"),
    ("by_answered_by", "answered by"),
    ("by_tier", "tier"),
    ("by_persona", "persona"),
    ("by_host", "host"),
)


def analytics(
    since: SinceOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Latency, time to first token, speed, errors, fallbacks and cost from the routing
    history (the database `history.url` names), per model, tier, persona and host."""
    from ragged_graph.telemetry.metrics import compute_metrics, metrics_from_rows, parse_since

    router_config = load_cli_config(config)
    with user_errors():
        start = parse_since(since) if since is not None else None
    metrics = read_history(
        router_config.history.url,
        lambda store: compute_metrics(store, since=start),
        lambda: metrics_from_rows([], since=start),
    )
    if as_json:
        print_json(metrics)
        return
    period = f"since {metrics.since:%Y-%m-%d %H:%M:%S} UTC" if metrics.since else "all time"
    overall = metrics.overall
    console.print(
        f"[bold]{metrics.requests}[/] requests ({period}) · "
        f"error rate {overall.error_rate:.1%} · fallback rate {overall.fallback_rate:.1%} · "
        f"latency p50 {_ms(overall.latency_p50_ms)} p95 {_ms(overall.latency_p95_ms)} · "
        f"cost ${overall.cost_usd:.4f}",
        highlight=False,
    )
    if not metrics.requests:
        return
    console.print("latency p50/p95/p99 and median time to first token (TTFT) in ms", style="dim")
    for attribute, title in _SECTIONS:
        table = Table(
            Column(title, no_wrap=True),
            *(Column(header, justify="right", no_wrap=True) for header in _HEADERS),
            title=f"by {title}",
            title_justify="left",
            box=box.SIMPLE_HEAD,
            padding=(0, 0),
            pad_edge=False,
            show_edge=False,
        )
        for group in getattr(metrics, attribute):
            table.add_row(
                group.key if group.key is not None else "-",
                str(group.requests),
                f"{group.share:.0%}",
                _number(group.latency_p50_ms),
                _number(group.latency_p95_ms),
                _number(group.latency_p99_ms),
                _number(group.first_token_p50_ms),
                _number(group.tokens_per_s),
                f"{group.error_rate:.0%}",
                f"{group.fallback_rate:.0%}",
                f"{group.cost_usd:.4f}",
            )
        console.print(table)


_HEADERS = ("reqs", "share", "p50", "p95", "p99", "TTFT", "tok/s", "errors", "fallbk", "cost $")
"""Latency percentiles and median time to first token are in milliseconds."""


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _ms(value: float | None) -> str:
    return f"{value:.1f} ms" if value is not None else "-"
