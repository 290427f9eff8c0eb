"""`ragged-graph models`: every model card, with where it is installed and whether it fits,
and each Ollama host of the fleet with its labels and the models it holds."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.table import Column, Table

from ragged_graph.cli._output import (
    ConfigOption,
    JsonOption,
    console,
    load_cli_config,
    print_json,
    user_errors,
)
from ragged_graph.providers.embedded import EMBEDDED_PROVIDER
from ragged_graph.providers.health import BreakerStatus, host_key, model_key, read_health_file
from ragged_graph.registry import build_registry
from ragged_graph.registry.registry import RegistryEntry, RegistrySnapshot

__all__ = ["models", "snapshot_as_json"]


def _cooling(entry: RegistryEntry, breakers: dict[str, BreakerStatus]) -> list[str]:
    """Hosts on which this model is cooling down now."""
    hosts = entry.installed_on or ("-",)
    return [
        host
        for host in hosts
        if (status := breakers.get(model_key(entry.name, host))) is not None
        and status.state == "open"
    ]


def _embedded(entry: RegistryEntry) -> bool:
    # The embedded model's card exists only when it can run: installed whatever Ollama says.
    return entry.card.provider == EMBEDDED_PROVIDER


def _entry_as_json(
    entry: RegistryEntry, availability_known: bool, breakers: dict[str, BreakerStatus]
) -> dict[str, Any]:
    card = entry.card
    return {
        "name": card.name,
        "provider": card.provider,
        "tier": card.tier.value,
        "parameters_b": card.parameters_b,
        "context_window": card.context_window,
        "capabilities": sorted(card.capabilities),
        "specialisations": sorted(card.specialisations),
        "memory_gb": card.memory_gb,
        "quantisation": card.quantisation,
        "local": card.local,
        "installed": entry.installed if availability_known or _embedded(entry) else None,
        "loaded": entry.loaded,
        "fits": entry.fits,
        "origin": entry.origin.value,
        "installed_on": list(entry.installed_on),
        "loaded_on": list(entry.loaded_on),
        "cooling_down_on": _cooling(entry, breakers),
    }


def _host_cooling(host: str, breakers: dict[str, BreakerStatus]) -> bool:
    status = breakers.get(host_key(host))
    return status is not None and status.state == "open"


def snapshot_as_json(
    snapshot: RegistrySnapshot,
    breakers: dict[str, BreakerStatus] | None = None,
    labels: Mapping[str, tuple[str, ...]] | None = None,
) -> dict[str, Any]:
    """The JSON document `ragged-graph models --json` prints; ``labels`` are the hosts'
    configured labels, by host name."""
    breakers = breakers or {}
    labels = labels or {}
    return {
        "availability_known": snapshot.availability_known,
        "budget": snapshot.budget.model_dump(mode="json"),
        "hosts": [
            {
                "name": h.host,
                "base_url": h.base_url,
                "reachable": h.reachable,
                "error": h.error,
                "cooling_down": _host_cooling(h.host, breakers),
                "labels": list(labels.get(h.host, ())),
                "models": sorted(model.name for model in h.installed),
                "loaded": sorted(model.name for model in h.loaded),
            }
            for h in snapshot.hosts
        ],
        "models": [
            _entry_as_json(e, snapshot.availability_known, breakers) for e in snapshot.entries
        ],
    }


def _yes_no(value: bool | None) -> str:
    return {True: "[green]yes[/]", False: "[dim]no[/]", None: "[yellow]?[/]"}[value]


def models(
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """List every model the router knows: tier, installed, loaded, fits, and card origin."""
    router_config = load_cli_config(config)
    with user_errors():
        registry = build_registry(router_config)
        try:
            snapshot = registry.snapshot()
        finally:
            registry.close()
    health_file = router_config.fallbacks.health_file
    breakers = (
        {status.key: status for status in read_health_file(Path(health_file))}
        if health_file
        else {}
    )
    labels = {host.name: host.labels for host in router_config.providers.ollama.hosts}
    if as_json:
        print_json(snapshot_as_json(snapshot, breakers, labels))
        return
    _print_hosts(snapshot, breakers, labels)
    console.print(f"Memory budget: {snapshot.budget.budget_gb:.1f} GB ({snapshot.budget.rule})")
    table = Table(
        Column("model", no_wrap=True, min_width=18),
        "tier",
        "size",
        "ctx",
        Column("GB", justify="right"),
        "inst",
        "load",
        "fits",
        "from",
        "hosts",
        caption="hosts: * loaded there, ! cooling down there; specialisations and "
        "capabilities: --json",
    )
    known = snapshot.availability_known
    for entry in snapshot.entries:
        card = entry.card
        table.add_row(
            card.name,
            card.tier.value,
            f"{card.parameters_b:g}B" if card.parameters_b else "-",
            f"{card.context_window // 1024}k",
            f"{card.memory_gb:.1f}",
            _yes_no(entry.installed if known or _embedded(entry) else None),
            _yes_no(entry.loaded),
            _yes_no(entry.fits),
            entry.origin.value + (" [red](cooling)[/]" if _cooling(entry, breakers) else ""),
            _hosts_cell(entry, breakers),
        )
    console.print(table)
    if not known:
        console.print(
            "[yellow]No Ollama host answered: installed state is unknown. "
            "Start Ollama with `ollama serve` or set OLLAMA_HOST.[/]"
        )


def _hosts_cell(entry: RegistryEntry, breakers: dict[str, BreakerStatus]) -> str:
    """The hosts that have ``entry`` installed: ``*`` loaded there, ``!`` cooling there."""
    cooling = set(_cooling(entry, breakers))
    return ", ".join(
        host + ("*" if host in entry.loaded_on else "") + ("!" if host in cooling else "")
        for host in entry.installed_on
    )


def _print_hosts(
    snapshot: RegistrySnapshot,
    breakers: dict[str, BreakerStatus],
    labels: Mapping[str, tuple[str, ...]],
) -> None:
    """One table row per Ollama host: labels, state, and the models it has."""
    table = Table(
        Column("host", no_wrap=True),
        "labels",
        "url",
        "state",
        Column("models (* loaded)", overflow="fold"),
        title="Ollama hosts",
    )
    for host in snapshot.hosts:
        if not host.reachable:
            state = "[red]unreachable[/]"
        elif _host_cooling(host.host, breakers):
            state = "[red]cooling down[/]"
        else:
            state = "[green]reachable[/]"
        loaded = {model.name for model in host.loaded}
        held = ", ".join(
            model.name + ("*" if model.name in loaded else "")
            for model in sorted(host.installed, key=lambda model: model.name)
        )
        table.add_row(
            host.host,
            ", ".join(labels.get(host.host, ())),
            host.base_url,
            state,
            held or (f"[dim]{host.error}[/]" if host.error else "-"),
        )
    console.print(table)
