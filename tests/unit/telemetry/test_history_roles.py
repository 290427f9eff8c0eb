"""Ensemble roles in the history: kept per record, NULL for one-model records, and an older
history file (before roles) still opens and takes new records."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, MetaData, Table, create_engine, insert, inspect, text

from ragged_graph.telemetry import AttemptSummary
from ragged_graph.telemetry.records import RoleSummary
from ragged_graph.telemetry.store import HistoryStore, record_to_row, routing_history
from tests.support.history import RecordFactory

ROLES = (
    RoleSummary(role="rewriter", model="llama3.2:3b", host="a", ok=True, attempts=1, latency_ms=8),
    RoleSummary(
        role="primary",
        model="qwen2.5:14b",
        host="b",
        ok=True,
        attempts=2,
        latency_ms=40,
        tokens_in=30,
        tokens_out=50,
        cost_usd=0.00008,
    ),
    RoleSummary(
        role="verifier", model="llama3.3:70b", host="a", ok=True, attempts=1, outcome="accept"
    ),
)


def test_an_ensemble_record_keeps_each_role(tmp_path: Path, record_factory: RecordFactory) -> None:
    store = HistoryStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    attempt = AttemptSummary(model="llama3.2:3b", host="a", ok=True, latency_ms=8, role="rewriter")
    written = [record_factory(1, roles=ROLES, attempts=(attempt,)), record_factory(2)]
    store.insert(written)
    assert store.records() == written
    (ensemble, single) = store.records()
    assert ensemble.roles is not None
    assert [role.role for role in ensemble.roles] == ["rewriter", "primary", "verifier"]
    assert ensemble.attempts[0].role == "rewriter"
    assert single.roles is None
    with store.engine.connect() as connection:
        nulls = connection.execute(
            text("SELECT count(*) FROM routing_history WHERE roles IS NULL")
        ).scalar_one()
    assert nulls == 1, "a one-model record has SQL NULL roles, not JSON null"
    store.close()


def _old_table(metadata: MetaData) -> Table:
    """The history table as written before ensembles: no roles column."""
    columns = [
        Column(column.name, column.type, primary_key=column.primary_key, nullable=column.nullable)
        for column in routing_history.columns
        if column.name != "roles"
    ]
    return Table(routing_history.name, metadata, *columns)


def test_a_history_file_from_before_roles_still_opens(
    tmp_path: Path, record_factory: RecordFactory
) -> None:
    path = tmp_path / "old.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    old = _old_table(MetaData())
    old.create(engine)
    row = record_to_row(record_factory(1))
    del row["roles"]
    with engine.begin() as connection:
        connection.execute(insert(old), [row])
    engine.dispose()

    store = HistoryStore(f"sqlite:///{path}")
    (kept,) = store.records()
    assert kept.request_id == "request-1"
    assert kept.roles is None
    store.insert([record_factory(2, roles=ROLES)])
    assert [record.roles for record in store.records()] == [None, ROLES]
    columns = {column["name"] for column in inspect(store.engine).get_columns("routing_history")}
    assert "roles" in columns
    store.close()
