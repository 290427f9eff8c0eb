"""A query made ready for matching, once, for the classifier and the complexity analyser.

:func:`prepare_query` lowercases the query, splits it into words and finds what is the
instruction and what is material to work on:

- Users put the instruction at the start or the end and paste material in between; the
  material makes a query long, not hard, and a cue in it says less about the task.
- Work is bounded: at most :data:`SCAN_HEAD_CHARS` from the start and
  :data:`SCAN_TAIL_CHARS` from the end of a query are kept, whatever its length.
- Retrieved documents (strings or LangChain ``Document``\\ s) come along as texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol, runtime_checkable

__all__ = [
    "CJK",
    "SCAN_HEAD_CHARS",
    "SCAN_TAIL_CHARS",
    "WORD",
    "DocumentLike",
    "PreparedQuery",
    "document_text",
    "prepare_query",
]

SCAN_HEAD_CHARS: Final = 3000
"""How much of the start of a query is scanned (the instruction is usually here)."""

SCAN_TAIL_CHARS: Final = 1000
"""How much of the end of a long query is scanned (a question after pasted text)."""


@runtime_checkable
class DocumentLike(Protocol):
    """Anything with LangChain ``Document``'s ``page_content`` (Document itself included)."""

    @property
    def page_content(self) -> str: ...


def document_text(document: str | DocumentLike | object) -> str:
    """The text of a retrieved document: a string, a LangChain ``Document``, or a mapping with
    ``page_content`` (or ``text``)."""
    if isinstance(document, str):
        return document
    content = getattr(document, "page_content", None)
    if content is None and isinstance(document, Mapping):
        content = document.get("page_content", document.get("text"))
    return content if isinstance(content, str) else str(document)


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
WORD: Final = re.compile(r"\w+(?:'\w+)*")
_DIGIT: Final = re.compile(r"\d")
CJK: Final = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
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
    has_cjk = CJK.search(lowered) is not None
    if has_cjk and payload and length <= _SHORT_QUERY_CHARS:
        # Chinese and Japanese carry a word or more per character: weigh their material so.
        payload += 2 * len(CJK.findall(lowered, len(instruction)))
    # The instruction's words are usually the words outside the material: one tuple then.
    if head_end < len(lowered):
        tokens = tuple(WORD.findall(lowered, 0, head_end) + WORD.findall(lowered, tail_start))
        material_tokens = tuple(WORD.findall(lowered, head_end, tail_start))
        instruction_tokens = tokens
    else:
        tokens = tuple(WORD.findall(lowered))
        material_tokens = ()
        instruction_tokens = (
            tokens if len(instruction) == len(lowered) else tuple(WORD.findall(instruction))
        )
    texts = tuple(document_text(d) for d in documents) if documents else ()
    return PreparedQuery(
        text=text,
        lowered=lowered,
        length=length,
        head_end=head_end,
        tail_start=tail_start,
        tokens=tokens,
        material_tokens=material_tokens,
        instruction=instruction,
        instruction_tokens=instruction_tokens,
        payload_chars=payload,
        has_digit=_DIGIT.search(lowered) is not None,
        has_cjk=has_cjk,
        documents=texts,
    )
