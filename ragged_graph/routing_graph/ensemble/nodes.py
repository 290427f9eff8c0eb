"""The ensemble's own nodes: ``rewriter``, ``verifier``, ``escalate`` and ``finish``.

The primary (and, on a reject, the escalation) answers through the routing graph's own
``invoke`` and ``fallback`` nodes, between these. These nodes are plain functions: in async
runs LangGraph runs them in a worker thread, since they read the registry (whose inventory
refresh is blocking HTTP) and the rewriter and verifier call their models synchronously.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
)
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime
from pydantic import ValidationError

from ragged_graph.routing.ensemble import Role
from ragged_graph.routing.query_text import document_text
from ragged_graph.routing_graph.convert import context_of, message_text
from ragged_graph.routing_graph.ensemble.calls import RoleCaller, RoleResult
from ragged_graph.routing_graph.ensemble.state import EnsembleState
from ragged_graph.routing_graph.ensemble.verdict import Verdict
from ragged_graph.routing_graph.nodes.invoke import last_attempt_failed
from ragged_graph.routing_graph.report import report_request, role_summary
from ragged_graph.routing_graph.services import Services, ServicesProvider
from ragged_graph.routing_graph.state import Context
from ragged_graph.telemetry.records import RoleSummary

__all__ = [
    "RETRIEVAL_REWRITE_PROMPT",
    "REWRITE_PROMPT",
    "VERIFY_PROMPT",
    "after_fallback",
    "after_invoke",
    "after_verifier",
    "keep_primary_answer",
    "make_escalate",
    "make_finish",
    "make_rewriter",
    "make_verifier",
]

REWRITE_PROMPT = (
    "Rewrite the user's question so that it is clear, specific and self-contained: spell out "
    "abbreviations and what is implied, and keep every constraint. Do not answer it. Reply "
    "with the rewritten question only."
)
"""The rewriter's instructions for a question without retrieved documents."""

RETRIEVAL_REWRITE_PROMPT = (
    "Rewrite the user's question as a search query for retrieving the documents that answer "
    "it: keep its key terms and add likely synonyms. Do not answer it. Reply with the query "
    "only."
)
"""The rewriter's instructions for a question over retrieved documents (a RAG query)."""

VERIFY_PROMPT = (
    "You check an answer to a question. Judge whether it is correct, complete and supported "
    "by the retrieved context when there is one. Reply with a JSON verdict: accept when the "
    "answer is right as it stands; revise when it can be fixed, with the whole corrected "
    "answer in refined_answer; reject when it is wrong and you cannot fix it. Give short "
    "reasons."
)
"""The verifier's instructions."""


def _services(provide: ServicesProvider, runtime: Runtime[Context]) -> Services:
    return provide(context_of(runtime))


def _model_of(plan: dict[str, Any], role: Role) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (plan.get("models") or {}).get(role.value)
    return found


def _summary(
    services: Services, role: Role, result: RoleResult, outcome: str | None = None
) -> dict[str, Any]:
    return role_summary(
        role.value,
        result.attempts,
        answer=result.message,
        card=result.card,
        outcome=outcome,
        local_cost_per_million=services.router.config.local_cost_per_million,
    ).model_dump(mode="json")


# -- rewriter --------------------------------------------------------------------------------


def _rewrite_prompt(state: EnsembleState) -> list[BaseMessage]:
    instructions = RETRIEVAL_REWRITE_PROMPT if state.get("documents") else REWRITE_PROMPT
    return [SystemMessage(instructions), HumanMessage(state["query"])]


def _rewritten(result: RoleResult) -> str | None:
    if result.message is None:
        return None
    text = message_text(result.message).strip().strip("\"'").strip()
    return text or None


def _after_rewrite(
    state: EnsembleState, services: Services, result: RoleResult | None
) -> dict[str, Any]:
    """Start the primary: on the rewrite (unless the request is a RAG query, whose rewrite is
    for retrieval), with its chain and host from ``select``."""
    decision = state["decision"]
    update: dict[str, Any] = {
        "role": Role.PRIMARY.value,
        "chain": [decision["model"], *decision.get("fallbacks", [])],
        "position": 0,
        "target": state.get("target"),
        "tried_hosts": [],
    }
    if result is None:
        return update
    rewrite = _rewritten(result)
    update["attempts"] = result.attempts
    update["roles"] = [_summary(services, Role.REWRITER, result)]
    update["rewritten_query"] = rewrite
    question = state.get("question")
    if rewrite and not state.get("documents") and isinstance(question, HumanMessage):
        # The same id: add_messages replaces the question with its rewrite.
        update["messages"] = [HumanMessage(rewrite, id=question.id)]
    return update


def _call_role(
    caller: RoleCaller,
    state: EnsembleState,
    config: RunnableConfig,
    runtime: Runtime[Context],
    role: Role,
    prompt: Callable[[EnsembleState], list[BaseMessage]],
    *,
    schema: Any = None,
) -> RoleResult | None:
    """``role``'s call along its planned chain; None when the plan has no model for it."""
    chosen = _model_of(state["plan"], role)
    if chosen is None:
        return None
    return caller.call(
        state,
        config,
        runtime,
        role=role.value,
        chain=[chosen["model"], *chosen["fallbacks"]],
        messages=prompt(state),
        schema=schema,
    )


def make_rewriter(provide: ServicesProvider, caller: RoleCaller) -> Callable[..., dict[str, Any]]:
    """A fast model rewrites (expands) the query; then the primary starts."""

    def rewriter(
        state: EnsembleState, config: RunnableConfig, runtime: Runtime[Context]
    ) -> dict[str, Any]:
        result = _call_role(caller, state, config, runtime, Role.REWRITER, _rewrite_prompt)
        return _after_rewrite(state, _services(provide, runtime), result)

    return rewriter


# -- verifier --------------------------------------------------------------------------------


def _draft(state: EnsembleState) -> AnyMessage:
    return state["messages"][-1]


def _verify_prompt(state: EnsembleState) -> list[BaseMessage]:
    parts = [f"Question:\n{state['query']}"]
    documents = state.get("documents") or []
    if documents:
        listed = "\n\n".join(
            f"[{i}] {document_text(document)}" for i, document in enumerate(documents, start=1)
        )
        parts.append(f"Retrieved context:\n{listed}")
    parts.append(f"Answer to check:\n{message_text(_draft(state))}")
    return [SystemMessage(VERIFY_PROMPT), HumanMessage("\n\n".join(parts))]


def _verdict_of(result: RoleResult) -> Verdict | None:
    parsed = result.parsed
    if isinstance(parsed, Verdict):
        return parsed
    if isinstance(parsed, dict):
        try:
            return Verdict.model_validate(parsed)
        except ValidationError:
            return None
    return None


def _judged(
    state: EnsembleState, services: Services, result: RoleResult | None, model: str | None
) -> dict[str, Any]:
    """The verdict as state: what the verifier said, and what is done about it (``applied``:
    accept, revise or reject; ``unverified`` when no verdict could be had)."""
    draft = _draft(state)
    primary_attempts = [a for a in state.get("attempts") or [] if a.get("role") == "primary"]
    primary_card = None
    if primary_attempts and primary_attempts[-1]["ok"]:
        primary_card = services.router.registry.get(primary_attempts[-1]["model"]).card
    primary = role_summary(
        Role.PRIMARY.value,
        primary_attempts,
        answer=draft if isinstance(draft, AIMessage) else None,
        card=primary_card,
        local_cost_per_million=services.router.config.local_cost_per_million,
    ).model_dump(mode="json")
    verdict = _verdict_of(result) if result is not None else None
    if verdict is None:
        applied = "unverified"
    elif verdict.verdict == "revise" and not (verdict.refined_answer or "").strip():
        applied = "accept"  # a revise without the revision keeps the answer
    else:
        applied = verdict.verdict
    judged: dict[str, Any] = {
        "verdict": verdict.verdict if verdict else None,
        "applied": applied,
        "reasons": list(verdict.reasons) if verdict else [],
        "refined_answer": verdict.refined_answer if verdict else None,
        "model": model,
    }
    update: dict[str, Any] = {"draft": draft, "verdict": judged, "roles": [primary]}
    if result is not None:
        update["attempts"] = result.attempts
        outcome: str | None = verdict.verdict if verdict else None
        if verdict is None and result.message is not None:
            outcome = "unreadable"
        update["roles"] = [primary, _summary(services, Role.VERIFIER, result, outcome)]
    return update


def make_verifier(provide: ServicesProvider, caller: RoleCaller) -> Callable[..., dict[str, Any]]:
    """A quality model checks the primary's answer and returns a structured verdict."""

    def verifier(
        state: EnsembleState, config: RunnableConfig, runtime: Runtime[Context]
    ) -> dict[str, Any]:
        result = _call_role(
            caller, state, config, runtime, Role.VERIFIER, _verify_prompt, schema=Verdict
        )
        answered = None
        if result is not None and result.message and result.attempts:
            answered = result.attempts[-1]["model"]
        return _judged(state, _services(provide, runtime), result, answered)

    return verifier


# -- escalate --------------------------------------------------------------------------------


def make_escalate(provide: ServicesProvider) -> Callable[..., dict[str, Any]]:
    """On a reject: the best quality model answers the question as the caller asked it."""

    def escalate(state: EnsembleState, runtime: Runtime[Context]) -> dict[str, Any]:
        services = _services(provide, runtime)
        chosen = _model_of(state["plan"], Role.ESCALATION)
        assert chosen is not None  # after_verifier escalates only with a model to go to
        chain = [chosen["model"], *chosen["fallbacks"]]
        host, base_url = services.router.host_for(chain[0])
        draft = _draft(state)
        messages: list[Any] = [RemoveMessage(id=draft.id)] if draft.id else []
        question = state.get("question")
        if isinstance(question, HumanMessage) and question.id:
            messages.append(question)  # the caller's own words again, not the rewrite
        return {
            "messages": messages,
            "role": Role.ESCALATION.value,
            "chain": chain,
            "position": 0,
            "target": {"model": chain[0], "host": host, "base_url": base_url},
            "tried_hosts": [],
        }

    return escalate


def keep_primary_answer(state: Any) -> dict[str, Any] | None:
    """``fallback``'s answer to an exhausted chain inside the ensemble: when the escalation's
    chain is exhausted, the primary's answer stands; the primary's own failing fails."""
    if state.get("role") == Role.ESCALATION.value:
        return {"escalation_failed": True}
    return None


# -- finish ----------------------------------------------------------------------------------


def _final(state: EnsembleState) -> tuple[AIMessage, str]:
    """The answer to hand back, and the role it comes from."""
    draft = state.get("draft") or _draft(state)
    primary = draft if isinstance(draft, AIMessage) else AIMessage(content=draft.content)
    verdict = state.get("verdict") or {}
    if state.get("role") == Role.ESCALATION.value and not state.get("escalation_failed"):
        last = _draft(state)
        if isinstance(last, AIMessage):
            return last, Role.ESCALATION.value
    if verdict.get("applied") == "revise":
        revised = AIMessage(
            content=verdict["refined_answer"],
            response_metadata=primary.response_metadata,
        )
        return revised, Role.VERIFIER.value
    return primary, Role.PRIMARY.value


def make_finish(provide: ServicesProvider) -> Callable[..., dict[str, Any]]:
    """The final answer, its routing metadata, and the request's one history record."""

    def finish(
        state: EnsembleState, config: RunnableConfig, runtime: Runtime[Context]
    ) -> dict[str, Any]:
        services = _services(provide, runtime)
        message, final_role = _final(state)
        attempts = list(state.get("attempts") or [])
        roles = list(state.get("roles") or [])
        extra: list[dict[str, Any]] = []
        if state.get("role") == Role.ESCALATION.value:
            escalated = [a for a in attempts if a.get("role") == Role.ESCALATION.value]
            card = None
            if final_role == Role.ESCALATION.value:
                card = services.router.registry.get(escalated[-1]["model"]).card
            extra.append(
                role_summary(
                    Role.ESCALATION.value,
                    attempts,
                    answer=message if final_role == Role.ESCALATION.value else None,
                    card=card,
                    local_cost_per_million=services.router.config.local_cost_per_million,
                ).model_dump(mode="json")
            )
        summaries = [RoleSummary.model_validate(role) for role in [*roles, *extra]]
        answering = next((role for role in summaries if role.role == final_role), None)
        plan = state["plan"]
        outcome = {
            **plan,
            "rewritten_query": state.get("rewritten_query"),
            "verdict": state.get("verdict"),
            "answered_by_role": final_role,
            "roles": [role.model_dump(mode="json") for role in summaries],
        }
        routing = {
            **(message.response_metadata.get("routing") or state["decision"]),
            "answered_by": answering.model if answering is not None else None,
            "attempts": attempts,
            "ensemble": outcome,
        }
        answer = message.model_copy(
            update={"response_metadata": {**message.response_metadata, "routing": routing}}
        )
        card = None
        if answering is not None and answering.model is not None:
            card = services.router.registry.get(answering.model).card
        report_request(
            services,
            state,  # type: ignore[arg-type]
            config,
            attempts,
            answer=answer,
            card=card,
            roles=summaries,
            final_role=final_role,
        )
        return {"result": {"message": answer, "ensemble": outcome}}

    return finish


# -- edges -----------------------------------------------------------------------------------


def after_invoke(state: EnsembleState) -> str:
    """A failed call goes to ``fallback``; the primary's answer to the verifier; the
    escalation's to ``finish``."""
    if last_attempt_failed(state):  # type: ignore[arg-type]
        return "fallback"
    return "verifier" if state.get("role") == Role.PRIMARY.value else "finish"


def after_fallback(state: EnsembleState) -> str:
    """Try again, unless the escalation's chain is exhausted."""
    return "finish" if state.get("escalation_failed") else "invoke"


def after_verifier(state: EnsembleState) -> str:
    """A rejected answer escalates when there is a model to escalate to."""
    verdict = state.get("verdict") or {}
    if verdict.get("applied") == "reject" and _model_of(state["plan"], Role.ESCALATION):
        return "escalate"
    return "finish"
