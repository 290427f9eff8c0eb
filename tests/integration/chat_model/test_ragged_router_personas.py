from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from ragged_graph import InvalidRequestError, RaggedRouter, UnknownPersonaError
from ragged_graph.testing import OllamaServer

pytestmark = pytest.mark.integration

EXPLAIN = "Explain neural networks"


@pytest.fixture
def server() -> Iterator[OllamaServer]:
    with OllamaServer() as running:
        yield running


@pytest.fixture
def router(server: OllamaServer, router_config_for: Any) -> RaggedRouter:
    return RaggedRouter(config=router_config_for(server))


def routing(message: Any) -> dict[str, Any]:
    return message.response_metadata["routing"]  # type: ignore[no-any-return]


def test_persona_set_on_the_router_applies_to_every_call(router: RaggedRouter) -> None:
    assert routing(router.invoke(EXPLAIN))["persona"] is None
    router.set_persona("researcher")
    decision = routing(router.invoke(EXPLAIN))
    assert decision["persona"] == "researcher"
    assert decision["tier"] == "quality"
    assert decision["persona_rule"] == "rule explanations-in-depth"


def test_persona_per_request_through_configurable(router: RaggedRouter) -> None:
    chain = ChatPromptTemplate.from_template("{q}") | router | StrOutputParser()
    assert chain.invoke({"q": EXPLAIN})
    message = router.invoke(EXPLAIN, config={"configurable": {"persona": "casual"}})
    assert routing(message)["persona"] == "casual"
    assert routing(message)["tier"] == "fast"
    streamed = list(router.stream(EXPLAIN, config={"configurable": {"persona": "researcher"}}))
    assert routing(streamed[-1])["tier"] == "quality"
    batched = router.batch([EXPLAIN, EXPLAIN], config={"configurable": {"persona": "casual"}})
    assert [routing(m)["persona"] for m in batched] == ["casual", "casual"]


async def test_persona_per_request_in_async_calls(router: RaggedRouter) -> None:
    message = await router.ainvoke(EXPLAIN, config={"configurable": {"persona": "researcher"}})
    assert routing(message)["tier"] == "quality"


def test_response_style_reaches_the_model_as_a_system_message(
    router: RaggedRouter, server: OllamaServer
) -> None:
    router.set_persona("casual")
    server.clear_requests()
    router.invoke("What is Paris?")
    sent = server.chat_requests()[-1].body["messages"]
    assert sent[0]["role"] == "system"
    assert "short and friendly" in sent[0]["content"]


def test_developer_code_goes_to_a_code_specialist(router: RaggedRouter) -> None:
    router.set_persona("developer")
    decision = routing(router.invoke("Write a sorting function"))
    assert "coder" in decision["model"]
    assert decision["tier"] == "quality"


def test_unknown_persona_is_a_clear_error_listing_known_ones(router: RaggedRouter) -> None:
    with pytest.raises(UnknownPersonaError, match="researcher"):
        router.set_persona("astronaut")
    with pytest.raises(UnknownPersonaError, match="developer"):
        router.invoke("hi", config={"configurable": {"persona": "astronaut"}})


def test_unknown_tier_in_configurable_is_a_typed_error(router: RaggedRouter) -> None:
    with pytest.raises(InvalidRequestError, match="ultra"):
        router.invoke("hi", config={"configurable": {"tier": "ultra"}})
