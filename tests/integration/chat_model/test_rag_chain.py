"""`RaggedRouter` as the model of a real LangChain retrieval (RAG) chain.

    {"context": retriever | format_docs, "question": passthrough} | prompt | router | parser

The vector store is LangChain's `InMemoryVectorStore` with a small deterministic
bag-of-words embedding (below), so retrieval is meaningful: the question about the Eiffel
Tower retrieves the Eiffel Tower documents, not the others.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore

from ragged_graph import RaggedRouter
from ragged_graph.testing import DEFAULT_MODELS, OllamaServer

pytestmark = pytest.mark.integration

ANSWER = "The Eiffel Tower was completed in 1889."
QUESTION = "When was the Eiffel Tower completed?"
PROMPT = ChatPromptTemplate.from_template(
    "Answer the question based only on the following context:\n{context}\n\nQuestion: {question}"
)
DOCUMENTS = [
    Document(
        "The Eiffel Tower was completed in 1889 as the entrance arch of the World's Fair.",
        metadata={"id": "eiffel-built"},
    ),
    Document(
        "Gustave Eiffel's company designed and built the Eiffel Tower in Paris.",
        metadata={"id": "eiffel-company"},
    ),
    Document(
        "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
        metadata={"id": "photosynthesis"},
    ),
    Document(
        "The Great Barrier Reef is the largest coral reef system on Earth.",
        metadata={"id": "reef"},
    ),
    Document(
        "Python's list.sort method sorts a list in place and returns None.",
        metadata={"id": "python-sort"},
    ),
]
_STOP_WORDS = frozenset(
    {"a", "an", "and", "as", "in", "into", "is", "it", "its", "of", "on", "or", "the", "to"}
    | {"was", "were", "what", "when", "which", "who", "why", "how"}
)


class BagOfWordsEmbeddings(Embeddings):
    """Hashed bag-of-words vectors, L2-normalised: texts sharing words are close."""

    def __init__(self, dimensions: int = 512) -> None:
        self.dimensions = dimensions

    def _embed(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            if word in _STOP_WORDS:
                continue
            digest = hashlib.sha256(word.encode()).digest()
            vector[int.from_bytes(digest[:4], "big") % self.dimensions] += 1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


def _format_docs(documents: list[Document]) -> str:
    return "\n\n".join(document.page_content for document in documents)


@pytest.fixture
def server(ollama_server_factory: Any) -> OllamaServer:
    """The default test models, each answering ``ANSWER``."""
    return ollama_server_factory([dataclasses.replace(m, answer=ANSWER) for m in DEFAULT_MODELS])


@pytest.fixture
def router(server: OllamaServer, router_config_for: Any) -> RaggedRouter:
    return RaggedRouter(config=router_config_for(server))


@pytest.fixture
def retriever() -> Any:
    store = InMemoryVectorStore(BagOfWordsEmbeddings())
    store.add_documents(DOCUMENTS)
    return store.as_retriever(search_kwargs={"k": 2})


def _rag_chain(retriever: Any, model: Any) -> Any:
    return {"context": retriever | _format_docs, "question": RunnablePassthrough()} | PROMPT | model


def test_the_retriever_finds_the_documents_about_the_question(retriever: Any) -> None:
    found = [document.metadata["id"] for document in retriever.invoke(QUESTION)]
    assert found == ["eiffel-built", "eiffel-company"]


def test_a_rag_chain_answers_through_the_router(retriever: Any, router: RaggedRouter) -> None:
    chain = _rag_chain(retriever, router) | StrOutputParser()
    assert chain.invoke(QUESTION) == ANSWER


async def test_a_rag_chain_astreams_the_answer_once(retriever: Any, router: RaggedRouter) -> None:
    chain = _rag_chain(retriever, router) | StrOutputParser()
    assert "".join([chunk async for chunk in chain.astream(QUESTION)]) == ANSWER


def test_the_retrieved_documents_reach_the_chosen_model(
    retriever: Any, router: RaggedRouter, server: OllamaServer
) -> None:
    message = _rag_chain(retriever, router).invoke(QUESTION)

    (request,) = server.chat_requests()
    assert request.model == message.response_metadata["routing"]["answered_by"]
    sent = "\n".join(str(m.get("content", "")) for m in request.body["messages"])
    for document in DOCUMENTS[:2]:
        assert document.page_content in sent
    for document in DOCUMENTS[2:]:
        assert document.page_content not in sent
    assert QUESTION in sent


def test_a_rag_chain_is_routed_as_a_rag_query(retriever: Any, router: RaggedRouter) -> None:
    message = _rag_chain(retriever, router).invoke(QUESTION)
    routing = message.response_metadata["routing"]
    assert routing["task_type"] == "rag_query", {
        key: routing[key]
        for key in ("task_type", "task_confidence", "task_runner_up", "tier", "complexity")
    }
