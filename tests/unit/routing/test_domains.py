"""Domain models: a user's fine-tuned model answers the queries of its domain."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document

from ragged_graph.config import DomainSettings, RouterConfig
from ragged_graph.errors import ConfigError
from ragged_graph.routing.domains import DomainMatcher
from ragged_graph.routing.router import RouteOptions, Router

LEGAL_MODEL = "lawyer-llama:8b"


def config(**extra: Any) -> RouterConfig:
    return RouterConfig.model_validate(
        {
            "hardware": {"memory_gb": 64},
            "providers": {
                "embedded": {"enabled": False},
                "ollama": {"hosts": [{"name": "x", "base_url": "http://127.0.0.1:9"}]},
            },
            "models": [
                {
                    "name": LEGAL_MODEL,
                    "parameters_b": 8,
                    "context_window": 32768,
                    "memory_gb": 6,
                    "domains": ["legal"],
                }
            ],
            "domains": {
                "legal": {
                    "keywords": ["contract", "liability", "indemnity clause", "GDPR"],
                    "collections": ["case-law"],
                }
            },
            **extra,
        }
    )


def test_a_query_in_the_domain_goes_to_its_model_and_the_rules_choice_is_the_fallback() -> None:
    router = Router(config())
    rules = Router(config(domains={})).decide("Who wrote Hamlet?")
    decision = router.decide("Is the indemnity clause in this contract enforceable?")
    assert decision.model == LEGAL_MODEL
    assert decision.domain == "legal"
    assert "domain legal ('indemnity clause', 'contract')" in decision.reason
    assert decision.fallbacks[0] != LEGAL_MODEL
    assert router.decide("Who wrote Hamlet?").model == rules.model


def test_documents_from_the_domains_collection_put_the_request_in_it() -> None:
    router = Router(config())
    documents = [Document(page_content="Section 4 says ...", metadata={"collection": "case-law"})]
    decision = router.decide("What does section 4 say?", documents=documents)
    assert decision.model == LEGAL_MODEL
    assert "collection:case-law" in decision.reason
    plain = router.decide("What does section 4 say?", documents=["Section 4 says ..."])
    assert plain.model != LEGAL_MODEL
    assert plain.domain is None


def test_an_explicit_model_comes_before_the_domain_model() -> None:
    router = Router(config())
    query = "Draft a liability waiver for a contract."
    explicit = router.decide(query, options=RouteOptions(model="qwen2.5:14b"))
    assert explicit.model == "qwen2.5:14b"
    assert explicit.domain is None


def test_a_domain_model_that_cannot_serve_the_request_is_passed_over() -> None:
    # Needs tools, which the domain model does not have.
    router = Router(config())
    options = RouteOptions().with_capabilities(frozenset({"tools"}))
    decision = router.decide("Summarise the liability in this contract.", options=options)
    assert decision.model != LEGAL_MODEL
    assert decision.domain is None


def test_min_matches_asks_for_several_different_keywords() -> None:
    settings = {"legal": DomainSettings(keywords=("contract", "liability"), min_matches=2)}
    matcher = DomainMatcher(settings, ["legal"])
    assert matcher.match(["a contract, a contract"]) is None
    match = matcher.match(["the contract limits liability"])
    assert match is not None
    assert match.evidence == ("contract", "liability")


def test_a_served_domain_without_a_definition_is_recognised_by_its_name() -> None:
    matcher = DomainMatcher({}, ["kubernetes"])
    assert matcher.match(["how do I roll back a Kubernetes deployment?"]) is not None
    assert matcher.match(["how do I roll back a deployment?"]) is None
    assert not DomainMatcher({}, []).active


def test_keywords_match_whole_words_only() -> None:
    matcher = DomainMatcher({"legal": DomainSettings(keywords=("tort",))}, ["legal"])
    assert matcher.match(["a chocolate torte recipe"]) is None
    assert matcher.match(["is this a tort?"]) is not None


def test_a_blank_keyword_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("domains:\n  legal:\n    keywords: ['contract', ' ']\n", encoding="utf-8")
    from ragged_graph.config import load_config

    with pytest.raises(ConfigError, match=r"domains\.legal\.keywords"):
        load_config(path)
