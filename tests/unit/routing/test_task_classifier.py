"""TaskClassifier: the SPEC's examples, tricky queries, documents, config patterns, Unicode."""

from __future__ import annotations

import time

import pytest
from langchain_core.documents import Document

from ragged_graph.learning.task_model_training import load_chat_turns
from ragged_graph.routing.classifier import (
    DOCUMENT_TRANSFORM_MIN_SCORE,
    MODEL_MIN_KNOWN_FEATURES,
    TaskClassification,
    TaskClassifier,
)
from ragged_graph.routing.query_text import PreparedQuery, prepare_query
from ragged_graph.routing.task_model import TaskModel
from ragged_graph.routing.task_types import TaskType

POLICY = (
    "Refund policy. Customers may request a full refund within 30 days of purchase if the "
    "product is unused. Digital products are non-refundable once downloaded."
)


@pytest.fixture(scope="module")
def classifier() -> TaskClassifier:
    return TaskClassifier()


@pytest.fixture(scope="module")
def cues() -> TaskClassifier:
    """The cue tables alone, without the learned task model."""
    return TaskClassifier(task_model=None)


# --------------------------------------------------------------------------- SPEC section 5


def test_spec_python_sorting_function_is_code(classifier: TaskClassifier) -> None:
    result = classifier.classify("Write a Python sorting function")
    assert result.task_type == TaskType.CODE_GENERATION
    assert "write a python sorting function" in result.reason


def test_spec_install_numpy_is_general_qa_not_reasoning(classifier: TaskClassifier) -> None:
    result = classifier.classify("How do I install numpy?")
    assert result.task_type == TaskType.GENERAL_QA
    assert result.runner_up != TaskType.REASONING


def test_no_case_insensitive_acronym_bug(classifier: TaskClassifier) -> None:
    # With `[A-Z]{2,}` under IGNORECASE every word looked like an acronym.
    plain = classifier.classify("tell me about the weather in spring")
    assert plain.task_type == TaskType.GENERAL_QA


# --------------------------------------------------------------------------- tricky queries


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("what does python the snake eat", TaskType.GENERAL_QA),
        ("what is the island of java famous for", TaskType.GENERAL_QA),
        ("which month has the ruby as its birthstone", TaskType.GENERAL_QA),
        ("what is an API", TaskType.GENERAL_QA),
        ("hi!", TaskType.GENERAL_QA),
        ("how do i reverse a list in python", TaskType.CODE_GENERATION),
        (
            "translate this python code to rust: def add(a, b): return a + b",
            TaskType.CODE_GENERATION,
        ),
        (
            "why does this loop never end?\n\ni = 0\nwhile i < 10:\n    print(i)",
            TaskType.CODE_GENERATION,
        ),
        ("写一个Python函数，计算斐波那契数列的第n项", TaskType.CODE_GENERATION),
        ("explain quicksort and compare it with mergesort", TaskType.REASONING),
        (
            "Design a distributed consensus protocol tolerant to byzantine faults",
            TaskType.REASONING,
        ),
        ("Prove that there are infinitely many primes", TaskType.MATH),
        ("15% of 80", TaskType.MATH),
        ("calcule 12 fois 15", TaskType.MATH),
        ("write a poem about python programming, four lines", TaskType.CREATIVE),
        ("tell me a joke about programmers", TaskType.CREATIVE),
        ("give me 3 alternative search queries for 'python list sort'", TaskType.QUERY_REWRITING),
        ("rewrite as a better search query: why my laptop hot", TaskType.QUERY_REWRITING),
        ("translate 'good morning' to spanish", TaskType.TRANSLATION),
        ("Übersetze 'Wo ist der Bahnhof?' ins Englische", TaskType.TRANSLATION),
        ("翻译成英文：我今天很忙", TaskType.TRANSLATION),
        ("tl;dr: the meeting moved to 3pm because the client is late", TaskType.SUMMARISATION),
        (
            "résume ce texte en une phrase : le conseil a voté pour les pistes cyclables",
            TaskType.SUMMARISATION,
        ),
        (
            "is this review positive or negative: 'the battery died after two days'",
            TaskType.EXTRACTION,
        ),
        ("extract the email addresses from: contact a@example.com", TaskType.EXTRACTION),
    ],
)
def test_tricky_queries(classifier: TaskClassifier, query: str, expected: str) -> None:
    result = classifier.classify(query)
    assert result.task_type == expected, result.reason


# Mechanisms rather than cases: each query below is not in the golden set.
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # A prose artefact between "write" and a code noun is what is being written.
        ("write a welcome email for users of our new fitness app", TaskType.CREATIVE),
        ("create a one-shot hook for a sci-fi game night with two villains", TaskType.CREATIVE),
        ("write a python function that validates an email address", TaskType.CODE_GENERATION),
        # Naming a language or tool is weak evidence: a definition question stays general.
        ("what is the borrow checker in rust?", TaskType.GENERAL_QA),
        ("how to uninstall docker on debian", TaskType.GENERAL_QA),
        ("how do i reverse a string in javascript", TaskType.CODE_GENERATION),
        # The opening verb decides what to do with material about something else.
        (
            "Summarise this abstract, keep the main equation: we derive an integral bound "
            "for the variance of the estimator and prove it converges.",
            TaskType.SUMMARISATION,
        ),
        # One concept counts once ("explain why" is a "why"; "comparison" a "compare").
        (
            "Prove that the square root of 2 is irrational and explain why the proof works",
            TaskType.MATH,
        ),
        ("Explain how vaccines train the immune system", TaskType.REASONING),
        ("por que o céu é azul?", TaskType.REASONING),
        ("spanish please: where is the train station?", TaskType.TRANSLATION),
        ("turn these notes into a csv table: anna 12 paid, ben 9 unpaid", TaskType.EXTRACTION),
        ("scrivi una poesia sul mare", TaskType.CREATIVE),
    ],
)
def test_general_task_evidence(cues: TaskClassifier, query: str, expected: str) -> None:
    result = cues.classify(query)
    assert result.task_type == expected, result.reason


def test_demands_after_a_colon_belong_to_the_instruction() -> None:
    review = "The battery lasts two days. The screen scratches easily. " * 20
    prepared = prepare_query(
        "Summarise this review for a busy reader: strengths, weaknesses, and whether it is "
        "worth buying.\n\n" + review
    )
    assert "weaknesses" in prepared.instruction
    assert "battery" not in prepared.instruction


def test_with_documents_a_short_query_is_all_instruction() -> None:
    query = "Summarise these studies: design, population, effect size and limitations"
    assert prepare_query(query, [POLICY]).instruction == query.lower()
    assert prepare_query(query).instruction != query.lower()


def test_long_paste_with_a_question_about_it(classifier: TaskClassifier) -> None:
    paste = "Canberra is the capital city of Australia. " + "It is a planned city. " * 40
    result = classifier.classify(paste + "\n\nwhat is the capital mentioned here?")
    assert result.task_type == TaskType.EXTRACTION


def test_words_in_pasted_material_count_less_than_the_instruction(
    classifier: TaskClassifier,
) -> None:
    article = "Researchers compare and analyse why the policy failed, and argue about it. " * 12
    result = classifier.classify("Translate into German:\n\n" + article)
    assert result.task_type == TaskType.TRANSLATION


# --------------------------------------------------------------------------- result shape


def test_result_is_frozen_and_explains_itself(classifier: TaskClassifier) -> None:
    result = classifier.classify("Write a Python sorting function")
    assert isinstance(result, TaskClassification)
    assert 0.0 < result.confidence <= 1.0
    assert result.score > 0
    assert result.reason.startswith("matched code_generation:")
    with pytest.raises(AttributeError):
        result.task_type = "math"  # type: ignore[misc]


def test_runner_up_is_reported(classifier: TaskClassifier) -> None:
    result = classifier.classify("explain what this regex does and why it is slow: ^(a+)+$")
    assert result.runner_up is not None
    assert result.runner_up != result.task_type
    assert 0 < result.runner_up_score <= result.score


def test_without_the_model_no_signal_defaults_to_general_qa_with_low_confidence(
    cues: TaskClassifier,
) -> None:
    result = cues.classify("can penguins fly")
    assert result.task_type == TaskType.GENERAL_QA
    assert result.confidence < 0.5
    assert "defaulting to general_qa" in result.reason


def test_the_model_reads_a_query_no_cue_matches(cues: TaskClassifier) -> None:
    query = "get me every invoice number and due date in here"
    assert "no task pattern was decisive" in cues.classify(query).reason
    model = TaskModel(
        classes=["extraction", "general_qa"],
        intercepts=[0.0, 0.0],
        features={
            "invoice": (1.0, [3.0, -3.0]),
            "due date": (1.0, [2.0, -2.0]),
            "number": (1.0, [1.0, -1.0]),
            "every": (1.0, [0.5, -0.5]),
        },
    )
    result = TaskClassifier(task_model=model).classify(query)
    assert result.task_type == TaskType.EXTRACTION
    assert result.reason.startswith("the learned task model reads extraction (p ")
    assert "no task pattern was decisive" in result.reason
    assert result.confidence > 0.9


def test_the_model_does_not_decide_a_query_it_knows_too_little_of() -> None:
    sure_of_two_words = TaskModel(
        classes=["code_generation", "general_qa"],
        intercepts=[0.0, 0.0],
        features={"go": (1.0, [4.0, -4.0]), "on": (1.0, [4.0, -4.0])},
    )
    assert MODEL_MIN_KNOWN_FEATURES > 3  # "go", "on" and "go on" are all it knows
    result = TaskClassifier(task_model=sure_of_two_words).classify("go on")
    assert result.task_type == TaskType.GENERAL_QA
    assert "defaulting to general_qa" in result.reason


@pytest.mark.parametrize("turn", ["ok", "yes please", "sure, go on", "continue", "option 2"])
def test_chat_turns_that_ask_for_nothing_are_general_qa(
    classifier: TaskClassifier, turn: str
) -> None:
    assert classifier.classify(turn).task_type == TaskType.GENERAL_QA


def test_conversational_turns_keep_their_measured_accuracy(classifier: TaskClassifier) -> None:
    turns = load_chat_turns()
    right = sum(classifier.classify(turn.query).task_type == turn.task_type for turn in turns)
    # 130 of 138 when MODEL_MIN_KNOWN_FEATURES was set (107 before; 134 with cues alone).
    assert right / len(turns) >= 0.94


def test_the_model_does_not_overrule_confident_cues_custom_tasks_or_documents() -> None:
    always_creative = TaskModel(
        classes=["creative", "general_qa"],
        intercepts=[5.0, -5.0],
        features={"the": (1.0, [0.0, 0.0]), "a": (1.0, [0.0, 0.0])},
    )
    classifier = TaskClassifier({"legal": [r"\bclause\b"]}, task_model=always_creative)
    assert classifier.classify("translate this to french: good morning").task_type == (
        TaskType.TRANSLATION
    )
    assert classifier.classify("what does the clause say").task_type == "legal"
    with_documents = classifier.classify("what is the refund window", [POLICY])
    assert with_documents.task_type == TaskType.RAG_QUERY


def test_an_unsure_model_leaves_the_cues_decision() -> None:
    undecided = TaskModel(
        classes=["creative", "general_qa", "math"],
        intercepts=[0.0, 0.0, 0.0],
        features={"how": (1.0, [0.1, 0.0, 0.0])},
    )
    cues_only = TaskClassifier(task_model=None).classify("how to uninstall docker on debian")
    assert cues_only.confidence < 0.7
    result = TaskClassifier(task_model=undecided).classify("how to uninstall docker on debian")
    assert result == cues_only


def test_a_prepared_query_is_accepted(classifier: TaskClassifier) -> None:
    prepared = prepare_query("integrate x * e^x dx")
    assert isinstance(prepared, PreparedQuery)
    assert classifier.classify(prepared).task_type == TaskType.MATH


# --------------------------------------------------------------------------- documents


def test_documents_make_a_question_a_rag_query(classifier: TaskClassifier) -> None:
    result = classifier.classify("what's the refund window?", [POLICY])
    assert result.task_type == TaskType.RAG_QUERY
    assert "<retrieved documents>" in result.reason


def test_langchain_documents_are_accepted(classifier: TaskClassifier) -> None:
    result = classifier.classify("can I return an ebook?", [Document(page_content=POLICY)])
    assert result.task_type == TaskType.RAG_QUERY


def test_hard_questions_about_documents_stay_rag(classifier: TaskClassifier) -> None:
    query = "Critically compare these policies and explain why they differ"
    assert classifier.classify(query, [POLICY, POLICY]).task_type == TaskType.RAG_QUERY


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Summarise these documents for the weekly email", TaskType.SUMMARISATION),
        ("extract every monetary amount from the documents", TaskType.EXTRACTION),
        ("translate the documents into german", TaskType.TRANSLATION),
    ],
)
def test_transforming_the_documents_is_its_own_task(
    classifier: TaskClassifier, query: str, expected: str
) -> None:
    result = classifier.classify(query, [POLICY])
    assert result.task_type == expected
    assert result.score >= DOCUMENT_TRANSFORM_MIN_SCORE
    assert "retrieved documents are to be transformed" in result.reason


def test_inline_context_from_a_prompt_template_is_rag(classifier: TaskClassifier) -> None:
    prompt = f"Use the following context to answer.\n\nContext:\n{POLICY}\n\nQuestion: can I?"
    assert classifier.classify(prompt).task_type == TaskType.RAG_QUERY


# --------------------------------------------------------------------------- config patterns


def test_extra_patterns_add_a_new_task_type() -> None:
    classifier = TaskClassifier(extra_patterns={"legal_review": [r"\bclause\b", r"\bindemnif\w*"]})
    result = classifier.classify("Check whether this clause on indemnification is fair")
    assert result.task_type == "legal_review"
    assert "legal_review" in classifier.task_types
    assert "indemnification" in result.reason


def test_extra_patterns_strengthen_a_builtin_task() -> None:
    plain = TaskClassifier().classify("ELI5 quantum tunnelling")
    assert plain.task_type == TaskType.GENERAL_QA
    tuned = TaskClassifier(extra_patterns={"reasoning": [r"\beli5\b"]})
    result = tuned.classify("ELI5 quantum tunnelling")
    assert result.task_type is TaskType.REASONING


def test_extra_patterns_are_case_insensitive_unless_asked() -> None:
    classifier = TaskClassifier(extra_patterns={"ticketing": [r"(?-i:\bJIRA\b)"]})
    assert classifier.classify("file a JIRA for this").task_type == "ticketing"
    assert classifier.classify("file a jira for this").task_type != "ticketing"


def test_invalid_regex_names_the_task_and_the_pattern() -> None:
    with pytest.raises(ValueError, match=r"task 'legal_review'.*'\(unclosed'"):
        TaskClassifier(extra_patterns={"legal_review": ["fine", "(unclosed"]})


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ({"Bad Name": ["x"]}, "invalid task_patterns key"),
        ({"legal": "a single string"}, "must be a list"),
        ({"legal": [""]}, "non-empty regular expression"),
    ],
)
def test_malformed_extra_patterns_are_rejected(patterns: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TaskClassifier(extra_patterns=patterns)  # type: ignore[arg-type]


def test_extra_pattern_weight_must_be_positive() -> None:
    with pytest.raises(ValueError, match="extra_pattern_weight"):
        TaskClassifier(extra_pattern_weight=0)


# --------------------------------------------------------------------------- Unicode safety

NASTY_STRINGS = {
    "empty": "",
    "whitespace": " \t\n ",
    "null byte": "\x00",
    "null bytes": "\x00" * 100_000,
    "emoji": "🚀🔥💯" * 30_000,
    "arabic": "مرحبا، كيف حالك؟ " * 5_000,
    "hebrew": "שלום עולם",
    "bidi override": "\u202ewhy is the sky blue\u202c",
    "zero width": "\u200b".join("translate this to french"),
    "combining marks": "e\u0301" * 50_000,
    "lone surrogates": "\ud800\udfff why",
    "case folding grows": "İ" * 50_000 + " translate",
    "digits": "1" * 100_000,
    "digit slashes": "1/" * 50_000,
    "newlines": "\n" * 100_000,
    "label lines": "\n \n context" * 20_000,
    "quote openers": "what does '" * 20_000,
    "call openers": "a.b(" * 30_000,
    "one long word": "a" * 100_000,
    "100k words": "why " * 25_000,
    "mixed scripts and code": "写一个函数 def f(x): return x ```" * 3_000,
    "control characters": "".join(chr(i) for i in range(32)) * 3_000,
    "format strings": "{0} %s {} ${x}" * 10_000,
    "crlf": "Summarise this:\r\n\r\n" + "text line\r\n" * 5_000,
}


@pytest.mark.parametrize("text", NASTY_STRINGS.values(), ids=NASTY_STRINGS.keys())
def test_any_unicode_input_is_classified_quickly(classifier: TaskClassifier, text: str) -> None:
    started = time.perf_counter()
    result = classifier.classify(text, [text[:1000]] if text else None)
    elapsed = time.perf_counter() - started
    assert isinstance(result.task_type, str)
    assert 0.0 <= result.confidence <= 1.0
    assert elapsed < 0.05, f"took {elapsed * 1000:.1f} ms"


def test_work_is_bounded_by_the_scan_window(classifier: TaskClassifier) -> None:
    prepared = prepare_query("x " * 500_000)
    assert prepared.length == 1_000_000
    assert len(prepared.text) < 5_000
    assert prepared.payload_chars > 900_000
