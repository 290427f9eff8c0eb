from __future__ import annotations

import threading

import pytest

from ragged_graph.providers.load import HostLoad, HostLoadStatus


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_calls_count_as_in_flight_until_they_end() -> None:
    load = HostLoad()
    load.begin("a")
    load.begin("a")
    load.begin("b")
    assert (load.in_flight("a"), load.in_flight("b"), load.in_flight("c")) == (2, 1, 0)
    load.end("a")
    assert load.in_flight("a") == 1


def test_an_end_without_a_begin_never_goes_below_zero() -> None:
    load = HostLoad()
    load.end("a")
    load.begin("a")
    load.end("a")
    load.end("a")
    assert load.in_flight("a") == 0


def test_recent_latency_is_the_mean_of_recent_samples() -> None:
    load = HostLoad()
    assert load.recent_latency_ms("a") is None
    load.record_latency("a", 10.0)
    load.record_latency("a", 30.0)
    assert load.recent_latency_ms("a") == pytest.approx(20.0)


def test_samples_older_than_the_window_no_longer_count() -> None:
    clock = Clock()
    load = HostLoad(window_s=60, clock=clock)
    load.record_latency("a", 500.0)
    clock.now += 30
    load.record_latency("a", 10.0)
    assert load.recent_latency_ms("a") == pytest.approx(255.0)
    clock.now += 31
    assert load.recent_latency_ms("a") == pytest.approx(10.0)
    clock.now += 30
    assert load.recent_latency_ms("a") is None, "a host quiet for a window is unknown again"


def test_only_the_latest_samples_are_kept() -> None:
    load = HostLoad(samples=3)
    for latency in (1000.0, 1.0, 2.0, 3.0):
        load.record_latency("a", latency)
    assert load.recent_latency_ms("a") == pytest.approx(2.0)


def test_status_lists_every_host_seen() -> None:
    load = HostLoad()
    load.begin("b")
    load.record_latency("a", 4.0)
    assert load.status() == [
        HostLoadStatus(host="a", in_flight=0, recent_latency_ms=4.0, samples=1),
        HostLoadStatus(host="b", in_flight=1, recent_latency_ms=None, samples=0),
    ]


def test_counts_stay_exact_across_threads() -> None:
    load = HostLoad()

    def work() -> None:
        for _ in range(500):
            load.begin("a")
            load.record_latency("a", 1.0)
            load.end("a")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert load.in_flight("a") == 0


@pytest.mark.parametrize(("window_s", "samples"), [(0, 5), (10, 0)])
def test_a_tracker_needs_a_window_and_room_for_samples(window_s: float, samples: int) -> None:
    with pytest.raises(ValueError, match="window_s"):
        HostLoad(window_s=window_s, samples=samples)
