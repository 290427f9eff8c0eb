"""A batch of requests through `RaggedRouter`, faults included, leaves exactly one history
record per request, in SQLite and in PostgreSQL alike."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest

from ragged_graph import AllModelsFailedError, RaggedRouter, StreamInterruptedError
from ragged_graph.telemetry import RoutingRecord
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import DEFAULT_MODELS, Fault, OllamaServer
from tests.support.history import config_for

pytestmark = pytest.mark.integration

QUESTIONS = [
    "What is Paris?",
    "Write a Python function that reverses a linked list.",
    "Solve 3x + 7 = 22 for x.",
    "Summarise the plot of Hamlet in two sentences.",
    "Translate 'good morning' into German.",
    "Compare the trade-offs of B-trees and LSM-trees for a write-heavy workload.",
]
CHAT_MODELS = [model.name for model in DEFAULT_MODELS if "completion" in model.capabilities]


def records_of(url: str) -> list[RoutingRecord]:
    store = HistoryStore(url)
    try:
        return store.records()
    finally:
        store.close()


def test_a_batch_with_fallbacks_and_failures_leaves_one_record_per_request(
    ollama_server: OllamaServer, history_url: str
) -> None:
    router = RaggedRouter(config=config_for(ollama_server, history_url))
    sent: dict[str, str] = {}  # request id -> what should have happened

    def ask(question: str, expected: str) -> None:
        run_id = uuid.uuid4()
        sent[str(run_id)] = expected
        router.invoke(question, config={"run_id": run_id, "metadata": {"session_id": "s-1"}})

    for question in QUESTIONS:
        ask(question, "answered")
    first = router.route(QUESTIONS[0]).model
    ollama_server.update_model(first, fault=Fault.NOT_FOUND)
    for _ in range(3):
        ask(QUESTIONS[0], "fallback")
    for name in CHAT_MODELS:
        ollama_server.update_model(name, fault=Fault.SERVER_ERROR)
    for _ in range(2):
        with pytest.raises(AllModelsFailedError):
            ask(QUESTIONS[0], "failed")
    assert router.services.history is not None
    assert router.services.history.close()

    records = records_of(history_url)
    assert sorted(record.request_id for record in records) == sorted(sent)
    for record in records:
        expected = sent[record.request_id]
        assert record.session_id == "s-1"
        attempts = record.attempts
        assert record.latency_ms >= sum(attempt.latency_ms for attempt in attempts)
        if expected == "failed":
            assert record.outcome == "ALL_MODELS_FAILED"
            assert record.answered_by is None
            assert not any(attempt.ok for attempt in attempts)
            assert record.fallback_count == len(attempts) - 1 >= 1
            assert record.tokens_out is None
            assert record.first_token_ms is None
            continue
        assert record.outcome == "answered"
        assert record.answered_by == attempts[-1].model
        assert record.host == "t"
        assert record.tokens_in
        assert record.tokens_out
        assert record.tokens_per_s
        assert record.tokens_per_s > 0
        assert record.first_token_ms is not None
        assert 0 < record.first_token_ms <= record.latency_ms
        assert record.cost_usd == 0.0  # local models
        if expected == "fallback":
            assert attempts[0].model == first
            assert attempts[0].error_code == "MODEL_NOT_FOUND"
            assert record.answered_by != first
            assert record.fallback_count == 1
        else:
            assert len(attempts) == 1
            assert record.fallback_count == 0
    tasks = {record.task_type for record in records if sent[record.request_id] == "answered"}
    assert len(tasks) >= 4  # the batch spread over task types


def test_streamed_async_and_interrupted_requests_are_recorded_once_each(
    ollama_server: OllamaServer, history_url: str
) -> None:
    router = RaggedRouter(config=config_for(ollama_server, history_url))
    "".join(chunk.text for chunk in router.stream(QUESTIONS[1]))
    asyncio.run(router.ainvoke(QUESTIONS[2]))

    async def astream() -> None:
        async for _chunk in router.astream(QUESTIONS[3]):
            pass

    asyncio.run(astream())
    first = router.route(QUESTIONS[0]).model
    ollama_server.update_model(first, fault=Fault.DROP_MID_STREAM, drop_after_chunks=2)
    with pytest.raises(StreamInterruptedError):
        for _chunk in router.stream(QUESTIONS[0]):
            pass
    router.close()

    records = records_of(history_url)
    assert len(records) == 4
    assert len({record.request_id for record in records}) == 4
    assert [record.outcome for record in records] == ["answered"] * 3 + ["STREAM_INTERRUPTED"]
    interrupted = records[-1]
    assert interrupted.answered_by is None
    assert interrupted.attempts[-1].error_code == "STREAM_INTERRUPTED"


@pytest.mark.parametrize(
    ("privacy", "text_kept", "hash_kept"),
    [("store", True, False), ("hash", False, True), ("omit", False, False)],
)
def test_the_query_is_stored_hashed_or_left_out_as_configured(
    ollama_server: OllamaServer,
    tmp_path: Path,
    privacy: str,
    text_kept: bool,
    hash_kept: bool,
) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    router = RaggedRouter(config=config_for(ollama_server, url, query_text=privacy))
    router.invoke(QUESTIONS[0])
    router.close()
    (record,) = records_of(url)
    assert (record.query_text == QUESTIONS[0]) is text_kept
    assert (record.query_text is None) is not text_kept
    assert (record.query_hash is not None) is hash_kept
    # Nowhere in the database, in any column, when not stored.
    raw = (tmp_path / "h.sqlite3").read_bytes()
    assert (QUESTIONS[0].encode() in raw) is text_kept


def test_an_unusable_database_is_logged_and_every_request_is_answered(
    ollama_server: OllamaServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where a folder should be")
    router = RaggedRouter(config=config_for(ollama_server, f"sqlite:///{blocker / 'h.sqlite3'}"))
    caplog.set_level(logging.ERROR, logger="ragged_graph.telemetry.history")
    answers = [router.invoke(question) for question in QUESTIONS]
    assert all(answer.text for answer in answers)
    history = router.services.history
    assert history is not None
    assert history.flush(timeout=10)
    assert history.stats.failed == len(QUESTIONS)
    assert any("could not write" in entry.getMessage() for entry in caplog.records)
    router.close()


def test_a_table_dropped_while_serving_costs_records_not_requests(
    ollama_server: OllamaServer, history_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Only the writer may make the table again here: the latency learner, reading the
    # history in the background, would race it.
    config = config_for(
        ollama_server, history_url, settings={"latency": {"learn_from_history": False}}
    )
    router = RaggedRouter(config=config)
    history = router.services.history
    assert history is not None
    router.invoke(QUESTIONS[0])
    assert history.flush(timeout=10)
    admin = HistoryStore(history_url)
    from sqlalchemy import text

    with admin.engine.begin() as connection:
        connection.execute(text("DROP TABLE routing_history"))
    caplog.set_level(logging.ERROR, logger="ragged_graph.telemetry.history")
    assert router.invoke(QUESTIONS[1]).text  # answered although its record is lost
    assert history.flush(timeout=10)
    assert history.stats.failed == 1
    assert any("could not write" in entry.getMessage() for entry in caplog.records)
    router.invoke(QUESTIONS[2])  # the table is made again
    router.close()
    assert [record.task_type for record in admin.records()] == [
        router.route(QUESTIONS[2]).task_type
    ]
    admin.close()


def test_history_off_writes_nothing(ollama_server: OllamaServer, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    router = RaggedRouter(config=config_for(ollama_server, url, enabled=False))
    assert router.services.history is None
    router.invoke(QUESTIONS[0])
    assert not (tmp_path / "h.sqlite3").exists()
