"""`ragged-graph ab`: the A/B experiments of the config, and each one's report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
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
from ragged_graph.experiments.report import Estimate
from ragged_graph.experiments.settings import ExperimentSettings

__all__ = ["app"]

app = typer.Typer(
    help="A/B experiments: list them, report one (per-variant figures, tests, winner).",
    no_args_is_help=True,
)


def _status(settings: ExperimentSettings, now: datetime) -> str:
    if not settings.enabled:
        return "disabled"
    if settings.start is not None and now < settings.start:
        return "scheduled"
    if settings.end is not None and now >= settings.end:
        return "ended"
    return "running"


def _changes(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in overrides.items()) or "control"


@app.command("list")
def list_experiments(as_json: JsonOption = False, config: ConfigOption = None) -> None:
    """The experiments in the config: status, assignment key, metric and variants."""
    router_config = load_cli_config(config)
    now = datetime.now(UTC)
    experiments = router_config.experiments
    if as_json:
        print_json(
            [
                {"name": name, "status": _status(settings, now), **settings.model_dump(mode="json")}
                for name, settings in experiments.items()
            ]
        )
        return
    if not experiments:
        console.print("no experiments: define them under `experiments:` in the config")
        return
    for name, settings in experiments.items():
        window = ""
        if settings.start is not None:
            window += f" · from {settings.start:%Y-%m-%d %H:%M} UTC"
        if settings.end is not None:
            window += f" · until {settings.end:%Y-%m-%d %H:%M} UTC"
        console.print(
            f"[bold]{name}[/] {_status(settings, now)} · assign by {settings.assign_by} · "
            f"winner on {settings.metric} · min_sample {settings.min_sample}{window}",
            highlight=False,
        )
        if settings.description:
            console.print(f"  {settings.description}", style="dim", highlight=False)
        total = sum(variant.weight for variant in settings.variants.values())
        for variant_name, variant in settings.variants.items():
            console.print(
                f"  {variant_name} ({variant.weight / total:.0%}: {_changes(variant.overrides())})",
                highlight=False,
                markup=False,
            )


def _shown(number: float, style: str) -> str:
    if style == "percent":
        return f"{number:.1%}"
    if style == "cost":
        return f"{number * 1000:.3g}"  # USD per 1000 requests
    return f"{number:.1f}" if style == "ms" else f"{number:.2f}"


def _value(estimate: Estimate, style: str) -> str:
    return _shown(estimate.value, style) if estimate.value is not None else "n/a"


def _bounds(estimate: Estimate, style: str) -> str:
    if estimate.low is None or estimate.high is None:
        return ""
    return f"{_shown(estimate.low, style)}–{_shown(estimate.high, style)}"


@app.command("report")
def report(
    name: Annotated[str, typer.Argument(help="The experiment, as named under `experiments:`.")],
    since: SinceOption = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Per variant: requests, latency, cost, fallback rate and feedback score with 95 %
    intervals; significance tests between variants; the winner once every variant has
    `min_sample` requests and the difference is significant."""
    from ragged_graph.experiments.report import compute_experiment_report, experiment_report
    from ragged_graph.experiments.settings import find_experiment
    from ragged_graph.telemetry.metrics import parse_since

    router_config = load_cli_config(config)
    with user_errors():
        settings = find_experiment(router_config.experiments, name)
        start = parse_since(since) if since is not None else None
    result = read_history(
        router_config.history.url,
        lambda store: compute_experiment_report(store, name, settings, since=start),
        lambda: experiment_report(name, settings, [], since=start),
    )
    if as_json:
        print_json(result)
        return
    period = f"since {result.since:%Y-%m-%d %H:%M:%S} UTC" if result.since else "all time"
    console.print(
        f"[bold]{result.experiment}[/]: {result.requests} requests ({period}) · winner on "
        f"{result.metric} ({result.better} is better), alpha {result.alpha}, "
        f"min_sample {result.min_sample} per variant",
        highlight=False,
    )
    table = Table(
        Column("variant", no_wrap=True),
        Column("reqs", justify="right"),
        Column("share/set", justify="right", no_wrap=True),
        Column("latency ms", justify="right", no_wrap=True),
        Column("median ms", justify="right", no_wrap=True),
        Column("$/1k reqs", justify="right", no_wrap=True),
        Column("fallback", justify="right", no_wrap=True),
        Column("feedback", justify="right", no_wrap=True),
        Column("rated", justify="right"),
        title="mean, median, cost per 1000 requests, fallback rate, mean feedback; "
        "95 % intervals under each",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    for variant in result.variants:
        weight = f"{variant.weight_share:.0%}" if variant.weight_share is not None else "-"
        figures = (
            (variant.latency_ms, "ms"),
            (variant.latency_median_ms, "ms"),
            (variant.cost_usd, "cost"),
            (variant.fallback_rate, "percent"),
            (variant.feedback, "score"),
        )
        table.add_row(
            variant.name if variant.configured else f"{variant.name} (not in config)",
            str(variant.requests),
            f"{variant.share:.0%}/{weight}",
            *(_value(estimate, style) for estimate, style in figures),
            str(variant.feedback.n),
        )
        table.add_row(
            "", "", "", *(_bounds(estimate, style) for estimate, style in figures), "", style="dim"
        )
    console.print(table)
    tests = [c for c in result.comparisons if c.p_value is not None]
    if tests:
        lines = Table(
            "metric",
            "variants",
            Column("difference", justify="right"),
            "test",
            Column("p", justify="right"),
            box=box.SIMPLE_HEAD,
            pad_edge=False,
            show_edge=False,
        )
        for comparison in tests:
            difference = comparison.difference
            lines.add_row(
                comparison.metric,
                f"{comparison.first} - {comparison.second}",
                f"{difference:.4g}" if difference is not None else "n/a",
                "Welch t" if comparison.test == "welch_t" else "2-proportion z",
                f"{comparison.p_value:.3g}",
            )
        console.print(lines)
    console.print(result.verdict, style="bold", highlight=False)
