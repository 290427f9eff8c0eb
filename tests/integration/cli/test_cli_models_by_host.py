"""`ragged-graph models` with a fleet: every host with its labels and the models it holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragged_graph.cli import app
from ragged_graph.testing import ScriptedModel
from ragged_graph.testing.pytest_plugin import OllamaServerFactory

pytestmark = pytest.mark.integration


@pytest.fixture
def fleet_config(ollama_server_factory: OllamaServerFactory, tmp_path: Path) -> Path:
    big = ollama_server_factory()
    small = ollama_server_factory(
        [
            ScriptedModel(name="llama3.2:3b", parameter_size="3.2B", loaded=True),
            ScriptedModel(name="qwen2.5:7b", parameter_size="7.6B"),
        ]
    )
    path = tmp_path / "router.yaml"
    path.write_text(
        "providers:\n  ollama:\n    hosts:\n"
        f"      - {{name: gpu-box, base_url: '{big.base_url}', labels: [gpu, office]}}\n"
        f"      - {{name: laptop, base_url: '{small.base_url}', labels: [cpu]}}\n"
        "      - {name: gone, base_url: 'http://127.0.0.1:9'}\n"
        "  embedded: {enabled: false}\n"
        "hardware: {memory_gb: 64}\n"
        "fallbacks: {health_file: null}\n",
        encoding="utf-8",
    )
    return path


def test_the_json_lists_each_hosts_labels_and_models(fleet_config: Path) -> None:
    result = CliRunner().invoke(app, ["models", "--json", "--config", str(fleet_config)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    hosts = {host["name"]: host for host in data["hosts"]}
    assert list(hosts) == ["gpu-box", "laptop", "gone"]
    assert hosts["gpu-box"]["labels"] == ["gpu", "office"]
    assert hosts["laptop"]["models"] == ["llama3.2:3b", "qwen2.5:7b"]
    assert hosts["laptop"]["loaded"] == ["llama3.2:3b"]
    assert "llama3.3:70b" in hosts["gpu-box"]["models"]
    assert (hosts["gone"]["reachable"], hosts["gone"]["models"]) == (False, [])
    models = {model["name"]: model for model in data["models"]}
    assert models["qwen2.5:7b"]["installed_on"] == ["gpu-box", "laptop"]
    assert models["llama3.3:70b"]["installed_on"] == ["gpu-box"]


def test_the_table_shows_models_by_host(fleet_config: Path) -> None:
    result = CliRunner().invoke(
        app, ["models", "--config", str(fleet_config)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("Ollama hosts" in line for line in lines)
    laptop = next(line for line in lines if "│ laptop" in line)
    assert "cpu" in laptop
    assert "llama3.2:3b*, qwen2.5:7b" in laptop
    gone = next(line for line in lines if "│ gone" in line)
    assert "unreachable" in gone
    qwen = next(line for line in lines if line.startswith("│ qwen2.5:7b "))
    assert "gpu-box, laptop" in qwen
    llama = next(line for line in lines if line.startswith("│ llama3.2:3b "))
    assert "gpu-box*, laptop*" in llama
