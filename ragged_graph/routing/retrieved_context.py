"""Finding retrieved documents inside a RAG prompt.

A RAG chain formats its retrieved documents into the prompt before the model sees them, so a
router dropped into the chain gets one block of text. The common layouts are recognised and
split back into the question and the documents:

- tagged blocks: ``<context>...</context>``, ``<documents>``, ``<docs>``, ``<sources>``;
- a labelled block: after ``Context:`` (or ``Retrieved context:``, ``Documents:``,
  ``Sources:``, ``Passages:``) at the start or end of a line, up to a
  ``Question:``/``Query:``/``Answer:`` line or the end;
- LangChain hub's ``rlm/rag-prompt`` ("Question: ... Context: ... Answer:").

The question is what follows a ``Question:``/``Query:`` label if there is one, else the text
around the block. Documents are split on blank lines, as ``"\\n\\n".join(...)`` of page
contents (the usual ``format_docs``) leaves them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SplitPrompt", "split_retrieved_context"]

# Only prompts of some length can hold retrieved documents; this bounds the scans' cost too.
_MIN_CONTEXT_CHARS = 20

_TAGGED = re.compile(
    r"<(context|documents|docs|sources|retrieved_context)>\s*(?P<body>.*?)\s*</\1>",
    re.IGNORECASE | re.DOTALL,
)
# Words of which one is in every tag and label below: without one, the costly scans are skipped.
_LABEL_WORDS = ("context", "doc", "sources", "passages")
_LABEL = r"(?:retrieved )?(?:context|documents|sources|passages|retrieved documents)"
# The label starts its line ("Context: ...") or ends it ("... the following context:").
_LABELLED = re.compile(
    rf"(?:^|\n)(?:[ \t]*|[^\n]*?\b){_LABEL}[ \t]*:[ \t]*(?:\n|(?=\S))(?P<body>.*?)"
    r"(?=\n[ \t]*(?:question|query|answer)[ \t]*:|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_QUESTION = re.compile(
    r"(?:^|\n)[ \t]*(?:question|query)[ \t]*:[ \t]*(?P<question>.*?)"
    rf"(?=\n[ \t]*(?:{_LABEL}|answer)[ \t]*:|\Z)",
    re.IGNORECASE | re.DOTALL,
)
_BLANK_LINES = re.compile(r"\n[ \t]*\n+")


@dataclass(frozen=True, kw_only=True, slots=True)
class SplitPrompt:
    """A prompt split into its question and the documents retrieved for it."""

    question: str
    """What the user asks (the whole text when no documents were found)."""
    documents: tuple[str, ...] = ()
    """The retrieved documents found in the prompt."""


def _documents(body: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _BLANK_LINES.split(body) if part.strip())


def split_retrieved_context(text: str) -> SplitPrompt:
    """Split ``text`` into question and retrieved documents (see the module docstring)."""
    match = None
    if ":" in text or "</" in text:
        folded = text.casefold()
        if any(label in folded for label in _LABEL_WORDS):
            match = _TAGGED.search(text) or _LABELLED.search(text)
    if match is None or len(match.group("body").strip()) < _MIN_CONTEXT_CHARS:
        return SplitPrompt(question=text)
    documents = _documents(match.group("body"))
    labelled_question = _QUESTION.search(text)
    if labelled_question is not None and labelled_question.group("question").strip():
        question = labelled_question.group("question").strip()
    else:
        question = (text[: match.start()] + "\n" + text[match.end() :]).strip()
    return SplitPrompt(question=question or text, documents=documents)
