"""Training the learned task model: its data, the shipped file, the per-writer check."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ragged_graph.errors import EvaluationDataError
from ragged_graph.learning.golden import GoldenCase, load_golden_set
from ragged_graph.learning.task_model_training import (
    cross_validate_by_writer,
    default_training_examples,
    labelled_examples,
    load_labelled_queries,
    load_task_corpus,
    task_examples,
    train_task_model,
)
from ragged_graph.routing.classifier import TaskClassification, TaskClassifier
from ragged_graph.routing.query_text import PreparedQuery
from ragged_graph.routing.task_model import TaskModel, default_task_model

pytest.importorskip("sklearn")


def case(id: str, query: str, task: str, split: str = "tune", **extra: object) -> GoldenCase:
    return GoldenCase.model_validate(
        {"id": id, "query": query, "task_type": task, "tier": "fast", "split": split, **extra}
    )


def test_examples_come_from_tune_cases_without_rag_queries() -> None:
    cases = [
        case("a-1", "Translate 'hello' into Spanish", "translation"),
        case("a-2", "what is 2 + 2", "math", split="holdout"),
        case("a-3", "what does it say about refunds?", "rag_query", documents=["Refunds..."]),
    ]
    [example] = task_examples(cases)
    assert (example.id, example.task_type, example.source) == ("a-1", "translation", "a")
    assert example.tokens[:2] == ("translate", "hello")


def test_the_shipped_model_is_what_training_on_the_shipped_data_gives() -> None:
    examples = default_training_examples()
    holdout_ids = {c.id for c in load_golden_set() if c.split == "holdout"}
    assert not holdout_ids & {e.id for e in examples}
    assert {e.source for e in examples} == {"golden", "e1", "e2", "e3", "e4"}
    trained = train_task_model(examples)
    assert json.loads(json.dumps(trained.to_json())) == default_task_model().to_json()


def test_the_corpus_covers_every_task_type_from_four_writers() -> None:
    corpus = load_task_corpus()
    assert len(corpus) >= 590
    writers = {c.id.partition("-")[0] for c in corpus}
    assert writers == {"e1", "e2", "e3", "e4"}
    assert len({c.task_type for c in corpus}) == 10
    golden_queries = {c.query.strip().lower() for c in load_golden_set()}
    assert not golden_queries & {c.query.strip().lower() for c in corpus}


def test_each_writer_is_judged_by_a_model_trained_without_them() -> None:
    writers = {
        "w1": [("sum up the meeting notes", "summarisation"), ("solve 3x = 12", "math")],
        "w2": [("tl;dr of the meeting notes", "summarisation"), ("what is 12 / 3", "math")],
    }
    corpus = [
        case(f"{writer}-{i}", query, task)
        for writer, items in writers.items()
        for i, (query, task) in enumerate(items)
    ]
    seen: list[tuple[str, ...] | None] = []

    def classify(prepared: PreparedQuery, model: TaskModel | None) -> TaskClassification:
        seen.append(model.classes if model is not None else None)
        return TaskClassifier(task_model=model).classify(prepared)

    scores = cross_validate_by_writer([], corpus, classify, min_df=1)
    assert [s.writer for s in scores] == ["w1", "w2"]
    assert all(s.cases == 2 for s in scores)
    assert all(0.0 <= s.baseline <= 1.0 and 0.0 <= s.with_model <= 1.0 for s in scores)
    assert seen.count(None) == 4  # every held-out query, with the cues alone
    assert seen.count(("math", "summarisation")) == 4


def test_labelled_query_files_are_read_and_their_problems_named(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"query": "is this clause enforceable", "task_type": "contract_review"}\n\n'
        '{"query": "what does it say?", "task_type": "rag_query", "documents": ["..."]}\n',
        encoding="utf-8",
    )
    queries = load_labelled_queries(good)
    assert [q.task_type for q in queries] == ["contract_review", "rag_query"]
    [example] = labelled_examples(queries, source="good")
    assert (example.id, example.task_type) == ("good:1", "contract_review")

    cases = {
        "empty.jsonl": ("\n", "no labelled queries"),
        "json.jsonl": ("{not json\n", "json.jsonl:1: not valid JSON"),
        "name.jsonl": ('{"query": "x", "task_type": "Not A Name"}\n', "name.jsonl:1: task_type"),
        "extra.jsonl": ('{"query": "x", "task_type": "math", "tier": "fast"}\n', "extra.jsonl:1"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(EvaluationDataError, match=re.escape(message)):
            load_labelled_queries(path)
    with pytest.raises(EvaluationDataError, match="cannot read"):
        load_labelled_queries(tmp_path / "missing.jsonl")
