from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragged_graph.cli import app
from ragged_graph.testing import OllamaServer

pytestmark = pytest.mark.integration

OFFLINE = (
    "providers:\n  ollama:\n    hosts:\n      - {name: gone, base_url: 'http://127.0.0.1:9'}\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "router.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_route_json_prints_the_decision_without_a_server(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "route",
            "Write a Python function to sort a list",
            "--json",
            "--config",
            str(write(tmp_path, OFFLINE)),
        ],
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["task_type"] == "code_generation"
    for field in (
        "model",
        "tier",
        "task_confidence",
        "complexity",
        "complexity_breakdown",
        "persona",
        "reason",
        "fallbacks",
        "provider",
    ):
        assert field in decision


def test_route_with_unknown_persona_exits_2_listing_known(tmp_path: Path) -> None:
    config = write(tmp_path, OFFLINE + "personas:\n  tester: {}\n")
    result = CliRunner().invoke(app, ["route", "hi", "--persona", "nope", "--config", str(config)])
    assert result.exit_code == 2
    assert "tester" in result.stderr
    assert "Traceback" not in result.output


def test_ask_answers_through_the_chosen_model(tmp_path: Path) -> None:
    with OllamaServer() as server:
        config = write(
            tmp_path,
            "providers:\n  ollama:\n    hosts:\n"
            f"      - {{name: t, base_url: '{server.base_url}'}}\n",
        )
        result = CliRunner().invoke(
            app, ["ask", "What is Paris?", "--show-routing", "--config", str(config)]
        )
    assert result.exit_code == 0, result.output
    assert "why:" in result.stdout
    assert "You asked: What is Paris?" in result.stdout


def test_ask_without_ollama_says_how_to_start_one(tmp_path: Path) -> None:
    # Without the embedded model too (with it, `ask` answers: tests/integration/providers).
    config = write(tmp_path, OFFLINE + "  embedded: {enabled: false}\n")
    result = CliRunner().invoke(app, ["ask", "hi", "--config", str(config)])
    assert result.exit_code == 3
    assert "ollama serve" in result.stderr
    assert "Traceback" not in result.output


def test_route_with_a_built_in_persona(tmp_path: Path) -> None:
    config = str(write(tmp_path, OFFLINE))
    plain = CliRunner().invoke(app, ["route", "Explain neural networks", "--json", "-c", config])
    researcher = CliRunner().invoke(
        app, ["route", "Explain neural networks", "--json", "--persona", "researcher", "-c", config]
    )
    assert researcher.exit_code == 0, researcher.output
    assert json.loads(researcher.stdout)["tier"] == "quality"
    assert json.loads(researcher.stdout)["persona"] == "researcher"
    assert json.loads(plain.stdout)["persona"] is None


def test_an_unexpected_failure_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ragged_graph.api
    from ragged_graph.cli import main

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("deep inside a library")

    monkeypatch.setattr(ragged_graph.api, "route", explode)
    monkeypatch.setattr("sys.argv", ["ragged-graph", "route", "hi"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "unexpected RuntimeError: deep inside a library" in err
    assert "Traceback" not in err
