"""`RaggedRouter` with the ensemble: per router or per call, whole and streamed."""

from __future__ import annotations

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel

from ragged_graph import RaggedRouter
from ragged_graph.testing import OllamaServer
from tests.integration.chat_model.conftest import RouterConfigFor

pytestmark = pytest.mark.integration

QUESTION = "Explain quicksort and compare it with mergesort"
REFINED = "Quicksort partitions around a pivot; mergesort merges sorted halves."


@pytest.fixture
def router(ollama_server: OllamaServer, router_config_for: RouterConfigFor) -> RaggedRouter:
    for name in ollama_server.models:
        ollama_server.update_model(
            name, structured_answer={"verdict": "revise", "refined_answer": REFINED}
        )
    config = router_config_for(
        ollama_server,
        providers={
            "ollama": {"hosts": [{"name": "test", "base_url": ollama_server.base_url}]},
            "embedded": {"enabled": False},
        },
        history={"enabled": False},
        fallbacks={"health_file": None},
    )
    return RaggedRouter(config=config, ensemble="always")


def test_the_ensembles_answer_comes_back_with_its_roles(router: RaggedRouter) -> None:
    message = router.invoke(QUESTION)
    assert message.content == REFINED
    routing = message.response_metadata["routing"]
    assert routing["ensemble"]["answered_by_role"] == "verifier"
    assert [role["role"] for role in routing["ensemble"]["roles"]] == [
        "rewriter",
        "primary",
        "verifier",
    ]
    assert routing["answered_by"] == routing["ensemble"]["models"]["verifier"]["model"]


def test_a_streamed_ensemble_answer_arrives_once_verified(router: RaggedRouter) -> None:
    chunks = list(router.stream(QUESTION))
    assert "".join(str(chunk.content) for chunk in chunks) == REFINED
    assert chunks[-1].response_metadata["routing"]["ensemble"]["verdict"]["verdict"] == "revise"


async def test_async_calls_and_chains_use_the_ensemble(router: RaggedRouter) -> None:
    chain = ChatPromptTemplate.from_template("{question}") | router | StrOutputParser()
    assert await chain.ainvoke({"question": QUESTION}) == REFINED
    streamed = [chunk async for chunk in chain.astream({"question": QUESTION})]
    assert "".join(streamed) == REFINED


def test_a_call_can_ask_for_one_model(router: RaggedRouter) -> None:
    message = router.invoke(QUESTION, config={"configurable": {"ensemble": "never"}})
    assert "ensemble" not in message.response_metadata["routing"]
    assert str(message.content).startswith("This is ")


def test_structured_output_is_answered_by_one_model(
    router: RaggedRouter, ollama_server: OllamaServer
) -> None:
    class Answer(BaseModel):
        answer: str

    for name in ollama_server.models:
        ollama_server.update_model(name, structured_answer={"answer": "sorted"})
    ollama_server.clear_requests()
    assert router.with_structured_output(Answer).invoke(QUESTION) == Answer(answer="sorted")
    assert len(ollama_server.chat_requests()) == 1
