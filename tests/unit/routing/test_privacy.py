"""The privacy guard's detector: what it finds, what it leaves alone, and that any text is safe."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from ragged_graph.routing.privacy import (
    PRIVACY_KINDS,
    PRIVATE_DOCUMENT,
    document_is_private,
    luhn_valid,
    scan_request,
    scan_text,
)

# One realistic sample per kind; the same samples drive the routing and graph property tests.
SAMPLES: dict[str, tuple[str, ...]] = {
    "email": ("write to jane.doe@example.org today", "cc: ops+alerts@mail.example.co.uk"),
    "phone": (
        "call me on +44 20 7946 0958",
        "my number is (555) 123-4567",
        "Tel: 06 12 34 56 78",
    ),
    "card_number": ("card 4111 1111 1111 1111 exp 12/27", "pay with 5555-5555-5555-4444"),
    "iban": ("IBAN DE89 3704 0044 0532 0130 00 please", "send it to GB82WEST12345698765432"),
    "api_key": (
        "key sk-proj-abcdefghijklmnopqrstuvwxyz123456",
        "use sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "AKIAIOSFODNN7EXAMPLE is my access key",
        "config: api_key = 'abcd1234efgh5678ijkl'",
    ),
    "token": (
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    ),
    "private_key": ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow...",),
    "password": ("login with password: hunter2hunter", "db passwd=s3cr3t!!"),
}

HARMLESS = (
    "What is the capital of France?",
    "Explain quicksort and compare it with mergesort",
    "In 2024, 1234567 people read 3.14159 books on 2024-01-15",
    "How do I set an api key in my config?",
    "What is a password manager and should I use one?",
    "Order 4111 1111 1111 1112 is not a valid card number",
    "Email etiquette: how should I address a professor?",
    "The meeting is at 10:30 in room 4.12",
    "Write a regex for e-mail addresses like user@domain",
    "Der Preis beträgt 1.234,56 € für 3 Stück",
    "日本の人口は約1億2千万人です",
)


def test_every_kind_has_samples() -> None:
    assert set(SAMPLES) == set(PRIVACY_KINDS)


@pytest.mark.parametrize(
    ("kind", "text"), [(kind, text) for kind, texts in SAMPLES.items() for text in texts]
)
def test_each_kind_of_personal_data_or_secret_is_found(kind: str, text: str) -> None:
    assert kind in scan_text(text).kinds


@pytest.mark.parametrize("text", HARMLESS)
def test_ordinary_questions_hold_nothing_private(text: str) -> None:
    assert scan_text(text).kinds == ()


def test_findings_are_reported_once_each_in_a_fixed_order() -> None:
    text = "token ghp_abcdefghijklmnopqrstuvwxyz0123456789, mail a@example.com, b@example.com"
    assert scan_text(text).kinds == ("email", "token")
    assert scan_text(text).describe() == "email, token"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("79927398713", True)],
)
def test_luhn_checksum(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


def test_a_card_number_must_pass_luhn() -> None:
    assert scan_text("4111 1111 1111 1111").kinds == ("card_number",)
    assert "card_number" not in scan_text("4111 1111 1111 1113").kinds


@pytest.mark.parametrize(
    "metadata",
    [
        {"private": True},
        {"privacy": "private"},
        {"sensitivity": "Confidential"},
        {"classification": "secret"},
        {"visibility": "internal"},
    ],
)
def test_documents_marked_private_are_found(metadata: dict[str, object]) -> None:
    document = Document(page_content="quarterly figures", metadata=metadata)
    assert document_is_private(document)
    assert document_is_private({"page_content": "x", "metadata": metadata})
    assert scan_request(["Summarise this"], [document]).kinds == (PRIVATE_DOCUMENT,)


@pytest.mark.parametrize(
    "document",
    [
        "a plain string",
        Document(page_content="public", metadata={"source": "wiki", "private": False}),
        {"page_content": "x", "metadata": {"privacy": "public"}},
    ],
)
def test_unmarked_documents_are_not_private(document: object) -> None:
    assert not document_is_private(document)


def test_personal_data_inside_a_document_is_found() -> None:
    found = scan_request(["Answer from the documents"], ["Contact: jane@example.org"])
    assert found.kinds == ("email",)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_unicode_text_is_scanned_without_error(text: str) -> None:
    result = scan_text(text)
    assert set(result.kinds) <= set(PRIVACY_KINDS)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([text for texts in SAMPLES.values() for text in texts]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_a_finding_survives_surrounding_text(sample: str, noise: str) -> None:
    kinds = set(scan_text(sample).kinds)
    assert kinds <= set(scan_text(f"{noise}\n{sample}\n{noise}").kinds)


@pytest.mark.parametrize(
    "adversarial",
    ["a" * 200_000 + "@", "1" * 200_000, "1 " * 100_000, "A" * 200_000, "4111-" * 40_000],
)
def test_scanning_stays_linear_on_adversarial_input(adversarial: str) -> None:
    started = time.perf_counter()
    scan_text(adversarial)
    assert time.perf_counter() - started < 1.0


def test_a_short_query_scans_in_microseconds() -> None:
    query = "Explain quicksort and compare it with mergesort, with an example in Python"
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        scan_text(query)
    per_scan_us = (time.perf_counter() - started) / rounds * 1e6
    assert per_scan_us < 50
