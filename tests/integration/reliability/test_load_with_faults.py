"""Concurrent requests with random faults: each ends in an answer or a typed error, in time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from reliability import run  # noqa: E402


async def test_every_request_ends_in_an_answer_or_a_typed_error_within_its_deadline() -> None:
    result = await run(requests=150, fault_rate=0.2, seed=11, deadline_s=15.0)
    outcomes = result["outcomes"]
    assert result["ended"] == 150, "a request was lost"
    assert result["history_records"] == 150, "one routing-history record per request"
    assert result["history_request_ids_distinct"] == 150
    assert "missed deadline" not in outcomes
    assert not [name for name in outcomes if name.startswith("untyped")], outcomes
    assert outcomes.get("answered", 0) >= 140
    assert result["recovered_after_a_failure"] > 0, "faults were injected and recovered from"
    # Several kinds of fault were met and recovered from, not just one.
    assert len(result["failed_attempts_in_answered_requests"]) >= 3
