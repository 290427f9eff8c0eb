"""The background writer: never blocks or fails a request, flushes on close, drops when full."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text

from ragged_graph.telemetry import HistoryWriter, RoutingRecord
from ragged_graph.telemetry.store import HistoryStore
from tests.support.history import RecordFactory

HISTORY_LOGGER = "ragged_graph.telemetry.history"


class BlockingStore(HistoryStore):
    """A store whose writes wait until the test lets them go."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.entered = threading.Event()
        self.release = threading.Event()

    def insert(self, records: Sequence[RoutingRecord]) -> None:
        self.entered.set()
        assert self.release.wait(10)
        super().insert(records)


def test_close_writes_every_queued_record(tmp_path: Path, record_factory: RecordFactory) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    writer = HistoryWriter(url, batch_size=100)
    for i in range(3_000):
        writer.record(record_factory(i))
    assert writer.close()
    assert HistoryStore(url).count() == 3_000
    stats = writer.stats
    assert (stats.written, stats.failed, stats.dropped, stats.queued) == (3_000, 0, 0, 0)


class CountingStore(HistoryStore):
    """A store that counts its transactions."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.batches: list[int] = []

    def insert(self, records: Sequence[RoutingRecord]) -> None:
        self.batches.append(len(records))
        super().insert(records)


def test_records_arriving_together_are_written_in_one_transaction(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    store = CountingStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    writer = HistoryWriter(store.url, flush_interval_s=5, batch_size=40, store=store)
    for i in range(100):
        writer.record(record_factory(i))
    started = time.perf_counter()
    assert writer.flush(timeout=10)
    assert time.perf_counter() - started < 2  # flush does not wait out the interval
    assert store.batches == [40, 40, 20]
    writer.close()


def test_flush_returns_once_everything_queued_is_written(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    writer = HistoryWriter(url)
    for i in range(50):
        writer.record(record_factory(i))
    assert writer.flush(timeout=10)
    assert HistoryStore(url).count() == 50
    writer.close()


def test_a_full_queue_drops_new_records_with_a_count_and_never_blocks(
    tmp_path: Path, record_factory: RecordFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store = BlockingStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    writer = HistoryWriter(store.url, queue_size=10, batch_size=1, flush_interval_s=0, store=store)
    writer.record(record_factory(0))
    assert store.entered.wait(5)  # the worker holds record 0 and is stuck in the database
    caplog.set_level(logging.WARNING, logger=HISTORY_LOGGER)
    slowest = 0.0
    for i in range(1, 61):
        started = time.perf_counter()
        writer.record(record_factory(i))
        slowest = max(slowest, time.perf_counter() - started)
    assert slowest < 0.05
    assert writer.stats.dropped == 50  # 10 waited in the queue
    warnings = [r.getMessage() for r in caplog.records if r.name == HISTORY_LOGGER]
    # The first drop, then each power of two: visible without flooding the log.
    assert len(warnings) == 6
    assert "queue is full" in warnings[0]
    assert warnings[-1].endswith("32 dropped so far")
    store.release.set()
    assert writer.close()
    assert writer.stats.written == 11
    assert HistoryStore(store.url).count() == 11


def test_a_database_that_cannot_be_opened_is_logged_and_record_still_returns(
    tmp_path: Path, record_factory: RecordFactory, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    writer = HistoryWriter(f"sqlite:///{blocker / 'h.sqlite3'}")
    caplog.set_level(logging.ERROR, logger=HISTORY_LOGGER)
    for i in range(5):
        writer.record(record_factory(i))
    assert writer.flush(timeout=10)
    assert writer.stats.failed == 5
    errors = [r.getMessage() for r in caplog.records if r.name == HISTORY_LOGGER]
    assert errors
    assert "could not write" in errors[0]
    assert "requests are served as usual" in errors[0]
    writer.close()


def test_a_dropped_table_costs_one_batch_and_writing_goes_on(
    tmp_path: Path, record_factory: RecordFactory, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    writer = HistoryWriter(url)
    writer.record(record_factory(0))
    assert writer.flush(timeout=10)
    admin = HistoryStore(url)
    with admin.engine.begin() as connection:
        connection.execute(text("DROP TABLE routing_history"))
    caplog.set_level(logging.ERROR, logger=HISTORY_LOGGER)
    writer.record(record_factory(1))
    assert writer.flush(timeout=10)
    assert writer.stats.failed == 1
    assert any("no such table" in r.getMessage() for r in caplog.records)
    writer.record(record_factory(2))
    assert writer.close()
    assert [record.request_id for record in admin.records()] == ["request-2"]
    admin.close()


def test_record_after_close_is_dropped_and_counted(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    writer = HistoryWriter(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    writer.record(record_factory(0))
    writer.close()
    writer.record(record_factory(1))
    assert writer.stats.dropped == 1
    assert writer.close()  # idempotent


def test_a_writer_nobody_holds_writes_its_records_and_ends_its_thread(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    writer = HistoryWriter(url)
    writer.record(record_factory(0))
    thread = writer._worker.thread
    assert thread is not None
    del writer
    gc.collect()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert HistoryStore(url).count() == 1


def test_a_password_in_the_url_is_not_logged() -> None:
    from ragged_graph.telemetry.writer import safe_url

    assert safe_url("postgresql+psycopg://app:hunter2@db:5432/h") == (
        "postgresql+psycopg://app:***@db:5432/h"
    )
    assert safe_url("sqlite:////var/h.sqlite3") == "sqlite:////var/h.sqlite3"
