"""Records to write, and a clean decision logger for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ragged_graph.telemetry import remove_decision_handlers
from tests.support.history import RecordFactory, make_record


@pytest.fixture
def record_factory() -> RecordFactory:
    """`record_factory(i, **fields)`: a `RoutingRecord` for tests."""
    return make_record


@pytest.fixture(autouse=True)
def _clean_decision_logger() -> Iterator[None]:
    remove_decision_handlers()
    yield
    remove_decision_handlers()
