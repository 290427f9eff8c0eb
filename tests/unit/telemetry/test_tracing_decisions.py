"""What a routing decision puts on a trace, and when a request's text is kept out of it."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import CallbackManager, StdOutCallbackHandler
from langchain_core.tracers.langchain import LangChainTracer
from langsmith import Client

from ragged_graph.config import RouterConfig, TracingSettings
from ragged_graph.telemetry.tracing import (
    RedactingTracer,
    decision_metadata,
    decision_tags,
    outcome_metadata,
    redacting_config,
    redacts,
    trace_attempts,
    trace_decision,
    tracers_only,
)

DECISION: dict[str, Any] = {
    "model": "qwen2.5-coder:7b",
    "model_tier": "fast",
    "host": "local",
    "tier": "balanced",
    "task_type": "code_generation",
    "task_confidence": 0.7,
    "complexity": 4.2,
    "complexity_breakdown": {"structure": 0.1},
    "persona": "developer",
    "persona_rule": None,
    "reason": "code_generation at balanced tier",
    "fallbacks": ["qwen2.5:7b", "llama3.2:3b"],
}


def _offline_client() -> Client:
    return Client(api_url="http://127.0.0.1:9", api_key="test", auto_batch_tracing=False)


def test_the_decision_becomes_prefixed_metadata() -> None:
    meta = decision_metadata(DECISION)
    assert meta["routing_task"] == "code_generation"
    assert meta["routing_tier"] == "balanced"
    assert meta["routing_model"] == "qwen2.5-coder:7b"
    assert meta["routing_fallbacks"] == ["qwen2.5:7b", "llama3.2:3b"]
    assert all(key.startswith("routing_") for key in meta)


def test_the_decision_becomes_tags() -> None:
    assert decision_tags(DECISION) == [
        "tier:balanced",
        "task:code_generation",
        "model:qwen2.5-coder:7b",
        "persona:developer",
    ]
    assert not any(
        tag.startswith("persona:") for tag in decision_tags({**DECISION, "persona": None})
    )


def test_the_outcome_names_who_answered_and_whether_it_fell_back() -> None:
    failed = {"model": "qwen2.5-coder:7b", "ok": False}
    answered = {"model": "qwen2.5:7b", "ok": True}
    assert outcome_metadata(DECISION, [failed, answered]) == {
        "routing_attempts": [failed, answered],
        "routing_answered_by": "qwen2.5:7b",
        "routing_fell_back": True,
    }
    assert outcome_metadata(DECISION, [failed])["routing_answered_by"] is None


@pytest.mark.parametrize(
    ("setting", "local_only", "expected"),
    [
        ("always", False, True),
        ("never", True, False),
        ("local_only", True, True),
        ("local_only", False, False),
    ],
)
def test_redaction_follows_the_setting(setting: str, local_only: bool, expected: bool) -> None:
    settings = TracingSettings.model_validate({"redact_queries": setting})
    assert redacts(settings, local_only=local_only) is expected


def test_the_tracing_setting_defaults_to_redacting_local_only_requests() -> None:
    assert RouterConfig().tracing.redact_queries == "local_only"
    assert TracingSettings.model_validate({"redact_queries": True}).redact_queries == "always"
    assert TracingSettings.model_validate({"redact_queries": False}).redact_queries == "never"
    with pytest.raises(ValueError, match="redact_queries"):
        TracingSettings.model_validate({"redact_queries": "sometimes"})


def test_without_a_tracer_attaching_the_decision_does_nothing() -> None:
    manager = CallbackManager(handlers=[StdOutCallbackHandler()], parent_run_id=None)
    for config in ({}, {"callbacks": None}, {"callbacks": manager}):
        trace_decision(config, DECISION, redact=True)  # type: ignore[arg-type]
        trace_attempts(config, {"decision": DECISION}, {"attempts": []})  # type: ignore[arg-type]


def test_redacting_config_replaces_tracers_and_keeps_other_handlers() -> None:
    tracer = LangChainTracer(client=_offline_client())
    other = StdOutCallbackHandler()
    config = redacting_config({"callbacks": [tracer, other], "tags": ["x"]})
    handlers = config["callbacks"]
    assert isinstance(handlers, list)
    [redacting, kept] = handlers
    assert isinstance(redacting, RedactingTracer)
    assert redacting.run_map is tracer.run_map
    assert redacting.client is tracer.client
    assert kept is other
    assert config["tags"] == ["x"]


def test_redacting_config_leaves_an_untraced_config_alone() -> None:
    other = StdOutCallbackHandler()
    assert redacting_config({"callbacks": [other]}) == {"callbacks": [other]}
    assert redacting_config(None) == {}


def test_tracers_only_keeps_the_tracers_and_where_they_nest() -> None:
    tracer = LangChainTracer(client=_offline_client())
    manager = CallbackManager(handlers=[tracer, StdOutCallbackHandler()], parent_run_id=None)
    manager.inheritable_handlers = [tracer]
    only = tracers_only({"callbacks": manager})
    assert isinstance(only, CallbackManager)
    assert only.handlers == [tracer]
    assert only.inheritable_handlers == [tracer]
    assert tracers_only({"callbacks": [StdOutCallbackHandler()]}) == []
