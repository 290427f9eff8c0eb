"""Observability: the routing history (records, store, background writer), its metrics, and
the decision log.

- :mod:`~ragged_graph.telemetry.records`: ``RoutingRecord``, one per request.
- :mod:`~ragged_graph.telemetry.store`: the history table in SQLite or PostgreSQL.
- :mod:`~ragged_graph.telemetry.migrate`: columns added since an older table was made.
- :mod:`~ragged_graph.telemetry.writer`: ``HistoryWriter``, a bounded queue and one thread.
- :mod:`~ragged_graph.telemetry.metrics`: per model, tier, persona and host.
- :mod:`~ragged_graph.telemetry.decision_log`: one log line per decision.

SQLAlchemy loads only with the store and metrics (on first use here), not with the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragged_graph.telemetry.decision_log import (
    DECISION_LOGGER,
    DecisionLog,
    add_decision_handler,
    remove_decision_handlers,
)
from ragged_graph.telemetry.records import (
    OUTCOME_ANSWERED,
    AttemptSummary,
    QueryPrivacy,
    RoleSummary,
    RoutingRecord,
    query_fields,
)
from ragged_graph.telemetry.writer import HistoryWriter, WriterStats

if TYPE_CHECKING:
    from ragged_graph.telemetry.metrics import (
        GroupMetrics,
        HistoryMetrics,
        compute_metrics,
        parse_since,
    )
    from ragged_graph.telemetry.store import HistoryStore

__all__ = [
    "DECISION_LOGGER",
    "OUTCOME_ANSWERED",
    "AttemptSummary",
    "DecisionLog",
    "GroupMetrics",
    "HistoryMetrics",
    "HistoryStore",
    "HistoryWriter",
    "QueryPrivacy",
    "RoleSummary",
    "RoutingRecord",
    "WriterStats",
    "add_decision_handler",
    "compute_metrics",
    "parse_since",
    "query_fields",
    "remove_decision_handlers",
]

_LAZY = {
    "HistoryStore": "ragged_graph.telemetry.store",
    "GroupMetrics": "ragged_graph.telemetry.metrics",
    "HistoryMetrics": "ragged_graph.telemetry.metrics",
    "compute_metrics": "ragged_graph.telemetry.metrics",
    "parse_since": "ragged_graph.telemetry.metrics",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'ragged_graph.telemetry' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value
