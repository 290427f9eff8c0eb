"""The standalone command, the pytest fixtures and the server's life cycle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ragged_graph.testing import DEFAULT_MODELS, OllamaServer, ScriptedModel
from ragged_graph.testing.pytest_plugin import OllamaServerFactory

pytestmark = pytest.mark.integration


def run_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start the command and return it with the URL it printed."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "ragged_graph.testing.ollama_server", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("Ollama test server listening on http://127.0.0.1:"), line
    return process, line.rsplit(" ", 1)[1].strip()


def stop_cli(process: subprocess.Popen[str]) -> tuple[int, str]:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=10)
    return process.returncode, stderr


def test_cli_serves_chosen_models_with_a_fixed_answer() -> None:
    process, url = run_cli("--port", "0", "--model", "qwen2.5:7b", "--model", "my-model:1b")
    try:
        tags = httpx.get(f"{url}/api/tags").json()["models"]
        assert [m["name"] for m in tags] == ["qwen2.5:7b", "my-model:1b"]
        assert tags[0]["details"]["parameter_size"] == "7.6B"
    finally:
        code, stderr = stop_cli(process)
    assert code == 0
    assert "Traceback" not in stderr
    assert "RuntimeWarning" not in stderr


def test_cli_script_file_and_answer(tmp_path: Path) -> None:
    script = tmp_path / "models.json"
    script.write_text(json.dumps({"models": [{"name": "a:1b"}, {"name": "b:1b"}]}))
    process, url = run_cli("--script", str(script), "--answer", "scripted")
    try:
        body = {"model": "b:1b", "stream": False, "messages": [{"role": "user", "content": "x"}]}
        answer = httpx.post(f"{url}/api/chat", json=body).json()
        assert answer["message"]["content"] == "scripted"
    finally:
        assert stop_cli(process)[0] == 0


def test_cli_reports_a_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "bad.yaml"
    script.write_text("models:\n  - {name: a:1b, colour: red}\n")
    result = subprocess.run(
        [sys.executable, "-m", "ragged_graph.testing.ollama_server", "--script", str(script)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown key 'colour'" in result.stderr


def test_plugin_import_stays_light() -> None:
    code = (
        "import sys, ragged_graph.testing.pytest_plugin;"
        "heavy = [m for m in ('langchain_core', 'langchain_ollama', 'ollama', 'httpx', 'yaml',"
        " 'langgraph') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "", f"plugin import pulled in: {result.stdout.strip()}"


def test_ollama_server_fixture_is_running_with_default_models(
    ollama_server: OllamaServer,
) -> None:
    assert ollama_server.running
    assert ollama_server.base_url == f"http://127.0.0.1:{ollama_server.port}"
    assert set(ollama_server.models) == {m.tag for m in DEFAULT_MODELS}
    assert httpx.get(f"{ollama_server.base_url}/api/version").status_code == 200


def test_factory_servers_get_their_own_ports_and_models(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    first = ollama_server_factory([ScriptedModel(name="a:1b")])
    second = ollama_server_factory([ScriptedModel(name="b:1b")], version="0.5.0")
    assert first.port != second.port
    assert list(first.models) == ["a:1b"]
    assert httpx.get(f"{second.base_url}/api/version").json() == {"version": "0.5.0"}


def test_context_manager_starts_and_stops() -> None:
    with OllamaServer([ScriptedModel(name="a:1b")]) as server:
        url = server.base_url
        assert httpx.get(f"{url}/api/tags").status_code == 200
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/api/tags")


def test_base_url_before_start_is_an_error() -> None:
    server = OllamaServer()
    with pytest.raises(RuntimeError, match="not been started"):
        _ = server.base_url
    server.stop()  # stopping a server never started is harmless


def test_duplicate_models_are_refused() -> None:
    with pytest.raises(ValueError, match="scripted twice"):
        OllamaServer([ScriptedModel(name="mistral"), ScriptedModel(name="mistral:latest")])
