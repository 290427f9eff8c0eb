"""The privacy guard's detector: personal data and secrets in a request, and private documents.

A request that holds any of these must not leave the machine, so the router sends it only to
local models (and ``invoke`` refuses to call a cloud model with it, whatever the decision
said). What is found is reported by kind, never by value:

============== ==============================================================================
kind           what matches
============== ==============================================================================
email          an e-mail address (``name@example.org``)
phone          a phone number: ``+`` and 8-15 digits, a North-American ``(555) 123-4567``,
               or 7-15 digits right after a word such as "phone", "tel", "mobile", "call"
card_number    13-19 digits (spaces or dashes allowed) starting 2-6 that pass the Luhn check
iban           an IBAN whose mod-97 check holds
api_key        a provider key (OpenAI ``sk-``, Anthropic ``sk-ant-``, AWS ``AKIA``, Google
               ``AIza``, Stripe, Hugging Face ``hf_``, LangSmith ``lsv2_``, GitLab ``glpat-``,
               Slack ``xox?-``), or ``api_key = ...`` / ``client_secret: ...`` assignments
token          a JSON Web Token, a ``Bearer`` token, a GitHub token (``ghp_``, ``github_pat_``)
private_key    a PEM private key block (``-----BEGIN ... PRIVATE KEY-----``)
password       ``password = ...`` / ``passwd: ...`` assignments
============== ==============================================================================

Every pattern is compiled once, ASCII-only (``re.ASCII``: any Unicode input is safe and
digits of other scripts are not numbers here), and anchored at the left edge of a run with a
lookbehind, so a scan is linear in the text's length whatever it holds. Cheap pre-checks
skip whole pattern groups (no ``@``: no e-mail; no digit: no number).

A document is *marked private* when its metadata (a LangChain ``Document``'s, or a mapping's
``metadata``) has ``private: true``, or ``privacy``, ``sensitivity``, ``classification`` or
``visibility`` set to ``private``, ``confidential``, ``secret``, ``restricted`` or
``internal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ragged_graph.routing.query_text import document_text

__all__ = [
    "PRIVACY_KINDS",
    "PRIVATE_DOCUMENT",
    "PrivacyScan",
    "document_is_private",
    "luhn_valid",
    "scan_request",
    "scan_text",
]

PRIVATE_DOCUMENT: Final = "private_document"
"""The finding for a retrieved document marked private."""

PRIVACY_KINDS: Final = (
    "email",
    "phone",
    "card_number",
    "iban",
    "api_key",
    "token",
    "private_key",
    "password",
)
"""Every kind of personal data or secret the detector finds, in report order."""

_ORDER = {kind: index for index, kind in enumerate((*PRIVACY_KINDS, PRIVATE_DOCUMENT))}

_FLAGS = re.ASCII

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.){1,8}[A-Za-z]{2,24}(?![A-Za-z0-9-])",
    _FLAGS,
)

# 13-19 digits, single spaces or dashes between them; Luhn-checked afterwards.
_CARD = re.compile(r"(?<![0-9])[2-6](?:[ -]?[0-9]){12,18}(?![0-9])", _FLAGS)

_PHONE_INTERNATIONAL = re.compile(
    r"(?<![0-9A-Za-z+])\+[1-9](?:[ .-]?\(?[0-9]\)?){7,14}(?![0-9])", _FLAGS
)
_PHONE_NORTH_AMERICA = re.compile(
    r"(?<![0-9])(?:\([2-9][0-9]{2}\)\s?|[2-9][0-9]{2}[ .-])[0-9]{3}[ .-][0-9]{4}(?![0-9])",
    _FLAGS,
)
_PHONE_AFTER_WORD = re.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|cell|call|whatsapp|fax|sms|t[eé]l[eé]phone|telefon"
    r"|handy|portable)\b[^0-9\n]{0,20}(\+?[0-9](?:[ .()/-]{0,2}[0-9]){6,14})(?![0-9])",
)

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])", _FLAGS)

_API_KEY = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|lsv2_(?:pt|sk)_[0-9a-f]{32}_[0-9a-f]{10}"
    r"|glpat-[A-Za-z0-9_-]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"
    r")",
    _FLAGS,
)
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_-])(?:"
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|github_pat_[A-Za-z0-9_]{22,}"
    r")"
    r"|(?i:\bbearer)\s{1,3}[A-Za-z0-9._~+/-]{20,}=*",
    _FLAGS,
)
# Every key and token above holds a run of at least this many key characters.
_LONG_RUN = re.compile(r"[A-Za-z0-9_-]{16}", _FLAGS)
_KEY_ASSIGNMENT = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:api[_ -]?key|apikey|secret[_-]?key|client[_-]?secret"
    r"|access[_-]?key(?:[_-]?id)?|auth[_-]?token|access[_-]?token|x-api-key)"
    r"[\"']?\s{0,3}[:=]\s{0,3}[\"']?[A-Za-z0-9_\-./+=]{12,}",
    _FLAGS,
)
_PASSWORD = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:password|passwd|pwd|passphrase|passwort)"
    r"[\"']?\s{0,3}[:=]\s{0,3}[\"']?[^\s\"']{6,}",
    _FLAGS,
)
_PRIVATE_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----", _FLAGS)
# At least seven digits close together: the least any phone, card or bank number has.
_SEVEN_DIGITS = re.compile(r"[0-9](?:[^0-9A-Za-z\n]{0,3}[0-9]){6}", _FLAGS)


@dataclass(frozen=True, kw_only=True)
class PrivacyScan:
    """What the detector found in a request."""

    kinds: tuple[str, ...] = ()
    """Kinds found (see :data:`PRIVACY_KINDS`, and :data:`PRIVATE_DOCUMENT`), each once, in
    report order; empty when nothing was found."""

    @property
    def found(self) -> bool:
        """Whether the request holds anything that must stay on this machine."""
        return bool(self.kinds)

    def describe(self) -> str:
        """The kinds found, readable: ``"email, api_key"``."""
        return ", ".join(self.kinds)


NOTHING_FOUND: Final = PrivacyScan()


def luhn_valid(digits: str) -> bool:
    """Whether the ASCII digit string ``digits`` passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _iban_valid(text: str) -> bool:
    compact = text.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in moved)
    return int(number) % 97 == 1


def _has_card(text: str) -> bool:
    for match in _CARD.finditer(text):
        digits = match.group().replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return True
    return False


def _digit_count(text: str) -> int:
    return sum(1 for char in text if "0" <= char <= "9")


def _has_phone(text: str) -> bool:
    for match in _PHONE_INTERNATIONAL.finditer(text):
        if 8 <= _digit_count(match.group()) <= 15:
            return True
    if _PHONE_NORTH_AMERICA.search(text):
        return True
    for match in _PHONE_AFTER_WORD.finditer(text):
        if 7 <= _digit_count(match.group(1)) <= 15:
            return True
    return False


def _has_iban(text: str) -> bool:
    for match in _IBAN.finditer(text):
        candidate = match.group()
        # A capitalised word after the number may have been taken in: drop trailing groups.
        while True:
            if _iban_valid(candidate):
                return True
            cut = candidate.rfind(" ")
            if cut < 15:
                break
            candidate = candidate[:cut]
    return False


def _kinds_in(text: str, found: set[str]) -> None:
    if "@" in text and "email" not in found and _EMAIL.search(text):
        found.add("email")
    if _SEVEN_DIGITS.search(text) is not None:
        if "card_number" not in found and _has_card(text):
            found.add("card_number")
        if "phone" not in found and _has_phone(text):
            found.add("phone")
        if "iban" not in found and _has_iban(text):
            found.add("iban")
    if _LONG_RUN.search(text) is not None:
        if "api_key" not in found and _API_KEY.search(text):
            found.add("api_key")
        if "token" not in found and _TOKEN.search(text):
            found.add("token")
    if "=" in text or ":" in text:
        if "api_key" not in found and _KEY_ASSIGNMENT.search(text):
            found.add("api_key")
        if "password" not in found and _PASSWORD.search(text):
            found.add("password")
    if "-----BEGIN" in text and _PRIVATE_KEY.search(text):
        found.add("private_key")


def _ordered(found: set[str]) -> PrivacyScan:
    if not found:
        return NOTHING_FOUND
    return PrivacyScan(kinds=tuple(sorted(found, key=_ORDER.__getitem__)))


def scan_text(text: str) -> PrivacyScan:
    """The personal data and secrets in ``text``."""
    found: set[str] = set()
    _kinds_in(text, found)
    return _ordered(found)


_PRIVATE_LABELS = frozenset({"private", "confidential", "secret", "restricted", "internal"})
_LABEL_KEYS = ("privacy", "sensitivity", "classification", "visibility")


def _metadata_of(document: object) -> Mapping[str, object] | None:
    metadata = getattr(document, "metadata", None)
    if metadata is None and isinstance(document, Mapping):
        metadata = document.get("metadata")
    return metadata if isinstance(metadata, Mapping) else None


def document_is_private(document: object) -> bool:
    """Whether ``document``'s metadata marks it private (see the module docstring)."""
    metadata = _metadata_of(document)
    if not metadata:
        return False
    if metadata.get("private") is True:
        return True
    for key in _LABEL_KEYS:
        label = metadata.get(key)
        if isinstance(label, str) and label.strip().lower() in _PRIVATE_LABELS:
            return True
    return False


def scan_request(texts: Iterable[str], documents: Iterable[object] = ()) -> PrivacyScan:
    """Everything a request would send: its message texts and its retrieved documents
    (a document marked private counts as :data:`PRIVATE_DOCUMENT`, whatever it says)."""
    found: set[str] = set()
    for text in texts:
        if text:
            _kinds_in(text, found)
    for document in documents:
        if document_is_private(document):
            found.add(PRIVATE_DOCUMENT)
        _kinds_in(document_text(document), found)
    return _ordered(found)
