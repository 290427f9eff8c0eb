"""`ragged-graph hardware`: what this machine has and the memory budget for models."""

from __future__ import annotations

from ragged_graph.cli._output import (
    ConfigOption,
    JsonOption,
    console,
    load_cli_config,
    print_json,
    user_errors,
)
from ragged_graph.registry import build_registry, detect_hardware

__all__ = ["hardware"]


def hardware(
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Show CPU, RAM, GPUs, models Ollama has loaded, and the resulting memory budget."""
    router_config = load_cli_config(config)
    with user_errors():
        profile = detect_hardware()
        registry = build_registry(router_config, profile=profile)
        try:
            snapshot = registry.snapshot()
        finally:
            registry.close()
    loaded = {m.name: m.size_vram_gb for host in snapshot.hosts for m in host.loaded}
    profile = profile.with_loaded_models(loaded)
    if router_config.hardware is not None:
        profile = profile.with_override(router_config.hardware)
    budget = snapshot.budget
    if as_json:
        print_json(
            {"profile": profile.model_dump(mode="json"), "budget": budget.model_dump(mode="json")}
        )
        return
    console.print(f"CPU cores:    {profile.cpu_cores}")
    available = (
        f", {profile.ram_available_gb:.1f} GB available"
        if profile.ram_available_gb is not None
        else ""
    )
    console.print(f"RAM:          {profile.ram_total_gb:.1f} GB total{available}")
    console.print(
        f"Accelerator:  {profile.accelerator}"
        + (" (unified memory)" if profile.unified_memory else "")
    )
    for gpu in profile.gpus:
        free = f", {gpu.vram_free_gb:.1f} GB free" if gpu.vram_free_gb is not None else ""
        console.print(
            f"GPU:          {gpu.name} ({gpu.vendor}), {gpu.vram_total_gb:.1f} GB VRAM{free}"
        )
    if loaded:
        for name, vram in loaded.items():
            console.print(f"Loaded:       {name} ({vram:.1f} GB in GPU memory)")
    else:
        console.print("Loaded:       no models loaded (or Ollama not reachable)")
    console.print(f"[bold]Memory budget: {budget.budget_gb:.1f} GB[/] - {budget.rule}")
