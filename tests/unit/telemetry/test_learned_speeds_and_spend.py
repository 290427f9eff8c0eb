"""What the router learns from the history: moving averages of speed, and the spend so far."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.registry.registry import ModelRegistry
from ragged_graph.registry.sources.ollama import OllamaSource
from ragged_graph.routing.latency import seed_speed
from ragged_graph.routing.router import Router
from ragged_graph.telemetry import AttemptSummary
from ragged_graph.telemetry.learned import HistoryLearner, learn_speeds, spend_of_others
from ragged_graph.telemetry.store import HistoryStore
from tests.support.cloud import hybrid_router
from tests.support.history import make_record
from tests.support.registries import budget, serving


def attempt(model: str, first_token_ms: float) -> AttemptSummary:
    return AttemptSummary(model=model, ok=True, latency_ms=500.0, first_token_ms=first_token_ms)


def test_speeds_are_moving_averages_seeded_from_the_card() -> None:
    router = hybrid_router(("llama3.1:8b",))
    card = router.registry.get("llama3.1:8b").card
    rows = [
        {
            "answered_by": "llama3.1:8b",
            "tokens_per_s": 100.0,
            "attempts": [{"model": "llama3.1:8b", "ok": True, "first_token_ms": 40.0}],
        },
        {
            "answered_by": "llama3.1:8b",
            "tokens_per_s": 100.0,
            "attempts": [{"model": "llama3.1:8b", "ok": True, "first_token_ms": 40.0}],
        },
        {"answered_by": "gone:1b", "tokens_per_s": 5.0, "attempts": []},
        {"answered_by": None, "tokens_per_s": None, "attempts": []},
    ]
    speeds = learn_speeds(rows, lambda name: card if name == card.name else None, smoothing=0.5)
    assert set(speeds) == {"llama3.1:8b"}
    seed = seed_speed(card)
    learned = speeds["llama3.1:8b"]
    assert learned.samples == 2
    assert learned.tokens_per_second == pytest.approx(100 - (100 - seed.tokens_per_second) / 4)
    assert learned.first_token_ms == pytest.approx(40 + (seed.first_token_ms - 40) / 4)


def test_spend_is_summed_per_day_and_session_leaving_out_this_process_requests() -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    rows = [
        {"time": start - timedelta(hours=1), "request_id": "x", "session_id": "a", "cost_usd": 0.5},
        {"time": start - timedelta(days=1), "request_id": "y", "session_id": "a", "cost_usd": 0.25},
        {
            "time": start - timedelta(hours=2),
            "request_id": "z",
            "session_id": None,
            "cost_usd": 1.0,
        },
        {"time": start, "request_id": "mine", "session_id": "a", "cost_usd": 9.0},
        {"time": start - timedelta(hours=3), "request_id": "w", "session_id": "b", "cost_usd": 0.0},
    ]
    by_day, by_session = spend_of_others(rows, own={"mine"})
    assert by_day == {date(2026, 3, 2): 1.5, date(2026, 3, 1): 0.25}
    assert by_session == {"a": 0.75}


def test_the_learner_reads_the_history_and_hands_the_router_its_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    now = datetime.now(UTC)
    store = HistoryStore(url)
    store.insert(
        [
            make_record(
                i,
                time=now - timedelta(minutes=10 - i),
                answered_by="llama3.1:8b",
                attempts=(attempt("llama3.1:8b", 30.0),),
                tokens_per_s=150.0,
                session_id="s",
                cost_usd=0.01,
            )
            for i in range(5)
        ]
    )
    store.close()
    router = hybrid_router(("llama3.1:8b",))
    router.spend.started_at = now.timestamp()
    learner = HistoryLearner(router, lambda: HistoryStore(url), smoothing=0.5)
    try:
        learner.refresh()
        speed = router.latency_stats.speeds["llama3.1:8b"]
        assert speed.samples == 5
        assert speed.tokens_per_second > 140
        assert router.spend.spent_in_session("s") == pytest.approx(0.05)
        assert router.spend.spent_today() >= 0.0  # today's share depends on the clock
        learner.refresh()  # the baseline is read again, not added again
        assert router.spend.spent_in_session("s") == pytest.approx(0.05)
    finally:
        learner.close()


def test_observing_an_answer_moves_the_averages_at_once() -> None:
    router = hybrid_router(("llama3.1:8b",))
    card = router.registry.get("llama3.1:8b").card
    learner = HistoryLearner(router, lambda: HistoryStore("sqlite://"), smoothing=1.0)
    learner.observe(card, first_token_ms=25.0, tokens_per_second=200.0)
    speed = router.latency_stats.speed_for(card)
    assert (speed.first_token_ms, speed.tokens_per_second, speed.samples) == (25.0, 200.0, 1)


def test_a_database_error_leaves_the_router_as_it_was(caplog: pytest.LogCaptureFixture) -> None:
    router = hybrid_router(("llama3.1:8b",))

    def broken() -> HistoryStore:
        raise OSError("disk gone")

    learner = HistoryLearner(router, broken)
    before = router.latency_stats
    learner.refresh()
    assert router.latency_stats is before
    assert "could not read it" in caplog.text


def history_with_one_answer(folder: Path) -> str:
    """The URL of a history holding one request llama3.1:8b answered a minute ago."""
    url = f"sqlite:///{folder / 'history.sqlite3'}"
    store = HistoryStore(url)
    store.insert(
        [
            make_record(
                0,
                time=datetime.now(UTC) - timedelta(minutes=1),
                answered_by="llama3.1:8b",
                attempts=(attempt("llama3.1:8b", 30.0),),
                tokens_per_s=150.0,
            )
        ]
    )
    store.close()
    return url


def test_a_registry_that_fails_while_learning_leaves_the_router_as_it_was(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = history_with_one_answer(tmp_path)
    router = hybrid_router(("llama3.1:8b",))

    def broken() -> None:
        raise RuntimeError("the cards could not be read")

    monkeypatch.setattr(router.registry, "cards_known_now", broken)
    learner = HistoryLearner(router, lambda: HistoryStore(url))
    before = router.latency_stats
    try:
        learner.refresh()  # runs in a background thread: it must not raise
    finally:
        learner.close()
    assert router.latency_stats is before
    assert "could not learn the models' speeds" in caplog.text


def test_spend_by_another_process_counts_after_a_refresh_and_own_spend_counts_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    now = datetime.now(UTC)
    router = hybrid_router(("llama3.1:8b",))
    learner = HistoryLearner(router, lambda: HistoryStore(url))
    store = HistoryStore(url)
    try:
        learner.refresh()
        assert router.spend.spent_in_session("s") == 0
        # This process answers: the ledger counts it at once, then its record is written.
        router.spend.add(0.02, session_id="s", request_id="mine")
        store.insert([make_record(0, request_id="mine", session_id="s", cost_usd=0.02, time=now)])
        # Another process sharing the database answers in the same session.
        store.insert([make_record(1, request_id="theirs", session_id="s", cost_usd=0.03, time=now)])
        assert router.spend.spent_in_session("s") == pytest.approx(0.02)
        learner.refresh()
        assert router.spend.spent_in_session("s") == pytest.approx(0.05)
        assert router.spend.spent_today() == pytest.approx(0.05)
    finally:
        store.close()
        learner.close()


def test_a_learner_dropped_without_close_stops_its_thread() -> None:
    router = hybrid_router(("llama3.1:8b",))
    learner = HistoryLearner(router, lambda: HistoryStore("sqlite://"), refresh_s=0.01)
    before = set(threading.enumerate())
    learner.start()
    [thread] = [t for t in threading.enumerate() if t not in before]
    assert thread.name == "ragged-graph-history-learner"
    assert thread.is_alive()

    del learner
    gc.collect()
    thread.join(timeout=5)

    assert not thread.is_alive()


def test_learning_asks_no_host_and_learns_the_models_the_catalogue_knows(tmp_path: Path) -> None:
    url = history_with_one_answer(tmp_path)
    asked: list[str] = []
    answer = serving(["llama3.1:8b"])

    def host(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answer.handle_request(request)

    source = OllamaSource("http://ollama.test", host="box", transport=httpx.MockTransport(host))
    router = Router(RouterConfig(), registry=ModelRegistry(budget=budget(64), hosts=[source]))
    learner = HistoryLearner(router, lambda: HistoryStore(url))
    try:
        learner.refresh()  # before any request: no snapshot of the host yet
    finally:
        learner.close()

    assert asked == []
    assert router.latency_stats.speeds["llama3.1:8b"].samples == 1
