"""LangSmith tracing of routing decisions, and redaction of the query text from traces.

When LangSmith tracing is on (``LANGSMITH_TRACING=true``, or a ``LangChainTracer`` among a
run's callbacks), every graph run is traced as a ``ragged_graph`` run whose children are
the nodes (classify, complexity, persona, select, invoke, and fallback when a model
failed). The decision is attached to the graph run and, when the graph runs inside
``RaggedRouter``, to RaggedRouter's own run too:

- metadata ``routing_task``, ``routing_task_confidence``, ``routing_complexity``,
  ``routing_complexity_breakdown``, ``routing_tier``, ``routing_model``,
  ``routing_model_tier``, ``routing_host``, ``routing_persona``, ``routing_persona_rule``,
  ``routing_reason``, ``routing_fallbacks``, and once a model was called
  ``routing_attempts``, ``routing_answered_by``, ``routing_fell_back`` (the ``routing_``
  prefix keeps them apart from a caller's own metadata, as ``langgraph_`` and ``ls_`` do);
- tags ``tier:<tier>``, ``task:<task>``, ``model:<model>``, ``persona:<persona>`` (with a
  persona), ``fallback:<model>`` (when a fallback model answered);
- for a request in an A/B experiment, metadata ``routing_experiment`` and
  ``routing_variant`` and the tag ``ab:<experiment>=<variant>`` (set by the ``experiment``
  node).

How: a LangChain tracer keeps every open run in memory (``run_map``) and sends a run's
tags and ``extra.metadata`` again when the run ends (``RunTree.patch``). The ``select``
node, and the ``invoke`` node after each call, find the graph run (and a RaggedRouter run
above it) there and add to its tags and metadata; the graph run ends after them, so what
they add reaches LangSmith with the run's end. Without a tracer among the callbacks this
is a dictionary lookup and nothing else.

Redaction: :class:`RedactingTracer` sends every run with ``{"redacted": true}`` in place of
its inputs and outputs (structure, names, timings, errors, tags and metadata stay).
``RaggedRouter`` swaps it in for a call whose text must not be traced (the config's
``tracing.redact_queries``: ``always``, or ``local_only`` for the ``private`` persona and
other local-only requests) before its own run starts, so nothing of the call carries the
text. A graph run directly posts its input as it starts, before the persona is known:
pass ``config=redacting_config(config)`` to redact such a run, or set LangSmith's own
``LANGSMITH_HIDE_INPUTS=true`` / ``LANGSMITH_HIDE_OUTPUTS=true`` for a whole process (e.g.
a ``langgraph dev`` server).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler, BaseCallbackManager, CallbackManager
from langchain_core.runnables import RunnableConfig
from langchain_core.tracers.context import tracing_v2_callback_var
from langchain_core.tracers.langchain import LangChainTracer
from langchain_core.tracers.schemas import Run
from langsmith.utils import tracing_is_enabled

from ragged_graph.config import TracingSettings

__all__ = [
    "METADATA_PREFIX",
    "REDACTED",
    "RedactingTracer",
    "decision_metadata",
    "decision_tags",
    "experiment_metadata",
    "experiment_tags",
    "outcome_metadata",
    "redacting_config",
    "redacts",
    "trace_attempts",
    "trace_decision",
    "trace_experiment",
    "tracers_only",
    "with_attempts_traced",
]

_log = logging.getLogger(__name__)

METADATA_PREFIX = "routing_"
"""The prefix of the decision's metadata keys."""

REDACTED: Mapping[str, Any] = {"redacted": True}
"""What a redacted run carries in place of its inputs and outputs."""

_NODE_NAMESPACE = "langgraph_checkpoint_ns"

NodeFunction = Callable[..., dict[str, Any]]
AsyncNodeFunction = Callable[..., Awaitable[dict[str, Any]]]


# -- what is attached ---------------------------------------------------------------------


def decision_metadata(decision: Mapping[str, Any]) -> dict[str, Any]:
    """The run metadata for a decision (``RoutingDecision`` as JSON)."""
    fields = {
        "task": decision.get("task_type"),
        "task_confidence": decision.get("task_confidence"),
        "complexity": decision.get("complexity"),
        "complexity_breakdown": decision.get("complexity_breakdown"),
        "tier": decision.get("tier"),
        "model": decision.get("model"),
        "model_tier": decision.get("model_tier"),
        "host": decision.get("host"),
        "persona": decision.get("persona"),
        "persona_rule": decision.get("persona_rule"),
        "reason": decision.get("reason"),
        "fallbacks": list(decision.get("fallbacks") or []),
    }
    return {METADATA_PREFIX + key: value for key, value in fields.items()}


def decision_tags(decision: Mapping[str, Any]) -> list[str]:
    """The run tags for a decision: ``tier:``, ``task:``, ``model:`` and ``persona:``."""
    tags = [
        f"tier:{decision.get('tier')}",
        f"task:{decision.get('task_type')}",
        f"model:{decision.get('model')}",
    ]
    if decision.get("persona"):
        tags.append(f"persona:{decision['persona']}")
    return tags


def experiment_metadata(experiment: str, variant: str) -> dict[str, Any]:
    """The run metadata for a request's A/B experiment and variant."""
    return {METADATA_PREFIX + "experiment": experiment, METADATA_PREFIX + "variant": variant}


def experiment_tags(experiment: str, variant: str) -> list[str]:
    """The run tag for a request's A/B experiment and variant: ``ab:<experiment>=<variant>``."""
    return [f"ab:{experiment}={variant}"]


def _answered_by(attempts: Sequence[Mapping[str, Any]]) -> str | None:
    return next((str(a["model"]) for a in reversed(attempts) if a.get("ok")), None)


def outcome_metadata(
    decision: Mapping[str, Any], attempts: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The run metadata for the model calls made so far."""
    chosen = decision.get("model")
    return {
        METADATA_PREFIX + "attempts": [dict(attempt) for attempt in attempts],
        METADATA_PREFIX + "answered_by": _answered_by(attempts),
        METADATA_PREFIX + "fell_back": any(a.get("model") != chosen for a in attempts),
    }


# -- attaching it to the runs -------------------------------------------------------------


def _tracers(config: RunnableConfig) -> tuple[BaseCallbackManager, list[LangChainTracer]] | None:
    callbacks = config.get("callbacks")
    if not isinstance(callbacks, BaseCallbackManager) or callbacks.parent_run_id is None:
        return None
    tracers = [h for h in callbacks.handlers if isinstance(h, LangChainTracer)]
    return (callbacks, tracers) if tracers else None


def _routing_runs(config: RunnableConfig) -> list[Run]:
    """The graph run a node runs in, and the RaggedRouter (chat model) run above it."""
    found = _tracers(config)
    if found is None:
        return []
    callbacks, tracers = found
    runs: dict[int, Run] = {}
    for tracer in tracers:
        run = tracer.run_map.get(str(callbacks.parent_run_id))
        if run is None:
            continue
        # Up through the node's own runs (they share its checkpoint namespace) to the graph.
        namespace = run.metadata.get(_NODE_NAMESPACE)
        graph_run = None
        while run is not None and run.parent_run_id is not None:
            parent = tracer.run_map.get(str(run.parent_run_id))
            if parent is None:
                break
            if parent.metadata.get(_NODE_NAMESPACE) != namespace:
                graph_run = parent
                break
            run = parent
        if graph_run is None:
            continue
        runs[id(graph_run)] = graph_run
        above = (
            tracer.run_map.get(str(graph_run.parent_run_id)) if graph_run.parent_run_id else None
        )
        if above is not None and above.run_type == "llm":
            runs[id(above)] = above
    return list(runs.values())


def _annotate(runs: Sequence[Run], metadata: Mapping[str, Any], tags: Sequence[str]) -> None:
    for run in runs:
        # New objects rather than updates in place: the dict and list may be shared with
        # other runs, and a run's post may be serialising them on another thread.
        extra = run.extra if run.extra is not None else {}
        extra["metadata"] = {**(extra.get("metadata") or {}), **metadata}
        run.extra = extra
        existing = list(run.tags or [])
        run.tags = existing + [tag for tag in tags if tag not in existing]


_warned_unredacted = False


def trace_decision(
    config: RunnableConfig, decision: Mapping[str, Any], *, redact: bool = False
) -> None:
    """Attach ``decision`` to the traced graph run (and RaggedRouter's run above it).

    ``redact``: the decision's request should not be traced with its text; a warning is
    logged (once) if it is being traced by a tracer that does not redact.
    """
    runs = _routing_runs(config)
    if not runs:
        return
    _annotate(runs, decision_metadata(decision), decision_tags(decision))
    if redact:
        _warn_if_unredacted(config)


def trace_experiment(config: RunnableConfig, experiment: str, variant: str) -> None:
    """Attach the request's A/B experiment and variant to the traced graph run (and
    RaggedRouter's run above it)."""
    runs = _routing_runs(config)
    if runs:
        metadata = experiment_metadata(experiment, variant)
        _annotate(runs, metadata, experiment_tags(experiment, variant))


def trace_attempts(
    config: RunnableConfig, state: Mapping[str, Any], update: Mapping[str, Any]
) -> None:
    """Attach the attempts so far (``state``'s and the ``invoke`` node's ``update``)."""
    runs = _routing_runs(config)
    if not runs:
        return
    decision = state.get("decision") or {}
    attempts = [*(state.get("attempts") or []), *(update.get("attempts") or [])]
    metadata = outcome_metadata(decision, attempts)
    tags = []
    if metadata[METADATA_PREFIX + "fell_back"] and metadata[METADATA_PREFIX + "answered_by"]:
        tags.append(f"fallback:{metadata[METADATA_PREFIX + 'answered_by']}")
    _annotate(runs, metadata, tags)


def with_attempts_traced(
    invoke: NodeFunction, ainvoke: AsyncNodeFunction
) -> tuple[NodeFunction, AsyncNodeFunction]:
    """The ``invoke`` node's (sync, async) functions, attaching the attempts to the trace."""

    def invoke_traced(state: Any, config: RunnableConfig, runtime: Any) -> dict[str, Any]:
        update = invoke(state, config, runtime)
        trace_attempts(config, state, update)
        return update

    async def ainvoke_traced(state: Any, config: RunnableConfig, runtime: Any) -> dict[str, Any]:
        update = await ainvoke(state, config, runtime)
        trace_attempts(config, state, update)
        return update

    return invoke_traced, ainvoke_traced


def _warn_if_unredacted(config: RunnableConfig) -> None:
    global _warned_unredacted
    found = _tracers(config)
    if _warned_unredacted or found is None:
        return
    if all(isinstance(tracer, RedactingTracer) for tracer in found[1]):
        return
    _warned_unredacted = True
    _log.warning(
        "a request that tracing.redact_queries says to redact is traced with its text: the "
        "graph was run directly, so its input was sent when the run started; call it through "
        "RaggedRouter, pass config=redacting_config(config), or set LANGSMITH_HIDE_INPUTS "
        "and LANGSMITH_HIDE_OUTPUTS"
    )


def tracers_only(config: RunnableConfig) -> BaseCallbackManager | list[BaseCallbackHandler]:
    """``config``'s LangSmith tracers without its other callbacks, nesting where they did.

    For a call whose other callbacks hear of it from someone else (``RaggedRouter`` relays
    the chosen model's tokens itself): the trace keeps the call in its place, redacted when
    the trace is, and no other handler counts it twice.
    """
    callbacks = config.get("callbacks")
    if not isinstance(callbacks, BaseCallbackManager):
        return [h for h in callbacks or () if isinstance(h, LangChainTracer)]
    handlers: list[BaseCallbackHandler] = [
        h for h in callbacks.handlers if isinstance(h, LangChainTracer)
    ]
    if not handlers:
        return []
    inheritable: list[BaseCallbackHandler] = [
        h for h in callbacks.inheritable_handlers if isinstance(h, LangChainTracer)
    ]
    return type(callbacks)(
        handlers=handlers,
        inheritable_handlers=inheritable,
        parent_run_id=callbacks.parent_run_id,
        tags=list(callbacks.tags),
        inheritable_tags=list(callbacks.inheritable_tags),
        metadata=dict(callbacks.metadata),
        inheritable_metadata=dict(callbacks.inheritable_metadata),
    )


# -- redaction ----------------------------------------------------------------------------


def redacts(settings: TracingSettings, *, local_only: bool) -> bool:
    """Whether a request's text is kept out of traces, by ``tracing.redact_queries``.

    ``local_only``: the request must stay on this machine (a local-only persona or call).
    """
    if settings.redact_queries == "always":
        return True
    if settings.redact_queries == "never":
        return False
    return local_only


@contextmanager
def _content_hidden(run: Run) -> Iterator[None]:
    """The run without its inputs, outputs and event payloads, while it is serialised."""
    saved = run.inputs, run.outputs, run.events
    if run.inputs:
        run.inputs = dict(REDACTED)
    if run.outputs:
        run.outputs = dict(REDACTED)
    if run.events:
        run.events = [{k: v for k, v in event.items() if k != "kwargs"} for event in run.events]
    try:
        yield
    finally:
        run.inputs, run.outputs, run.events = saved


class RedactingTracer(LangChainTracer):
    """A LangSmith tracer that sends runs without their inputs and outputs.

    Each run is posted and patched with ``{"redacted": true}`` in place of its inputs and
    outputs, and streamed-token events without their text; names, run types, the tree,
    timings, errors, tags and metadata (the routing decision) are sent as usual. The runs
    are only changed while they are serialised: callbacks and callers see them whole.
    """

    def _persist_run_single(self, run: Run) -> None:
        with _content_hidden(run):
            super()._persist_run_single(run)

    @staticmethod
    def _update_run_single(run: Run) -> None:
        with _content_hidden(run):
            LangChainTracer._update_run_single(run)

    @classmethod
    def replacing(cls, tracer: LangChainTracer) -> RedactingTracer:
        """A redacting tracer taking over ``tracer``'s destination and open runs."""
        if isinstance(tracer, RedactingTracer):
            return tracer
        return cls(
            example_id=tracer.example_id,
            project_name=tracer.project_name,
            address=tracer.address,
            client=tracer.client,
            tags=list(tracer.tags),
            metadata=tracer.tracing_metadata,
            run_map=tracer.run_map,
            order_map=tracer.order_map,
            _external_run_ids=tracer._external_run_ids,
        )


def _redacting(handlers: list[BaseCallbackHandler], memo: dict[int, BaseCallbackHandler]) -> None:
    for i, handler in enumerate(handlers):
        if isinstance(handler, LangChainTracer):
            if id(handler) not in memo:
                memo[id(handler)] = RedactingTracer.replacing(handler)
            handlers[i] = memo[id(handler)]


def _has_tracer(callbacks: Any) -> bool:
    handlers = callbacks.handlers if isinstance(callbacks, BaseCallbackManager) else callbacks
    return any(isinstance(handler, LangChainTracer) for handler in handlers or ())


def redacting_config(config: RunnableConfig | None = None) -> RunnableConfig:
    """``config`` with its LangSmith tracers replaced by :class:`RedactingTracer` s.

    When ``config`` names no tracer but tracing is on (``LANGSMITH_TRACING``,
    ``tracing_context``, ``tracing_v2_enabled``), the tracer LangChain would add is made
    here and replaced. With tracing off, ``config`` comes back as it was.
    """
    result: RunnableConfig = {**(config or {})}
    callbacks = result.get("callbacks")
    if not _has_tracer(callbacks):
        if tracing_v2_callback_var.get() is None and not tracing_is_enabled():
            return result
        # What LangChain makes of these callbacks for a run: with tracing on, a tracer.
        callbacks = CallbackManager.configure(inheritable_callbacks=callbacks)
        if not _has_tracer(callbacks):
            return result
    memo: dict[int, BaseCallbackHandler] = {}
    if isinstance(callbacks, BaseCallbackManager):
        manager = callbacks.copy()
        _redacting(manager.handlers, memo)
        _redacting(manager.inheritable_handlers, memo)
        result["callbacks"] = manager
    else:
        handlers = list(callbacks or [])
        _redacting(handlers, memo)
        result["callbacks"] = handlers
    return result
