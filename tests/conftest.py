"""Test-suite-wide settings."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Keep the routing history, on by default, out of the user's data folder: every config
    built by the tests (and every subprocess they start) writes under a temporary one,
    removed at exit after the history writers' own exit hooks (registered later, run first)
    have written what they still held."""
    folder = tempfile.mkdtemp(prefix="ragged-graph-tests-data-")
    os.environ["XDG_DATA_HOME"] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


_TRACING_SWITCHES = (
    "LANGSMITH_TRACING",
    "LANGSMITH_TRACING_V2",
    "LANGCHAIN_TRACING",
    "LANGCHAIN_TRACING_V2",
)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Keep LangSmith tracing off, whatever the developer's shell says: no test (nor any
    subprocess a test starts) sends traces anywhere. The `langsmith_receiver` fixture turns
    it on for one test, towards a loopback receiver."""
    for name in _TRACING_SWITCHES:
        os.environ.pop(name, None)
    from langsmith import utils as ls_utils

    ls_utils.get_env_var.cache_clear()
