"""Calling a role's model with the routing graph's own machinery.

The rewriter and the verifier call their models through the very functions of the ``invoke``
and ``fallback`` nodes: the same retries with backoff, cooldowns, host choice and failover
to another host, privacy guard and attempt records (each with its role). Only the loop that
the graph's edges make between ``invoke`` and ``fallback`` runs here, inline, over the
role's own chain; an exhausted chain is not an error but a role without an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from ragged_graph.registry.cards import ModelCard
from ragged_graph.routing.tokens import ANSWER_TOKEN_RESERVE, estimate_tokens
from ragged_graph.routing_graph.convert import context_of, message_text
from ragged_graph.routing_graph.ensemble.state import EnsembleState
from ragged_graph.routing_graph.nodes.fallback import next_target
from ragged_graph.routing_graph.nodes.invoke import CALL_OPTIONS_KEY, CallOptions, make_invoke
from ragged_graph.routing_graph.services import Services, ServicesProvider
from ragged_graph.routing_graph.state import AttemptRecord, Context, State

__all__ = ["RoleCaller", "RoleResult"]


@dataclass(frozen=True, kw_only=True)
class RoleResult:
    """What a role's calls came to."""

    message: AIMessage | None = None
    """The answer; None when every model of the role's chain failed."""
    attempts: list[AttemptRecord] = field(default_factory=list)
    """Every call made for the role."""
    card: ModelCard | None = None
    """The card of the model that answered."""

    @property
    def parsed(self) -> Any:
        """The structured output, when a schema was asked for and the answer parsed."""
        if self.message is None:
            return None
        return self.message.additional_kwargs.get("parsed")


class RoleCaller:
    """Calls the models of one role's chain, in order, until one answers."""

    def __init__(self, provide: ServicesProvider) -> None:
        self._provide = provide
        self._invoke, self._ainvoke = make_invoke(provide, report=False)

    def call(
        self,
        state: EnsembleState,
        config: RunnableConfig,
        runtime: Runtime[Context],
        *,
        role: str,
        chain: list[str],
        messages: list[BaseMessage],
        schema: Any = None,
    ) -> RoleResult:
        services = self._provide(context_of(runtime))
        sub = _role_state(state, services, role=role, chain=chain, messages=messages)
        role_config = _role_config(config, schema)
        records: list[AttemptRecord] = []
        while True:
            update = self._invoke(sub, role_config, runtime)
            outcome = _settle(sub, update, records, services)
            if outcome is not None:
                return outcome


def _role_state(
    state: EnsembleState,
    services: Services,
    *,
    role: str,
    chain: list[str],
    messages: list[BaseMessage],
) -> State:
    """What ``invoke`` reads, for this role: its prompt (complete: no documents or persona
    style are added), its chain, the host of its first model, and the context its prompt
    needs (so that a short prompt does not get a long request's context window)."""
    host, base_url = services.router.host_for(chain[0])
    characters = sum(len(message_text(message)) for message in messages)
    needed = estimate_tokens(characters) + ANSWER_TOKEN_RESERVE
    return cast(
        State,
        {
            "messages": messages,
            "query": state["query"],
            "decision": {**state["decision"], "required_context": needed},
            "chain": chain,
            "position": 0,
            "target": {"model": chain[0], "host": host, "base_url": base_url},
            "tried_hosts": [],
            "role": role,
            "attempts": [],
        },
    )


def _role_config(config: RunnableConfig, schema: Any) -> RunnableConfig:
    """The run's config with call options for a role: its schema, nothing streamed to the
    caller's writer, no tools; the caller's relaying and retry settings kept."""
    configurable = dict(config.get("configurable") or {})
    given: CallOptions = configurable.get(CALL_OPTIONS_KEY) or CallOptions()
    configurable[CALL_OPTIONS_KEY] = CallOptions(
        schema=schema, relay=given.relay, max_retries=given.max_retries
    )
    return {**config, "configurable": configurable}


def _settle(
    sub: State,
    update: dict[str, Any],
    records: list[AttemptRecord],
    services: Services,
) -> RoleResult | None:
    """Take one ``invoke`` step's update: the role's result when it answered or its chain is
    exhausted; None to try again where ``fallback`` would."""
    made = list(update.get("attempts") or [])
    records.extend(made)
    sub["attempts"] = list(records)
    answers = update.get("messages")
    if answers:
        message = answers[-1]
        model = made[-1]["model"] if made else sub["chain"][sub.get("position", 0)]
        card = services.router.registry.get(model).card
        answer = message if isinstance(message, AIMessage) else AIMessage(content=message.content)
        return RoleResult(message=answer, attempts=records, card=card)
    step = next_target(sub, services)
    if step is None:
        return RoleResult(attempts=records)
    for key, value in step.items():
        sub[key] = value  # type: ignore[literal-required]
    return None
