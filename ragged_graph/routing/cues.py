"""Weighted cues and an index that scores them all in one pass over a query's words.

Used by the task classifier (:mod:`~ragged_graph.routing.task_cues`) and the complexity
analyser (its dimensions' evidence). See :class:`Cue` for the kinds of cue and
:class:`CueIndex` for how a query is scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Final

from ragged_graph.routing.query_text import CJK, WORD

__all__ = ["ANY_CJK", "ANY_DIGIT", "Cue", "CueIndex", "CueScore", "PatternMatch"]

# A cue is one weighted piece of evidence. Most are words and phrases, looked up token by
# token in a dictionary (a scan of a big regex alternation costs time in proportion to the
# number of alternatives; a dictionary lookup does not). Phrase syntax, in lowercase:
#
#   "sum up | key points"        alternatives, separated by " | "
#   "how do/does"                a word may be one of several, separated by "/"
#   "translat*"                  a trailing "*" matches any word starting so
#   "how do !i/you"              "!" matches any word except those listed
#   "word for ? in"              "?" matches any one word
#
# Words are what ``\w+`` finds (apostrophes kept inside a word), so "lock-free" is the
# phrase "lock free". Structure that is not words (code, arithmetic) is a regular
# expression, run only when a cheap guard (a substring, a digit) says it could match.

ANY_DIGIT: Final = "<digit>"
"""A guard that lets a regular-expression cue run only on text with a digit."""
ANY_CJK: Final = "<cjk>"
"""A guard that lets a cue run only on text with Chinese, Japanese or Korean script."""
_PREFIX_KEY: Final = 3
_CANDIDATE_CACHE_SIZE: Final = 50_000
_CACHED_WORD_CHARS: Final = 40


@dataclass(frozen=True, slots=True)
class _WordTest:
    """What one position of a phrase accepts."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    negated: bool
    wildcard: bool

    def accepts(self, token: str) -> bool:
        if self.wildcard:
            return True
        hit = token in self.exact or (bool(self.prefixes) and token.startswith(self.prefixes))
        return hit != self.negated

    @property
    def plain(self) -> bool:
        """Whether this position accepts just a list of words (no prefix, negation or "?")."""
        return not (self.prefixes or self.negated or self.wildcard)


_Phrase = tuple[_WordTest, ...]
_Candidate = tuple[int, int, _Phrase, "Cue"]
"""A cue a word may start: its index, how many words of the phrase the index has matched
(the word alone, or the word and the next), the phrase's words left to test, and the cue."""
_Starts = tuple[tuple[_Candidate, ...], Mapping[str, tuple[_Candidate, ...]]]
"""The cues a word may start: those the word alone may start, and per next word those the
two may start (the first ones included, in index order)."""
_NO_STARTS: Final[_Starts] = ((), {})
_Entry = tuple[frozenset[str] | None, _Candidate]
"""A phrase in the index: the words its second word may be (None: not indexed by it)."""
_Scanned = tuple[int, "Cue", tuple[str, ...]]
"""A regex or substring cue to try on the text: its index, the cue, and the substrings of
which one must be present (none: no such guard)."""


def _parse_word(spec: str, phrase: str) -> _WordTest:
    if spec == "?":
        return _WordTest(frozenset(), (), negated=False, wildcard=True)
    negated = spec.startswith("!")
    alternatives = spec.lstrip("!").split("/")
    exact, prefixes = set(), []
    for alternative in alternatives:
        word = alternative[:-1] if alternative.endswith("*") else alternative
        if not WORD.fullmatch(word) or (alternative.endswith("*") and len(word) < _PREFIX_KEY):
            raise ValueError(f"bad word {alternative!r} in cue phrase {phrase!r}")
        if alternative.endswith("*"):
            prefixes.append(word)
        else:
            exact.add(word)
    return _WordTest(frozenset(exact), tuple(prefixes), negated=negated, wildcard=False)


def _parse_phrases(spec: str) -> tuple[_Phrase, ...]:
    phrases = []
    for alternative in spec.split(" | "):
        words = tuple(_parse_word(word, alternative) for word in alternative.split())
        if not words or words[0].negated or words[0].wildcard:
            raise ValueError(f"cue phrase {alternative!r} must start with a plain word")
        phrases.append(words)
    return tuple(phrases)


def _match_phrase(tokens: Sequence[str], start: int, phrase: _Phrase) -> int:
    """End index of ``phrase`` matched at ``tokens[start]`` (first word already checked)."""
    end = start + len(phrase)
    if end > len(tokens):
        return -1
    for offset in range(1, len(phrase)):
        if not phrase[offset].accepts(tokens[start + offset]):
            return -1
    return end


@dataclass(frozen=True, slots=True)
class Cue:
    """One weighted piece of evidence; build with :meth:`words`, :meth:`near`, :meth:`regex`
    or :meth:`substrings`. Cues sharing a ``key`` count once, like alternatives of one cue."""

    weight: float
    """What the cue adds to its group's score when it matches in the instruction."""

    phrases: tuple[_Phrase, ...] = ()
    """Word phrases, any of which matches (for :meth:`words` and the start of :meth:`near`)."""

    then: tuple[_Phrase, ...] = ()
    """For :meth:`near`: the phrases that must follow one of ``phrases``."""

    within: int = 0
    """For :meth:`near`: at most this many words between the two parts."""

    at_start: bool = False
    """Match only as the first words of the instruction (greetings)."""

    pattern: re.Pattern[str] | None = None
    """For :meth:`regex`: the compiled expression."""

    guard: tuple[str, ...] = ()
    """Substrings of which one must be present before ``pattern`` or ``strings`` is tried."""

    strings: tuple[str, ...] = ()
    """For :meth:`substrings`: plain substrings, any of which matches."""

    anywhere: bool = False
    """Count in full inside pasted material too (code recognises itself wherever it is)."""

    key: str | None = None
    """Cues of one group sharing a key count once, with the best weight among them."""

    unless: frozenset[str] = frozenset()
    """For :meth:`near`: words that end the search for ``then`` (the object of the verb is
    something else: "write a launch *email* for our app" is not asking for an app)."""

    @classmethod
    def words(
        cls, spec: str, weight: float, *, at_start: bool = False, key: str | None = None
    ) -> Cue:
        """Any of the phrases in ``spec``; with ``at_start`` only as the query's first words."""
        return cls(weight, _parse_phrases(spec), at_start=at_start, key=key)

    @classmethod
    def near(
        cls,
        first: str,
        then: str,
        weight: float,
        *,
        within: int = 6,
        key: str | None = None,
        unless: str = "",
    ) -> Cue:
        """A phrase of ``first`` followed, at most ``within`` words later, by one of ``then``,
        with none of the space-separated words of ``unless`` in between."""
        return cls(
            weight,
            _parse_phrases(first),
            _parse_phrases(then),
            within,
            key=key,
            unless=frozenset(unless.split()),
        )

    @classmethod
    def regex(
        cls,
        pattern: str,
        weight: float,
        *,
        guard: Sequence[str] = (),
        anywhere: bool = False,
        key: str | None = None,
    ) -> Cue:
        """A regular expression over the lowercased text, tried only if a ``guard`` substring
        (or ``"<digit>"``, ``"<cjk>"``) is present; ``anywhere``: full weight in material."""
        return cls(
            weight,
            pattern=re.compile(pattern, re.MULTILINE),
            guard=tuple(guard),
            anywhere=anywhere,
            key=key,
        )

    @classmethod
    def substrings(
        cls,
        strings: Sequence[str],
        weight: float,
        *,
        anywhere: bool = False,
        key: str | None = None,
    ) -> Cue:
        """Any of ``strings`` anywhere in the lowercased text (scripts without spaces, symbols)."""
        cjk = any(CJK.search(s) for s in strings)
        return cls(
            weight,
            strings=tuple(strings),
            guard=(ANY_CJK,) if cjk else (),
            anywhere=anywhere,
            key=key,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class PatternMatch:
    """One cue that matched: what it matched and what it contributed."""

    text: str
    """The matched text (lowercased)."""

    weight: float
    """What the match added to the score, after weighting by where it was."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CueScore:
    """The evidence a query gave for one group of cues (a task type, a dimension)."""

    score: float
    """Sum of the weights of the cues that matched, each counted once."""

    matches: tuple[PatternMatch, ...]
    """What matched."""


_NO_EVIDENCE: Final = CueScore(score=0.0, matches=())


class CueIndex:
    """Named groups of cues, indexed so that one pass over a query's words scores them all.

    Each cue counts once, with the weight of its best match. In a group built with
    ``count_distinct`` every distinct matched text counts instead (a vocabulary: three
    expert terms say more than one). Matches in pasted material count ``material_weight``
    of their weight unless the cue is ``anywhere``.
    """

    __slots__ = (
        "_cache",
        "_cue_group",
        "_cues",
        "_distinct",
        "_exact",
        "_loose",
        "_names",
        "_plans",
        "_prefix",
        "_then",
    )

    def __init__(
        self, groups: Mapping[str, Sequence[Cue]], *, count_distinct: Iterable[str] = ()
    ) -> None:
        self._names = tuple(groups)
        distinct = frozenset(count_distinct)
        cues: list[Cue] = []
        cue_group: list[int] = []
        for group_index, name in enumerate(self._names):
            for cue in groups[name]:
                cues.append(cue)
                cue_group.append(group_index)
        self._cues = tuple(cues)
        self._cue_group = tuple(cue_group)
        self._distinct = tuple(name in distinct for name in self._names)
        # A phrase is indexed by its first word (or that word's prefix), and when its second
        # word is a plain list of words, by that list too: most phrases a word may start are
        # then ruled out by one look-up of the next word rather than by testing it.
        exact: dict[str, list[_Entry]] = {}
        prefix: dict[str, list[tuple[str, _Entry]]] = {}
        for cue_index, cue in enumerate(self._cues):
            for phrase in cue.phrases:
                entry: _Entry
                if len(phrase) > 1 and phrase[1].plain:
                    entry = (phrase[1].exact, (cue_index, 2, phrase[2:], cue))
                else:
                    entry = (None, (cue_index, 1, phrase[1:], cue))
                for word in phrase[0].exact:
                    exact.setdefault(word, []).append(entry)
                for start in phrase[0].prefixes:
                    prefix.setdefault(start[:_PREFIX_KEY], []).append((start, entry))
        self._exact = {word: tuple(entries) for word, entries in exact.items()}
        self._prefix = {key: tuple(entries) for key, entries in prefix.items()}
        self._then = {
            cue_index: _index_then(cue.then) for cue_index, cue in enumerate(self._cues) if cue.then
        }
        self._loose, self._plans = _plan_text_scans(self._cues)
        # Which cues a word can start, per word seen: most words start none, and the
        # vocabulary of queries is small, so this saves the index look-ups on every call.
        self._cache: dict[str, _Starts] = {}

    @property
    def names(self) -> tuple[str, ...]:
        """The group names, in the order :meth:`scan` reports them."""
        return self._names

    def scan(
        self,
        text: str,
        tokens: Sequence[str],
        material_tokens: Sequence[str] = (),
        *,
        material_span: tuple[int, int] | None = None,
        has_digit: bool = True,
        has_cjk: bool = True,
        material_weight: float = 1.0,
    ) -> dict[str, CueScore]:
        """Score every group on a text: its instruction ``tokens``, its ``material_tokens``
        and, for regex and substring cues, ``text`` itself (material at ``material_span``)."""
        best: dict[object, tuple[float, str, int]] = {}
        self._scan_tokens(tokens, 1.0, best, opening=True)
        if material_tokens:
            self._scan_tokens(material_tokens, material_weight, best, opening=False)
        if self._plans:
            self._scan_text(text, material_span, has_digit, has_cjk, material_weight, best)
        totals: dict[int, float] = {}
        found: dict[int, list[PatternMatch]] = {}
        for weight, matched, group in best.values():
            totals[group] = totals.get(group, 0.0) + weight
            found.setdefault(group, []).append(PatternMatch(text=matched, weight=weight))
        return {
            self._names[group]: CueScore(score=total, matches=tuple(found[group]))
            for group, total in totals.items()
        }

    def _starts(self, token: str) -> _Starts:
        """The cues ``token`` may start (see :data:`_Starts`), kept for the next time."""
        entries = list(self._exact.get(token, ()))
        by_prefix = self._prefix.get(token[:_PREFIX_KEY])
        if by_prefix:
            entries += [entry for start, entry in by_prefix if token.startswith(start)]
        starts = _NO_STARTS
        if entries:
            followers = {word for then, _ in entries if then is not None for word in then}
            starts = (
                tuple(candidate for then, candidate in entries if then is None),
                {
                    word: tuple(c for then, c in entries if then is None or word in then)
                    for word in followers
                },
            )
        if len(self._cache) < _CANDIDATE_CACHE_SIZE and len(token) <= _CACHED_WORD_CHARS:
            self._cache[token] = starts
        return starts

    def _record(
        self, best: dict[object, tuple[float, str, int]], cue_index: int, weight: float, text: str
    ) -> None:
        cue = self._cues[cue_index]
        group = self._cue_group[cue_index]
        key: object = cue.key if cue.key is not None else cue_index
        key = (group, key, text) if self._distinct[group] else (group, key)
        seen = best.get(key)
        if seen is None or weight > seen[0]:
            best[key] = (weight, text, group)

    def _scan_tokens(
        self,
        tokens: Sequence[str],
        factor: float,
        best: dict[object, tuple[float, str, int]],
        *,
        opening: bool,
    ) -> None:
        count = len(tokens)
        cached = self._cache.get
        for position, token in enumerate(tokens):
            candidates, with_next = cached(token) or self._starts(token)
            if with_next and position + 1 < count:
                candidates = with_next.get(tokens[position + 1], candidates)
            if not candidates:
                continue
            for cue_index, matched, rest, cue in candidates:
                end = first = position + matched
                if rest:
                    stop = end + len(rest)
                    if stop > count:
                        continue
                    while end < stop and rest[end - first].accepts(tokens[end]):
                        end += 1
                    if end < stop:
                        continue
                if cue.at_start and (position or not opening):
                    continue
                if cue.then:
                    end = _match_then(tokens, end, cue, self._then[cue_index])
                    if end < 0:
                        continue
                weight = cue.weight if factor == 1.0 or cue.anywhere else cue.weight * factor
                self._record(best, cue_index, weight, " ".join(tokens[position:end]))

    def _scan_text(
        self,
        text: str,
        material_span: tuple[int, int] | None,
        has_digit: bool,
        has_cjk: bool,
        material_weight: float,
        best: dict[object, tuple[float, str, int]],
    ) -> None:
        start, end = material_span if material_span is not None else (len(text), len(text))
        loose = self._loose is not None and self._loose.search(text) is not None
        for cue_index, cue, guard in self._plans[has_digit, has_cjk, loose]:
            if guard:
                for needle in guard:
                    if needle in text:
                        break
                else:
                    continue
            full = cue.weight
            reduced = full if cue.anywhere else full * material_weight
            if cue.pattern is not None:
                match = cue.pattern.search(text, 0, start) or cue.pattern.search(text, end)
                weight = full
                if match is None and start < end:
                    match = cue.pattern.search(text, start, end)
                    weight = reduced
                if match is not None:
                    self._record(best, cue_index, weight, match.group())
            else:
                for string in cue.strings:
                    position = text.find(string)
                    if position >= 0:
                        inside = start <= position < end
                        self._record(best, cue_index, reduced if inside else full, string)
                        break


def _index_then(phrases: tuple[_Phrase, ...]) -> Mapping[str, tuple[_Phrase, ...]] | None:
    """The ``then`` phrases of a :meth:`Cue.near` cue by their first word, in order; None
    when a first word is a prefix (then each phrase is tested in turn)."""
    if any(phrase[0].prefixes for phrase in phrases):
        return None
    by_word: dict[str, list[_Phrase]] = {}
    for phrase in phrases:
        for word in phrase[0].exact:
            by_word.setdefault(word, []).append(phrase)
    return {word: tuple(found) for word, found in by_word.items()}


def _match_then(
    tokens: Sequence[str],
    start: int,
    cue: Cue,
    by_word: Mapping[str, tuple[_Phrase, ...]] | None,
) -> int:
    """End of a ``then`` phrase beginning within ``cue.within`` words after ``start``
    (``by_word``: the phrases by first word, from :func:`_index_then`)."""
    last = min(len(tokens), start + cue.within + 1)
    for position in range(start, last):
        token = tokens[position]
        if token in cue.unless:
            return -1
        phrases = (
            by_word.get(token, ())
            if by_word is not None
            else [phrase for phrase in cue.then if phrase[0].accepts(token)]
        )
        for phrase in phrases:
            end = _match_phrase(tokens, position, phrase) if len(phrase) > 1 else position + 1
            if end >= 0:
                return end
    return -1


def _plan_text_scans(
    cues: Sequence[Cue],
) -> tuple[re.Pattern[str] | None, dict[tuple[bool, bool, bool], tuple[_Scanned, ...]]]:
    """What :meth:`CueIndex.scan` tries on the text itself: the regex and substring cues.

    Returns one expression finding any substring of the unguarded substring cues (most
    texts have none, and one search for all costs less than a search for each), and per
    ``(text has a digit, text has CJK script, that expression found something)`` the cues
    that may match then, in order, each with the substrings of which one must be present.
    With no cue reading the text itself, ``(None, {})``.
    """
    scanned = [(i, cue) for i, cue in enumerate(cues) if cue.pattern is not None or cue.strings]
    if not scanned:
        return None, {}
    loose = [s for _, cue in scanned if cue.strings and not cue.guard for s in cue.strings]
    pattern = re.compile("|".join(re.escape(s) for s in loose)) if loose else None
    plans: dict[tuple[bool, bool, bool], tuple[_Scanned, ...]] = {}
    for has_digit, has_cjk, has_loose in product((False, True), repeat=3):
        plan: list[_Scanned] = []
        for cue_index, cue in scanned:
            guard: tuple[str, ...] = ()
            if ANY_CJK in cue.guard:
                runs = has_cjk
            elif ANY_DIGIT in cue.guard:
                runs = has_digit
            elif cue.guard:
                runs, guard = True, cue.guard
            else:
                runs = has_loose or cue.pattern is not None
            if runs:
                plan.append((cue_index, cue, guard))
        plans[has_digit, has_cjk, has_loose] = tuple(plan)
    return pattern, plans
