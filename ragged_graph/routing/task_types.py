"""The kinds of task a query can be, as routing understands them (SPEC section 2).

The ten built-in task types form a closed default set; users add their own through config
(``task_patterns:``), so everything downstream carries a task as a plain ``str``. The
built-ins are :class:`TaskType` members, which are ``str`` too, so ``task == "math"`` and
``task is TaskType.MATH`` both work for them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from types import MappingProxyType
from typing import Final

__all__ = [
    "BUILTIN_TASK_TYPES",
    "TASK_DESCRIPTIONS",
    "TaskType",
    "as_task_type",
    "validate_task_name",
]


class TaskType(StrEnum):
    """The built-in task types (SPEC section 2)."""

    CODE_GENERATION = "code_generation"
    MATH = "math"
    REASONING = "reasoning"
    SUMMARISATION = "summarisation"
    CREATIVE = "creative"
    EXTRACTION = "extraction"
    TRANSLATION = "translation"
    QUERY_REWRITING = "query_rewriting"
    RAG_QUERY = "rag_query"
    GENERAL_QA = "general_qa"

    @property
    def description(self) -> str:
        """What the task type covers, in one line."""
        return TASK_DESCRIPTIONS[self]


TASK_DESCRIPTIONS: Final = MappingProxyType(
    {
        TaskType.CODE_GENERATION: "writing, fixing, refactoring, explaining or reviewing code",
        TaskType.MATH: "calculation, word problems, equations, proofs",
        TaskType.REASONING: (
            "why/how explanations, comparison, analysis, planning, multi-step argument"
        ),
        TaskType.SUMMARISATION: "condensing given or retrieved text, key points, TL;DR",
        TaskType.CREATIVE: "stories, poems, slogans, brainstorming, role play",
        TaskType.EXTRACTION: (
            "pulling fields, entities or labels out of given text, classifying given text"
        ),
        TaskType.TRANSLATION: "turning text from one language into another",
        TaskType.QUERY_REWRITING: "rephrasing or expanding a search query",
        TaskType.RAG_QUERY: "a question to be answered from retrieved documents",
        TaskType.GENERAL_QA: "short factual look-ups, definitions, chit-chat",
    }
)
"""One-line description of every built-in task type."""

BUILTIN_TASK_TYPES: Final = frozenset(TaskType)
"""The built-in task types, as a set (its members are also ``str``)."""

_TASK_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def validate_task_name(name: str) -> str:
    """Return ``name`` if it can name a task type, else raise ``ValueError``.

    Task names appear in config keys, metrics labels and JSON, so they are restricted to
    lowercase ``snake_case`` identifiers of at most 64 characters.
    """
    if not _TASK_NAME.fullmatch(name):
        raise ValueError(
            f"invalid task type name {name!r}: expected lowercase snake_case "
            "(a letter, then letters, digits or underscores; at most 64 characters)"
        )
    return name


_BUILTIN_BY_NAME: Final = {task.value: task for task in TaskType}


def as_task_type(name: str) -> str:
    """The :class:`TaskType` member for a built-in name, else ``name`` itself (validated)."""
    builtin = _BUILTIN_BY_NAME.get(name)
    return builtin if builtin is not None else validate_task_name(name)
