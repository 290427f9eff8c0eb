from __future__ import annotations

from pathlib import Path

import pytest

import ragged_graph
from ragged_graph import InvalidRequestError, RouterConfig, RoutingDecision, route

OFFLINE = {
    "providers": {"ollama": {"hosts": [{"name": "gone", "base_url": "http://127.0.0.1:9"}]}},
    "hardware": {"memory_gb": 64},
}


def test_route_decides_without_a_model_server() -> None:
    decision = route(
        "Write a Python function to flatten a nested list",
        config=RouterConfig.model_validate(OFFLINE),
    )
    assert isinstance(decision, RoutingDecision)
    assert decision.task_type == "code_generation"
    assert decision.availability_assumed


def test_route_accepts_a_config_path(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(
        "hardware:\n  memory_gb: 3\nproviders:\n  ollama:\n    hosts:\n"
        "      - {name: gone, base_url: 'http://127.0.0.1:9'}\n"
        "  embedded: {enabled: false}\n",
        encoding="utf-8",
    )
    decision = route("What is Paris?", config=path)
    assert decision.model in {"llama3.2:1b", "llama3.2:3b"}


def test_route_takes_documents_as_strings_or_langchain_documents() -> None:
    from langchain_core.documents import Document

    config = RouterConfig.model_validate(OFFLINE)
    for docs in (["The sky is blue."], [Document(page_content="The sky is blue.")]):
        decision = route("What colour is the sky?", context={"documents": docs}, config=config)
        assert decision.task_type == "rag_query"


@pytest.mark.parametrize("query", ["", "   \n\t"])
def test_empty_query_is_a_typed_error(query: str) -> None:
    with pytest.raises(InvalidRequestError, match="empty"):
        route(query, config=RouterConfig.model_validate(OFFLINE))


def test_unknown_context_key_is_a_typed_error() -> None:
    with pytest.raises(InvalidRequestError, match="documents"):
        route("hi", context={"docs": ["x"]}, config=RouterConfig.model_validate(OFFLINE))


def test_public_api_names_resolve() -> None:
    for name in ragged_graph.__all__:
        assert getattr(ragged_graph, name) is not None
    with pytest.raises(AttributeError):
        ragged_graph.not_a_name  # noqa: B018


def test_a_non_text_query_is_a_typed_error() -> None:
    with pytest.raises(InvalidRequestError, match="string"):
        route(42, config=RouterConfig.model_validate(OFFLINE))  # type: ignore[arg-type]
