"""The ensemble subgraph's own state, and how it maps in and out of the routing graph's.

In: the conversation, the original query, the retrieved documents, the persona step, the
primary's decision, chain and host (``target``), and the plan (why the ensemble runs and the
models of its other roles). Out: the final answer, every attempt (each with its role) and
the ensemble's outcome (``ensemble`` in the routing graph's output).
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

# Not typing.TypedDict: before Python 3.12 pydantic cannot make JSON schemas from it.
from typing_extensions import TypedDict

from ragged_graph.routing_graph.state import AttemptRecord, add_attempts

__all__ = ["EnsembleState"]


class EnsembleState(TypedDict, total=False):
    """Everything the ensemble's nodes share."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation the primary answers (its last question rewritten, unless the
    request is a RAG query), then the primary's answer."""
    question: AnyMessage | None
    """The conversation's last human message as the caller sent it."""
    query: str
    """The query as the caller sent it: what the verifier checks the answer against."""
    documents: list[Any]
    """Retrieved documents the answer should draw on."""
    persona: dict[str, Any]
    """The persona step's outcome (its response style goes to the answering models)."""
    decision: dict[str, Any]
    """The primary's routing decision."""
    experiment: dict[str, Any] | None
    """The A/B experiment the request is in, if any."""
    started_at: float
    """When the request started (Unix time)."""
    request_id: str
    """The request's id (the routing record's)."""
    plan: dict[str, Any]
    """Why the ensemble runs, and the models chosen for its roles (``models``)."""
    chain: list[str]
    """The models ``invoke`` tries in order: the primary's chain, then the escalation's."""
    position: int
    """Index in ``chain`` of the model being tried."""
    target: dict[str, Any] | None
    """Where the model at ``position`` is called (model, host, base_url)."""
    tried_hosts: list[str]
    """Hosts already tried for the model at ``position``."""
    role: str | None
    """The role of ``invoke``'s calls now: ``primary``, then ``escalation``."""
    attempts: Annotated[list[AttemptRecord], add_attempts]
    """Every model call, in order, each with its role."""
    rewritten_query: str | None
    """The rewriter's query, when it gave one."""
    draft: AnyMessage | None
    """The primary's answer."""
    verdict: dict[str, Any] | None
    """The verifier's verdict: verdict, reasons, refined_answer, model, applied."""
    escalation_failed: bool
    """Every model of the escalation's chain failed (the primary's answer stands)."""
    roles: Annotated[list[dict[str, Any]], operator.add]
    """Each finished role's summary (:class:`~ragged_graph.telemetry.records.RoleSummary`)."""
    result: dict[str, Any]
    """Set by ``finish``: the final ``message`` and the ``ensemble`` outcome."""
