"""Where a request's variant is recorded and applied: decision log, trace, route options,
and an older history table that lacks the columns."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

from ragged_graph.registry.cards import Tier
from ragged_graph.routing.router import RouteOptions
from ragged_graph.routing_graph.convert import with_variant
from ragged_graph.telemetry.decision_log import decision_fields
from ragged_graph.telemetry.migrate import SchemaMigrationError
from ragged_graph.telemetry.store import TABLE_NAME, HistoryStore
from ragged_graph.telemetry.tracing import experiment_metadata, experiment_tags
from tests.support.history import make_record


def test_the_decision_log_line_names_the_experiment_and_variant() -> None:
    fields = decision_fields(make_record(ab_experiment="exp", ab_variant="b"))
    assert (fields["experiment"], fields["variant"]) == ("exp", "b")
    assert "experiment" not in decision_fields(make_record())


def test_the_trace_tag_and_metadata() -> None:
    assert experiment_tags("coder-model", "coder") == ["ab:coder-model=coder"]
    assert experiment_metadata("coder-model", "coder") == {
        "routing_experiment": "coder-model",
        "routing_variant": "coder",
    }


def test_a_variant_overrides_the_route_options() -> None:
    options = RouteOptions(persona=None, local_only=False)
    experiment = {
        "name": "e",
        "variant": "v",
        "overrides": {"model": "m:7b", "tier": "quality", "local_only": True},
    }
    changed = with_variant(options, experiment)
    assert (changed.model, changed.tier, changed.local_only) == ("m:7b", Tier.QUALITY, True)
    assert with_variant(options, None) is options
    assert with_variant(options, {"name": "e", "variant": "control", "overrides": {}}) is options


def test_a_table_missing_a_required_column_is_an_error_not_a_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    old = MetaData()
    Table(TABLE_NAME, old, Column("id", Integer, primary_key=True), Column("time", String(40)))
    old.create_all(engine)
    engine.dispose()
    store = HistoryStore(url)
    with pytest.raises(SchemaMigrationError, match="request_id"):
        store.create_schema()
    store.close()
    engine = create_engine(url)
    with engine.connect() as connection:
        columns = connection.exec_driver_sql(f"PRAGMA table_info({TABLE_NAME})").all()
    engine.dispose()
    assert [column[1] for column in columns] == ["id", "time"]
