"""The history table in a SQLite file: round trips, UTC times, periods, a missing table."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from ragged_graph.telemetry import AttemptSummary
from ragged_graph.telemetry.store import HistoryStore, sqlite_file
from tests.support.history import RecordFactory


def test_records_come_back_as_written(tmp_path: Path, record_factory: RecordFactory) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    failed = AttemptSummary(
        model="a:7b", host="h1", ok=False, error_code="MODEL_NOT_FOUND", error="gone", latency_ms=3
    )
    written = [
        record_factory(1, session_id="s-1", query_text="hi", query_hash=None),
        record_factory(
            2,
            answered_by=None,
            outcome="ALL_MODELS_FAILED",
            attempts=(failed,),
            fallback_count=0,
            tokens_in=None,
            tokens_out=None,
            tokens_per_s=None,
            first_token_ms=None,
            persona=None,
        ),
    ]
    store.insert(written)
    assert store.records() == written
    assert store.count() == 2
    store.close()


def test_times_are_kept_in_utc_whatever_zone_they_came_in(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    paris = timezone(timedelta(hours=1))
    store.insert([record_factory(time=datetime(2026, 3, 1, 13, 0, tzinfo=paris))])
    (record,) = store.records()
    assert record.time == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert record.time.tzinfo == UTC
    store.close()


def test_since_keeps_records_from_that_moment_on(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    store.insert([record_factory(i, time=start + timedelta(hours=i)) for i in range(5)])
    kept = store.records(since=start + timedelta(hours=3))
    assert [record.request_id for record in kept] == ["request-3", "request-4"]
    store.close()


def test_the_table_is_made_again_after_it_was_dropped(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    store.insert([record_factory(1)])
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE routing_history"))
    with pytest.raises(OperationalError, match="no such table"):
        store.insert([record_factory(2)])
    store.insert([record_factory(3)])  # the failed write marked the table for re-creation
    assert [record.request_id for record in store.records()] == ["request-3"]
    store.close()


def test_a_sqlite_file_gets_its_folder_and_tilde_is_expanded(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'deep' / 'er' / 'h.sqlite3'}")
    store.insert([record_factory()])
    assert (tmp_path / "deep" / "er" / "h.sqlite3").is_file()
    store.close()
    assert sqlite_file("sqlite:///~/h.sqlite3") == Path.home() / "h.sqlite3"
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("postgresql+psycopg://db/h") is None


def test_an_in_memory_database_is_shared_by_every_thread(record_factory: RecordFactory) -> None:
    store = HistoryStore("sqlite://")
    writer = threading.Thread(target=store.insert, args=([record_factory()],))
    writer.start()
    writer.join()
    assert store.count() == 1
    store.close()


def test_stores_creating_a_new_database_at_the_same_moment_do_not_fail(tmp_path: Path) -> None:
    # The history writer and the latency learner both open a new database on start-up.
    for attempt in range(10):
        url = f"sqlite:///{tmp_path / f'race-{attempt}.sqlite3'}"
        stores = [HistoryStore(url) for _ in range(4)]
        barrier = threading.Barrier(len(stores))
        failures: list[BaseException] = []

        threads = [
            threading.Thread(target=_create_schema, args=(store, barrier, failures))
            for store in stores
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for store in stores:
            store.close()
        assert failures == []


def _create_schema(
    store: HistoryStore, barrier: threading.Barrier, failures: list[BaseException]
) -> None:
    barrier.wait()
    try:
        store.create_schema()
    except BaseException as exc:
        failures.append(exc)
