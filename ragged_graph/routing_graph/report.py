"""The end of a request: one routing-history record and one decision-log line.

Called once per request, where it ends: by ``invoke`` with the answer, by ``fallback`` when
the chain is exhausted, by ``invoke`` when a stream breaks after tokens were shown. Only
builds the record and queues it (the writer thread does the rest), and never fails the
request: a bug here is logged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig

from ragged_graph.registry.cards import ModelCard
from ragged_graph.routing_graph.services import Services
from ragged_graph.routing_graph.state import AttemptRecord, State
from ragged_graph.telemetry.records import (
    OUTCOME_ANSWERED,
    AttemptSummary,
    RoutingRecord,
    query_fields,
)

__all__ = ["REQUEST_ID_KEY", "SESSION_ID_KEYS", "build_record", "report_request", "started_now"]

logger = logging.getLogger("ragged_graph.telemetry.history")

REQUEST_ID_KEY = "ragged_graph_request_id"
"""``configurable`` key with the request's id (``RaggedRouter`` puts its run id there)."""

SESSION_ID_KEYS = ("session_id", "thread_id", "conversation_id")
"""``configurable`` or ``metadata`` keys naming the session, first found wins (LangSmith
groups threads by the same keys)."""


def started_now() -> dict[str, Any]:
    """The state update marking the request's start (set by the first node)."""
    return {"started_at": time.time()}


def report_request(
    services: Services,
    state: State,
    config: RunnableConfig,
    attempts: Sequence[AttemptRecord],
    *,
    answer: BaseMessage | None = None,
    card: ModelCard | None = None,
    outcome: str = OUTCOME_ANSWERED,
) -> None:
    """Record the request and log its decision line (each only if enabled)."""
    history, decisions = services.history, services.decision_log
    log = decisions is not None and decisions.enabled()
    if history is None and not log:
        return
    try:
        record = build_record(
            services, state, config, attempts, answer=answer, card=card, outcome=outcome
        )
    except Exception:
        logger.exception("routing history: could not build the record of a request")
        return
    if history is not None:
        history.record(record)
    if log and decisions is not None:
        decisions.log(record)


def build_record(
    services: Services,
    state: State,
    config: RunnableConfig,
    attempts: Sequence[AttemptRecord],
    *,
    answer: BaseMessage | None = None,
    card: ModelCard | None = None,
    outcome: str = OUTCOME_ANSWERED,
) -> RoutingRecord:
    """The history record of a finished request."""
    now = time.time()
    started = state.get("started_at") or now
    latency_ms = max(0.0, (now - started) * 1000)
    decision = state["decision"]
    settings = services.router.config.history
    text, digest = query_fields(state.get("query"), settings.query_text, settings.hash_salt)
    last = attempts[-1] if attempts else None
    answered = answer is not None and last is not None and last["ok"]
    usage = answer.usage_metadata if isinstance(answer, AIMessage) else None
    tokens_in = usage["input_tokens"] if usage else None
    tokens_out = usage["output_tokens"] if usage else None
    first_token_ms = None
    if answered and last is not None and last["first_token_ms"] is not None:
        # The answering call's first token, counted from the request's start.
        first_token_ms = max(0.0, latency_ms - (last["latency_ms"] - last["first_token_ms"]))
    cost = 0.0
    if answered and card is not None:
        cost = (
            (tokens_in or 0) * card.input_price_per_mtok
            + (tokens_out or 0) * card.output_price_per_mtok
        ) / 1_000_000
    return RoutingRecord(
        time=datetime.fromtimestamp(started, UTC),
        request_id=_request_id(config),
        session_id=_session_id(config),
        persona=decision.get("persona"),
        task_type=decision["task_type"],
        task_confidence=decision["task_confidence"],
        complexity=decision["complexity"],
        complexity_breakdown=decision.get("complexity_breakdown") or {},
        tier=decision["tier"],
        model=decision["model"],
        model_tier=decision.get("model_tier") or decision["tier"],
        provider=decision["provider"],
        reason=decision.get("reason") or "",
        answered_by=last["model"] if answered and last is not None else None,
        host=last["host"] if last is not None else decision.get("host"),
        attempts=tuple(AttemptSummary(**attempt) for attempt in attempts),
        fallback_count=max(0, len({attempt["model"] for attempt in attempts}) - 1),
        outcome=OUTCOME_ANSWERED if answered else outcome,
        latency_ms=latency_ms,
        first_token_ms=first_token_ms,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        tokens_per_s=_speed(answer, tokens_out, last) if answered else None,
        cost_usd=cost,
        query_text=text,
        query_hash=digest,
    )


def _request_id(config: RunnableConfig) -> str:
    configurable: Mapping[str, Any] = config.get("configurable") or {}
    metadata: Mapping[str, Any] = config.get("metadata") or {}
    # RaggedRouter's run id; else the run id `langgraph dev` / LangGraph servers pass.
    found = configurable.get(REQUEST_ID_KEY) or configurable.get("run_id") or metadata.get("run_id")
    return str(found) if found else str(uuid.uuid4())


def _session_id(config: RunnableConfig) -> str | None:
    configurable: Mapping[str, Any] = config.get("configurable") or {}
    metadata: Mapping[str, Any] = config.get("metadata") or {}
    for key in SESSION_ID_KEYS:
        found = configurable.get(key) or metadata.get(key)
        if found:
            return str(found)
    return None


def _speed(
    answer: BaseMessage | None, tokens_out: int | None, attempt: AttemptRecord | None
) -> float | None:
    """Tokens per second: Ollama's own figure (``eval_count`` over ``eval_duration``), else
    the answer's tokens over the call's time after its first token."""
    metadata = answer.response_metadata if answer is not None else {}
    count, duration_ns = metadata.get("eval_count"), metadata.get("eval_duration")
    if isinstance(count, int) and isinstance(duration_ns, int | float) and duration_ns > 0:
        return count / (duration_ns / 1e9)
    if not tokens_out or attempt is None:
        return None
    first = attempt["first_token_ms"] or 0.0
    generating_ms = attempt["latency_ms"] - first
    if generating_ms <= 0:
        generating_ms = attempt["latency_ms"]
    return tokens_out / (generating_ms / 1000) if generating_ms > 0 else None
