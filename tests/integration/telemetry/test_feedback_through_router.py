"""Feedback on a RaggedRouter answer: kept with its routing record, sent to LangSmith."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from langchain_core.tracers.langchain import wait_for_all_tracers
from langsmith.utils import LangSmithWarning
from typer.testing import CliRunner

from ragged_graph import RaggedRouter
from ragged_graph.cli import app
from ragged_graph.errors import InvalidRequestError
from ragged_graph.telemetry.feedback import (
    FEEDBACK_KEY,
    Feedback,
    FeedbackLog,
    send_to_langsmith,
)
from ragged_graph.telemetry.store import HistoryStore
from ragged_graph.testing import LangSmithReceiver, OllamaServer
from tests.support.history import config_for

pytestmark = pytest.mark.integration


def test_a_rating_lands_on_the_routing_record_of_the_rated_answer(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    router = RaggedRouter(config=config_for(ollama_server, url))
    rated, other = uuid.uuid4(), uuid.uuid4()
    router.invoke("What is Paris?", config={"run_id": rated})
    router.invoke("What is Rome?", config={"run_id": other})

    router.feedback(rated, score=0.25, correction="Paris is the capital of France.")
    answer = router.invoke("What is Berlin?")
    router.feedback(answer, thumbs=True)
    router.close()

    store = HistoryStore(url)
    try:
        scores = {record.request_id: record.feedback for record in store.records()}
        log = FeedbackLog(store)
        assert scores[str(rated)] == 0.25
        assert scores[str(other)] is None
        assert list(scores.values()).count(1.0) == 1
        [kept] = log.for_request(str(rated))
        assert kept.correction == "Paris is the capital of France."
        assert log.count() == 2
    finally:
        store.close()


def test_invalid_feedback_is_refused_with_what_to_give(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    router = RaggedRouter(config=config_for(ollama_server, f"sqlite:///{tmp_path / 'h.db'}"))
    with pytest.raises(InvalidRequestError, match="give a score, thumbs up/down or a correction"):
        router.feedback(uuid.uuid4())
    with pytest.raises(InvalidRequestError, match="score"):
        router.feedback(uuid.uuid4(), score=1.5)


def test_with_tracing_on_the_rating_is_sent_as_langsmith_feedback_on_the_run(
    ollama_server: OllamaServer, tmp_path: Path, langsmith_receiver: LangSmithReceiver
) -> None:
    router = RaggedRouter(config=config_for(ollama_server, f"sqlite:///{tmp_path / 'h.db'}"))
    run_id = uuid.uuid4()
    router.invoke("What is Paris?", config={"run_id": run_id})
    wait_for_all_tracers()
    router.feedback(run_id, thumbs=False, comment="wrong city")
    [sent] = langsmith_receiver.feedback(str(run_id))
    assert (sent["key"], sent["score"], sent["value"]) == (FEEDBACK_KEY, 0.0, "down")
    assert sent["comment"] == "wrong city"
    # The run's project goes with it: LangSmith needs it to find the run.
    [traced] = langsmith_receiver.runs("RaggedRouter")
    assert traced.session_name is not None
    assert sent["session_id"] == langsmith_receiver.project_id(traced.session_name)


def test_feedback_on_a_run_of_a_project_langsmith_does_not_know_still_arrives(
    langsmith_receiver: LangSmithReceiver,
) -> None:
    run_id = str(uuid.uuid4())
    feedback = Feedback(request_id=run_id, score=0.5)
    with pytest.warns(LangSmithWarning, match="session_id"):
        assert send_to_langsmith(feedback, project_name="never-traced")
    [sent] = langsmith_receiver.feedback(run_id)
    assert sent["score"] == 0.5
    assert sent.get("session_id") is None


def test_the_command_line_stores_feedback_for_a_request_id(
    ollama_server: OllamaServer, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    config = config_for(ollama_server, url)
    router = RaggedRouter(config=config)
    run_id = uuid.uuid4()
    router.invoke("What is Paris?", config={"run_id": run_id})
    router.close()
    config_file = tmp_path / "config.yaml"
    config_file.write_text(f"history:\n  url: {url}\n", encoding="utf-8")

    runner = CliRunner()
    result = runner.invoke(
        app, ["feedback", str(run_id), "--score", "0.9", "--config", str(config_file)]
    )
    assert result.exit_code == 0, result.output
    assert "stored with its routing record" in result.output
    refused = runner.invoke(app, ["feedback", str(run_id), "--config", str(config_file)])
    assert refused.exit_code == 2
    assert "give a score" in refused.output

    store = HistoryStore(url)
    try:
        [record] = store.records()
        assert record.feedback == 0.9
    finally:
        store.close()
