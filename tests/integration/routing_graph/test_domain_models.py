"""Domain models through the graph, against a test server that has the user's own model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from langchain_core.documents import Document

from ragged_graph import RaggedRouter
from ragged_graph.config import RouterConfig
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Services, build_graph
from ragged_graph.testing import DEFAULT_MODELS, OllamaServer, ScriptedModel

pytestmark = pytest.mark.integration

LEGAL_MODEL = "lawyer-llama:8b"


@pytest.fixture
def server() -> Iterator[OllamaServer]:
    models = [*DEFAULT_MODELS, ScriptedModel(name=LEGAL_MODEL, parameter_size="8.0B")]
    with OllamaServer(models) as running:
        yield running


def config_for(server: OllamaServer) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "providers": {
                "embedded": {"enabled": False},
                "ollama": {"hosts": [{"name": "t", "base_url": server.base_url}]},
            },
            "hardware": {"memory_gb": 64},
            "history": {"enabled": False},
            "fallbacks": {"health_file": None, "max_retries": 0},
            "models": [{"name": LEGAL_MODEL, "domains": ["legal"]}],
            "domains": {
                "legal": {"keywords": ["contract", "liability"], "collections": ["case-law"]}
            },
        }
    )


def test_a_legal_question_is_answered_by_the_users_legal_model(server: OllamaServer) -> None:
    router = RaggedRouter(config=config_for(server))
    routing = router.invoke("Who carries the liability under this contract?").response_metadata[
        "routing"
    ]
    assert (routing["answered_by"], routing["domain"]) == (LEGAL_MODEL, "legal")
    other = router.invoke("What is Paris?").response_metadata["routing"]
    assert other["answered_by"] != LEGAL_MODEL
    assert [request.model for request in server.chat_requests()] == [LEGAL_MODEL, other["model"]]


def test_documents_from_the_legal_collection_route_a_plain_question_to_it(
    server: OllamaServer,
) -> None:
    services = Services.for_router(Router(config_for(server)))
    graph = build_graph(lambda _context: services)
    documents = [
        Document(
            page_content="Clause 7 caps damages at EUR 10,000.", metadata={"collection": "case-law"}
        )
    ]
    out = graph.invoke({"query": "What does clause 7 say?", "documents": documents})
    assert out["decision"]["model"] == LEGAL_MODEL
    assert "collection:case-law" in out["decision"]["reason"]


def test_when_the_legal_model_fails_the_rules_choice_answers(server: OllamaServer) -> None:
    from ragged_graph.testing import Fault

    server.update_model(LEGAL_MODEL, fault=Fault.NOT_FOUND)
    router = RaggedRouter(config=config_for(server))
    routing = router.invoke("Is this contract clause void?").response_metadata["routing"]
    assert routing["model"] == LEGAL_MODEL
    assert routing["answered_by"] == routing["fallbacks"][0] != LEGAL_MODEL
