from __future__ import annotations

from langchain_core.documents import Document

from ragged_graph.routing.query_text import document_text, prepare_query


def test_document_text_reads_strings_documents_and_mappings() -> None:
    assert document_text("plain") == "plain"
    assert document_text(Document(page_content="doc")) == "doc"
    assert document_text({"page_content": "mapped"}) == "mapped"
    assert document_text({"text": "from text"}) == "from text"


def test_documents_of_every_kind_reach_the_prepared_query_as_text() -> None:
    prepared = prepare_query(
        "What does it say?", ["one", Document(page_content="two"), {"page_content": "three"}]
    )
    assert prepared.documents == ("one", "two", "three")
