from __future__ import annotations

import pytest

from ragged_graph.routing.retrieved_context import split_retrieved_context

DOCS = "The Eiffel Tower is 330 metres tall.\n\nIt was completed in 1889 for the World's Fair."


@pytest.mark.parametrize(
    "prompt",
    [
        f"Answer the question based only on the following context:\n{DOCS}\n\n"
        "Question: How tall is the Eiffel Tower?",
        "You are an assistant for question-answering tasks. Use the following pieces of "
        "retrieved context to answer the question.\nQuestion: How tall is the Eiffel Tower? \n"
        f"Context: {DOCS} \nAnswer:",
        f"<context>\n{DOCS}\n</context>\nQuestion: How tall is the Eiffel Tower?",
        f"SOURCES:\n{DOCS}\n\nQUESTION: How tall is the Eiffel Tower?",
        f"<DOCS>{DOCS}</DOCS>\nQuestion: How tall is the Eiffel Tower?",
        f"Retrieved Passages:\n{DOCS}\nQuery: How tall is the Eiffel Tower?",
    ],
    ids=["following-context", "rlm-rag-prompt", "tagged", "upper-case", "docs-tag", "passages"],
)
def test_common_rag_prompts_are_split(prompt: str) -> None:
    split = split_retrieved_context(prompt)
    assert split.question == "How tall is the Eiffel Tower?"
    assert split.documents == (
        "The Eiffel Tower is 330 metres tall.",
        "It was completed in 1889 for the World's Fair.",
    )


def test_tagged_context_without_question_label_keeps_the_rest_as_question() -> None:
    split = split_retrieved_context(f"How tall is it?\n<documents>{DOCS}</documents>")
    assert split.question == "How tall is it?"
    assert len(split.documents) == 2


@pytest.mark.parametrize(
    "prompt",
    ["What is Paris?", "Write a Python function", "context: hi", "", "🙂" * 50, "\x00 ctx"],
)
def test_prompts_without_retrieved_context_are_left_whole(prompt: str) -> None:
    split = split_retrieved_context(prompt)
    assert split.question == prompt
    assert split.documents == ()
