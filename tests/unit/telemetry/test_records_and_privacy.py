"""What a history record keeps of the query: its text, a hash of it, or nothing."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import pytest
from pydantic import ValidationError

from ragged_graph.telemetry import RoutingRecord, query_fields
from tests.support.history import RecordFactory

QUERY = "Why does my Postgres replica lag?"


def test_store_keeps_the_text_and_no_hash() -> None:
    assert query_fields(QUERY, "store") == (QUERY, None)


def test_hash_keeps_a_sha256_and_no_text() -> None:
    assert query_fields(QUERY, "hash") == (None, hashlib.sha256(QUERY.encode()).hexdigest())


def test_hash_with_a_salt_is_an_hmac_that_a_plain_hash_of_a_guess_does_not_match() -> None:
    text, digest = query_fields(QUERY, "hash", salt="s3cret")
    assert text is None
    assert digest == hmac.new(b"s3cret", QUERY.encode(), hashlib.sha256).hexdigest()
    assert digest != hashlib.sha256(QUERY.encode()).hexdigest()


def test_omit_keeps_neither() -> None:
    assert query_fields(QUERY, "omit") == (None, None)


def test_identical_queries_hash_alike_so_repeats_can_be_counted() -> None:
    assert query_fields(QUERY, "hash") == query_fields(QUERY, "hash")
    assert query_fields(QUERY, "hash") != query_fields(QUERY + "?", "hash")


def test_a_record_is_frozen_and_refuses_unknown_fields(record_factory: RecordFactory) -> None:
    record = record_factory()
    with pytest.raises(ValidationError):
        RoutingRecord(**record.model_dump(), colour="blue")
    with pytest.raises(ValidationError):
        record.outcome = "x"  # type: ignore[misc]


def test_a_record_needs_an_aware_time(record_factory: RecordFactory) -> None:
    with pytest.raises(ValidationError, match="timezone"):
        record_factory(time=datetime(2026, 1, 1, 12, 0))


def test_answered_is_the_outcome_answered(record_factory: RecordFactory) -> None:
    assert record_factory().answered
    assert not record_factory(outcome="ALL_MODELS_FAILED", answered_by=None).answered
