"""Bringing an existing history table up to date: columns added since it was created.

``metadata.create_all`` makes a missing table but leaves an existing one as it is, so a
history file written by an older version lacks the columns added since (for example the A/B
experiment's ``ab_experiment``). :func:`add_missing_columns` adds every missing nullable
column with ``ALTER TABLE ... ADD COLUMN`` (SQLite and PostgreSQL alike); old rows hold NULL
there. A missing column that may not be NULL cannot be added to rows that have no value for
it: that is reported as an error naming the column, and nothing is changed.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, Table, inspect, text
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["SchemaMigrationError", "add_missing_columns"]

logger = logging.getLogger("ragged_graph.telemetry.history")


class SchemaMigrationError(RuntimeError):
    """An existing history table lacks a column that cannot be added in place."""


def add_missing_columns(engine: Engine, table: Table) -> list[str]:
    """Add ``table``'s nullable columns that the database's table lacks; return their names.

    Safe to run concurrently: a column another process added meanwhile is not an error.
    """
    inspector = inspect(engine)
    if not inspector.has_table(table.name, schema=table.schema):
        return []
    existing = {column["name"] for column in inspector.get_columns(table.name, schema=table.schema)}
    missing = [column for column in table.columns if column.name not in existing]
    required = [column.name for column in missing if not column.nullable]
    if required:
        raise SchemaMigrationError(
            f"the history table {table.name} lacks the required column(s) "
            f"{', '.join(required)}, which cannot be added to existing rows: point "
            "history.url at a new database, or move the old table aside"
        )
    preparer = engine.dialect.identifier_preparer
    added = []
    for column in missing:
        kind = column.type.compile(dialect=engine.dialect)
        statement = (
            f"ALTER TABLE {preparer.format_table(table)} "
            f"ADD COLUMN {preparer.format_column(column)} {kind}"
        )
        try:
            with engine.begin() as connection:
                connection.execute(text(statement))
        except SQLAlchemyError:
            # Another process may have added it first; anything else is a real failure.
            columns = inspect(engine).get_columns(table.name, schema=table.schema)
            if column.name not in {found["name"] for found in columns}:
                raise
            continue
        added.append(column.name)
    if added:
        logger.info("routing history: added column(s) %s to %s", ", ".join(added), table.name)
    return added
