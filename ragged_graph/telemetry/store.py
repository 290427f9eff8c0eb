"""`HistoryStore`: the routing history's one table, in SQLite or PostgreSQL, via SQLAlchemy.

The table (``routing_history``) is created when missing. Times are stored in UTC: as
``timestamp with time zone`` in PostgreSQL, as naive UTC in SQLite (which has no zones).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Dialect,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    func,
    insert,
    make_url,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ragged_graph.telemetry.migrate import add_missing_columns
from ragged_graph.telemetry.records import RoutingRecord

__all__ = [
    "TABLE_NAME",
    "HistoryStore",
    "UTCDateTime",
    "metadata",
    "record_to_row",
    "routing_history",
    "row_to_record",
    "sqlite_file",
]

TABLE_NAME = "routing_history"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime in every database (naive UTC where the database has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_JSON = JSON().with_variant(JSONB(), "postgresql")
# A missing value is SQL NULL here, not JSON null (the default), as for the other columns.
_NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

metadata = MetaData()

_SCHEMA_ATTEMPTS = 5
"""Tries at creating the tables when other threads or processes create them at once."""

routing_history = Table(
    TABLE_NAME,
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime, nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("session_id", String(255)),
    Column("persona", String(128)),
    Column("task_type", String(64), nullable=False),
    Column("task_confidence", Float, nullable=False),
    Column("complexity", Float, nullable=False),
    Column("complexity_breakdown", _JSON, nullable=False),
    Column("tier", String(16), nullable=False),
    Column("model", String(255), nullable=False),
    Column("model_tier", String(16), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("answered_by", String(255)),
    Column("host", String(255)),
    Column("attempts", _JSON, nullable=False),
    Column("fallback_count", Integer, nullable=False),
    Column("outcome", String(64), nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("first_token_ms", Float),
    Column("tokens_in", Integer),
    Column("tokens_out", Integer),
    Column("tokens_per_s", Float),
    Column("cost_usd", Float, nullable=False),
    Column("query_text", Text),
    Column("query_hash", String(64)),
    Column("ab_experiment", String(64)),
    Column("ab_variant", String(64)),
    Column("feedback", Float),
    Column("roles", _NULLABLE_JSON),
    Index(f"ix_{TABLE_NAME}_time", "time"),
    Index(f"ix_{TABLE_NAME}_request_id", "request_id"),
    Index(f"ix_{TABLE_NAME}_model", "model"),
)
"""One row per routed request; the columns are :class:`RoutingRecord`'s fields."""

_COLUMNS = tuple(column.name for column in routing_history.columns if column.name != "id")


def record_to_row(record: RoutingRecord) -> dict[str, Any]:
    """The table row for ``record``."""
    row = record.model_dump(mode="python")
    row["attempts"] = [attempt.model_dump(mode="json") for attempt in record.attempts]
    if record.roles is not None:
        row["roles"] = [role.model_dump(mode="json") for role in record.roles]
    return row


def row_to_record(row: Mapping[str, Any]) -> RoutingRecord:
    """The record a table row holds."""
    return RoutingRecord.model_validate({name: row[name] for name in _COLUMNS})


def sqlite_file(url: str) -> Path | None:
    """The SQLite file ``url`` names (``~`` expanded); None for PostgreSQL and in-memory."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):
        return None
    return Path(database).expanduser()


class HistoryStore:
    """The history table in one database; thread-safe (one engine, pooled connections).

    Creating a store connects to nothing: the engine and the table are made on first use.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        """The SQLAlchemy URL."""
        self._engine: Engine | None = None
        self._schema_ready = False
        self._lock = threading.Lock()

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return make_url(self.url).get_backend_name()

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (made on first use)."""
        with self._lock:
            if self._engine is None:
                self._engine = self._make_engine()
            return self._engine

    def _make_engine(self) -> Engine:
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite":
            return create_engine(url, pool_pre_ping=True, hide_parameters=True)
        file = sqlite_file(self.url)
        if file is None:
            # One shared in-memory database for every thread (the default pool gives each
            # thread its own, empty one).
            return create_engine(
                url,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
                hide_parameters=True,
            )
        file.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url.set(database=str(file)), hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def create_schema(self) -> None:
        """Create the table (and its indexes) if missing; add the columns an older table
        lacks (see :mod:`ragged_graph.telemetry.migrate`).

        Safe when another thread or process creates them at the same moment (the history
        writer and the latency learner both may, on a new database).
        """
        for attempt in range(_SCHEMA_ATTEMPTS):
            try:
                metadata.create_all(self.engine, checkfirst=True)
                break
            except SQLAlchemyError:
                # Another creator got there between the check and the CREATE: check again.
                if attempt == _SCHEMA_ATTEMPTS - 1:
                    raise
        add_missing_columns(self.engine, routing_history)
        self._schema_ready = True

    def ensure_schema(self) -> None:
        """:meth:`create_schema` unless this store has done so (and nothing failed since)."""
        if not self._schema_ready:
            self.create_schema()

    def insert(self, records: Sequence[RoutingRecord]) -> None:
        """Write ``records`` in one transaction (creating the table first if needed)."""
        if not records:
            return
        self.ensure_schema()
        rows = [record_to_row(record) for record in records]
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(routing_history), rows)
        except Exception:
            # The table may have been dropped or the database replaced: check it next time.
            self._schema_ready = False
            raise

    def count(self) -> int:
        """How many records the table holds."""
        self.ensure_schema()
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(routing_history)).scalar_one()
            )

    def records(self, since: datetime | None = None) -> list[RoutingRecord]:
        """Every record from ``since`` on (all when None), oldest first."""
        return [row_to_record(row) for row in self.rows(since)]

    def rows(
        self,
        since: datetime | None = None,
        columns: Iterable[str] | None = None,
        *,
        where: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Table rows from ``since`` on, oldest first, with only ``columns`` if given, and
        only those whose columns equal ``where``'s values if given."""
        self.ensure_schema()
        chosen = (
            [routing_history.c[name] for name in columns]
            if columns is not None
            else list(routing_history.columns)
        )
        query = select(*chosen).order_by(routing_history.c.time, routing_history.c.id)
        if since is not None:
            query = query.where(routing_history.c.time >= since)
        for name, value in (where or {}).items():
            query = query.where(routing_history.c[name] == value)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def close(self) -> None:
        """Close the pooled connections."""
        with self._lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # WAL: `ragged-graph analytics` can read while a server writes; NORMAL sync is safe in WAL.
    cursor = connection.cursor()
    try:
        # First: switching to WAL takes a lock that another new connection may hold.
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()
