"""TaskModel: scikit-learn's probabilities in pure Python, its file, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragged_graph.errors import LearnedModelError
from ragged_graph.routing.query_text import prepare_query
from ragged_graph.routing.task_model import (
    MODEL_FORMAT,
    TaskModel,
    default_task_model,
    load_task_model,
    model_features,
)

TOKENS = ("sum", "up", "this", "report", "report", "please")


def small_model() -> TaskModel:
    return TaskModel(
        classes=["math", "summarisation"],
        intercepts=[0.2, -0.2],
        features={
            "sum": (1.5, [1.0, 0.4]),
            "sum up": (2.0, [-1.0, 2.0]),
            "report": (1.2, [-0.3, 0.9]),
        },
    )


def test_features_are_words_and_neighbouring_pairs() -> None:
    assert model_features(("sum", "up", "this")) == ["sum", "up", "this", "sum up", "up this"]


def test_probabilities_are_tf_idf_logistic_regression_by_hand() -> None:
    # TF-IDF with sublinear counts, L2-normalised over known features, then softmax.
    import math

    values = {"sum": 1.5, "sum up": 2.0, "report": (1 + math.log(2)) * 1.2}
    norm = math.sqrt(sum(v * v for v in values.values()))
    math_logit = 0.2 + (1.5 * 1.0 + 2.0 * -1.0 + values["report"] * -0.3) / norm
    summary_logit = -0.2 + (1.5 * 0.4 + 2.0 * 2.0 + values["report"] * 0.9) / norm
    expected = 1 / (1 + math.exp(math_logit - summary_logit))
    found = small_model().probabilities(TOKENS)
    assert found is not None
    assert found["summarisation"] == pytest.approx(expected)
    assert sum(found.values()) == pytest.approx(1.0)


def test_it_agrees_with_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from ragged_graph.learning.task_model_training import TaskExample, train_task_model

    texts = {
        "math": ["what is 12 times 7", "solve x plus 3 equals 9", "what is half of 90 times 3"],
        "summarisation": ["sum up this report", "give me the gist of the report", "tl dr pls"],
        "translation": ["translate good morning to german", "how do you say thanks in french"],
    }
    examples = [
        TaskExample(id=f"{task}-{i}", tokens=tuple(text.split()), task_type=task, source="t")
        for task, items in texts.items()
        for i, text in enumerate(items)
    ]
    two_tasks = [e for e in examples if e.task_type != "translation"]
    for training in (examples, two_tasks):  # scikit-learn stores two classes differently
        model = train_task_model(training, regularisation=5.0, min_df=1)
        vectoriser = TfidfVectorizer(analyzer=model_features, sublinear_tf=True, lowercase=False)
        matrix = vectoriser.fit_transform([list(e.tokens) for e in training])
        reference = LogisticRegression(C=5.0, max_iter=5000).fit(
            matrix, [e.task_type for e in training]
        )
        for query in ("what is 3 times 3 times 3", "the gist of this report please", "what is it"):
            tokens = tuple(query.split())
            expected = reference.predict_proba(vectoriser.transform([list(tokens)]))[0]
            found = model.probabilities(tokens)
            assert found is not None
            assert [found[c] for c in reference.classes_] == pytest.approx(expected.tolist())


def test_a_query_of_unknown_words_gets_no_guess() -> None:
    assert small_model().guess(("zebra", "quartz")) is None
    guess = small_model().guess(TOKENS)
    assert guess is not None
    assert (guess.task_type, guess.runner_up) == ("summarisation", "math")
    assert guess.probability > guess.runner_up_probability


def test_a_saved_model_reads_back_the_same(tmp_path: Path) -> None:
    path = small_model().save(tmp_path / "model.json")
    again = TaskModel.load(path)
    assert again.probabilities(TOKENS) == pytest.approx(small_model().probabilities(TOKENS))
    assert load_task_model(str(path)) is not None
    assert load_task_model(None) is None
    assert load_task_model("builtin") is default_task_model()


def test_unusable_model_files_are_typed_errors_that_say_how_to_retrain(tmp_path: Path) -> None:
    with pytest.raises(LearnedModelError, match=r"cannot be read.*train_task_model\.py"):
        TaskModel.load(tmp_path / "missing.json")
    other_format = small_model().to_json() | {"format": MODEL_FORMAT + 1}
    (tmp_path / "new.json").write_text(json.dumps(other_format))
    with pytest.raises(LearnedModelError, match="has format 2, expected 1"):
        TaskModel.load(tmp_path / "new.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(LearnedModelError, match="not a task model"):
        TaskModel.load(tmp_path / "list.json")
    broken = small_model().to_json()
    broken["features"]["sum"] = [1.0, 2.0]  # one weight for two classes
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(LearnedModelError, match="not a task model"):
        TaskModel.load(tmp_path / "broken.json")


def test_the_shipped_model_knows_every_task_but_rag_query() -> None:
    model = default_task_model()
    assert "rag_query" not in model.classes
    assert len(model.classes) == 9
    guess = model.guess(prepare_query("kannst du mir das auf englisch übersetzen").tokens)
    assert guess is not None


def test_the_router_takes_its_task_model_from_the_config(tmp_path: Path) -> None:
    from ragged_graph.config import RouterConfig
    from ragged_graph.routing.router import Router

    def router(setting: str | None) -> Router:
        return Router(RouterConfig.model_validate({"learning": {"task_model": setting}}))

    assert router("builtin").classifier.task_model is default_task_model()
    assert router(None).classifier.task_model is None
    path = small_model().save(tmp_path / "mine.json")
    mine = router(str(path)).classifier.task_model
    assert mine is not None
    assert mine.classes == ("math", "summarisation")
    with pytest.raises(LearnedModelError, match=r"missing\.json"):
        router(str(tmp_path / "missing.json"))
