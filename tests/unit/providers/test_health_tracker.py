from __future__ import annotations

import threading
from pathlib import Path

from ragged_graph.errors import BadRequestError, HostUnavailableError, ProviderServerError
from ragged_graph.providers.health import HealthTracker, read_health_file


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def failing(model: str = "m", host: str = "h") -> ProviderServerError:
    return ProviderServerError("boom", model=model, host=host)


def tracker(clock: Clock, **kwargs: object) -> HealthTracker:
    return HealthTracker(failures=3, window_s=60, cooldown_s=30, clock=clock, **kwargs)  # type: ignore[arg-type]


def test_three_failures_in_the_window_open_the_breaker() -> None:
    clock = Clock()
    health = tracker(clock)
    for _ in range(2):
        health.record_failure(failing())
    assert health.acquire("m", "h")
    health.record_failure(failing())
    assert not health.acquire("m", "h")
    assert health.acquire("other", "h")


def test_failures_outside_the_window_do_not_count() -> None:
    clock = Clock()
    health = tracker(clock)
    health.record_failure(failing())
    health.record_failure(failing())
    clock.now += 61
    health.record_failure(failing())
    assert health.acquire("m", "h")


def test_after_the_cooldown_one_probe_goes_through() -> None:
    clock = Clock()
    health = tracker(clock)
    for _ in range(3):
        health.record_failure(failing())
    clock.now += 31
    assert health.available("m", "h")
    assert health.acquire("m", "h")
    assert not health.acquire("m", "h"), "only one probe while half-open"
    health.record_success("m", "h")
    assert health.acquire("m", "h")
    assert health.status() == []


def test_a_failed_probe_opens_the_breaker_again() -> None:
    clock = Clock()
    health = tracker(clock)
    for _ in range(3):
        health.record_failure(failing())
    clock.now += 31
    assert health.acquire("m", "h")
    health.record_failure(failing())
    assert not health.acquire("m", "h")
    assert health.status()[0].state == "open"


def test_an_unreachable_host_cools_down_every_model_on_it() -> None:
    clock = Clock()
    health = tracker(clock)
    for model in ("a", "b", "c"):
        health.record_failure(HostUnavailableError("refused", model=model, host="h"))
    assert not health.acquire("d", "h")
    assert health.acquire("d", "other-host")


def test_bad_requests_are_not_the_model_s_fault() -> None:
    health = tracker(Clock())
    for _ in range(5):
        health.record_failure(BadRequestError("no tools", model="m", host="h"))
    assert health.acquire("m", "h")


def test_cooldowns_are_written_for_other_processes(tmp_path: Path) -> None:
    clock = Clock()
    state = tmp_path / "health.json"
    health = tracker(clock, state_file=state)
    for _ in range(3):
        health.record_failure(failing())
    (status,) = read_health_file(state, now=clock.now)
    assert status.key == "model:m@h"
    assert status.state == "open"
    assert read_health_file(state, now=clock.now + 31)[0].state == "half_open"
    health.record_success("m", "h")
    assert read_health_file(state) == []


def test_unreadable_state_file_reads_as_no_cooldowns(tmp_path: Path) -> None:
    (tmp_path / "health.json").write_text("{not json", encoding="utf-8")
    assert read_health_file(tmp_path / "health.json") == []
    assert read_health_file(tmp_path / "missing.json") == []


def test_concurrent_failures_are_all_counted() -> None:
    health = HealthTracker(failures=400, window_s=60, cooldown_s=30)
    threads = [
        threading.Thread(target=lambda: [health.record_failure(failing()) for _ in range(50)])
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert health.status()[0].recent_failures == 400
    assert health.status()[0].state == "open"
