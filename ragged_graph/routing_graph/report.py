"""The end of a request: one routing-history record and one decision-log line.

Called once per request, where it ends: by ``invoke`` with the answer, by ``fallback`` when
the chain is exhausted, by ``invoke`` when a stream breaks after tokens were shown, by the
ensemble's ``finish`` with the answer and each role's summary. Only
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
from ragged_graph.routing.costs import cost_usd, is_priced
from ragged_graph.routing.tokens import ANSWER_TOKEN_RESERVE, estimate_tokens
from ragged_graph.routing_graph.convert import message_text
from ragged_graph.routing_graph.services import Services
from ragged_graph.routing_graph.state import AttemptRecord, State
from ragged_graph.telemetry.records import (
    OUTCOME_ANSWERED,
    AttemptSummary,
    RoleSummary,
    RoutingRecord,
    query_fields,
)

__all__ = [
    "REQUEST_ID_KEY",
    "SESSION_ID_KEYS",
    "build_record",
    "config_value",
    "report_request",
    "request_id_of",
    "role_summary",
    "roles_from_attempts",
    "session_of",
    "started_now",
]

logger = logging.getLogger("ragged_graph.telemetry.history")

REQUEST_ID_KEY = "ragged_graph_request_id"
"""``configurable`` key with the request's id (``RaggedRouter`` puts its run id there)."""

SESSION_ID_KEYS = ("session_id", "thread_id", "conversation_id")
"""``configurable`` or ``metadata`` keys naming the session, first found wins (LangSmith
groups threads by the same keys)."""


def started_now(config: RunnableConfig) -> dict[str, Any]:
    """The state update marking the request's start (set by the first node): when, and the
    request's id, which every later step (the A/B assignment, the routing record) shares."""
    return {"started_at": time.time(), "request_id": request_id_of(config)}


def report_request(
    services: Services,
    state: State,
    config: RunnableConfig,
    attempts: Sequence[AttemptRecord],
    *,
    answer: BaseMessage | None = None,
    card: ModelCard | None = None,
    outcome: str = OUTCOME_ANSWERED,
    roles: Sequence[RoleSummary] | None = None,
    final_role: str | None = None,
) -> None:
    """Record the request and log its decision line (each only if enabled).

    An ensemble passes its ``roles`` and the role whose answer is the final one.
    """
    history, decisions = services.history, services.decision_log
    log = decisions is not None and decisions.enabled()
    # Spend and learned speeds are kept in process even with the history off.
    accounting = answer is not None and card is not None
    if history is None and not log and not accounting:
        return
    try:
        record = build_record(
            services, state, config, attempts, answer=answer, card=card, outcome=outcome
        )
        summaries = tuple(roles) if roles is not None else roles_from_attempts(attempts)
        if summaries is not None:
            record = _with_roles(record, summaries, final_role, answered=answer is not None)
    except Exception:
        logger.exception("routing history: could not build the record of a request")
        return
    if accounting and card is not None:
        _account(services, record, card, attempts)
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
    experiment = state.get("experiment") or {}
    tokens_in = usage["input_tokens"] if usage else None
    tokens_out = usage["output_tokens"] if usage else None
    first_token_ms = None
    if answered and last is not None and last["first_token_ms"] is not None:
        # The answering call's first token, counted from the request's start.
        first_token_ms = max(0.0, latency_ms - (last["latency_ms"] - last["first_token_ms"]))
    cost = 0.0
    if answered and card is not None:
        cost = _answer_cost(services, decision, card, answer, tokens_in, tokens_out)
    return RoutingRecord(
        time=datetime.fromtimestamp(started, UTC),
        request_id=state.get("request_id") or request_id_of(config),
        session_id=session_of(config),
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
        ab_experiment=experiment.get("name"),
        ab_variant=experiment.get("variant"),
    )


def role_summary(
    role: str,
    attempts: Sequence[AttemptRecord],
    *,
    answer: BaseMessage | None = None,
    card: ModelCard | None = None,
    outcome: str | None = None,
    local_cost_per_million: float = 0.0,
) -> RoleSummary:
    """One role's summary from its calls and, when it got one, its answer."""
    mine = [attempt for attempt in attempts if attempt.get("role") == role]
    answering = next((attempt for attempt in reversed(mine) if attempt["ok"]), None)
    last = mine[-1] if mine else None
    usage = answer.usage_metadata if isinstance(answer, AIMessage) else None
    tokens_in = usage["input_tokens"] if usage else None
    tokens_out = usage["output_tokens"] if usage else None
    cost = 0.0
    if card is not None and answering is not None:
        cost = cost_usd(
            card,
            input_tokens=tokens_in or 0,
            output_tokens=tokens_out or 0,
            local_cost_per_million=local_cost_per_million,
        )
    if outcome is None and answering is None and last is not None:
        outcome = last["error_code"]
    where = answering if answering is not None else last
    return RoleSummary(
        role=role,
        model=answering["model"] if answering is not None else None,
        host=where["host"] if where is not None else None,
        ok=answering is not None,
        attempts=len(mine),
        latency_ms=round(sum(attempt["latency_ms"] for attempt in mine), 3),
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        cost_usd=cost,
        outcome=outcome,
    )


def roles_from_attempts(attempts: Sequence[AttemptRecord]) -> tuple[RoleSummary, ...] | None:
    """Role summaries from the calls alone (no token counts), in the order the roles first
    appear; None when no call had a role (one model answered)."""
    order: list[str] = []
    for attempt in attempts:
        role = attempt.get("role")
        if role is not None and role not in order:
            order.append(role)
    if not order:
        return None
    return tuple(role_summary(role, attempts) for role in order)


def _with_roles(
    record: RoutingRecord,
    roles: tuple[RoleSummary, ...],
    final_role: str | None,
    *,
    answered: bool,
) -> RoutingRecord:
    """An ensemble's record: the answering role names the model and host, tokens and cost
    are the roles' sums, and the answer's first token is its whole (it is given at once)."""
    final = next((role for role in roles if role.role == final_role), None)
    done = answered and final is not None and final.ok
    tokens_in = [role.tokens_in for role in roles if role.tokens_in is not None]
    tokens_out = [role.tokens_out for role in roles if role.tokens_out is not None]
    update: dict[str, Any] = {
        "roles": roles,
        "answered_by": final.model if done and final is not None else None,
        "tokens_in": sum(tokens_in) if tokens_in else None,
        "tokens_out": sum(tokens_out) if tokens_out else None,
        "cost_usd": sum(role.cost_usd for role in roles),
        "first_token_ms": record.latency_ms if done else None,
    }
    models_per_role: dict[str | None, set[str]] = {}
    for attempt in record.attempts:
        models_per_role.setdefault(attempt.role, set()).add(attempt.model)
    # Fallbacks within each role; the roles' own models are not fallbacks.
    update["fallback_count"] = sum(len(models) - 1 for models in models_per_role.values())
    if final is not None:
        update["host"] = final.host
    if done:
        update["outcome"] = OUTCOME_ANSWERED
    return record.model_copy(update=update)


def _answer_cost(
    services: Services,
    decision: Mapping[str, Any],
    card: ModelCard,
    answer: BaseMessage | None,
    tokens_in: int | None,
    tokens_out: int | None,
) -> float:
    """What the answer cost at the card's prices (``local_cost_per_million`` for a local
    model). A priced model that reported no token counts is charged by estimate (the
    request's estimated prompt, the answer's length), never as free."""
    local_cost = services.router.config.local_cost_per_million
    if tokens_in is None and is_priced(card, local_cost):
        tokens_in = max(0, int(decision.get("required_context") or 0) - ANSWER_TOKEN_RESERVE)
    if tokens_out is None and is_priced(card, local_cost) and answer is not None:
        tokens_out = estimate_tokens(len(message_text(answer)))
    return cost_usd(
        card,
        input_tokens=tokens_in or 0,
        output_tokens=tokens_out or 0,
        local_cost_per_million=local_cost,
    )


def _account(
    services: Services,
    record: RoutingRecord,
    card: ModelCard,
    attempts: Sequence[AttemptRecord],
) -> None:
    """Count the request's spend for the budgets and learn from its speed; never raises."""
    try:
        if not record.answered:
            return
        services.router.spend.add(
            record.cost_usd, session_id=record.session_id, request_id=record.request_id
        )
        learner = services.learner
        if learner is not None and record.roles is None:
            last = attempts[-1] if attempts else None
            learner.observe(
                card,
                first_token_ms=last["first_token_ms"] if last is not None else None,
                tokens_per_second=record.tokens_per_s,
            )
    except Exception:
        logger.exception("routing history: could not account for a request")


def session_of(config: RunnableConfig) -> str | None:
    """The session a run belongs to: ``session_id``, ``thread_id`` or ``conversation_id`` in
    its ``configurable`` or ``metadata``, first found."""
    return config_value(config, SESSION_ID_KEYS)


def config_value(config: RunnableConfig, keys: Sequence[str]) -> str | None:
    """The first of ``keys`` set in the run's ``configurable``, else ``metadata``, as text."""
    configurable: Mapping[str, Any] = config.get("configurable") or {}
    metadata: Mapping[str, Any] = config.get("metadata") or {}
    for key in keys:
        found = configurable.get(key) or metadata.get(key)
        if found:
            return str(found)
    return None


def request_id_of(config: RunnableConfig) -> str:
    """The request's id from the run's config, else a new one."""
    configurable: Mapping[str, Any] = config.get("configurable") or {}
    metadata: Mapping[str, Any] = config.get("metadata") or {}
    # RaggedRouter's run id; else the run id `langgraph dev` / LangGraph servers pass.
    found = configurable.get(REQUEST_ID_KEY) or configurable.get("run_id") or metadata.get("run_id")
    return str(found) if found else str(uuid.uuid4())


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
