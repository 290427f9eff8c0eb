"""Helpers for the routing-history tests: records to write, configs, the PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ragged_graph.config import RouterConfig
from ragged_graph.telemetry import AttemptSummary, RoutingRecord
from ragged_graph.testing import OllamaServer

POSTGRES_URL_VAR = "RAGGED_GRAPH_TEST_POSTGRES_URL"
"""The test PostgreSQL server's URL (`.ci/run` starts one and sets it)."""

RecordFactory = Callable[..., RoutingRecord]


def make_record(i: int = 0, **overrides: Any) -> RoutingRecord:
    """A plausible answered request; ``overrides`` replace fields."""
    fields: dict[str, Any] = {
        "time": datetime(2026, 1, 15, 12, 0, i % 60, tzinfo=UTC),
        "request_id": f"request-{i}",
        "session_id": None,
        "persona": "developer",
        "task_type": "code_generation",
        "task_confidence": 0.8,
        "complexity": 4.5,
        "complexity_breakdown": {"structure": 1.0, "reasoning_depth": 2.5},
        "tier": "balanced",
        "model": "qwen2.5-coder:14b",
        "model_tier": "balanced",
        "provider": "ollama",
        "reason": "code at balanced tier",
        "answered_by": "qwen2.5-coder:14b",
        "host": "local",
        "attempts": (
            AttemptSummary(
                model="qwen2.5-coder:14b", host="local", ok=True, latency_ms=90.0, first_token_ms=9
            ),
        ),
        "fallback_count": 0,
        "outcome": "answered",
        "latency_ms": 100.0 + i,
        "first_token_ms": 12.0,
        "tokens_in": 30,
        "tokens_out": 40,
        "tokens_per_s": 50.0,
        "cost_usd": 0.0,
        "query_hash": "0" * 64,
    }
    fields.update(overrides)
    return RoutingRecord(**fields)


def postgres_url() -> str:
    """The test server's URL; fails in CI (``CI=true``) and skips elsewhere without one."""
    url = os.environ.get(POSTGRES_URL_VAR)
    if url:
        return url
    reason = (
        f"{POSTGRES_URL_VAR} is not set: start PostgreSQL and set it to "
        "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB (.ci/run shows how)"
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


def config_for(server: OllamaServer, url: str, **history: Any) -> RouterConfig:
    """A config whose one Ollama host is ``server`` and whose history goes to ``url``;
    ``history`` sets other history keys, ``settings={...}`` other top-level sections."""
    extra = history.pop("settings", {})
    return RouterConfig.model_validate(
        {
            "providers": {
                "ollama": {
                    "hosts": [{"name": "t", "base_url": server.base_url}],
                    "request_timeout_s": 5,
                },
                # Failing everywhere must stay a failure: no embedded model as the last resort.
                "embedded": {"enabled": False},
            },
            "hardware": {"memory_gb": 64},
            "fallbacks": {"health_file": None, "max_retries": 0, "cooldown_failures": 1000},
            "history": {"url": url, **history},
            **extra,
        }
    )


BATCH_QUESTIONS = (
    ("What is Paris?", None),
    ("Write a Python function that reverses a linked list.", "developer"),
    ("Solve 3x + 7 = 22 for x.", None),
    ("Summarise the plot of Hamlet in two sentences.", "writer"),
    ("Translate 'good morning' into German.", "casual"),
    ("Compare the trade-offs of B-trees and LSM-trees for a write-heavy workload.", "researcher"),
)
"""Queries of several task types and tiers, with the persona to ask them as."""


def run_batch(server: OllamaServer, url: str, *, rounds: int = 3) -> int:
    """Requests through ``RaggedRouter``: ``rounds`` of every batch question, then answers
    after a fallback, then requests every model fails. Returns how many were sent; every
    record is written when it returns."""
    from ragged_graph import AllModelsFailedError, RaggedRouter
    from ragged_graph.testing import Fault

    router = RaggedRouter(config=config_for(server, url))
    sent = 0
    for _ in range(rounds):
        for question, persona in BATCH_QUESTIONS:
            router.invoke(question, config={"configurable": {"persona": persona}})
            sent += 1
    first = router.route(BATCH_QUESTIONS[0][0]).model
    server.update_model(first, fault=Fault.NOT_FOUND)
    for _ in range(4):
        router.invoke(BATCH_QUESTIONS[0][0])
        sent += 1
    for name in list(server.models):
        server.update_model(name, fault=Fault.SERVER_ERROR)
    for _ in range(2):
        with pytest.raises(AllModelsFailedError):
            router.invoke(BATCH_QUESTIONS[0][0])
        sent += 1
    router.close()
    return sent


DASHBOARD_START = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
"""When the first of :func:`dashboard_records` starts."""
DASHBOARD_MODELS = (
    ("llama3.2:3b", "fast", None, "ollama"),
    ("qwen2.5-coder:14b", "balanced", "developer", "ollama"),
    ("gpt-4o", "quality", "writer", "openai"),
)
"""(model, tier, persona, provider) by turn: record ``i`` uses entry ``i % 3``."""


def dashboard_records(count: int = 30, start: datetime = DASHBOARD_START) -> list[RoutingRecord]:
    """A history with known numbers: one request every 7 minutes from ``start``, the models,
    tiers and personas in turn; every 7th failed (``ALL_MODELS_FAILED``, no answer), every
    5th answered after a fallback; latency ``50 + 10 i`` ms; the cloud model costs 0.01 USD."""
    from datetime import timedelta

    records = []
    for i in range(count):
        model, tier, persona, provider = DASHBOARD_MODELS[i % 3]
        failed = i % 7 == 0
        records.append(
            make_record(
                i,
                time=start + timedelta(minutes=7 * i),
                model=model,
                model_tier=tier,
                tier=tier,
                persona=persona,
                provider=provider,
                answered_by=None if failed else model,
                outcome="ALL_MODELS_FAILED" if failed else "answered",
                fallback_count=1 if i % 5 == 0 else 0,
                latency_ms=50.0 + 10 * i,
                first_token_ms=None if failed else 8.0 + i,
                tokens_in=None if failed else 20 + i,
                tokens_out=None if failed else 30 + 2 * i,
                tokens_per_s=None if failed else 40.0 + i,
                cost_usd=0.01 if provider == "openai" and not failed else 0.0,
            )
        )
    return records
