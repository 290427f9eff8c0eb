"""The decision log: quiet by default; one text or JSON line per decision when asked."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from ragged_graph.telemetry import (
    DECISION_LOGGER,
    AttemptSummary,
    DecisionLog,
    add_decision_handler,
)
from tests.support.history import RecordFactory


def test_nothing_is_built_or_shown_with_pythons_default_logging(
    record_factory: RecordFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    log = DecisionLog()
    assert not log.enabled()  # no handler, no level: the root's WARNING applies
    log.log(record_factory())
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_json_lines_go_to_the_chosen_stream_one_per_decision(
    record_factory: RecordFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    add_decision_handler(format="json", stream="stderr")
    log = DecisionLog("json")
    failed = AttemptSummary(
        model="a:7b", host="h0", ok=False, error_code="MODEL_NOT_FOUND", latency_ms=2
    )
    log.log(record_factory(1, query_text="hello", query_hash=None))
    log.log(record_factory(2, attempts=(failed,), fallback_count=1))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["event"] == "routing_decision"
    assert first["request_id"] == "request-1"
    assert first["model"] == "qwen2.5-coder:14b"
    assert first["tier"] == "balanced"
    assert first["outcome"] == "answered"
    assert first["query"] == "hello"
    assert "query_hash" not in first
    assert second["failed"] == ["a:7b@h0:MODEL_NOT_FOUND"]
    assert second["fallbacks"] == 1
    assert "query" not in second


def test_text_lines_are_key_value_pairs(
    record_factory: RecordFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    add_decision_handler(format="text", stream="stdout")
    DecisionLog("text").log(record_factory(7, persona=None))
    (line,) = capsys.readouterr().out.splitlines()
    assert " INFO ragged_graph.decisions: " in line
    assert "request_id=request-7" in line
    assert "persona=-" in line
    assert "model=qwen2.5-coder:14b" in line
    assert 'reason="code at balanced tier"' in line


def test_a_file_gets_the_lines_and_adding_it_twice_does_not_double_them(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    file = tmp_path / "logs" / "decisions.jsonl"
    add_decision_handler(format="json", file=str(file))
    add_decision_handler(format="json", file=str(file))
    DecisionLog("json").log(record_factory())
    for handler in logging.getLogger(DECISION_LOGGER).handlers:
        handler.flush()
    assert len(file.read_text().splitlines()) == 1


def test_an_applications_own_logging_sees_the_fields_on_the_record(
    record_factory: RecordFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=DECISION_LOGGER)
    DecisionLog().log(record_factory(3))
    (entry,) = caplog.records
    assert entry.levelno == logging.INFO
    assert entry.routing["request_id"] == "request-3"  # type: ignore[attr-defined]


def test_lines_are_logged_at_the_configured_level(
    record_factory: RecordFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=DECISION_LOGGER)
    DecisionLog(level="DEBUG").log(record_factory())
    assert caplog.records == []
    DecisionLog(level="WARNING").log(record_factory())
    assert [entry.levelname for entry in caplog.records] == ["WARNING"]
