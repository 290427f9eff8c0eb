"""Assignment to A/B variants: deterministic, weighted, independent across experiments."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime

import pytest

from ragged_graph.experiments.assignment import (
    active_experiment,
    assign,
    bucket,
    choose_variant,
    excluded,
)
from ragged_graph.experiments.settings import ExperimentSettings


def experiment(**fields: object) -> ExperimentSettings:
    data: dict[str, object] = {"variants": {"a": {"weight": 1}, "b": {"weight": 1}}}
    data.update(fields)
    return ExperimentSettings.model_validate(data)


def test_the_bucket_is_sha256_of_name_and_key_over_2_to_the_64() -> None:
    digest = hashlib.sha256(b"exp\x1fsession-1").digest()
    assert bucket("exp", "session-1") == int.from_bytes(digest[:8], "big") / 2**64
    assert 0.0 <= bucket("exp", "session-1") < 1.0


def test_slices_follow_the_weights_in_name_order() -> None:
    weights = {"b": 3.0, "a": 1.0}  # a holds [0, 0.25), b [0.25, 1)
    assert choose_variant(weights, 0.0) == "a"
    assert choose_variant(weights, 0.2499) == "a"
    assert choose_variant(weights, 0.25) == "b"
    assert choose_variant(weights, 0.999999) == "b"


def test_a_variant_of_weight_zero_gets_nothing() -> None:
    weights = {"a": 0.0, "b": 1.0, "c": 1.0}
    assert {choose_variant(weights, point / 100) for point in range(100)} == {"b", "c"}


def test_the_same_key_always_gets_the_same_variant() -> None:
    settings = experiment()
    first = assign("exp", settings, session_id="s-42", request_id="r-1")
    again = assign("exp", settings, session_id="s-42", request_id="r-2")
    assert first is not None
    assert again is not None
    assert first.variant == again.variant
    assert first.assigned_by == "session"


def test_reordering_the_variants_in_the_config_changes_nothing() -> None:
    one = experiment(variants={"a": {"weight": 1}, "b": {"weight": 3}})
    other = experiment(variants={"b": {"weight": 3}, "a": {"weight": 1}})
    for i in range(200):
        left = assign("exp", one, session_id=f"s{i}", request_id="r")
        right = assign("exp", other, session_id=f"s{i}", request_id="r")
        assert left is not None
        assert right is not None
        assert left.variant == right.variant


@pytest.mark.parametrize("weights", [(1, 1), (1, 3), (7, 2, 1)])
def test_over_10k_keys_each_variant_gets_its_weights_share(weights: tuple[int, ...]) -> None:
    names = [f"v{i}" for i in range(len(weights))]
    settings = experiment(variants={n: {"weight": w} for n, w in zip(names, weights, strict=True)})
    counts = Counter(
        assignment.variant
        for i in range(10_000)
        if (assignment := assign("split", settings, session_id=f"key-{i}", request_id="r"))
    )
    total = sum(weights)
    for name, weight in zip(names, weights, strict=True):
        # Binomial standard deviation at 10k draws is at most 0.005: 0.015 is 3 of them.
        assert counts[name] / 10_000 == pytest.approx(weight / total, abs=0.015)


def test_experiments_split_the_same_keys_independently() -> None:
    settings = experiment()
    same = sum(
        assign("first", settings, session_id=f"k{i}", request_id="r").variant  # type: ignore[union-attr]
        == assign("second", settings, session_id=f"k{i}", request_id="r").variant  # type: ignore[union-attr]
        for i in range(4000)
    )
    assert same / 4000 == pytest.approx(0.5, abs=0.04)


def test_assignment_by_user_ignores_the_session() -> None:
    settings = experiment(assign_by="user")
    by_user = assign("exp", settings, session_id="s1", user_id="alice", request_id="r")
    other_session = assign("exp", settings, session_id="s2", user_id="alice", request_id="r2")
    assert by_user is not None
    assert other_session is not None
    assert by_user.assigned_by == "user"
    assert by_user.variant == other_session.variant


def test_without_a_key_the_request_id_assigns_or_the_request_is_skipped() -> None:
    by_request = assign("exp", experiment(), request_id="r-7")
    assert by_request is not None
    assert by_request.assigned_by == "request"
    assert by_request.variant == choose_variant({"a": 1, "b": 1}, bucket("exp", "r-7"))
    assert assign("exp", experiment(unkeyed="skip"), user_id="u", request_id="r-7") is None


def test_the_assignment_carries_the_variants_overrides_as_json() -> None:
    settings = experiment(
        variants={"a": {"weight": 1}, "b": {"weight": 0.000001, "model": "m:7b", "tier": "fast"}}
    )
    assignment = assign("exp", settings, session_id="s", request_id="r")
    assert assignment is not None
    assert assignment.variant == "a"
    assert assignment.to_state() == {
        "name": "exp",
        "variant": "a",
        "assigned_by": "session",
        "overrides": {},
    }
    assert settings.variants["b"].overrides() == {"model": "m:7b", "tier": "fast"}


def test_the_active_experiment_respects_enabled_start_and_end() -> None:
    experiments = {
        "off": experiment(enabled=False),
        "later": experiment(start="2026-03-01"),
        "now": experiment(start="2026-01-01", end="2026-03-01"),
    }
    assert active_experiment(experiments, datetime(2026, 2, 1, tzinfo=UTC)) == (
        "now",
        experiments["now"],
    )
    assert active_experiment(experiments, datetime(2026, 3, 1, tzinfo=UTC)) == (
        "later",
        experiments["later"],
    )
    assert active_experiment(experiments, datetime(2025, 12, 31, tzinfo=UTC)) is None


def test_a_request_that_sets_what_the_variants_change_stays_out() -> None:
    settings = experiment(variants={"a": {}, "b": {"persona": "casual"}})
    reason = excluded(
        settings, explicit=frozenset({"persona"}), local_only=False, is_local=lambda _m: True
    )
    assert reason == "the request sets persona itself"
    assert (
        excluded(settings, explicit=frozenset({"tier"}), local_only=False, is_local=lambda _m: True)
        is None
    )


def test_a_local_only_request_stays_out_when_a_variant_names_a_remote_model() -> None:
    settings = experiment(variants={"a": {}, "b": {"model": "gpt-4o"}})
    remote = excluded(
        settings, explicit=frozenset(), local_only=True, is_local=lambda m: m != "gpt-4o"
    )
    assert remote == "the request is local-only and a variant uses gpt-4o"
    assert (
        excluded(settings, explicit=frozenset(), local_only=True, is_local=lambda _m: True) is None
    )
    assert (
        excluded(settings, explicit=frozenset(), local_only=False, is_local=lambda _m: False)
        is None
    )
