"""Which kind of task a query is: weighted regular expressions, no model, microseconds.

Every task type has a table of patterns with weights. A query's score for a task is the sum
of the weights of the task's patterns that match it (each pattern counts once); the best
score wins, and the reason names what matched. Patterns are precompiled, one alternation per
task, so classifying a typical query costs a handful of regex scans.

Decisions worth knowing:

- Text is lowercased once and the built-in patterns are written in lowercase, so there is no
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
- With no pattern scoring at least :data:`MIN_DECISIVE_SCORE`, the query is ``general_qa``.
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
from typing import Final, Protocol, runtime_checkable

from ragged_graph.routing.task_types import TaskType, as_task_type

__all__ = [
    "BODY_WEIGHT",
    "DEFAULT_EXTRA_PATTERN_WEIGHT",
    "DOCUMENT_TRANSFORM_MIN_SCORE",
    "MIN_DECISIVE_SCORE",
    "SCAN_HEAD_CHARS",
    "SCAN_TAIL_CHARS",
    "DocumentLike",
    "PreparedQuery",
    "TaskClassification",
    "TaskClassifier",
    "WeightedPatterns",
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


@dataclass(frozen=True, kw_only=True, slots=True)
class PreparedQuery:
    """A query made ready for pattern scans once, shared by the classifier and the analyser."""

    text: str
    """The scanned part of the query in its original case (head and tail of a long one)."""

    lowered: str
    """``text`` lowercased: what the built-in patterns scan."""

    length: int
    """Length of the whole query in characters, before any trimming."""

    instruction: str
    """What the user asks for, from ``lowered``, without the material pasted to work on."""

    head_end: int
    """Where pasted material starts in ``lowered`` (its length for short queries)."""

    tail_start: int
    """Where pasted material ends in ``lowered``: a closing question follows it."""

    payload_chars: int
    """Characters of material given to work on (pasted text, quoted phrases, code)."""

    documents: tuple[str, ...] = ()
    """Texts of the retrieved documents supplied with the query."""


_SHORT_QUERY_CHARS: Final = 300
_HEAD_SEARCH_CHARS: Final = 250
_TAIL_PARAGRAPH_CHARS: Final = 300
_HEAD_SEPARATORS: Final = ("\n", ": ", "：")
_LABEL_CHARS: Final = 20
_QUOTED = re.compile(r"""["'`“‘«「]([^"'`”’»」\n]{2,400})["'`”’»」]""")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _first_separator(text: str) -> tuple[int, int]:
    """Position and length of the first line break or colon near the start, or ``(-1, 0)``."""
    found, width = -1, 0
    for separator in _HEAD_SEPARATORS:
        position = text.find(separator, 0, _HEAD_SEARCH_CHARS)
        if position > 0 and (found < 0 or position < found):
            found, width = position, len(separator)
    return found, width


def _layout(text: str) -> tuple[int, int, str, int]:
    """Where the instruction is in ``text`` and how much material comes with it.

    Returns ``(head_end, tail_start, instruction, payload_chars)``. Pattern matches between
    ``head_end`` and ``tail_start`` are in pasted material; ``instruction`` is what the user
    asks for, without the material.

    - A short query is all instruction for matching. If a line break or colon splits it
      (``translate to french: ...``), the instruction is what precedes it and the rest is
      material; otherwise any quoted text is material.
    - In a longer query the instruction is the first line (or the words before the first
      colon, or the first sentence) plus a closing question after the last line break. A
      query that opens with material or with a bare label (``Context:``) gets its closing
      paragraph as instruction whether or not it is a question.
    """
    length = len(text)
    separator, width = _first_separator(text)
    if length <= _SHORT_QUERY_CHARS:
        if separator > 0 and separator + width < length:
            return length, length, text[:separator], length - separator - width
        return length, length, text, sum(len(m.group(1)) for m in _QUOTED.finditer(text))
    starts_with_material = separator < 0 or separator < _LABEL_CHARS
    if separator >= 0:
        head_end = separator
    else:
        sentence_end = text.find(". ", 0, _HEAD_SEARCH_CHARS)
        head_end = sentence_end + 1 if sentence_end > 0 else _HEAD_SEARCH_CHARS
    tail_start = text.rfind("\n", head_end)
    if (
        tail_start > 0
        and length - tail_start <= _TAIL_PARAGRAPH_CHARS
        and (starts_with_material or text.rstrip().endswith(("?", "？")))
    ):
        return head_end, tail_start, text[:head_end] + text[tail_start:], tail_start - head_end
    return head_end, length, text[:head_end], length - head_end


def prepare_query(
    query: str, documents: Iterable[str | DocumentLike | object] | None = None
) -> PreparedQuery:
    """Lowercase and trim ``query`` once; see :class:`PreparedQuery`."""
    length = len(query)
    if length > SCAN_HEAD_CHARS + SCAN_TAIL_CHARS:
        text = query[:SCAN_HEAD_CHARS] + "\n" + query[-SCAN_TAIL_CHARS:]
    else:
        text = query
    lowered = text.lower()
    head_end, tail_start, instruction, payload = _layout(lowered)
    payload += length - len(text)
    if payload and length <= _SHORT_QUERY_CHARS:
        # Chinese and Japanese carry a word or more per character: weigh their material so.
        payload += 2 * len(_CJK.findall(lowered, len(instruction)))
    texts = tuple(document_text(d) for d in documents) if documents else ()
    return PreparedQuery(
        text=text,
        lowered=lowered,
        length=length,
        instruction=instruction,
        head_end=head_end,
        tail_start=tail_start,
        payload_chars=payload,
        documents=texts,
    )


# --------------------------------------------------------------------------- pattern sets


@dataclass(frozen=True, kw_only=True, slots=True)
class PatternMatch:
    """One pattern that matched, with what it matched and what it contributed."""

    text: str
    """The matched text (as scanned, lowercased for built-in patterns)."""

    weight: float
    """What the match added to the score after position weighting."""


class WeightedPatterns:
    """A list of ``(regex, weight)`` compiled into one alternation and scanned in one pass.

    Built-in patterns are written for lowercase text and must not contain capturing groups
    of their own (use ``(?:...)``). ``anywhere`` patterns count in full wherever they match;
    the others count :data:`BODY_WEIGHT` in pasted material. With ``count_distinct``, each
    distinct matched text counts (a vocabulary: three expert terms are more than one);
    otherwise each pattern counts once however often it matches.
    """

    __slots__ = ("_anywhere", "_count_distinct", "_regex", "_weights")

    def __init__(
        self,
        patterns: Sequence[tuple[str, float]],
        *,
        anywhere: bool = False,
        count_distinct: bool = False,
    ) -> None:
        self._weights = tuple(weight for _, weight in patterns)
        self._anywhere = anywhere
        self._count_distinct = count_distinct
        if patterns:
            alternation = "|".join(f"(?P<p{i}>{regex})" for i, (regex, _) in enumerate(patterns))
            self._regex: re.Pattern[str] | None = re.compile(alternation, re.MULTILINE)
        else:
            self._regex = None

    def scan(
        self,
        text: str,
        matches: list[PatternMatch] | None = None,
        *,
        head_end: int | None = None,
        tail_start: int | None = None,
    ) -> float:
        """Sum of the weights of the patterns matching ``text``, each pattern counted once.

        Matches between ``head_end`` and ``tail_start`` (pasted material) count
        :data:`BODY_WEIGHT`; by default all of ``text`` is instruction. If ``matches`` is
        given, what matched is appended to it.
        """
        if self._regex is None:
            return 0.0
        full_until = len(text) if head_end is None else head_end
        full_from = len(text) if tail_start is None else tail_start
        best: dict[str, tuple[float, str]] = {}
        count_distinct = self._count_distinct
        for match in self._regex.finditer(text):
            group = match.lastgroup
            if group is None:  # pragma: no cover - every alternative is a named group
                continue
            weight = self._weights[int(group[1:])]
            start = match.start()
            if not self._anywhere and full_until <= start < full_from:
                weight *= BODY_WEIGHT
            key = match.group() if count_distinct else group
            seen = best.get(key)
            if seen is None or weight > seen[0]:
                best[key] = (weight, match.group())
        if matches is not None:
            matches.extend(PatternMatch(text=t, weight=w) for w, t in best.values())
        return sum(weight for weight, _ in best.values())


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

    def scan(self, text: str, matches: list[PatternMatch]) -> float:
        total = 0.0
        for regex in self._regexes:
            found = regex.search(text)
            if found is not None:
                total += self._weight
                matches.append(PatternMatch(text=found.group(), weight=self._weight))
        return total


# --------------------------------------------------------------------------- built-in patterns

_LANGS_CLEAR = (
    r"javascript|typescript|c\+\+|c#|golang|kotlin|sql|html|css|react|vue|angular|django|"
    r"flask|fastapi|pandas|numpy|node\.?js|cuda|bash|powershell|haskell|scala|php|matlab|"
    r"dockerfile|docker|kubernetes|terraform|jquery|regex|js|ts"
)
_LANGS_AMBIGUOUS = r"python|java|ruby|rust|go|c|swift|perl|shell|r|lua|dart|elixir"
_CODE_NOUNS = (
    r"functions?|methods?|class(?:es)?|script|program|module|component|endpoint|api|cli|"
    r"kernel|regex|unit tests?|tests?|dockerfile|makefile|one[- ]liner|algorithm|parser|"
    r"interpreter|tokenizer|compiler|library|decorator|hook|struct|trait|interface|snippet|"
    r"macro|service|cache|queue|linked list|hash ?map|b-?tree|binary tree|heap|engine|"
    r"bubble sort|quicksort|merge ?sort|binary search|code|daemon|plugin|server|"
    r"handler|lambda|generator|iterator|crud app|web ?app|app"
)
_HUMAN_LANGS = (
    r"english|spanish|french|german|italian|portuguese|dutch|japanese|chinese|mandarin|"
    r"cantonese|korean|russian|arabic|polish|swedish|norwegian|danish|finnish|turkish|hindi|"
    r"greek|latin|hebrew|ukrainian|czech|vietnamese|thai|indonesian|englisch|deutsch|"
    r"französisch|spanisch|anglais|allemand|espagnol|français|italien|inglés|ingles|"
    r"alemán|francés|español|italiano|portugués|japonés|chino"
)

_BUILTIN_PATTERNS: Final[Mapping[str, tuple[tuple[str, float], ...]]] = {
    TaskType.CODE_GENERATION: (
        (
            r"\b(?:write|writ|create|make|generate|implement|build|code|give me|add)\b"
            rf"[^.?!\n]{{0,45}}?\b(?:{_CODE_NOUNS})\b",
            2.5,
        ),
        (r"\b(?:implement|code up|program|refactor|debug|compile|deploy)\b", 1.2),
        (
            r"\b(?:fix|debug|refactor|optimi[sz]e|review|port|rewrite|convert|translate|"
            r"speed up|clean up)\b[^.?!\n]{0,30}\b(?:code|function|script|class|program|loop|"
            r"query|regex|handler|module|snippet|bug|error|method)\b",
            2.0,
        ),
        (
            r"\b(?:my|this|the following|our|the|some|example|sample) (?:code|script|function|"
            r"program|snippet|regex|stack ?trace|traceback|handler|codebase|repo)\b",
            2.0,
        ),
        (
            r"\bwhat (?:this|the following|that) (?:code|regex|function|script|snippet|"
            r"query|line|expression) does\b|\bexplain (?:this|the following|my) (?:code|regex|"
            r"function|script|snippet|query|error)\b",
            2.0,
        ),
        (rf"\bhow (?:do i|to|can i|do you|would i)\b[^?\n]{{0,50}}\b(?:in|with|using) "
         rf"(?:{_LANGS_CLEAR}|{_LANGS_AMBIGUOUS})\b", 2.5),
        (rf"\b(?:in|with|using|to|from) (?:{_LANGS_CLEAR}|{_LANGS_AMBIGUOUS})\b", 1.2),
        (rf"\b(?:{_LANGS_CLEAR})\b", 1.2),
        (rf"\b(?:{_LANGS_AMBIGUOUS})\b", 0.6),
        (r"\b(?:sql query|one[- ]liner|list comprehension|syntax error|compile error|"
         r"runtime error|segfault|null pointer|stack overflow error|keyerror|typeerror|"
         r"valueerror|indexerror|attributeerror|nullpointerexception|undefined is not)\b", 1.5),
        (r"\b(?:array|variables?|loop|recursion|pointers?|exception|bug|unit tests?|pytest|jest|"
         r"git|commit|merge conflict|async|await|mutex|thread[- ]safe|race conditions?|"
         r"deadlocks?|atomics?|bytecode|garbage collect\w*|vm|compiler|div|flexbox|"
         r"command|terminal|dataclass\w*|refactor|api endpoint|json schema|orm)\b", 1.0),
        (r"\b(?:select|join|group by|rows?|columns?|schema)\b", 0.4),
        (r"函数|代码|程序|脚本|関数|コード|プログラム|スクリプト", 2.5),
        (r"\b(?:funktion|fonction|función|funcion|klasse|skript|programm|código|codigo)\b", 1.5),
    ),
    TaskType.MATH: (
        (r"\d\s*[+*×÷^]\s*\(?-?\d|\d\s+-\s+\d|(?<![\d/.])\d+\s*/\s*\d+(?![\d/.])", 2.0),
        (r"\b\d+(?:\.\d+)?\s*%[^.?!\n]{0,15}?\$?\d", 2.0),
        (r"\d+\s*(?:fois|mal|veces|times|multiplied by|divided by|plus|minus|over)\s*\d", 2.0),
        (r"[a-z]\s*\^\s*\d|\b\d*[a-z]\s*[-+=]\s*\d+\s*=|\b[xyz]\s*=\s*-?\d|\by''?", 1.8),
        (
            r"\b(?:prove|proof|proves|equations?|integral|integrate|derivative|differentiate|"
            r"eigen\w*|probability|solve for|square root|sqrt|factorial|quadratic|polynomials?|"
            r"differential equation|standard deviation|variance|how many ways|compounded|"
            r"converges?|diverges?|induction|irrational|primes?|prime numbers?|abelian|"
            r"group of order|generating functions?|expected (?:number|value)|times as many|"
            r"times as much|arithmetic|logarithm|modulo|combinatorics|permutations?|lemma|"
            r"real solutions?|harmonic series|interval)\b",
            2.0,
        ),
        (r"\b(?:calculate|calculat\w+|compute|solve|derive|theorem|show that|sum of|percent\w*|"
         r"average|mean|median|ratio|matrix|triangle|angles?|geometry|mph|km/h|interest)\b", 1.0),
        (r"\bconvert\b[^.?!\n]{0,12}\d|\b\d+(?:\.\d+)?\s*(?:miles?|km|kg|lbs?|pounds|feet|ft|"
         r"meters?|cm|inches|celsius|fahrenheit|°[cf])\b", 1.5),
        (r"\bhow many (?:seconds|minutes|hours|days|weeks|months|years|grams|ml|litres|liters|"
         r"inches|feet|meters|miles)\b", 1.5),
        (r"\b(?:calcule[rz]?|calcula[r]?|berechne\w*|rechne|löse|resuelve|résous|résoudre|"
         r"demuestra|démontre[rz]?|beweise|gleichung|équation|ecuación|ángulos?|winkel)\b", 1.5),
        (r"证明|方程|计算|積分|証明|計算", 2.0),
    ),
    TaskType.REASONING: (
        (r"\bwhy\b|\bwarum\b|\bpourquoi\b|\bpor qué\b|\bperché\b|为什么|なぜ|どうして", 1.2),
        (r"\bhow (?:does|do|did) (?!i\b|you\b|we\b|u\b)", 1.0),
        (r"\bhow (?:it|they|this|that) works?\b|\bhow (?:would|should) (?:you|i|we) "
         r"(?:architect|design|approach|structure|decide|choose)\b|\bhow should (?:i|we)\b", 1.5),
        (
            r"\b(?:compare|comparison|compared|versus|vs\.?|differences? between|"
            r"difference|pros and cons|trade-?offs?|advantages and disadvantages|"
            r"better to|better than|which is (?:better|heavier|faster|more|bigger|safer)|"
            r"in common)\b",
            1.5,
        ),
        (
            r"\b(?:analy[sz]e|analysis|assess|evaluate|critically|critique|implications|"
            r"consequences|second[- ]order|steelman|argue|argument|justify|reason through|"
            r"think through|decision framework|strateg\w+|plan (?:a|an|my|our|the)|"
            r"should (?:i|we)|is it (?:better|worth|wise)|explain why|what would happen|"
            r"outline a|design (?:a|an|the)|architect\w*|decide|scenarios?|deduc\w*|"
            r"riddle|puzzle|if all|are all)\b",
            1.5,
        ),
        (r"\bexplain\b", 0.8),
        (r"\b(?:diseña\w*|analiza\w*|estrategia|stratégie|vergleich\w*|analysier\w*|"
         r"compara\w*|comparer)\b", 1.5),
    ),
    TaskType.SUMMARISATION: (
        (
            r"\b(?:summari[sz]e\w*|sum up|sum it up|tl;?dr|tldr|gist|key points|main points|"
            r"main ideas|main takeaways|takeaways|condense|shorten|recap|in a nutshell|"
            r"boil (?:it|this) down|(?:a|an|short|brief|one[- ]line|executive|quick) summary)\b",
            3.0,
        ),
        # "summary" alone is often a noun in the material ("translate this discharge summary").
        (r"\b(?:summary|summaries)\b", 2.0),
        (r"\b(?:résume[rz]?|résumé|zusammen(?:fassen|fassung)|fasse\w*|resum[ei]\w*|resumen|"
         r"riassum\w*|samenvat\w*|samenvatting)\b", 3.0),
        (r"\bzusammen\b", 1.0),
        (r"总结|概括|摘要|要約|まとめ|要点", 3.0),
    ),
    TaskType.CREATIVE: (
        (
            r"\b(?:poems?|haikus?|limericks?|sonnets?|villanelles?|lyrics|screenplay|"
            r"short story|bedtime story|fairy tale|fable|song|rap|ballad|ode|stage play|"
            r"three-act|novel|sitcom|fan ?fiction)\b",
            2.5,
        ),
        (
            r"\b(?:story|stories|tale|chapter|scene|dialogue|monologue|jokes?|puns?|slogans?|"
            r"taglines?|captions?|jingle|backstory|world-?building|episodes?|plot twist|"
            r"twist ending|mystery|verse|rhymes?|characters?)\b",
            2.0,
        ),
        (
            r"\b(?:cover letter|speech|toast|eulogy|birthday (?:message|card|wish\w*)|"
            r"greeting card|product description|blog post|essay|love letter|ad copy|"
            r"marketing copy|tweet|instagram|wedding)\b",
            2.0,
        ),
        (r"\b(?:brainstorm\w*|ideas for|names? for|suggest a name|name ideas|come up with|"
         r"make up|invent a|imagine)\b", 2.0),
        (r"\b(?:role ?play|pretend (?:you'?re|to be|you are)|act as|you are a|"
         r"imagine you(?:'re| are))\b", 2.5),
        (
            r"\b(?:rewrite|rephrase|reword|make|turn)\b[^.?!\n]{0,30}\b(?:more (?:polite|formal|"
            r"casual|friendly|professional|persuasive|fun|exciting)|sound (?:more|less)|"
            r"politer|friendlier|funnier)\b",
            2.5,
        ),
        (r"\bcontinue (?:this|the) (?:story|poem|tale|scene)\b", 2.5),
        (r"\b(?:write|compose|craft)\b", 0.5),
        (r"\b(?:poème|poema|gedicht|cuento|histoire|geschichte|reim|chanson|canción|lied|"
         r"conte|relato|poesía)\b", 2.5),
        (r"诗|故事|物語|俳句|小説", 2.5),
    ),
    TaskType.EXTRACTION: (
        (r"\b(?:extract\w*|extrae\w*|extrai\w*|extrahier\w*|extraire|extrayez)\b", 3.0),
        (
            r"\b(?:pull out|get (?:the|all|every)? ?[\w ]{0,20}? out of|parse out|"
            r"find all (?:the )?\w+|named entit\w*|ner|tag each|label each|"
            r"classify (?:this|these|the following|each|it)|categori[sz]e (?:this|these|each)|"
            r"identify (?:the|all|every)|which language is|what language is|"
            r"list (?:all|every|the) (?:the )?(?:people|persons|names|dates|emails?|"
            r"email addresses|entities|amounts|monetary amounts?|numbers|companies|"
            r"organi[sz]ations|locations|places|products|urls|links))\b",
            2.5,
        ),
        (
            r"\bis (?:this|the following|that) (?:review|email|message|text|comment|tweet|"
            r"sentence|ticket)\b|\b(?:positive or negative|spam or not)\b",
            2.5,
        ),
        (r"\b(?:sentiment|entities|mentioned)\b", 1.5),
        (
            r"\b(?:in|on|from|of) (?:this|the following|the attached|these|the) (?:sentence|"
            r"text|paragraph|email|message|address|invoice|receipt|contract|clause|review|"
            r"signature|passage|note|notes|transcript|tweets|reviews|form|document)\b",
            1.5,
        ),
        (r"\b(?:as|into|to|in) (?:a )?(?:json|csv|table|spreadsheet|yaml|key-value)\b|"
         r"\bjson (?:object|with)\b|\bfields\b", 1.0),
        (r"\bconvert (?:this|it|the \w+) (?:in)?to (?:a )?(?:csv|json|table|spreadsheet|yaml)\b",
         2.5),
        (r"提取|抽出|抽取", 3.0),
    ),
    TaskType.TRANSLATION: (
        (
            r"\b(?:translat\w*|traduc\w*|tradu[ci]\w*|übersetz\w*|ubersetz\w*|vertaal\w*|"
            r"traduire|traduis\w*|traduzir|tradurre|locali[sz]e\w*)\b",
            3.0,
        ),
        (r"翻译|翻譯|翻訳|訳して|번역", 3.0),
        (r"\bhow (?:do|would|can|should) (?:you|i|we|u) say\b|\bwie sagt man\b|"
         r"\bcomment dit-on\b|\bcómo se dice\b|\bwhat does ['\"‘“].+?['\"’”] mean\b", 2.5),
        (rf"\b(?:{_HUMAN_LANGS}) (?:to|into|->|→) (?:{_HUMAN_LANGS})\b|"
         rf"\b(?:{_HUMAN_LANGS}) word for\b|\bword for \w+ in (?:{_HUMAN_LANGS})\b", 2.5),
        (rf"\b(?:in|into|to|auf|ins|en|al|à|a|from) (?:(?:plain|simple|formal|proper|"
         rf"idiomatic|natural|modern|british|american|brazilian|european) )?"
         rf"(?:{_HUMAN_LANGS})\b", 1.5),
        (rf"\b(?:put|turn|render|convert) (?:this|it|that|these)\b[^.?!\n]{{0,25}}? "
         rf"(?:in)?to (?:{_HUMAN_LANGS})\b", 2.5),
    ),
    TaskType.QUERY_REWRITING: (
        (
            r"\b(?:search quer(?:y|ies)|search string|search terms?|keyword quer(?:y|ies)|"
            r"(?:google|bing|web|vector|semantic|bm25|pubmed|elasticsearch) (?:search|query)|"
            r"retrieval quer(?:y|ies)|sub-?quer(?:y|ies)|query expansions?|expand (?:this|the) "
            r"query|quer(?:y|ies) variations|search query variations|standalone (?:question|query)|"
            r"stand-alone (?:question|query)|hyde|rewrite (?:the|this|my|these) (?:query|"
            r"question|search)|rewrite query|rephrase (?:this|the|my) (?:query|question|search|"
            r"last)|reformulat\w*|reformule\w*|(?:improve|shorten) (?:this|the|my) (?:search )?"
            r"query|search strategy|chat history|paraphrases? of (?:this|the) (?:\w+ )?question|"
            r"(?:this|the|my) search|search index|search engine)\b",
            3.0,
        ),
        (r"\b(?:requête|suchanfrage|búsqueda|zoekopdracht)\b|查询|検索クエリ|검색어", 2.5),
        (r"\b(?:query|queries)\b", 1.0),
        (r"\b(?:mesh terms?|boolean|embase|retrieve|retrieval|synonyms|keywords?)\b", 1.0),
        (r"\b(?:search|rephrase|reformulate|rewrite)\b", 0.8),
    ),
    TaskType.RAG_QUERY: (
        (
            r"(?:^|\n)\s*context\s*:|\buse the (?:following|given|provided) (?:context|"
            r"documents?|passages?)\b|\busing only the (?:context|documents?|passages?|"
            r"sources?)\b|\banswer (?:using|based on|from) (?:only )?the (?:context|documents?|"
            r"passages?|sources?)(?: below| above)?\b|\bbased on the (?:context|documents?|"
            r"passages?|sources?|text above)\b|\baccording to the (?:context|documents?|"
            r"passages?|sources?)\b|(?:^|\n)\s*question\s*:",
            3.0,
        ),
    ),
    TaskType.GENERAL_QA: (
        (r"^\s*(?:hi|hello|hey|hiya|yo|good (?:morning|evening|afternoon)|thanks|thank you|"
         r"cheers|bye|bonjour|hola|hallo|ciao)\b|\bhow are you\b|\bthanks\b", 2.0),
        (r"\b(?:who|when|where) (?:is|was|were|are|did|wrote|invented|painted|discovered|"
         r"founded|built)\b|\bwhat (?:year|time|day|country|city)\b", 1.0),
        (r"\b(?:define|definition of|meaning of|stand for|stands for)\b", 1.5),
        (r"\bexplain what (?:an? |the )?\w+(?: \w+){0,3} (?:is|are|means)\b|"
         r"\bwhat should (?:i|we) know\b", 2.5),
        (
            r"\bhow (?:do|can|should|would) (?:i|you|we|u) (?:install|download|set ?up|update|"
            r"upgrade|uninstall|reset|boil|cook|clean|get to|turn (?:on|off)|enable|disable|"
            r"change|cancel|delete|remove|find|use|get rid of|unblock|restart)\b",
            2.0,
        ),
        (r"\b(?:recommend|tell me about|overview of|is there a|what are the (?:rules|symptoms|"
         r"stages|main))\b", 1.0),
        (r"\bwhat (?:is|are|was|were|does)\b", 0.5),
        (r"\b(?:qui|quel(?:le)?s?|wer|wo|wann|quién|cuál|dónde|qué es|was ist)\b", 0.8),
        (r"どこ|何|誰|いつ|多少|什么|谁|哪|吗|ですか", 0.8),
    ),
}

_CODE_STRUCTURE: Final = WeightedPatterns(
    (
        (r"```", 2.0),
        (r"\b(?:def|func|fn|function) \w+\s*\(|\bclass \w+\s*[:({]|#include\b|\bpublic static\b",
         2.0),
        (r"\breturn\b[^\n]{0,40}$|[;{}]\s*$|\bimport \w+|\b(?:print|console\.log|printf)\(|"
         r"\bself\.\w|\w\.\w+\([^)\n]*\)|=>|\b(?:for|while) [^\n]{1,30}:\s*$|\bwhile \w+ *[<>]",
         1.0),
        (r"`[^`\n]{1,80}`", 1.0),
    ),
    anywhere=True,
)


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
    """Classifies a query into a task type with weighted regular expressions.

    ``extra_patterns`` maps task names (built-in or new) to regular expressions added to
    that task, each worth ``extra_pattern_weight``. An invalid expression raises
    ``ValueError`` naming the task and the pattern.
    """

    __slots__ = ("_builtin", "_extra", "_tasks")

    def __init__(
        self,
        extra_patterns: Mapping[str, Sequence[str]] | None = None,
        *,
        extra_pattern_weight: float = DEFAULT_EXTRA_PATTERN_WEIGHT,
    ) -> None:
        if not math.isfinite(extra_pattern_weight) or extra_pattern_weight <= 0:
            raise ValueError(
                f"extra_pattern_weight must be a positive number, got {extra_pattern_weight!r}"
            )
        self._builtin: tuple[tuple[str, WeightedPatterns], ...] = tuple(
            (task, WeightedPatterns(patterns)) for task, patterns in _BUILTIN_PATTERNS.items()
        )
        extra: list[tuple[str, _ExtraPatterns]] = []
        for name, patterns in (extra_patterns or {}).items():
            try:
                task = as_task_type(name)
            except ValueError as exc:
                raise ValueError(f"invalid task_patterns key: {exc}") from exc
            extra.append((task, _ExtraPatterns(task, patterns, extra_pattern_weight)))
        self._extra = tuple(extra)
        self._tasks = tuple(dict.fromkeys([*_BUILTIN_PATTERNS, *(t for t, _ in extra)]))

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
        lowered = prepared.lowered

        scores: dict[str, float] = {}
        evidence: dict[str, list[PatternMatch]] = {}
        for task, patterns in self._builtin:
            found: list[PatternMatch] = []
            score = patterns.scan(
                lowered, found, head_end=prepared.head_end, tail_start=prepared.tail_start
            )
            if task == TaskType.CODE_GENERATION:
                score += _CODE_STRUCTURE.scan(prepared.text, found)
            if score > 0:
                scores[task] = score
                evidence[task] = found
        for task, extra_patterns in self._extra:
            found = evidence.get(task, [])
            added = extra_patterns.scan(prepared.text, found)
            if added > 0:
                scores[task] = scores.get(task, 0.0) + added
                evidence[task] = found

        if has_documents:
            return self._with_documents(scores, evidence)
        return _decide(scores, evidence)

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
        runner_up = max(others, key=others.__getitem__, default=None)
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
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if not ranked or ranked[0][1] < MIN_DECISIVE_SCORE:
        best_other = ranked[0] if ranked else None
        return TaskClassification(
            task_type=TaskType.GENERAL_QA,
            confidence=_NO_SIGNAL_CONFIDENCE,
            score=round(scores.get(TaskType.GENERAL_QA, 0.0), 3),
            runner_up=best_other[0] if best_other and best_other[0] != TaskType.GENERAL_QA
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
