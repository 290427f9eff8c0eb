"""The OpenAI-compatible stand-in cloud server, driven by the real langchain-openai client."""

from __future__ import annotations

import pytest
from langchain_openai import ChatOpenAI
from openai import RateLimitError

from ragged_graph.testing import OpenAIServer
from ragged_graph.testing.openai_server import COMPLETION_TOKENS, PROMPT_TOKENS

pytestmark = pytest.mark.integration


def client(server: OpenAIServer) -> ChatOpenAI:
    return ChatOpenAI(model="gpt-4o", base_url=server.base_url, api_key="test", max_retries=0)


def test_it_answers_invoke_and_stream_and_keeps_every_request() -> None:
    with OpenAIServer(answer="Paris is the capital.") as server:
        answer = client(server).invoke("What is the capital of France?")
        streamed = "".join(
            str(chunk.content)
            for chunk in client(server).stream("And of Italy?", stream_usage=True)
        )
        sent = server.requests
    assert answer.content == streamed == "Paris is the capital."
    assert answer.usage_metadata is not None
    assert (answer.usage_metadata["input_tokens"], answer.usage_metadata["output_tokens"]) == (
        PROMPT_TOKENS,
        COMPLETION_TOKENS,
    )
    assert [request["messages"][-1]["content"] for request in sent] == [
        "What is the capital of France?",
        "And of Italy?",
    ]
    assert not server.running


def test_a_scripted_status_is_the_error_the_client_raises() -> None:
    with OpenAIServer(status=429) as server, pytest.raises(RateLimitError):
        client(server).invoke("Hello")
