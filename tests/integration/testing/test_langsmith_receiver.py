"""The LangSmith test receiver takes what the real `langsmith` client sends, however it sends."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tracers.langchain import LangChainTracer, wait_for_all_tracers
from langsmith import Client
from langsmith.utils import LangSmithNotFoundError

from ragged_graph.testing import LangSmithReceiver

pytestmark = pytest.mark.integration


def _shout(text: str) -> str:
    return text.upper()


def _traced_chain(text: str) -> str:
    shout = RunnableLambda(_shout, name="shout")
    chain = (shout | RunnableLambda(lambda s: f"{s}!", name="exclaim")).with_config(
        run_name="outer"
    )
    config: RunnableConfig = {"tags": ["greeting"], "metadata": {"purpose": "test"}}
    result = chain.invoke(text, config)
    wait_for_all_tracers()
    return result


@pytest.mark.parametrize(
    ("langsmith_receiver", "path", "encoding"),
    [
        ("compressed", "/runs/multipart", "zstd"),
        ("multipart", "/runs/multipart", None),
        ("batch", "/runs/batch", None),
    ],
    indirect=["langsmith_receiver"],
)
def test_runs_arrive_merged_however_the_client_sends_them(
    langsmith_receiver: LangSmithReceiver, path: str, encoding: str | None
) -> None:
    # A new client sends its first runs uncompressed, until its background thread has read
    # /info and turned compression on: warm it up first.
    _traced_chain("warm up")
    langsmith_receiver.clear()
    assert _traced_chain("hello") == "HELLO!"

    sent = [r for r in langsmith_receiver.requests if r.method == "POST"]
    assert {r.path for r in sent} == {path}
    assert {r.headers.get("content-encoding") for r in sent} == {encoding}
    [outer] = langsmith_receiver.roots()
    assert (outer.name, outer.run_type) == ("outer", "chain")
    assert [run.name for run in langsmith_receiver.children(outer)] == ["shout", "exclaim"]
    assert outer.inputs == {"input": "hello"}
    assert outer.outputs == {"output": "HELLO!"}
    assert "greeting" in outer.tags
    assert outer.metadata["purpose"] == "test"
    assert all(run.ended and run.trace_id == outer.id for run in langsmith_receiver.runs())
    # A patch queued before its post was sent is folded into the post (not when compressed).
    assert outer.operations[0] == "post"


def test_info_tells_the_client_how_to_send(langsmith_receiver: LangSmithReceiver) -> None:
    with urllib.request.urlopen(f"{langsmith_receiver.base_url}/info") as response:
        info = json.load(response)
    assert info["batch_ingest_config"]["use_multipart_endpoint"] is True
    assert info["instance_flags"]["zstd_compression_enabled"] is True


def test_single_run_posts_and_patches_are_merged(langsmith_receiver: LangSmithReceiver) -> None:
    client = Client(api_url=langsmith_receiver.base_url, api_key="test", auto_batch_tracing=False)
    run_id = uuid.uuid4()
    client.create_run("lone", {"question": "why?"}, "tool", id=run_id, start_time=datetime.now(UTC))
    client.update_run(run_id, outputs={"answer": "because"}, end_time=datetime.now(UTC))

    assert [(r.method, r.path) for r in langsmith_receiver.requests] == [
        ("POST", "/runs"),
        ("PATCH", f"/runs/{run_id}"),
    ]
    run = langsmith_receiver.run("lone")
    assert (run.run_type, run.inputs, run.outputs) == (
        "tool",
        {"question": "why?"},
        {"answer": "because"},
    )
    assert run.ended


def test_requests_without_the_api_key_are_refused() -> None:
    with LangSmithReceiver(api_key="secret") as receiver:
        request = urllib.request.Request(f"{receiver.base_url}/runs/batch", data=b"{}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 401
        assert receiver.runs() == []


def test_unknown_paths_are_not_found() -> None:
    with LangSmithReceiver() as receiver:
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{receiver.base_url}/datasets")
        assert missing.value.code == 404


def test_wait_for_times_out_when_nothing_arrives() -> None:
    with LangSmithReceiver() as receiver, pytest.raises(TimeoutError):
        receiver.wait_for(lambda r: bool(r.runs()), timeout=0.2)


def test_a_project_is_found_once_a_run_was_traced_to_it(
    langsmith_receiver: LangSmithReceiver,
) -> None:
    client = Client()
    with pytest.raises(LangSmithNotFoundError):
        client.read_project(project_name="answers")
    RunnableLambda(lambda text: text.upper()).invoke(
        "hi", RunnableConfig(callbacks=[LangChainTracer(project_name="answers", client=client)])
    )
    wait_for_all_tracers()
    client.flush()
    project = client.read_project(project_name="answers")
    assert (project.name, str(project.id)) == ("answers", langsmith_receiver.project_id("answers"))
