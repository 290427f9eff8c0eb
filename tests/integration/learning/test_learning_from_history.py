"""Continual learning end to end: real requests, real feedback, `learn`, and the background
retraining that feedback starts."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ragged_graph import RaggedRouter
from ragged_graph.cli import app
from ragged_graph.config import RouterConfig
from ragged_graph.learning.history_training import (
    examples_from_history,
    learning_embeddings,
    retrain,
)
from ragged_graph.learning.learned_router import LearnedRouter
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import OllamaServer
from tests.support.history import config_for

pytestmark = pytest.mark.integration

EASY = [f"What is the capital of country number {i}?" for i in range(20)]
HARD = [
    f"Prove that the sum of the first {i} odd numbers is a perfect square, step by step."
    for i in range(3, 23)
]


def learning_config(server: OllamaServer, tmp_path: Path, **learning: object) -> RouterConfig:
    return config_for(
        server,
        f"sqlite:///{tmp_path / 'history.sqlite3'}",
        query_text="store",
        settings={
            "learning": {
                "model_path": str(tmp_path / "learned.zip"),
                "min_examples": 10,
                **learning,
            }
        },
    )


def one_model_router(config: RouterConfig) -> RaggedRouter:
    # One model answers everything, so that its predicted quality must come from the query.
    model = RaggedRouter(config=config).route("What is Paris?").model
    return RaggedRouter(config=config, model=model)


def rate_a_batch(router: RaggedRouter) -> None:
    # The users are happy with easy answers and unhappy with the hard ones.
    for easy, hard in zip(EASY, HARD, strict=True):
        for question, score in ((easy, 0.9), (hard, 0.1)):
            run_id = uuid.uuid4()
            router.invoke(question, config={"run_id": run_id})
            router.feedback(run_id, score=score)


def test_learn_trains_from_rated_requests_and_replaces_only_a_worse_router(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = learning_config(ollama_server, tmp_path)
    router = one_model_router(config)
    rate_a_batch(router)
    router.close()

    store = HistoryStore(config.history.url)
    try:
        examples = examples_from_history(store)
        assert len(examples) == 40
        first = retrain(store, config.learning, learning_embeddings(config))
        assert first.replaced
        assert first.current_error is None
        second = retrain(store, config.learning, learning_embeddings(config))
        # The saved router has seen the held-out examples: the candidate cannot beat it.
        assert not second.replaced
        assert second.current_error is not None
        assert "kept the saved router" in second.reason
    finally:
        store.close()

    learned = LearnedRouter.load(config.learning.model_path, learning_embeddings(config))
    [model] = learned.models
    easy = learned.predict_qualities("What is the capital of country number 99?")[model]
    hard = learned.predict_qualities(
        "Prove that the sum of the first 40 odd numbers is a perfect square, step by step."
    )[model]
    assert easy > hard


def test_the_learn_command_reports_too_few_examples_and_then_trains(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = learning_config(ollama_server, tmp_path)
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        f"history:\n  url: {config.history.url}\n"
        f"learning:\n  model_path: {config.learning.model_path}\n  min_examples: 10\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    refused = runner.invoke(app, ["learn", "--config", str(config_file)])
    assert refused.exit_code == 2
    assert "at least 10 are needed" in refused.output

    router = one_model_router(config)
    rate_a_batch(router)
    router.close()
    result = runner.invoke(app, ["learn", "--json", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert '"replaced": true' in result.output
    assert Path(config.learning.model_path).exists()


def test_enough_new_feedback_retrains_in_the_background(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = learning_config(ollama_server, tmp_path, retrain_after=30)
    router = one_model_router(config)
    rate_a_batch(router)
    path = Path(config.learning.model_path)
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    router.close()
    assert path.exists()


def test_a_router_trained_on_rated_answers_serves_the_model_users_rated_best(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    config = learning_config(ollama_server, tmp_path)
    rules_choice = RaggedRouter(config=config).route(EASY[0]).model
    rated = {rules_choice: 0.2, "qwen2.5:7b": 0.9}
    for model, score in rated.items():
        router = RaggedRouter(config=config, model=model)
        for question in EASY:
            run_id = uuid.uuid4()
            router.invoke(question, config={"run_id": run_id})
            router.feedback(run_id, score=score)
        router.close()
    store = HistoryStore(config.history.url)
    try:
        assert retrain(store, config.learning, learning_embeddings(config)).replaced
    finally:
        store.close()

    serving = config.model_copy(
        update={"learning": config.learning.model_copy(update={"strategy": "learned"})}
    )
    router = RaggedRouter(config=serving)
    answer = router.invoke("What is the capital of country number 77?")
    routing = answer.response_metadata["routing"]
    router.close()
    assert routing["answered_by"] == "qwen2.5:7b"
    assert f"the rules would have chosen {rules_choice}" in routing["reason"]
