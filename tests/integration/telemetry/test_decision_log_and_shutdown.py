"""Through the router: one decision-log line per request when configured, and the history
written at interpreter exit without an explicit close."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ragged_graph import AllModelsFailedError, RaggedRouter
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import Fault, OllamaServer
from tests.support.history import config_for

pytestmark = pytest.mark.integration


def test_one_json_line_per_decision_matching_the_history(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    log_file = tmp_path / "decisions.jsonl"
    settings = {"logging": {"format": "json", "file": str(log_file)}}
    router = RaggedRouter(config=config_for(ollama_server, url, settings=settings))
    router.invoke("What is Paris?")
    router.invoke("Write a Python function that adds two numbers.")
    for name in list(ollama_server.models):
        ollama_server.update_model(name, fault=Fault.NOT_FOUND)
    with pytest.raises(AllModelsFailedError):
        router.invoke("What is Paris?")
    router.close()
    for handler in logging.getLogger("ragged_graph.decisions").handlers:
        handler.flush()
    lines = [json.loads(line) for line in log_file.read_text("utf-8").splitlines()]
    store = HistoryStore(url)
    records = store.records()
    store.close()
    assert len(lines) == len(records) == 3
    assert [line["request_id"] for line in lines] == [record.request_id for record in records]
    assert [line["outcome"] for line in lines] == ["answered", "answered", "ALL_MODELS_FAILED"]
    assert lines[1]["task"] == "code_generation"
    assert lines[2]["failed"]
    assert "query" not in lines[0]  # hashed by default, so only the hash is logged
    assert lines[0]["query_hash"] == records[0].query_hash


def test_the_decision_log_works_with_the_history_off(
    ollama_server: OllamaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    router = RaggedRouter(config=config_for(ollama_server, "sqlite://", enabled=False))
    caplog.set_level(logging.INFO, logger="ragged_graph.decisions")
    router.invoke("What is Paris?")
    (entry,) = [r for r in caplog.records if r.name == "ragged_graph.decisions"]
    assert "model=" in entry.getMessage()
    assert "outcome=answered" in entry.getMessage()


def test_records_still_queued_at_exit_are_written(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    script = textwrap.dedent(
        f"""
        from ragged_graph.telemetry import HistoryWriter
        from tests.support.history import make_record

        writer = HistoryWriter({url!r}, batch_size=50)
        for i in range(2000):
            writer.record(make_record(i))
        # no close(): the exit hook writes what is queued
        """
    )
    repo = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", script], check=True, cwd=repo, timeout=60)
    assert HistoryStore(url).count() == 2000
