"""The built-in task types and task-name validation."""

from __future__ import annotations

import pytest

from ragged_graph.routing.task_types import (
    BUILTIN_TASK_TYPES,
    TASK_DESCRIPTIONS,
    TaskType,
    as_task_type,
    validate_task_name,
)

SPEC_TASK_TYPES = {
    "code_generation",
    "math",
    "reasoning",
    "summarisation",
    "creative",
    "extraction",
    "translation",
    "query_rewriting",
    "rag_query",
    "general_qa",
}


def test_the_ten_task_types_of_the_spec() -> None:
    assert {str(task) for task in TaskType} == SPEC_TASK_TYPES
    assert set(SPEC_TASK_TYPES) == BUILTIN_TASK_TYPES


def test_members_are_plain_strings() -> None:
    assert TaskType.MATH == "math"
    assert isinstance(TaskType.MATH, str)
    assert {TaskType.MATH: 1}["math"] == 1


def test_every_task_type_is_described() -> None:
    assert set(TASK_DESCRIPTIONS) == set(TaskType)
    assert TaskType.RAG_QUERY.description


def test_as_task_type_returns_members_for_builtins_and_strings_for_custom() -> None:
    assert as_task_type("math") is TaskType.MATH
    custom = as_task_type("legal_review")
    assert custom == "legal_review"
    assert not isinstance(custom, TaskType)


@pytest.mark.parametrize("name", ["", "Legal", "legal review", "1st", "legal-review", "x" * 65])
def test_invalid_task_names_are_rejected(name: str) -> None:
    with pytest.raises(ValueError, match="invalid task type name"):
        validate_task_name(name)
