"""Domain models: a user's fine-tuned model answers the queries of its domain.

A model card lists the domains it was fine-tuned for (``domains: [legal]`` in the config's
``models:``); ``domains:`` in the config says how each domain is recognised:

- ``keywords``: words or phrases (matched whole, case-insensitively) in the query; at least
  ``min_matches`` different ones must occur;
- ``collections``: names of the user's document collections: a retrieved document whose
  metadata ``collection`` (or ``source``, ``domain``) names one puts the request in the domain.

A domain a card names but ``domains:`` does not define is recognised by its own name as the
only keyword. When a request is in a domain that a qualified candidate serves, that model is
chosen (see :class:`DomainSelector`), after an explicit or persona model and before the
learned router; the rules' own choice heads its fallback chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ragged_graph.registry.registry import RegistryEntry, RegistrySnapshot
from ragged_graph.routing.selection import (
    Selection,
    SelectionRequest,
    handed_over,
    requirements_for,
    with_note,
)

if TYPE_CHECKING:
    from ragged_graph.config import DomainSettings

__all__ = ["COLLECTION_KEYS", "DomainMatch", "DomainMatcher", "DomainSelector"]

COLLECTION_KEYS = ("collection", "source", "domain")
"""Document metadata keys that may name the collection a document came from."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DomainMatch:
    """A request recognised as belonging to a domain."""

    domain: str
    """The domain's name."""

    evidence: tuple[str, ...]
    """What gave it away: the keywords found, ``collection:<name>`` for documents."""

    def describe(self) -> str:
        shown = ", ".join(repr(item) for item in self.evidence[:3])
        return f"domain {self.domain} ({shown})"


@dataclass(frozen=True, kw_only=True, slots=True)
class _Domain:
    name: str
    pattern: re.Pattern[str] | None
    collections: frozenset[str]
    min_matches: int


class DomainMatcher:
    """Recognises the domains that some model serves; immutable, thread-safe."""

    def __init__(self, definitions: Mapping[str, DomainSettings], served: Iterable[str]) -> None:
        domains = []
        for name in sorted(set(served)):
            settings = definitions.get(name)
            keywords = settings.keywords if settings is not None else (name,)
            collections = settings.collections if settings is not None else ()
            minimum = settings.min_matches if settings is not None else 1
            pattern = (
                re.compile(
                    r"(?<!\w)(?:"
                    + "|".join(re.escape(word) for word in sorted(keywords, key=len, reverse=True))
                    + r")(?!\w)",
                    re.IGNORECASE,
                )
                if keywords
                else None
            )
            domains.append(
                _Domain(
                    name=name,
                    pattern=pattern,
                    collections=frozenset(c.lower() for c in collections),
                    min_matches=minimum,
                )
            )
        self._domains = tuple(domains)

    @property
    def active(self) -> bool:
        """Whether any model serves a domain (else :meth:`match` always answers None)."""
        return bool(self._domains)

    def match(self, texts: Iterable[str], documents: Iterable[object] = ()) -> DomainMatch | None:
        """The domain with the most evidence in ``texts`` and ``documents``, if any."""
        if not self._domains:
            return None
        text = "\n".join(texts)
        collections = {name.lower() for name in _collections_of(documents)}
        best: DomainMatch | None = None
        for domain in self._domains:
            found: list[str] = []
            if domain.pattern is not None:
                words = dict.fromkeys(m.group(0).lower() for m in domain.pattern.finditer(text))
                if len(words) >= domain.min_matches:
                    found.extend(words)
            found.extend(f"collection:{name}" for name in sorted(domain.collections & collections))
            if found and (best is None or len(found) > len(best.evidence)):
                best = DomainMatch(domain=domain.name, evidence=tuple(found))
        return best


def _collections_of(documents: Iterable[object]) -> Iterable[str]:
    for document in documents:
        metadata = getattr(document, "metadata", None)
        if metadata is None and isinstance(document, Mapping):
            metadata = document.get("metadata")
        if isinstance(metadata, Mapping):
            for key in COLLECTION_KEYS:
                value = metadata.get(key)
                if isinstance(value, str) and value:
                    yield value


class DomainSelector:
    """Puts a request's domain model in charge of it, when one qualifies."""

    def __init__(self, definitions: Mapping[str, DomainSettings], max_chain_length: int) -> None:
        self._definitions = dict(definitions)
        self._max_chain = max_chain_length
        self._snapshot: RegistrySnapshot | None = None
        self._matcher = DomainMatcher(self._definitions, ())

    def matcher(self, snapshot: RegistrySnapshot) -> DomainMatcher:
        """The matcher for the domains ``snapshot``'s candidates serve."""
        if snapshot is not self._snapshot:
            served = {domain for entry in snapshot.candidates for domain in entry.card.domains}
            self._matcher = DomainMatcher(self._definitions, served)
            self._snapshot = snapshot
        return self._matcher

    def refine(
        self,
        snapshot: RegistrySnapshot,
        request: SelectionRequest,
        selection: Selection,
        fallbacks: tuple[RegistryEntry, ...],
        match: DomainMatch,
    ) -> tuple[Selection, tuple[RegistryEntry, ...]] | None:
        """The domain model's selection and chain; None when no candidate serves the domain
        and qualifies for the request (capabilities, context, local-only)."""
        required = requirements_for(request.task_type, request.required_capabilities).required
        serving = [
            entry
            for entry in snapshot.candidates
            if match.domain in entry.card.domains
            and required <= entry.card.capabilities
            and entry.card.context_window >= request.required_context
            and (entry.card.local or not request.local_only)
        ]
        if not serving:
            return None
        order = {entry.name: index for index, entry in enumerate(selection.ranked)}
        pick = min(serving, key=lambda entry: (order.get(entry.name, len(order)), entry.name))
        chosen = selection.entry
        if pick.name == chosen.name:
            return with_note(selection, f"{match.describe()}: it is this domain's model"), fallbacks
        reason = (
            f"{match.describe()}: {pick.name} is the model for it; "
            f"the rules would have chosen {chosen.name}"
        )
        return handed_over(selection, fallbacks, pick, reason, max_chain_length=self._max_chain)
