"""The real `langchain_ollama.ChatOllama` against the Ollama test server: the happy paths."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_ollama import ChatOllama
from pydantic import BaseModel

from ragged_graph.testing import ChatRequest, OllamaServer, Reply, ScriptedModel, ToolCall
from ragged_graph.testing.pytest_plugin import OllamaServerFactory

pytestmark = pytest.mark.integration


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"Sunny in {city}"


class Person(BaseModel):
    name: str
    age: int


def chat_model(server: OllamaServer, model: str = "qwen2.5:7b", **kwargs: Any) -> ChatOllama:
    return ChatOllama(model=model, base_url=server.base_url, **kwargs)


def test_invoke_returns_the_scripted_answer(ollama_server_factory: OllamaServerFactory) -> None:
    server = ollama_server_factory([ScriptedModel(name="qwen2.5:7b", answer="Paris.")])
    message = chat_model(server).invoke("Capital of France?")
    assert isinstance(message, AIMessage)
    assert message.content == "Paris."
    assert message.response_metadata["model_name"] == "qwen2.5:7b"
    assert message.response_metadata["done_reason"] == "stop"


def test_default_server_answers_every_default_chat_model(ollama_server: OllamaServer) -> None:
    for name in ("llama3.2:3b", "qwen2.5-coder:7b", "qwen2.5:14b", "llama3.3:70b"):
        answer = chat_model(ollama_server, name).invoke("Hi")
        assert answer.content == f"This is {name}. You asked: Hi"


def test_stream_sends_the_answer_in_several_timed_chunks(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    text = "one two three four five six"
    server = ollama_server_factory(
        [ScriptedModel(name="qwen2.5:7b", answer=text, chunk_delay=0.04)]
    )
    arrivals: list[tuple[float, str]] = []
    for chunk in chat_model(server).stream("count"):
        arrivals.append((time.monotonic(), str(chunk.content)))
    contents = [c for _, c in arrivals if c]
    assert contents == ["one", " two", " three", " four", " five", " six"]
    assert "".join(contents) == text
    # Chunks are written one by one, not buffered: the first arrives well before the last.
    assert arrivals[-1][0] - arrivals[0][0] >= 0.15


def test_first_token_delay_holds_the_first_chunk(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    server = ollama_server_factory(
        [ScriptedModel(name="qwen2.5:7b", answer="late", first_token_delay=0.3)]
    )
    started = time.monotonic()
    first = next(iter(chat_model(server).stream("x")))
    assert first.content == "late"
    assert time.monotonic() - started >= 0.3


async def test_ainvoke_and_astream(ollama_server_factory: OllamaServerFactory) -> None:
    server = ollama_server_factory([ScriptedModel(name="qwen2.5:7b", answer="async works fine")])
    llm = chat_model(server)
    message = await llm.ainvoke("x")
    assert message.content == "async works fine"
    chunks = [str(c.content) async for c in llm.astream("x")]
    assert [c for c in chunks if c] == ["async", " works", " fine"]


def test_non_streaming_request_gets_one_json_answer(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    server = ollama_server_factory([ScriptedModel(name="qwen2.5:7b", answer="whole answer")])
    message = chat_model(server).invoke("x", stream=False)
    assert message.content == "whole answer"
    assert server.chat_requests()[-1].body["stream"] is False


def test_usage_and_response_metadata(ollama_server_factory: OllamaServerFactory) -> None:
    server = ollama_server_factory(
        [ScriptedModel(name="qwen2.5:7b", answer="a b c", prompt_eval_count=11, eval_count=7)]
    )
    for message in (chat_model(server).invoke("x"), chat_model(server).invoke("x", stream=False)):
        assert message.usage_metadata == {
            "input_tokens": 11,
            "output_tokens": 7,
            "total_tokens": 18,
        }
        metadata = message.response_metadata
        for key in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
            assert isinstance(metadata[key], int)
            assert metadata[key] > 0
        assert metadata["total_duration"] >= metadata["eval_duration"]
        assert metadata["created_at"].endswith("Z")


def test_estimated_usage_grows_with_the_answer(ollama_server: OllamaServer) -> None:
    llm = chat_model(ollama_server)
    short = llm.invoke("hi").usage_metadata
    long = llm.invoke("hi " * 200).usage_metadata
    assert short is not None
    assert long is not None
    assert long["input_tokens"] > short["input_tokens"] > 0
    assert long["output_tokens"] > short["output_tokens"] > 0


def test_bind_tools_returns_parsed_tool_calls_then_text(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    server = ollama_server_factory(
        [
            ScriptedModel(
                name="qwen2.5:7b",
                answer="It is sunny in Paris.",
                tool_calls=(ToolCall(name="get_weather", arguments={"city": "Paris"}),),
            )
        ]
    )
    llm = chat_model(server).bind_tools([get_weather])
    question = HumanMessage("Weather in Paris?")
    first = llm.invoke([question])
    assert isinstance(first, AIMessage)
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    sent_tools = server.chat_requests()[-1].body["tools"]
    assert sent_tools[0]["function"]["name"] == "get_weather"

    result = ToolMessage("Sunny in Paris", tool_call_id=first.tool_calls[0]["id"])
    final = llm.invoke([question, first, result])
    assert final.content == "It is sunny in Paris."
    assert not final.tool_calls


async def test_streamed_tool_calls_are_parsed_async(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    server = ollama_server_factory(
        [ScriptedModel(name="qwen2.5:7b", tool_calls=(ToolCall(name="get_weather"),))]
    )
    message = await chat_model(server).bind_tools([get_weather]).ainvoke("Weather?")
    assert isinstance(message, AIMessage)
    assert message.tool_calls[0]["name"] == "get_weather"
    assert message.tool_calls[0]["args"] == {}


def test_answer_function_can_call_tools_it_was_offered(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    def answer(request: ChatRequest) -> Reply:
        return Reply(tool_calls=tuple(ToolCall(name=n) for n in request.tool_names))

    server = ollama_server_factory([ScriptedModel(name="qwen2.5:7b", answer=answer)])
    message = chat_model(server).bind_tools([get_weather]).invoke("x")
    assert isinstance(message, AIMessage)
    assert [c["name"] for c in message.tool_calls] == ["get_weather"]


def test_structured_output_json_schema(ollama_server_factory: OllamaServerFactory) -> None:
    server = ollama_server_factory(
        [ScriptedModel(name="qwen2.5:7b", structured_answer={"name": "Ada", "age": 36})]
    )
    result = chat_model(server).with_structured_output(Person).invoke("Who?")
    assert result == Person(name="Ada", age=36)
    # langchain-ollama's default method is json_schema: the schema travels in `format`.
    sent_format = server.chat_requests()[-1].body["format"]
    assert sent_format["properties"].keys() == {"name", "age"}


def test_structured_output_works_unscripted(ollama_server: OllamaServer) -> None:
    result = chat_model(ollama_server).with_structured_output(Person).invoke("Who?")
    assert isinstance(result, Person)


def test_structured_output_json_mode(ollama_server_factory: OllamaServerFactory) -> None:
    server = ollama_server_factory(
        [ScriptedModel(name="qwen2.5:7b", structured_answer={"name": "Bo", "age": 3})]
    )
    llm = chat_model(server).with_structured_output(Person, method="json_mode")
    assert llm.invoke("Who?") == Person(name="Bo", age=3)
    assert server.chat_requests()[-1].body["format"] == "json"


def test_thinking_model_streams_reasoning(ollama_server: OllamaServer) -> None:
    message = chat_model(ollama_server, "deepseek-r1:8b", reasoning=True).invoke("Why?")
    assert message.content == "This is deepseek-r1:8b. You asked: Why?"
    assert message.additional_kwargs["reasoning_content"].startswith("The user asked")
    assert ollama_server.chat_requests()[-1].body["think"] is True


def test_validate_model_on_init_only_lists_tags(ollama_server: OllamaServer) -> None:
    chat_model(ollama_server, "qwen2.5:14b", validate_model_on_init=True)
    assert [(r.method, r.path) for r in ollama_server.requests] == [("GET", "/api/tags")]
    with pytest.raises(ValueError, match="not found in Ollama"):
        chat_model(ollama_server, "llama3.2:8b", validate_model_on_init=True)


def test_building_chat_ollama_sends_nothing(ollama_server: OllamaServer) -> None:
    chat_model(ollama_server)
    assert ollama_server.requests == []


def test_script_changes_while_running(ollama_server_factory: OllamaServerFactory) -> None:
    server = ollama_server_factory([ScriptedModel(name="qwen2.5:7b", answer="before")])
    llm = chat_model(server)
    assert llm.invoke("x").content == "before"
    server.update_model("qwen2.5:7b", answer="after")
    assert llm.invoke("x").content == "after"
    server.set_model(ScriptedModel(name="phi4:14b", answer="new model"))
    assert chat_model(server, "phi4:14b").invoke("x").content == "new model"


def test_several_servers_stand_for_several_hosts(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    small = ollama_server_factory([ScriptedModel(name="llama3.2:3b", answer="from laptop")])
    big = ollama_server_factory([ScriptedModel(name="llama3.3:70b", answer="from gpu box")])
    assert small.base_url != big.base_url
    assert chat_model(small, "llama3.2:3b").invoke("x").content == "from laptop"
    assert chat_model(big, "llama3.3:70b").invoke("x").content == "from gpu box"
    assert big.chat_requests(model="llama3.2:3b") == []


async def test_100_concurrent_async_calls_all_succeed(
    ollama_server_factory: OllamaServerFactory,
) -> None:
    server = ollama_server_factory(
        [ScriptedModel(name="qwen2.5:7b", answer_template="echo {prompt}", chunk_delay=0.01)]
    )
    llm = chat_model(server)
    started = time.monotonic()
    answers = await asyncio.gather(*(llm.ainvoke(f"q{i}") for i in range(100)))
    assert [a.content for a in answers] == [f"echo q{i}" for i in range(100)]
    assert len(server.chat_requests()) == 100
    assert time.monotonic() - started < 10
