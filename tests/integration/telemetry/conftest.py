"""Databases for the routing-history tests: a SQLite file, and a real PostgreSQL server.

PostgreSQL comes from ``RAGGED_GRAPH_TEST_POSTGRES_URL`` (``.ci/run`` starts a server from
Debian's package and sets it). Each test gets its own schema there, dropped afterwards.
Without the variable the PostgreSQL cases fail in CI (``CI=true``) and skip elsewhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ragged_graph.telemetry import remove_decision_handlers
from tests.support.history import postgres_url


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections work in a new, empty schema of the test server."""
    base = postgres_url()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The history database, once a SQLite file and once PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite3'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


@pytest.fixture(autouse=True)
def _clean_decision_logger() -> Iterator[None]:
    remove_decision_handlers()
    yield
    remove_decision_handlers()
