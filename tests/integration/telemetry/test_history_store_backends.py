"""The same records come back from SQLite and PostgreSQL: times in UTC, JSON intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect

from ragged_graph.telemetry import AttemptSummary, HistoryWriter
from ragged_graph.telemetry.store import HistoryStore
from tests.support.history import make_record

pytestmark = pytest.mark.integration


def test_records_round_trip_exactly(history_url: str) -> None:
    tokyo = timezone(timedelta(hours=9))
    failed = AttemptSummary(
        model="a:7b", host="h", ok=False, error_code="HOST_UNAVAILABLE", error="ré", latency_ms=1.5
    )
    written = [
        make_record(0, time=datetime(2026, 2, 1, 9, 0, tzinfo=tokyo), query_text="¿qué?"),
        make_record(1, attempts=(failed, *make_record().attempts), fallback_count=1),
    ]
    store = HistoryStore(history_url)
    store.insert(written)
    read = store.records()  # oldest first
    assert read == [written[1], written[0]]
    assert read[1].time == datetime(2026, 2, 1, 0, 0, tzinfo=UTC)
    store.close()


def test_a_period_is_cut_the_same_way(history_url: str) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    writer = HistoryWriter(history_url)
    for i in range(10):
        writer.record(make_record(i, time=start + timedelta(minutes=i)))
    assert writer.close()
    store = HistoryStore(history_url)
    assert len(store.records(since=start + timedelta(minutes=7))) == 3
    assert store.count() == 10
    store.close()


def test_postgres_keeps_zoned_times_and_jsonb(postgres_schema_url: str) -> None:
    store = HistoryStore(postgres_schema_url)
    store.create_schema()
    columns = {
        column["name"]: column["type"]
        for column in inspect(store.engine).get_columns("routing_history")
    }
    assert columns["time"].timezone is True
    assert str(columns["attempts"]).upper() == "JSONB"
    store.close()
