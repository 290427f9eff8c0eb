"""How `RaggedRouter` behaves inside LangChain chains and LangGraph graphs.

Every test drives the real `ChatOllama` against the Ollama test server (real HTTP on a
loopback port). Tests that script faults start their own server; the rest share one.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from langgraph.graph import END, START, MessagesState, StateGraph
from pydantic import BaseModel, Field

from ragged_graph import RaggedRouter
from ragged_graph.config import EmbeddedProviderConfig
from ragged_graph.errors import (
    AllModelsFailedError,
    InvalidRequestError,
    NoModelAvailableError,
    UnknownPersonaError,
)
from ragged_graph.registry.cards import Capability
from ragged_graph.testing import DEFAULT_MODELS, Fault, OllamaServer, ScriptedModel, ToolCall

pytestmark = pytest.mark.integration

ANSWER = "Paris is the capital and largest city of France."
ANSWER_WORDS = len(ANSWER.split())
FACT_QUESTION = "What is Paris?"
CODE_REQUEST = "Write a Python function that checks whether a string is a palindrome."
ANALYSIS_REQUEST = (
    "Analyse the architectural trade-offs between microservices and a monolith for a "
    "payments platform, considering consistency, latency, team structure and failure modes"
)

_BY_NAME = {model.name: model for model in DEFAULT_MODELS}


def _answering(models: tuple[ScriptedModel, ...] = DEFAULT_MODELS) -> list[ScriptedModel]:
    """The models, each answering ``ANSWER`` to plain chat requests."""
    return [dataclasses.replace(model, answer=ANSWER) for model in models]


def _joined(chunks: list[AIMessageChunk] | list[str]) -> str:
    return "".join(c if isinstance(c, str) else c.text for c in chunks)


@pytest.fixture(scope="module")
def server() -> Iterator[OllamaServer]:
    """One test server (the default models, all answering ``ANSWER``) for the module.

    Answering does not load a model here, so what is loaded (and so preferred) stays the
    same whatever order the tests run in.
    """
    with OllamaServer(_answering(), load_on_chat=False) as started:
        yield started


@pytest.fixture
def router(server: OllamaServer, router_config_for: Any) -> RaggedRouter:
    # One per test: a router's async clients belong to the event loop that first used them
    # (see test_a_router_works_from_a_second_event_loop), and each async test has its own.
    return RaggedRouter(config=router_config_for(server))


@pytest.fixture
def chain(router: RaggedRouter) -> Any:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are a concise assistant."), ("human", "{question}")]
    )
    return prompt | router | StrOutputParser()


@pytest.fixture
def fresh_server(ollama_server_factory: Any) -> OllamaServer:
    """A server of its own, for tests that script faults."""
    return ollama_server_factory(_answering())


# A prompt | router | parser chain works with every way of running it.


def test_chain_invoke_returns_the_scripted_answer(chain: Any) -> None:
    assert chain.invoke({"question": FACT_QUESTION}) == ANSWER


def test_chain_batch_returns_the_scripted_answer_for_each_input(chain: Any) -> None:
    questions = [{"question": FACT_QUESTION}, {"question": "Who wrote Hamlet?"}]
    assert chain.batch(questions) == [ANSWER, ANSWER]


def test_chain_stream_yields_several_chunks_that_join_to_the_answer_once(chain: Any) -> None:
    chunks = list(chain.stream({"question": FACT_QUESTION}))
    assert len([c for c in chunks if c]) == ANSWER_WORDS
    assert _joined(chunks) == ANSWER


async def test_chain_ainvoke_returns_the_scripted_answer(chain: Any) -> None:
    assert await chain.ainvoke({"question": FACT_QUESTION}) == ANSWER


async def test_chain_abatch_returns_the_scripted_answer_for_each_input(chain: Any) -> None:
    questions = [{"question": FACT_QUESTION}, {"question": "Who wrote Hamlet?"}]
    assert await chain.abatch(questions) == [ANSWER, ANSWER]


async def test_chain_astream_yields_several_chunks_that_join_to_the_answer_once(
    chain: Any,
) -> None:
    chunks = [chunk async for chunk in chain.astream({"question": FACT_QUESTION})]
    assert len([c for c in chunks if c]) == ANSWER_WORDS
    assert _joined(chunks) == ANSWER


def test_streamed_message_chunks_add_up_to_one_message_with_the_decision(
    router: RaggedRouter,
) -> None:
    chunks = list(router.stream(FACT_QUESTION))
    full = sum(chunks[1:], chunks[0])
    assert full.text == ANSWER
    assert full.response_metadata["routing"]["answered_by"] == full.response_metadata["model"]
    assert full.usage_metadata is not None
    assert full.usage_metadata["output_tokens"] > 0


def test_only_the_final_streamed_chunk_is_marked_last(router: RaggedRouter) -> None:
    positions = [chunk.chunk_position for chunk in router.stream(FACT_QUESTION)]
    assert positions[-1] == "last"
    assert positions.count("last") == 1


def test_a_router_works_from_a_second_event_loop(router: RaggedRouter) -> None:
    assert asyncio.run(router.ainvoke(FACT_QUESTION)).text == ANSWER
    assert asyncio.run(router.ainvoke(FACT_QUESTION)).text == ANSWER


def test_per_call_stop_sequences_reach_the_model(
    router: RaggedRouter, server: OllamaServer
) -> None:
    server.clear_requests()
    router.invoke(FACT_QUESTION, stop=["capital"])
    list(router.stream(FACT_QUESTION, stop=["capital"]))
    assert [r.body["options"].get("stop") for r in server.chat_requests()] == [["capital"]] * 2


def test_per_call_model_settings_are_refused_not_dropped(router: RaggedRouter) -> None:
    with pytest.raises(InvalidRequestError, match="temperature"):
        router.invoke(FACT_QUESTION, temperature=0.2)


def test_constructor_model_settings_reach_the_model_or_are_refused(
    server: OllamaServer, router_config_for: Any
) -> None:
    try:
        router = RaggedRouter(config=router_config_for(server), temperature=0, stop=["capital"])
    except (TypeError, ValueError):
        return  # refused: fine
    server.clear_requests()
    router.invoke(FACT_QUESTION)
    options = server.chat_requests()[-1].body["options"]
    assert (options.get("temperature"), options.get("stop")) == (0, ["capital"])


# Inside an outer LangGraph graph.


def _outer_graph(router: RaggedRouter) -> Any:
    def answer(state: MessagesState) -> dict[str, Any]:
        return {"messages": [router.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("answer", answer)
    builder.add_edge(START, "answer")
    builder.add_edge("answer", END)
    return builder.compile()


def test_an_outer_graph_streams_each_token_once(router: RaggedRouter) -> None:
    graph = _outer_graph(router)
    tokens = [
        message.text
        for message, metadata in graph.stream(
            {"messages": [HumanMessage(FACT_QUESTION)]}, stream_mode="messages"
        )
        if metadata["langgraph_node"] == "answer"
    ]
    assert len([t for t in tokens if t]) == ANSWER_WORDS
    assert "".join(tokens) == ANSWER


async def test_an_outer_graph_astreams_each_token_once(router: RaggedRouter) -> None:
    graph = _outer_graph(router)
    tokens = [
        message.text
        async for message, metadata in graph.astream(
            {"messages": [HumanMessage(FACT_QUESTION)]}, stream_mode="messages"
        )
        if metadata["langgraph_node"] == "answer"
    ]
    assert len([t for t in tokens if t]) == ANSWER_WORDS
    assert "".join(tokens) == ANSWER


def test_an_outer_graph_keeps_the_answer_with_its_decision(router: RaggedRouter) -> None:
    state = _outer_graph(router).invoke({"messages": [HumanMessage(FACT_QUESTION)]})
    answer = state["messages"][-1]
    assert isinstance(answer, AIMessage)
    assert answer.text == ANSWER
    assert answer.response_metadata["routing"]["task_type"] == "general_qa"


# The decision travels with the answer.


def test_the_decision_is_in_response_metadata(router: RaggedRouter, server: OllamaServer) -> None:
    server.clear_requests()
    message = router.invoke(FACT_QUESTION)
    routing = message.response_metadata["routing"]
    assert routing["model"] == routing["answered_by"] == server.chat_requests()[-1].model
    assert routing["tier"] == "fast"
    assert routing["task_type"] == "general_qa"
    assert 0 <= routing["complexity"] <= 10
    assert routing["reason"]
    assert routing["model"] not in routing["fallbacks"]
    assert routing["fallbacks"]
    assert [(a["model"], a["ok"]) for a in routing["attempts"]] == [(routing["model"], True)]


def test_the_decision_matches_what_route_decides(router: RaggedRouter) -> None:
    # Predicted times come from speeds learned from the history as requests finish, so they
    # may move between the two calls; everything else is the same decision.
    learned = {"predicted_latency_ms", "predicted_first_token_ms"}
    decided = router.route(FACT_QUESTION).model_dump(mode="json")
    routing = router.invoke(FACT_QUESTION).response_metadata["routing"]
    assert {key: routing[key] for key in decided if key not in learned} == {
        key: value for key, value in decided.items() if key not in learned
    }
    assert all(routing[key] > 0 for key in learned)


def test_a_code_request_goes_to_a_code_specialised_model(
    router: RaggedRouter, server: OllamaServer
) -> None:
    server.clear_requests()
    routing = router.invoke(CODE_REQUEST).response_metadata["routing"]
    assert routing["task_type"] == "code_generation"
    assert "coder" in routing["answered_by"]
    assert [r.model for r in server.chat_requests()] == [routing["answered_by"]]


def test_a_short_factual_question_goes_to_the_fast_tier(
    router: RaggedRouter, server: OllamaServer
) -> None:
    server.clear_requests()
    routing = router.invoke(FACT_QUESTION).response_metadata["routing"]
    assert routing["tier"] == "fast"
    assert routing["model_tier"] == "fast"
    assert [r.model for r in server.chat_requests()] == [routing["answered_by"]]


def test_an_architecture_analysis_goes_to_the_quality_tier(
    router: RaggedRouter, server: OllamaServer
) -> None:
    server.clear_requests()
    routing = router.invoke(ANALYSIS_REQUEST).response_metadata["routing"]
    assert routing["tier"] == "quality"
    assert routing["model_tier"] == "quality"
    assert routing["complexity"] >= 7.0
    assert [r.model for r in server.chat_requests()] == [routing["answered_by"]]


# The roadmap's conveniences.


def test_query_answers_with_the_decision_attached(router: RaggedRouter) -> None:
    message = router.query(FACT_QUESTION)
    assert isinstance(message, AIMessage)
    assert message.text == ANSWER
    assert message.response_metadata["routing"]["tier"] == "fast"


def test_route_decides_without_calling_any_model(
    router: RaggedRouter, server: OllamaServer
) -> None:
    server.clear_requests()
    decision = router.route(CODE_REQUEST)
    assert decision.task_type == "code_generation"
    assert "coder" in decision.model
    assert server.chat_requests() == []


def test_set_persona_routes_later_calls_for_that_persona(
    server: OllamaServer, router_config_for: Any
) -> None:
    router = RaggedRouter(config=router_config_for(server, personas={"developer": {}}))
    router.set_persona("developer")
    assert router.query(FACT_QUESTION).response_metadata["routing"]["persona"] == "developer"
    with pytest.raises(UnknownPersonaError, match="no-such-persona"):
        router.set_persona("no-such-persona")
    assert router.persona == "developer"


# Falling back.


def test_a_missing_first_choice_falls_back_and_records_both_attempts(
    fresh_server: OllamaServer, router_config_for: Any
) -> None:
    router = RaggedRouter(config=router_config_for(fresh_server))
    decision = router.route(FACT_QUESTION)
    fresh_server.update_model(decision.model, fault=Fault.NOT_FOUND)

    message = router.invoke(FACT_QUESTION)

    assert message.text == ANSWER
    routing = message.response_metadata["routing"]
    attempts = [(a["model"], a["ok"], a["error_code"]) for a in routing["attempts"]]
    assert attempts == [
        (decision.model, False, "MODEL_NOT_FOUND"),
        (decision.fallbacks[0], True, None),
    ]
    assert routing["model"] == decision.model
    assert routing["answered_by"] == decision.fallbacks[0]
    assert [r.model for r in fresh_server.chat_requests()] == [
        decision.model,
        decision.fallbacks[0],
    ]


def test_a_stream_falls_back_when_the_first_choice_fails_before_any_token(
    fresh_server: OllamaServer, router_config_for: Any
) -> None:
    router = RaggedRouter(config=router_config_for(fresh_server))
    decision = router.route(FACT_QUESTION)
    fresh_server.update_model(decision.model, fault=Fault.NOT_FOUND)

    chunks = list(router.stream(FACT_QUESTION))

    assert _joined(chunks) == ANSWER
    routing = sum(chunks[1:], chunks[0]).response_metadata["routing"]
    assert [(a["model"], a["ok"]) for a in routing["attempts"]] == [
        (decision.model, False),
        (decision.fallbacks[0], True),
    ]


async def test_ainvoke_falls_back_like_invoke(
    fresh_server: OllamaServer, router_config_for: Any
) -> None:
    router = RaggedRouter(config=router_config_for(fresh_server))
    decision = router.route(FACT_QUESTION)
    fresh_server.update_model(decision.model, fault=Fault.NOT_FOUND)

    message = await router.ainvoke(FACT_QUESTION)

    assert message.text == ANSWER
    codes = [a["error_code"] for a in message.response_metadata["routing"]["attempts"]]
    assert codes == ["MODEL_NOT_FOUND", None]


def test_when_every_model_fails_the_error_lists_each_attempt(
    fresh_server: OllamaServer, router_config_for: Any
) -> None:
    # No retries: each model of the chain is tried exactly once. No embedded model either:
    # as the last resort it would answer (tests/integration/providers covers that).
    config = router_config_for(fresh_server)
    providers = config.providers.model_copy(
        update={"embedded": EmbeddedProviderConfig(enabled=False)}
    )
    config = config.model_copy(update={"providers": providers})
    router = RaggedRouter(config=config, max_retries=0)
    decision = router.route(FACT_QUESTION)
    for name in fresh_server.models:
        fresh_server.update_model(name, fault=Fault.SERVER_ERROR)

    with pytest.raises(AllModelsFailedError) as failed:
        router.invoke(FACT_QUESTION)

    chain = [decision.model, *decision.fallbacks]
    assert [attempt.model for attempt in failed.value.attempts] == chain
    assert {attempt.code for attempt in failed.value.attempts} == {"PROVIDER_SERVER_ERROR"}
    assert all(attempt.host and attempt.latency_ms >= 0 for attempt in failed.value.attempts)
    assert isinstance(failed.value, NoModelAvailableError)
    assert all(model in str(failed.value) for model in chain)
    assert [r.model for r in fresh_server.chat_requests()] == chain


# Tools and structured output pass through to the chosen model.


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"It is sunny in {city}."


def test_bind_tools_routes_to_a_tools_capable_model_and_returns_its_tool_calls(
    ollama_server_factory: Any, router_config_for: Any
) -> None:
    # The fast first choice (gemma3:4b, loaded) cannot call tools; qwen2.5:7b can.
    call = ToolCall(name="get_weather", arguments={"city": "Paris"})
    server = ollama_server_factory(
        [
            dataclasses.replace(_BY_NAME["gemma3:4b"], loaded=True, answer=ANSWER),
            dataclasses.replace(_BY_NAME["qwen2.5:7b"], tool_calls=(call,)),
        ]
    )
    router = RaggedRouter(config=router_config_for(server))
    question = "What is the weather in Paris?"
    assert router.route(question).model == "gemma3:4b"

    message = router.bind_tools([get_weather]).invoke(question)

    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    routing = message.response_metadata["routing"]
    chosen = router.router.registry.get(routing["model"]).card
    assert Capability.TOOLS in chosen.capabilities
    assert [(a["model"], a["ok"]) for a in routing["attempts"]] == [(routing["model"], True)]
    (request,) = server.chat_requests()
    assert [t["function"]["name"] for t in request.body["tools"]] == ["get_weather"]


def test_a_tool_loop_ends_with_the_models_text_answer(
    ollama_server_factory: Any, router_config_for: Any
) -> None:
    call = ToolCall(name="get_weather", arguments={"city": "Paris"})
    server = ollama_server_factory(
        [dataclasses.replace(_BY_NAME["qwen2.5:7b"], tool_calls=(call,), answer=ANSWER)]
    )
    bound = RaggedRouter(config=router_config_for(server)).bind_tools([get_weather])
    messages: list[Any] = [HumanMessage("What is the weather in Paris?")]

    first = bound.invoke(messages)
    messages += [first, get_weather.invoke(first.tool_calls[0])]
    second = bound.invoke(messages)

    assert second.text == ANSWER
    assert not second.tool_calls
    sent = server.chat_requests()[-1].body["messages"]
    assert (sent[-1]["role"], sent[-1]["content"]) == ("tool", "It is sunny in Paris.")


class CityFacts(BaseModel):
    """Facts about a city."""

    city: str = Field(description="The city's name")
    country: str = Field(description="The country it is in")
    population_millions: float = Field(description="Its population in millions")


def test_with_structured_output_returns_a_model_instance(
    router: RaggedRouter, server: OllamaServer
) -> None:
    server.clear_requests()
    facts = router.with_structured_output(CityFacts).invoke("Give me facts about Paris.")
    assert isinstance(facts, CityFacts)
    (request,) = server.chat_requests()
    assert request.body["format"]["properties"].keys() == {"city", "country", "population_millions"}


def test_with_structured_output_include_raw_keeps_the_decision(router: RaggedRouter) -> None:
    result = router.with_structured_output(CityFacts, include_raw=True).invoke(
        "Give me facts about Paris."
    )
    assert isinstance(result["parsed"], CityFacts)
    assert result["parsing_error"] is None
    assert result["raw"].response_metadata["routing"]["answered_by"]


def test_streaming_structured_output_yields_the_model_instance(router: RaggedRouter) -> None:
    results = list(router.with_structured_output(CityFacts).stream("Give me facts about Paris."))
    assert results
    assert isinstance(results[-1], CityFacts)
