"""Which kind of task a query is: weighted cues, no model, microseconds.

Every task type has a table of cues (words, phrases, and for code and arithmetic, guarded
regular expressions) with weights. A query's score for a task is the sum of the weights of
the task's cues that match it (each cue counts once); the best score wins, and the reason
names what matched. All cues sit in one word index, so classifying a query is one pass
over its words plus the few regular expressions whose guards match.

Decisions worth knowing:

- Text is lowercased once and the built-in cues are written in lowercase, so there is no
  ``re.IGNORECASE`` anywhere in the built-ins (the original design notes' case-insensitive
  ``[A-Z]{2,}`` matched every word).
- Where a match sits matters. Users put the instruction at the start or the end and paste
  material in between, so a match in the middle of a long query counts for less
  (:data:`BODY_WEIGHT`), except for patterns that recognise code itself, which count
  wherever the code is.
- Work is bounded: at most :data:`SCAN_HEAD_CHARS` from the start and
  :data:`SCAN_TAIL_CHARS` from the end of a query are scanned, whatever its length.
- With retrieved documents the task is ``rag_query``, unless the query clearly asks to
  *transform* those documents: to summarise, extract from or translate them (score at least
  :data:`DOCUMENT_TRANSFORM_MIN_SCORE`). Then the transformation is the task, because that is
  what the chosen model has to be good at. Questions *about* the documents, even hard ones,
  stay ``rag_query``.
- With no pattern scoring at least :data:`MIN_DECISIVE_SCORE`, or with the cues unsure
  (confidence below :data:`MODEL_CONSULTED_BELOW`), a query without retrieved documents is
  read by the learned task model (:mod:`~ragged_graph.routing.task_model`), which weighs
  every word; it decides when the cues found nothing, and when it is more than
  :data:`MODEL_MIN_PROBABILITY` sure otherwise. People who phrase things in ways the cues
  were not written for are this model's job: on 595 queries by four writers the router had
  never seen, the cues alone got 75% of task types right, cues and model 86% (each writer's
  queries classified by a model trained without them). Without the model (``task_model=None``)
  a query with no decisive cue is ``general_qa``.
- The model only overrules built-in task types: a task matched by ``extra_patterns`` stays.
- One idea counts once: naming a language ("in python", "python") is one weak piece of code
  evidence, which a definition question ("what is the GIL in python") outweighs; "explain
  why" is a "why". A request's opening verb (summarise, translate, extract) adds to its task,
  so that material about maths or code does not take the task over. A prose artefact between
  "write" and a code noun ("write a launch email for our app") is what is being written.
- A prompt that carries its retrieved context inline (``Context: ... Question: ...``, as
  LangChain RAG prompt templates produce) counts as ``rag_query`` too.
- Users add patterns per task (new task names allowed) through ``extra_patterns``. They are
  matched case-insensitively against the original text (use ``(?-i:...)`` for a
  case-sensitive part, such as an acronym).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, Protocol, runtime_checkable

from ragged_graph.routing.task_model import TaskModel, default_task_model
from ragged_graph.routing.task_types import TaskType, as_task_type

__all__ = [
    "BODY_WEIGHT",
    "DEFAULT_EXTRA_PATTERN_WEIGHT",
    "DOCUMENT_TRANSFORM_MIN_SCORE",
    "MIN_DECISIVE_SCORE",
    "MODEL_CONSULTED_BELOW",
    "MODEL_MIN_PROBABILITY",
    "SCAN_HEAD_CHARS",
    "SCAN_TAIL_CHARS",
    "Cue",
    "CueIndex",
    "CueScore",
    "DocumentLike",
    "PatternMatch",
    "PreparedQuery",
    "TaskClassification",
    "TaskClassifier",
    "document_text",
    "prepare_query",
]

SCAN_HEAD_CHARS: Final = 3000
"""How much of the start of a query is scanned (the instruction is usually here)."""

SCAN_TAIL_CHARS: Final = 1000
"""How much of the end of a long query is scanned (a question after pasted text)."""

BODY_WEIGHT: Final = 0.35
"""Weight of a match in pasted material rather than in the instruction of a long query."""

MIN_DECISIVE_SCORE: Final = 1.0
"""Below this best score no task is evident and the query is ``general_qa``."""

DOCUMENT_TRANSFORM_MIN_SCORE: Final = 2.5
"""Score a summarise/extract/translate request needs to beat ``rag_query`` when documents
are supplied."""

RETRIEVED_DOCUMENTS_SCORE: Final = 4.0
"""Score ``rag_query`` gets from the presence of retrieved documents."""

DEFAULT_EXTRA_PATTERN_WEIGHT: Final = 2.5
"""Weight of each pattern added through config, enough to decide a task on its own."""

MODEL_CONSULTED_BELOW: Final = 0.7
"""Below this confidence of the cues the learned task model is asked too."""

MODEL_MIN_PROBABILITY: Final = 0.5
"""How sure the learned task model must be to overrule cues that did find something."""

_NO_SIGNAL_CONFIDENCE: Final = 0.3
_CONFIDENCE_SLACK: Final = 1.0
_REASON_MATCHES: Final = 4
_REASON_MATCH_CHARS: Final = 40

_DOCUMENT_TRANSFORM_TASKS: Final = frozenset(
    {TaskType.SUMMARISATION, TaskType.EXTRACTION, TaskType.TRANSLATION}
)


@runtime_checkable
class DocumentLike(Protocol):
    """Anything with LangChain ``Document``'s ``page_content`` (Document itself included)."""

    @property
    def page_content(self) -> str: ...


def document_text(document: str | DocumentLike | object) -> str:
    """The text of a retrieved document: a string, or a LangChain ``Document``'s content."""
    if isinstance(document, str):
        return document
    content = getattr(document, "page_content", None)
    return content if isinstance(content, str) else str(document)


# --------------------------------------------------------------------------- text preparation

_SHORT_QUERY_CHARS: Final = 300
_HEAD_SEARCH_CHARS: Final = 250
_TAIL_PARAGRAPH_CHARS: Final = 300
_HEAD_SEPARATORS: Final = ("\n", ": ", "：", "? ")
# A bare label opening a prompt template: "Context:", "Text:", "Document 1:".
_LABEL: Final = re.compile(r"[ \t]*[a-z_]{1,16}(?: [a-z0-9_]{1,8})?[ \t]*:?")
_INSTRUCTION_HEAD_CHARS: Final = 120
_ASK_LIST_COMMAS: Final = 2
_ASK_LIST_CHARS: Final = 250
_SENTENCE_BREAKS: Final = ("\n", ". ", "! ", "? ", ": ")
# Words before a colon that say material follows: a pointer at it, or a verb that works on
# text, or a target language. Checked on at most a short head, so one regex is cheap.
_MATERIAL_POINTER: Final = re.compile(
    r"\b(?:this|these|that|those|following|below|here|text|sentence|paragraph|email|"
    r"message|query|queries|search|code|snippet|transcript|passage|review|reviews|tweets?|"
    r"article|notes?|chat|conversation|abstract|clause|invoice|letter|recipe|"
    r"address|signature|este|esta|estos|estas|ce|cette|ces|diesen|diesem|dieses|diese|"
    r"questo|questa|deze|dit|translat\w*|tradu\w*|übersetz\w*|vertaal\w*|summar\w*|sum up|"
    r"résum\w*|resum\w*|zusammen\w*|fasse|tl;?dr|tldr|gist|extract\w*|extrae\w*|"
    r"extrahier\w*|classify|label|tag|rephrase|rewrite|reword|paraphrase|reformulat\w*|"
    r"reformule\w*|umformulier\w*|solve|fix|correct|proofread|convert|shorten|expand|"
    r"calculate|compute|english|spanish|french|german|italian|portuguese|dutch|japanese|"
    r"chinese|korean|russian|arabic|polish|englisch|anglais|inglés|ingles)\b"
    r"|以下|下面|这|この|次の|要約|翻訳|翻译|总结|提取|查询|訳"
)
_WORD: Final = re.compile(r"\w+(?:'\w+)*")
_DIGIT: Final = re.compile(r"\d")
_CJK: Final = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_QUOTED: Final = re.compile(r"""["'`“‘«「]([^"'`”’»」\n]{2,400})["'`”’»」]""")


@dataclass(frozen=True, kw_only=True, slots=True)
class PreparedQuery:
    """A query made ready for matching once, shared by the classifier and the analyser."""

    text: str
    """The scanned part of the query in its original case (head and tail of a long one)."""

    lowered: str
    """``text`` lowercased, with typographic apostrophes made plain."""

    length: int
    """Length of the whole query in characters, before any trimming."""

    head_end: int
    """Where pasted material starts in ``lowered`` (its length if there is none)."""

    tail_start: int
    """Where pasted material ends in ``lowered``; a closing question may follow."""

    tokens: tuple[str, ...]
    """The words of ``lowered`` outside the pasted material."""

    material_tokens: tuple[str, ...]
    """The words of the pasted material."""

    instruction: str
    """What the user asks for, from ``lowered``, without the material to work on."""

    instruction_tokens: tuple[str, ...]
    """The words of ``instruction``."""

    payload_chars: int
    """Characters of material given to work on (pasted text, quoted phrases, code)."""

    has_digit: bool
    """Whether ``lowered`` holds a digit (numeric cues are skipped otherwise)."""

    has_cjk: bool
    """Whether ``lowered`` holds Chinese, Japanese or Korean script."""

    documents: tuple[str, ...] = ()
    """Texts of the retrieved documents supplied with the query."""


def _first_separator(text: str) -> tuple[int, int]:
    """Position and length of the first line break, colon or question mark near the start,
    or ``(-1, 0)``."""
    found, width = -1, 0
    for separator in _HEAD_SEPARATORS:
        position = text.find(separator, 0, _HEAD_SEARCH_CHARS)
        if position > 0 and (found < 0 or position < found):
            found, width = position, len(separator)
    return found, width


def _introduces_material(head: str) -> bool:
    """Whether the words before a colon point at material that follows (``translate this:``)
    rather than open an instruction that goes on (``Design a data platform: how would...``)."""
    return _MATERIAL_POINTER.search(head) is not None


def _asks_more(line: str) -> bool:
    """Whether what follows a colon on the instruction's line is a list of demands or
    questions ("Summarise these results: effect sizes, harms, limitations, and ...") rather
    than the start of the material."""
    return line.count(",") >= _ASK_LIST_COMMAS or line.rstrip().endswith(("?", "？"))


def _layout(text: str, *, has_documents: bool = False) -> tuple[int, int, str, int]:
    """Where the instruction is in ``text`` and how much material comes with it.

    Returns ``(head_end, tail_start, instruction, payload_chars)``; the material is
    ``text[head_end:tail_start]``.

    - If the first line of a short query ends early, or a colon follows words that point
      at material (``translate to french: ...``, ``classify this ticket: ...``), the
      instruction is what precedes it and the rest is material. Otherwise a short query is
      all instruction, and any quoted text in it counts as material for its size. With
      retrieved documents the material is in the documents, and a short query is all
      instruction.
    - A colon on the first line of a long query, followed on that line by a list of demands
      or a question (``summarise these results: effect sizes, harms, and ...\n\n<text>``),
      does not end the instruction: the line break does.
    - A long query on one line, with no colon pointing at material, is a long instruction
      (a puzzle, a brief) and all of it counts.
    - Otherwise the instruction of a long query is its first line (or the words before the
      first colon, or its first sentence) plus a closing paragraph: a closing question
      always, a closing paragraph of any kind if the query opens with material or a bare
      label (``Context:``).
    """
    length = len(text)
    separator, width = _first_separator(text)
    line_break = separator > 0 and text[separator] == "\n"
    splits = separator > 0 and (line_break or _introduces_material(text[:separator]))
    if splits and not line_break:
        line_end = text.find("\n", separator)
        if 0 < line_end - separator <= _ASK_LIST_CHARS and _asks_more(
            text[separator + width : line_end]
        ):
            separator, width, line_break = line_end, 1, True
    if length <= _SHORT_QUERY_CHARS:
        if has_documents:
            return length, length, text, sum(len(m.group(1)) for m in _QUOTED.finditer(text))
        if splits and separator <= _INSTRUCTION_HEAD_CHARS and separator + width < length:
            return separator, length, text[:separator], length - separator - width
        return length, length, text, sum(len(m.group(1)) for m in _QUOTED.finditer(text))
    if "\n" not in text and not splits:
        return length, length, text, 0
    starts_with_material = separator < 0 or _LABEL.fullmatch(text[:separator]) is not None
    if separator >= 0:
        head_end = separator
    else:
        sentence_end = text.find(". ", 0, _HEAD_SEARCH_CHARS)
        head_end = sentence_end + 1 if sentence_end > 0 else _HEAD_SEARCH_CHARS
    closing = text.rstrip()
    if closing.endswith(("?", "？")):
        # The question is the last line, or if that is long, its last sentence.
        tail_start = closing.rfind("\n", head_end)
        if tail_start < 0 or length - tail_start > _TAIL_PARAGRAPH_CHARS:
            tail_start = max(closing.rfind(b, head_end, len(closing) - 1) for b in _SENTENCE_BREAKS)
        if tail_start > 0 and length - tail_start <= _TAIL_PARAGRAPH_CHARS:
            return head_end, tail_start, text[:head_end] + text[tail_start:], tail_start - head_end
    tail_start = text.rfind("\n", head_end)
    if tail_start > 0 and length - tail_start <= _TAIL_PARAGRAPH_CHARS and starts_with_material:
        return head_end, tail_start, text[:head_end] + text[tail_start:], tail_start - head_end
    return head_end, length, text[:head_end], length - head_end


def prepare_query(
    query: str, documents: Iterable[str | DocumentLike | object] | None = None
) -> PreparedQuery:
    """Lowercase, trim and split ``query`` into words once; see :class:`PreparedQuery`."""
    length = len(query)
    if length > SCAN_HEAD_CHARS + SCAN_TAIL_CHARS:
        text = query[:SCAN_HEAD_CHARS] + "\n" + query[-SCAN_TAIL_CHARS:]
    else:
        text = query
    lowered = text.lower()
    if "’" in lowered:
        lowered = lowered.replace("’", "'")
    head_end, tail_start, instruction, payload = _layout(lowered, has_documents=bool(documents))
    payload += length - len(text)
    has_cjk = _CJK.search(lowered) is not None
    if has_cjk and payload and length <= _SHORT_QUERY_CHARS:
        # Chinese and Japanese carry a word or more per character: weigh their material so.
        payload += 2 * len(_CJK.findall(lowered, len(instruction)))
    if head_end < len(lowered):
        tokens = _WORD.findall(lowered, 0, head_end) + _WORD.findall(lowered, tail_start)
        material_tokens = tuple(_WORD.findall(lowered, head_end, tail_start))
        instruction_tokens = tuple(tokens)
    else:
        tokens = _WORD.findall(lowered)
        material_tokens = ()
        instruction_tokens = (
            tuple(tokens) if len(instruction) == len(lowered) else tuple(_WORD.findall(instruction))
        )
    texts = tuple(document_text(d) for d in documents) if documents else ()
    return PreparedQuery(
        text=text,
        lowered=lowered,
        length=length,
        head_end=head_end,
        tail_start=tail_start,
        tokens=tuple(tokens),
        material_tokens=material_tokens,
        instruction=instruction,
        instruction_tokens=instruction_tokens,
        payload_chars=payload,
        has_digit=_DIGIT.search(lowered) is not None,
        has_cjk=has_cjk,
        documents=texts,
    )


# --------------------------------------------------------------------------- cues
#
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

_ANY_DIGIT: Final = "<digit>"
_ANY_CJK: Final = "<cjk>"
_PREFIX_KEY: Final = 3
_CANDIDATE_CACHE_SIZE: Final = 50_000
_CACHED_WORD_CHARS: Final = 40
_GUARD_NONE, _GUARD_STRINGS, _GUARD_DIGIT, _GUARD_CJK = range(4)


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


_Phrase = tuple[_WordTest, ...]
_Candidate = tuple[int, _Phrase, "Cue"]


def _parse_word(spec: str, phrase: str) -> _WordTest:
    if spec == "?":
        return _WordTest(frozenset(), (), negated=False, wildcard=True)
    negated = spec.startswith("!")
    alternatives = spec.lstrip("!").split("/")
    exact, prefixes = set(), []
    for alternative in alternatives:
        word = alternative[:-1] if alternative.endswith("*") else alternative
        if not _WORD.fullmatch(word) or (alternative.endswith("*") and len(word) < _PREFIX_KEY):
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
        cjk = any(_CJK.search(s) for s in strings)
        return cls(
            weight,
            strings=tuple(strings),
            guard=(_ANY_CJK,) if cjk else (),
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
        "_names",
        "_prefix",
        "_scanned",
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
        exact: dict[str, list[_Candidate]] = {}
        prefix: dict[str, list[tuple[str, _Candidate]]] = {}
        for cue_index, cue in enumerate(self._cues):
            for phrase in cue.phrases:
                candidate = (cue_index, phrase[1:], cue)
                for word in phrase[0].exact:
                    exact.setdefault(word, []).append(candidate)
                for start in phrase[0].prefixes:
                    prefix.setdefault(start[:_PREFIX_KEY], []).append((start, candidate))
        self._exact = {word: tuple(entries) for word, entries in exact.items()}
        self._prefix = {key: tuple(entries) for key, entries in prefix.items()}
        scanned: list[tuple[int, Cue, int, tuple[str, ...]]] = []
        for cue_index, cue in enumerate(self._cues):
            if cue.pattern is None and not cue.strings:
                continue
            if _ANY_CJK in cue.guard:
                kind = _GUARD_CJK
            elif _ANY_DIGIT in cue.guard:
                kind = _GUARD_DIGIT
            else:
                kind = _GUARD_STRINGS if cue.guard else _GUARD_NONE
            scanned.append((cue_index, cue, kind, cue.guard))
        self._scanned = tuple(scanned)
        # Which cues a word can start, per word seen: most words start none, and the
        # vocabulary of queries is small, so this saves the prefix search on every call.
        self._cache: dict[str, tuple[_Candidate, ...]] = {}

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
        if self._scanned:
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

    def _candidates(self, token: str) -> tuple[_Candidate, ...]:
        found = self._cache.get(token)
        if found is None:
            found = self._exact.get(token, ())
            by_prefix = self._prefix.get(token[:_PREFIX_KEY])
            if by_prefix:
                found += tuple(c for start, c in by_prefix if token.startswith(start))
            if len(self._cache) < _CANDIDATE_CACHE_SIZE and len(token) <= _CACHED_WORD_CHARS:
                self._cache[token] = found
        return found

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
        for position, token in enumerate(tokens):
            candidates = self._candidates(token)
            if not candidates:
                continue
            for cue_index, rest, cue in candidates:
                end = position + 1
                if rest:
                    stop = end + len(rest)
                    if stop > count:
                        continue
                    while end < stop and rest[end - position - 1].accepts(tokens[end]):
                        end += 1
                    if end < stop:
                        continue
                if cue.at_start and (position or not opening):
                    continue
                if cue.then:
                    end = _match_then(tokens, end, cue)
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
        for cue_index, cue, kind, guard in self._scanned:
            if kind == _GUARD_DIGIT:
                if not has_digit:
                    continue
            elif kind == _GUARD_CJK:
                if not has_cjk:
                    continue
            elif kind == _GUARD_STRINGS:
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


def _match_then(tokens: Sequence[str], start: int, cue: Cue) -> int:
    """End of a ``then`` phrase beginning within ``cue.within`` words after ``start``."""
    last = min(len(tokens), start + cue.within + 1)
    for position in range(start, last):
        token = tokens[position]
        if token in cue.unless:
            return -1
        for phrase in cue.then:
            if phrase[0].accepts(token):
                end = _match_phrase(tokens, position, phrase) if len(phrase) > 1 else position + 1
                if end >= 0:
                    return end
    return -1


class _ExtraPatterns:
    """Patterns from config: compiled one by one so that each error names its pattern."""

    __slots__ = ("_regexes", "_weight")

    def __init__(self, task: str, patterns: Sequence[str], weight: float) -> None:
        if isinstance(patterns, str):
            raise ValueError(
                f"task_patterns for {task!r} must be a list of regular expressions, "
                f"got a single string {patterns!r}"
            )
        compiled: list[re.Pattern[str]] = []
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern:
                raise ValueError(
                    f"invalid pattern for task {task!r}: expected a non-empty regular "
                    f"expression string, got {pattern!r}"
                )
            try:
                compiled.append(re.compile(pattern, re.IGNORECASE | re.MULTILINE))
            except re.error as exc:
                raise ValueError(
                    f"invalid regular expression for task {task!r}: {pattern!r}: {exc}"
                ) from exc
        self._regexes = tuple(compiled)
        self._weight = weight

    def scan(self, text: str) -> list[PatternMatch]:
        found = []
        for regex in self._regexes:
            match = regex.search(text)
            if match is not None:
                found.append(PatternMatch(text=match.group()[:80], weight=self._weight))
        return found


# --------------------------------------------------------------------------- built-in cues


def _one_of(words: str) -> str:
    """Space-separated words as the alternatives of one phrase position (``a/b/c``)."""
    return "/".join(words.split())


_LANGS_CLEAR: Final = _one_of(
    "javascript typescript golang kotlin sql html css react vue angular django flask "
    "fastapi pandas numpy nodejs cuda bash powershell haskell scala php matlab dockerfile "
    "docker kubernetes terraform jquery regex js ts"
)
_LANGS_AMBIGUOUS: Final = _one_of("python java ruby rust go c swift perl shell r lua dart elixir")
_CODE_NOUNS: Final = (
    _one_of(
        "function functions method methods class classes script program module component "
        "endpoint api cli kernel regex test tests dockerfile makefile algorithm parser "
        "interpreter tokenizer compiler library decorator hook struct trait interface "
        "snippet macro service cache queue heap engine code daemon plugin server handler "
        "lambda generator iterator app webapp quicksort mergesort hashmap btree oneliner"
    )
    + " | unit test/tests | one liner | linked list | hash map | b tree | binary tree/search"
    " | bubble/merge sort | crud/web app"
)
_HUMAN_LANGS: Final = _one_of(
    "english spanish french german italian portuguese dutch japanese chinese mandarin "
    "cantonese korean russian arabic polish swedish norwegian danish finnish turkish hindi "
    "greek latin hebrew ukrainian czech vietnamese thai indonesian englisch englische "
    "deutsch deutsche französisch französische spanisch spanische anglais allemand espagnol "
    "français italien inglés ingles alemán francés español italiano portugués japonés chino"
)
_LANG_ADJECTIVES: Final = _one_of(
    "plain simple formal proper idiomatic natural modern british american brazilian european"
)
_GIVEN_TEXT: Final = _one_of(
    "sentence text paragraph email message address invoice receipt contract clause review "
    "signature passage note notes transcript tweets reviews form document ad advert post "
    "report article chat conversation log logs page letter resume cv bill statement tweet "
    "comment comments ticket excerpt"
)
_ENTITIES: Final = _one_of(
    "people persons names dates emails email entities amounts amount numbers companies "
    "organisations organizations locations places products urls links deadlines mentions "
    "the"
    " phone address addresses prices keywords hashtags ids"
)
_HOWTO_VERBS: Final = _one_of(
    "install download setup update upgrade uninstall reset boil cook clean enable disable "
    "change cancel delete remove find use unblock restart"
)
_RAG_SOURCES: Final = "context/document/documents/passage/passages/source/sources"
# Things to write that are not code: met between "write" and a code noun, they are the object
# ("write a launch email for our new app", "create a one-shot hook for a game night").
_PROSE_ARTEFACTS: Final = (
    "email emails letter letters story stories poem poems post posts essay speech song "
    "description bio announcement newsletter tweet ad advert caption review summary report "
    "proposal pitch blurb toast invitation message hook shot campaign adventure scene"
)

_BUILTIN_CUES: Final[Mapping[str, tuple[Cue, ...]]] = {
    TaskType.CODE_GENERATION: (
        Cue.near(
            "write/writ/create/make/generate/implement/build/code/give/add",
            _CODE_NOUNS,
            2.5,
            within=7,
            unless=_PROSE_ARTEFACTS,
        ),
        Cue.words("implement/refactor/debug/compile/deploy | code up", 1.2),
        Cue.near(
            "fix/debug/refactor/optimise/optimize/review/port/rewrite/convert/translate"
            " | speed up | clean up",
            "code/function/script/class/program/loop/query/regex/handler/module/snippet/bug/"
            "error/method",
            2.0,
            within=5,
        ),
        Cue.words(
            "my/this/our/some/example/sample code/script/function/program/snippet/regex/"
            "traceback/handler/codebase/repo | the code/script/snippet/codebase/traceback"
            " | the following code/script/function/snippet/program | stack trace",
            2.0,
        ),
        Cue.words(
            "what this/that code/regex/function/script/snippet/query/line/expression does"
            " | what the following code/regex/function/script/snippet does"
            " | explain this/my code/regex/function/script/snippet/query/error"
            " | explain the following code/regex/function/script/snippet",
            2.0,
        ),
        Cue.near(
            "how do i | how to | how can i | how do you | how would i",
            f"in/with/using {_LANGS_CLEAR}/{_LANGS_AMBIGUOUS}",
            2.5,
            within=8,
        ),
        # Naming a language is one piece of evidence, and a weak one: "what is the GIL in
        # python" is a question about a language, not a request for code.
        Cue.words(f"in/with/using/to/from {_LANGS_CLEAR}/{_LANGS_AMBIGUOUS}", 1.2, key="named"),
        Cue.words(_LANGS_CLEAR, 1.2, key="named"),
        Cue.substrings(
            ("c++", "c#", "node.js", ".net", "===", "!==", "->", "::"), 1.2, key="language"
        ),
        Cue.words(_LANGS_AMBIGUOUS, 0.6, key="named"),
        Cue.words(
            "oneliner/segfault/keyerror/typeerror/valueerror/indexerror/attributeerror/"
            "nullpointerexception | sql query | one liner | list comprehension"
            " | syntax/compile/runtime error | null pointer | undefined is not",
            1.5,
        ),
        Cue.words(
            "array/variable/variables/loop/recursion/pointer/pointers/exception/bug/pytest/jest/"
            "git/commit/async/await/mutex/atomic/atomics/bytecode/vm/compiler/div/flexbox/"
            "command/terminal/refactor/orm/dataclass*/dict/dicts/dictionary/tuple/tuples/"
            "substring/enum/boolean/stdin/stdout/stderr/argv/cron/crontab/ssh/sudo/chmod/grep/"
            "awk/curl/npm/pip/venv/conda/linux/unix/localhost/stash/rebase/yaml/json/nullptr"
            " | environment variable | env var | type hint/hints | unit test/tests"
            " | merge conflict | thread safe | race condition/conditions"
            " | deadlock/deadlocks | garbage collect* | api endpoint | json schema",
            1.0,
        ),
        Cue.words("select/join/rows/row/columns/column/schema | group by", 0.4),
        Cue.substrings(("函数", "代码", "程序", "脚本", "関数", "コード", "プログラム"), 2.5),
        Cue.words("funktion/fonction/función/funcion/klasse/skript/programm/código/codigo", 1.5),
        # Code itself, wherever it is pasted.
        Cue.substrings(("```",), 2.0, anywhere=True),
        Cue.regex(
            r"\b(?:def|func|fn|function) \w+\s*\(|\bclass \w+\s*[:({]",
            2.0,
            guard=("def ", "func ", "fn ", "function ", "class "),
            anywhere=True,
            key="definition",
        ),
        Cue.substrings(("#include", "public static"), 2.0, anywhere=True, key="definition"),
        Cue.regex(r"\breturn\b[^\n]{0,40}$", 1.0, guard=("return",), anywhere=True, key="line"),
        Cue.regex(r"[;{}][ \t]*$", 1.0, guard=(";", "{", "}"), anywhere=True, key="line"),
        Cue.regex(
            r"^[ \t]*(?:import \w+|from [\w.]{1,60} import\b)",
            1.0,
            guard=("import",),
            anywhere=True,
            key="line",
        ),
        Cue.substrings(
            ("print(", "console.log(", "printf(", "self.", "=>"), 1.0, anywhere=True, key="line"
        ),
        Cue.regex(r"\w\.\w{1,40}\([^)\n]{0,80}\)", 1.0, guard=("(",), anywhere=True, key="line"),
        Cue.regex(
            r"\b(?:for|while) [^\n]{1,30}:[ \t]*$|\bwhile \w+ *[<>]",
            1.0,
            guard=("for ", "while "),
            anywhere=True,
            key="line",
        ),
        Cue.regex(r"`[^`\n]{1,80}`", 1.0, guard=("`",), anywhere=True),
    ),
    TaskType.MATH: (
        Cue.regex(
            r"\d\s*[+*×÷^x]\s*\(?-?\d|\d\s+-\s+\d|(?<![\d/.])\d{1,12}\s*/\s*\d{1,12}(?![\d/.])",
            2.0,
            guard=(_ANY_DIGIT,),
        ),
        Cue.regex(r"\d\s*%[^.?!\n]{0,15}?\$?\d", 2.0, guard=("%",), key="percent"),
        Cue.regex(
            r"\d\s*%\s*(?:(?:annual|monthly|yearly|simple|compound|flat|sales)\s+)?(?:off|discount|tip|tax|interest|increase|decrease|raise|markup"
            r"|apr|apy|of)\b",
            2.0,
            guard=("%",),
            key="percent",
        ),
        Cue.regex(r"\b(?:square|cube|factorial|reciprocal|inverse) of -?\d", 2.0, guard=("of",)),
        Cue.regex(
            r"\d\s*(?:fois|mal|veces|times|multiplied by|divided by|plus|minus|over)\s*\d",
            2.0,
            guard=(_ANY_DIGIT,),
        ),
        Cue.regex(r"[a-z0-9)]\s*\^\s*[a-z0-9(]", 1.8, guard=("^",), key="algebra"),
        Cue.regex(
            r"\b\d{0,12}[a-z]\s*[-+=]\s*\d{1,12}\s*=|\b[xyz]\s*=\s*-?\d",
            1.8,
            guard=("=",),
            key="algebra",
        ),
        Cue.substrings(("y''",), 1.8, key="algebra"),
        Cue.words(
            "prove/proof/proves/equation/equations/integral/integrate/derivative/differentiate/"
            "eigen*/probability/sqrt/factorial/quadratic/polynomial/polynomials/variance/"
            "compounded/converge/converges/diverge/diverges/induction/irrational/prime/primes/"
            "abelian/arithmetic/logarithm/modulo/combinatorics/permutation/permutations/lemma/"
            "interval"
            " | solve for | square root | differential equation | standard deviation"
            " | how many ways | prime number/numbers | group of order"
            " | generating function/functions | expected number/value | times as many/much"
            " | real solution/solutions | harmonic series",
            2.0,
        ),
        Cue.words(
            "calculat*/compute/solve/derive/theorem/percent*/average/median/ratio/matrix/"
            "triangle/angle/angles/geometry/mph"
            " | show that | sum of | mean of",
            1.0,
        ),
        Cue.regex(r"\bconvert\b[^.?!\n]{0,12}\d", 1.5, guard=("convert",), key="units"),
        Cue.regex(
            r"\d(?:\.\d+)?\s*(?:miles?|km|kg|lbs?|pounds|feet|ft|meters?|cm|inches|celsius|"
            r"fahrenheit|°[cf])\b",
            1.0,
            guard=(_ANY_DIGIT,),
            key="units",
        ),
        Cue.words(
            "how many seconds/minutes/hours/days/weeks/months/years/grams/ml/litres/liters/"
            "inches/feet/meters/miles",
            1.5,
        ),
        Cue.words(
            "monthly payment/payments/repayment/repayments | compound interest"
            " | how much interest | break even | annual return",
            1.5,
        ),
        Cue.words(
            "calcule/calculer/calculez/calcula/calcular/berechne*/rechne/löse/resuelve/résous/"
            "résoudre/demuestra/démontre*/beweise/gleichung/équation/ecuación/ángulo/ángulos/"
            "winkel/montrez/montrer/démontrez/déduisez/beweisen/demostrar/dimostra/dimostrare/"
            "inégalité/ungleichung/desigualdad/convexe/konvex/dérivée/ableitung/derivada/"
            "intégrale | zeige dass | zeigen sie",
            1.5,
        ),
        Cue.substrings(("证明", "方程", "计算", "積分", "証明", "計算"), 2.0),
    ),
    TaskType.REASONING: (
        Cue.words("why/warum/pourquoi/perché/porquê | por qué/que | explain why", 1.2, key="why"),
        Cue.substrings(("为什么", "なぜ", "どうして"), 1.2, key="why"),
        Cue.words("how does/do/did !i/you/we/u", 1.0),
        Cue.words(
            "how it/they/this/that work/works"
            " | how would/should you/i/we architect/design/approach/structure/decide/choose"
            " | how should i/we | explain how !to/do/can/i/you/we/u",
            1.5,
        ),
        Cue.words(
            "compare/comparison/compared/versus/vs/difference/differences/tradeoff/tradeoffs"
            " | differences/difference between | pros and cons | trade off/offs"
            " | advantages and disadvantages | better to | better than"
            " | ventajas y desventajas | vantagens e desvantagens | avantages et inconvénients"
            " | vor und nachteile | vantaggi e svantaggi"
            " | which is better/heavier/faster/more/bigger/safer | in common",
            1.5,
            key="compare",
        ),
        Cue.words(
            "analyse/analyze/analysis/assess/evaluate/critically/critique/implications/"
            "consequences/steelman/argue/argument/justify/strateg*/decide/scenario/scenarios/"
            "deduc*/riddle/puzzle/architect*"
            " | second order | reason through | think through | decision framework"
            " | plan a/an/my/our/the | should i/we | is it better/worth/wise"
            " | what would happen | outline a | design a/an/the | if all | are all",
            1.5,
        ),
        Cue.words("explain", 0.8),
        Cue.words(
            "diseña*/analiza*/estrategia/stratégie/vergleich*/analysier*/compara*/comparer"
            " | wie funktioniert/funktionieren | comment fonctionne/marche | cómo funciona"
            " | come funziona | quelle est la différence | cuál es la diferencia"
            " | was ist der unterschied | qual è la differenza | unterschied zwischen"
            " | différence entre | diferencia entre",
            1.5,
            key="compare",
        ),
        Cue.words(
            "taller/shorter/older/younger/heavier/lighter/faster/slower/bigger/smaller/richer than",
            1.5,
        ),
    ),
    TaskType.SUMMARISATION: (
        Cue.words(
            "summaris*/summariz*/tldr/gist/takeaways/condense/shorten/recap"
            " | sum up | sum it up | tl dr | key points | main points | main ideas"
            " | main takeaways | in a nutshell | boil it/this down"
            " | a/an/short/brief/executive/quick summary | one line summary",
            3.0,
        ),
        Cue.near(
            "write/produce/give/create/make/prepare/draft/synthesi*/combine/merge",
            "summary/summaries",
            3.0,
            within=6,
        ),
        # "summary" alone is often a noun in the material ("translate this discharge summary").
        Cue.words("summary/summaries", 2.0),
        Cue.words(
            "résume/résumer/résumez/résumé/zusammenfassen/zusammenfassung/fasse/resumen/resumir/"
            "resúmelo/resúmeme/riassumi/riassumere/samenvatting/samenvatten"
            " | resume este/esta/el/la/los/las",
            3.0,
        ),
        Cue.words("zusammen", 1.0),
        # The verb opening a request says what to do with the rest, whatever the rest is about.
        Cue.words("summaris*/summariz*/condense/tldr/résume/resume/resumir", 1.0, at_start=True),
        Cue.substrings(("总结", "概括", "摘要", "要約", "まとめ", "要点"), 3.0),
    ),
    TaskType.CREATIVE: (
        Cue.words(
            "poem/poems/haiku/haikus/limerick/limericks/sonnet/sonnets/villanelle/villanelles/"
            "lyrics/screenplay/fable/song/rap/ballad/ode/novel/novella/novelette/sitcom/"
            "fanfiction/memoir/parody/pastiche/satire/kurzgeschichte/vows/obituary/rpg/"
            "ttrpg | pickup line | pick up line | tabletop rpg/game/campaign | campaign setting"
            " | wedding vows"
            " | short story | bedtime story | fairy tale | stage play | three act | fan fiction",
            2.5,
        ),
        Cue.words(
            "story/stories/tale/chapter/scene/dialogue/monologue/joke/jokes/pun/puns/slogan/"
            "slogans/tagline/taglines/caption/captions/jingle/backstory/worldbuilding/episode/"
            "episodes/mystery/verse/rhyme/rhymes/character/characters/sketch/villain/villains/npc/npcs/"
            "protagonist/antagonist/quest/couplet/couplets"
            " | world building | plot twist | twist ending",
            2.0,
        ),
        Cue.words(
            "speech/toast/eulogy/essay/tweet/instagram/wedding"
            " | cover letter | birthday message/card/wish/wishes | greeting card"
            " | product description | blog post | love letter | ad copy | marketing copy",
            2.0,
        ),
        Cue.words(
            "brainstorm*/imagine | ideas for | name/names for | suggest a name | name ideas"
            " | come up with | make up | invent a",
            2.0,
        ),
        Cue.words(
            "roleplay | role play | pretend you're/to/you | act as | you are a"
            " | imagine you're/you",
            2.5,
        ),
        Cue.near(
            "rewrite/rephrase/reword/make/turn",
            "more polite/formal/casual/friendly/professional/persuasive/fun/exciting"
            " | sound more/less | politer | friendlier | funnier",
            2.5,
        ),
        Cue.words("continue this/the story/poem/tale/scene", 2.5),
        Cue.near(
            "write/draft/compose/create/craft/pen",
            "page/bio/post/description/announcement/newsletter/invitation/ad/headline/copy/"
            "pitch/toast/vows/speech/card/note/letter/tagline/blurb/intro/introduction/"
            "welcome/caption/message/greeting/email/emails",
            2.0,
            within=5,
        ),
        Cue.words("write/compose/craft", 0.5),
        Cue.words(
            "poème/poema/poesia/poesie/gedicht/gedichte/cuento/histoire/geschichte/reim/chanson/"
            "canción/lied/conte/racconto/favola/fábula/fable/märchen/filastrocca/"
            "relato/poesía",
            2.5,
        ),
        Cue.substrings(("诗", "故事", "物語", "俳句", "小説", "小说", "童話", "童话", "詩"), 2.5),
    ),
    TaskType.EXTRACTION: (
        Cue.words("extract*/extrae*/extrai*/extrahier*/extrayez", 3.0),
        Cue.words(
            "extract*/extrae*/extrai*/extrahier*/extrayez", 1.0, at_start=True, key="opening"
        ),
        Cue.words(
            "ner | pull out | parse out | named entit* | tag/label each"
            " | classify this/these/each/it | classify the following"
            " | categori* this/these/each | identify the/all/every"
            " | which/what language is",
            2.5,
            key="pull",
        ),
        Cue.near("get", "out of", 2.5, within=5, key="pull"),
        Cue.near("list", _ENTITIES, 2.5, within=2, key="pull"),
        Cue.near("find all/every", _ENTITIES, 2.5, within=1, key="pull"),
        Cue.near(
            "find/get/grab/spot",
            "email address/addresses | phone number/numbers | url/urls | date/dates"
            " | name/names | order number | postcode/zip | iban",
            2.5,
            within=2,
            key="pull",
        ),
        Cue.words(
            f"is this/that {_GIVEN_TEXT} | is the following {_GIVEN_TEXT}"
            " | positive or negative | spam or not",
            2.5,
        ),
        Cue.words("sentiment/entities/mentioned", 1.5),
        Cue.words(
            f"in/on/from/of this/these/the {_GIVEN_TEXT}"
            f" | in/on/from/of the following/attached {_GIVEN_TEXT}",
            1.5,
            key="given",
        ),
        Cue.words(f"this/these {_GIVEN_TEXT}", 1.5, key="given"),
        Cue.words(
            "fields | as/into/to/in json/csv/table/spreadsheet/yaml"
            " | as/into/to/in a json/csv/table/spreadsheet | json object/with",
            1.0,
        ),
        Cue.near(
            "convert/turn/put/parse/format/structure/organise/organize",
            "to/into csv/json/table/spreadsheet/yaml | to/into a csv/json/table/spreadsheet",
            2.5,
            within=4,
        ),
        Cue.words("clasifica/clasifique/classifie*/klassifizier*/classifica", 2.5, key="pull"),
        Cue.substrings(("提取", "抽出", "抽取"), 3.0),
    ),
    TaskType.TRANSLATION: (
        Cue.words(
            "translat*/tradu*/übersetz*/ubersetz*/vertaal*/localis*/localiz*", 3.0, key="translate"
        ),
        Cue.substrings(("翻译", "翻譯", "翻訳", "訳して", "번역"), 3.0, key="translate"),
        Cue.words("translat*/tradu*/übersetz*/vertaal*", 1.0, at_start=True, key="opening"),
        Cue.words(
            "how do/would/can/should you/i/we/u say | wie sagt man | comment dit on | cómo se dice",
            2.5,
            key="say",
        ),
        Cue.regex(r"\bwhat does ['\"‘“][^\n]{1,80}?['\"”] mean\b", 2.5, guard=("mean",), key="say"),
        Cue.words(
            f"{_HUMAN_LANGS} to/into {_HUMAN_LANGS} | {_HUMAN_LANGS} word for"
            f" | word for ? in {_HUMAN_LANGS}",
            2.5,
        ),
        Cue.words(
            f"in/into/to/auf/ins/en/al/à/a/from {_HUMAN_LANGS}"
            f" | in/into/to/auf/ins/en/al/à/a/from {_LANG_ADJECTIVES} {_HUMAN_LANGS}",
            1.5,
        ),
        Cue.near("put/turn/render/convert this/it/that/these", f"to/into {_HUMAN_LANGS}", 2.5),
        # A bare target language opening the request: "english pls: ...", "portuguese for '...'".
        Cue.words(f"{_HUMAN_LANGS} pls/please/plz/for/version", 2.5, at_start=True),
    ),
    TaskType.QUERY_REWRITING: (
        Cue.words(
            "hyde/reformulat*/reformule*/subquery/subqueries"
            " | search query/queries/string/terms/term/strategy/index/engine"
            " | keyword query/queries"
            " | google/bing/web/vector/semantic/bm25/pubmed/elasticsearch search/query"
            " | retrieval query/queries | sub queries/query | query expansion/expansions"
            " | expand this/the query | query/queries variations | search query variations"
            " | standalone question/query | stand alone question/query"
            " | rewrite the/this/my/these query/queries/question/search | rewrite query"
            " | rephrase this/the/my query/question/search/last"
            " | improve/shorten this/the/my query | improve/shorten this/the/my search query"
            " | chat history | paraphrase/paraphrases of this/the question"
            " | paraphrase/paraphrases of this/the ? question | this/the/my search",
            3.0,
        ),
        Cue.near(
            "rephrase/rewrite/reformulate/reword/turn/make/convert/optimise/optimize/improve",
            "search/searches/google | search query/engine | better search",
            3.0,
            within=8,
        ),
        Cue.words("requête/suchanfrage/búsqueda/zoekopdracht", 2.5, key="foreign"),
        Cue.substrings(("查询", "検索クエリ", "검색어"), 2.5, key="foreign"),
        Cue.words("query/queries", 1.0),
        Cue.words("elasticsearch/solr/lucene/opensearch/westlaw/lexisnexis/espacenet", 1.0),
        Cue.words(
            "boolean/embase/retrieve/retrieval/synonyms/keyword/keywords | mesh term/terms", 1.0
        ),
        Cue.words("search/rephrase/reformulate/rewrite", 0.8),
    ),
    TaskType.RAG_QUERY: (
        Cue.regex(
            r"^[ \t]*(?:context|question)[ \t]*:",
            3.0,
            guard=("context", "question"),
            key="context",
        ),
        Cue.words(
            f"use the following/given/provided {_RAG_SOURCES}"
            f" | using only the {_RAG_SOURCES} | answer using/from the {_RAG_SOURCES}"
            f" | answer using/from only the {_RAG_SOURCES} | answer based on the {_RAG_SOURCES}"
            f" | based on the {_RAG_SOURCES} | based on the text above"
            f" | according to the {_RAG_SOURCES}",
            3.0,
            key="context",
        ),
    ),
    TaskType.GENERAL_QA: (
        Cue.words(
            "hi/hello/hey/hiya/yo/thanks/cheers/bye/bonjour/hola/hallo/ciao | thank you"
            " | good morning/evening/afternoon",
            2.0,
            at_start=True,
            key="chat",
        ),
        Cue.words("how are you", 2.0, key="chat"),
        Cue.words("thanks | thank you", 1.0, key="chat"),
        Cue.words(
            "who/when/where is/was/were/are/did/wrote/invented/painted/discovered/founded/built"
            " | what year/time/day/country/city",
            1.0,
        ),
        Cue.words("define/definition/meaning | stand/stands for", 1.5),
        Cue.near("explain what", "is/are/means", 2.5, within=5, key="definition"),
        Cue.words("what should i/we know", 2.5, key="definition"),
        Cue.words(
            f"how do/can/should/would i/you/we/u {_HOWTO_VERBS} | how to {_HOWTO_VERBS}"
            " | how do/can/should/would i/you/we/u set/turn up/on/off"
            " | how do/can/should/would i/you/we/u get rid/to",
            2.0,
        ),
        Cue.words(
            "recommend | tell me about | overview of | is there a"
            " | what are the rules/symptoms/stages/main",
            1.0,
        ),
        Cue.words("what is/are/was/were/does", 0.5, key="what"),
        # "what is a/the ..." opening a question asks for a definition or a fact; it outweighs a
        # language or tool named in passing, not a comparison or a request to write code.
        Cue.words("what is a/an/the | what's a/an/the", 1.4, at_start=True, key="what"),
        Cue.words(
            "qui/quel/quelle/quels/quelles/wer/wo/wann/quién/cuál/dónde | qué es | was ist", 0.8
        ),
        Cue.substrings(
            ("どこ", "何", "誰", "いつ", "多少", "什么", "谁", "哪", "吗", "ですか"), 0.8
        ),
    ),
}

_TASK_CUES: Final = CueIndex(_BUILTIN_CUES)
_TASK_ORDER: Final = {task: index for index, task in enumerate(_TASK_CUES.names)}


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskClassification:
    """What kind of task a query is, how sure the classifier is and why."""

    task_type: str
    """The task type: a :class:`TaskType` member for built-ins, a plain ``str`` for custom."""

    confidence: float
    """How sure the classifier is, from 0 to 1 (share of the evidence behind the winner)."""

    score: float
    """The winning task's raw pattern score."""

    runner_up: str | None
    """The second-best task type, if any pattern pointed elsewhere."""

    runner_up_score: float
    """The runner-up's raw pattern score (0 when there is none)."""

    reason: str
    """What decided it, e.g. ``matched code_generation: 'write a python function'``."""


class TaskClassifier:
    """Classifies a query into a task type with weighted cues and a learned task model.

    ``extra_patterns`` maps task names (built-in or new) to regular expressions added to
    that task, each worth ``extra_pattern_weight``. An invalid expression raises
    ``ValueError`` naming the task and the pattern. ``task_model`` reads queries the cues
    are unsure of (see the module docstring): the model shipped with the package by default,
    another :class:`~ragged_graph.routing.task_model.TaskModel`, or None for cues alone.
    """

    __slots__ = ("_builtin", "_extra", "_model", "_tasks")

    def __init__(
        self,
        extra_patterns: Mapping[str, Sequence[str]] | None = None,
        *,
        extra_pattern_weight: float = DEFAULT_EXTRA_PATTERN_WEIGHT,
        task_model: TaskModel | Literal["builtin"] | None = "builtin",
    ) -> None:
        if not math.isfinite(extra_pattern_weight) or extra_pattern_weight <= 0:
            raise ValueError(
                f"extra_pattern_weight must be a positive number, got {extra_pattern_weight!r}"
            )
        extra: list[tuple[str, _ExtraPatterns]] = []
        for name, patterns in (extra_patterns or {}).items():
            try:
                task = as_task_type(name)
            except ValueError as exc:
                raise ValueError(f"invalid task_patterns key: {exc}") from exc
            extra.append((task, _ExtraPatterns(task, patterns, extra_pattern_weight)))
        self._extra = tuple(extra)
        self._tasks = tuple(dict.fromkeys([*_TASK_CUES.names, *(t for t, _ in extra)]))
        self._model = default_task_model() if task_model == "builtin" else task_model
        self._builtin = frozenset(_TASK_CUES.names)

    @property
    def task_model(self) -> TaskModel | None:
        """The learned task model consulted when the cues are unsure (None: cues alone)."""
        return self._model

    @property
    def task_types(self) -> tuple[str, ...]:
        """Every task type this classifier can return, built-in ones first."""
        return self._tasks

    def classify(
        self,
        query: str | PreparedQuery,
        documents: Sequence[str | DocumentLike | object] | None = None,
    ) -> TaskClassification:
        """Classify ``query``; ``documents`` are retrieved context, if any."""
        prepared = query if isinstance(query, PreparedQuery) else prepare_query(query, documents)
        has_documents = bool(documents) or bool(prepared.documents)
        results = _TASK_CUES.scan(
            prepared.lowered,
            prepared.tokens,
            prepared.material_tokens,
            material_span=(prepared.head_end, prepared.tail_start),
            has_digit=prepared.has_digit,
            has_cjk=prepared.has_cjk,
            material_weight=BODY_WEIGHT,
        )
        scores = {task: result.score for task, result in results.items()}
        evidence = {task: list(result.matches) for task, result in results.items()}
        for task, extra_patterns in self._extra:
            found = extra_patterns.scan(prepared.text)
            if found:
                scores[task] = scores.get(task, 0.0) + sum(m.weight for m in found)
                evidence.setdefault(task, []).extend(found)

        if has_documents:
            return self._with_documents(scores, evidence)
        decided = _decide(scores, evidence)
        if (
            self._model is None
            or decided.confidence >= MODEL_CONSULTED_BELOW
            or decided.task_type not in self._builtin
        ):
            return decided
        return self._consult_model(prepared, decided, scores)

    def _consult_model(
        self, prepared: PreparedQuery, decided: TaskClassification, scores: Mapping[str, float]
    ) -> TaskClassification:
        assert self._model is not None
        guess = self._model.guess(prepared.instruction_tokens)
        no_signal = decided.score < MIN_DECISIVE_SCORE
        if guess is None or (not no_signal and guess.probability <= MODEL_MIN_PROBABILITY):
            return decided
        task = as_task_type(guess.task_type)
        if task == decided.task_type and not no_signal:
            return decided
        why = (
            "no task pattern was decisive"
            if no_signal
            else f"the cues were unsure ({decided.reason}, confidence {decided.confidence:.2f})"
        )
        runner_up = decided.task_type if not no_signal else as_task_type(guess.runner_up)
        return TaskClassification(
            task_type=task,
            confidence=guess.probability,
            score=round(scores.get(task, 0.0), 3),
            runner_up=runner_up,
            runner_up_score=round(scores.get(runner_up, 0.0), 3),
            reason=f"the learned task model reads {task} (p {guess.probability:.2f}); {why}",
        )

    def _with_documents(
        self, scores: dict[str, float], evidence: dict[str, list[PatternMatch]]
    ) -> TaskClassification:
        transform = max(
            (task for task in scores if task in _DOCUMENT_TRANSFORM_TASKS),
            key=scores.__getitem__,
            default=None,
        )
        if transform is not None and scores[transform] >= DOCUMENT_TRANSFORM_MIN_SCORE:
            decided = _decide(scores, evidence)
            if decided.task_type == transform:
                return _with_reason_suffix(decided, "retrieved documents are to be transformed")
        scores[TaskType.RAG_QUERY] = scores.get(TaskType.RAG_QUERY, 0.0) + RETRIEVED_DOCUMENTS_SCORE
        rag_evidence = evidence.setdefault(TaskType.RAG_QUERY, [])
        rag_evidence.insert(
            0, PatternMatch(text="<retrieved documents>", weight=RETRIEVED_DOCUMENTS_SCORE)
        )
        # Questions about the documents are rag_query however strong the other signals.
        others = {t: s for t, s in scores.items() if t != TaskType.RAG_QUERY}
        runner_up = min(others, key=lambda t: (-others[t], _TASK_ORDER.get(t, 99)), default=None)
        runner_up_score = others[runner_up] if runner_up is not None else 0.0
        score = scores[TaskType.RAG_QUERY]
        return TaskClassification(
            task_type=TaskType.RAG_QUERY,
            confidence=_confidence(score, runner_up_score),
            score=round(score, 3),
            runner_up=runner_up,
            runner_up_score=round(runner_up_score, 3),
            reason=_reason(TaskType.RAG_QUERY, rag_evidence),
        )


def _confidence(score: float, runner_up_score: float) -> float:
    return round(min(1.0, score / (score + runner_up_score + _CONFIDENCE_SLACK)), 3)


def _reason(task: str, found: list[PatternMatch]) -> str:
    strongest = sorted(found, key=lambda m: m.weight, reverse=True)[:_REASON_MATCHES]
    shown = ", ".join(repr(m.text[:_REASON_MATCH_CHARS]) for m in strongest)
    return f"matched {task}: {shown}"


def _decide(
    scores: dict[str, float], evidence: dict[str, list[PatternMatch]]
) -> TaskClassification:
    # Ties go to the task listed first: the built-ins end with general_qa, the catch-all.
    ranked = sorted(scores.items(), key=lambda item: (-item[1], _TASK_ORDER.get(item[0], 99)))
    if not ranked or ranked[0][1] < MIN_DECISIVE_SCORE:
        best_other = ranked[0] if ranked else None
        return TaskClassification(
            task_type=TaskType.GENERAL_QA,
            confidence=_NO_SIGNAL_CONFIDENCE,
            score=round(scores.get(TaskType.GENERAL_QA, 0.0), 3),
            runner_up=best_other[0]
            if best_other and best_other[0] != TaskType.GENERAL_QA
            else None,
            runner_up_score=round(best_other[1], 3) if best_other else 0.0,
            reason="no task pattern was decisive; defaulting to general_qa",
        )
    task, score = ranked[0]
    runner_up, runner_up_score = ranked[1] if len(ranked) > 1 else (None, 0.0)
    return TaskClassification(
        task_type=task,
        confidence=_confidence(score, runner_up_score),
        score=round(score, 3),
        runner_up=runner_up,
        runner_up_score=round(runner_up_score, 3),
        reason=_reason(task, evidence[task]),
    )


def _with_reason_suffix(result: TaskClassification, suffix: str) -> TaskClassification:
    return TaskClassification(
        task_type=result.task_type,
        confidence=result.confidence,
        score=result.score,
        runner_up=result.runner_up,
        runner_up_score=result.runner_up_score,
        reason=f"{result.reason} ({suffix})",
    )
