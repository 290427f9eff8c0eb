"""The `history:` and `logging:` config sections: defaults, URL forms, and errors naming keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragged_graph.config import RouterConfig, default_history_url
from ragged_graph.errors import ConfigError


def test_the_history_is_on_and_hashes_queries_by_default() -> None:
    history = RouterConfig().history
    assert history.enabled
    assert history.query_text == "hash"
    assert history.queue_size >= 1000


def test_the_default_database_is_a_sqlite_file_under_xdg_data_home() -> None:
    assert default_history_url({"XDG_DATA_HOME": "/data"}) == (
        "sqlite:////data/ragged-graph/history.sqlite3"
    )
    home = default_history_url({})
    assert home == f"sqlite:///{Path.home() / '.local/share/ragged-graph/history.sqlite3'}"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("postgres://u:p@db:5432/h", "postgresql+psycopg://u:p@db:5432/h"),
        ("postgresql://db/h", "postgresql+psycopg://db/h"),
        ("postgresql+psycopg://db/h", "postgresql+psycopg://db/h"),
        ("sqlite:///relative.sqlite3", "sqlite:///relative.sqlite3"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_postgres_short_forms_use_the_installed_psycopg_driver(given: str, kept: str) -> None:
    assert RouterConfig.model_validate({"history": {"url": given}}).history.url == kept


def test_bad_history_settings_name_the_file_and_each_key(tmp_path: Path) -> None:
    file = tmp_path / "router.yaml"
    file.write_text(
        "history:\n  url: mysql://db/h\n  query_text: encrypt\n  queue_size: 0\n  colour: red\n"
        "logging:\n  format: xml\n  level: loud\n"
    )
    with pytest.raises(ConfigError) as caught:
        RouterConfig.from_file(file)
    message = str(caught.value)
    assert str(file) in message
    for key in (
        "history.url",
        "history.query_text",
        "history.queue_size",
        "history.colour",
        "logging.format",
        "logging.level",
    ):
        assert key in message
    assert "postgresql+psycopg://" in message  # says what was expected


def test_logging_is_quiet_by_default_and_levels_are_case_insensitive() -> None:
    default = RouterConfig().logging
    assert (default.stream, default.file, default.format, default.level) == (
        None,
        None,
        "text",
        "INFO",
    )
    assert RouterConfig.model_validate({"logging": {"level": "debug"}}).logging.level == "DEBUG"
