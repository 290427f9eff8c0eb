"""Feedback values and the feedback log in a real SQLite history file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ragged_graph.errors import InvalidRequestError
from ragged_graph.telemetry.feedback import FeedbackLog, make_feedback
from ragged_graph.telemetry.store import HistoryStore
from tests.support.history import make_record


@pytest.fixture
def store(tmp_path: Path) -> HistoryStore:
    return HistoryStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")


def test_thumbs_become_a_score_and_an_explicit_score_wins() -> None:
    assert make_feedback("r", thumbs=True).effective_score == 1.0
    assert make_feedback("r", thumbs=False).effective_score == 0.0
    assert make_feedback("r", thumbs=False, score=0.4).effective_score == 0.4
    assert make_feedback("r", correction="42").effective_score is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give a score, thumbs up/down or a correction"),
        ({"score": -0.1}, "score"),
        ({"score": float("nan")}, "a number from 0 to 1"),
    ],
)
def test_feedback_without_a_rating_or_out_of_range_is_refused(
    fields: dict[str, float], message: str
) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        make_feedback("r", **fields)


def test_the_latest_score_lands_on_the_record_and_every_rating_is_kept(
    store: HistoryStore,
) -> None:
    store.insert([make_record(1), make_record(2)])
    log = FeedbackLog(store)
    assert log.add(make_feedback("request-1", score=0.2))
    assert log.add(make_feedback("request-1", thumbs=True))
    scores = {record.request_id: record.feedback for record in store.records()}
    assert scores == {"request-1": 1.0, "request-2": None}
    assert [item.effective_score for item in log.for_request("request-1")] == [0.2, 1.0]


def test_a_correction_alone_keeps_the_score_and_feedback_before_its_record_is_kept(
    store: HistoryStore,
) -> None:
    store.insert([make_record(1)])
    log = FeedbackLog(store)
    assert log.add(make_feedback("request-1", score=0.7))
    assert log.add(make_feedback("request-1", correction="Paris"))
    assert not log.add(make_feedback("not-written-yet", score=0.5))
    [record] = store.records()
    assert record.feedback == 0.7
    assert [item.request_id for item in log.since()] == [
        "request-1",
        "request-1",
        "not-written-yet",
    ]


def test_counting_feedback_since_a_time(store: HistoryStore) -> None:
    log = FeedbackLog(store)
    now = datetime.now(UTC)
    log.add(make_feedback("a", score=1.0).model_copy(update={"time": now - timedelta(days=2)}))
    log.add(make_feedback("b", score=0.0))
    assert log.count() == 2
    assert log.count(since=now - timedelta(hours=1)) == 1
