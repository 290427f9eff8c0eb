"""`invoke`: call the model at the current position of the chain, streaming its tokens.

Tokens stream through the model's own callbacks, so ``stream_mode="messages"`` shows them.
A caller that relays tokens itself (``RaggedRouter``) passes :class:`CallOptions` with
``relay=True``: the model call is then tagged ``nostream`` (an outer LangGraph run sees each
token once, from the caller) and, with ``stream_to_writer``, each chunk goes to the custom
stream. Once chunks went to a caller's stream, a failure is not hidden behind another
model's answer: it surfaces as :class:`StreamInterruptedError` carrying the partial text.

Other provider failures are recorded as an attempt and handed to ``fallback``; anything else
is a bug and propagates. A refused connection is not retried on the same host when another
host has the model: ``fallback`` sends the request there first.

The model is called on the host ``select`` or ``fallback`` chose (``target``); every call
counts as in flight on that host while it runs, and a successful one leaves its time to first
token as a latency sample (:class:`~ragged_graph.providers.load.HostLoad`). Inside the
ensemble, calls carry the role of the state (``role``), and the ensemble reports the request
itself (``make_invoke(..., report=False)``).

The privacy guard, at the call: a cloud model is never called with a request the decision
marked local-only, nor with one whose messages or documents hold personal data or secrets
(scanned again here, whatever the decision said). Such an attempt is recorded as a
:class:`PrivacyGuardError` without any call, and the chain moves on.
"""

from __future__ import annotations

import asyncio
import functools
import operator
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    message_chunk_to_message,
)
from langchain_core.messages.ai import add_ai_message_chunks
from langchain_core.runnables import Runnable, RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from ragged_graph.errors import (
    HostUnavailableError,
    ModelCoolingDownError,
    PrivacyGuardError,
    ProviderError,
    StreamInterruptedError,
)
from ragged_graph.providers.cloud import cloud_failure_types, cloud_generation_kwargs
from ragged_graph.providers.errors import PROVIDER_FAILURES, is_transient, to_provider_error
from ragged_graph.providers.health import HealthTracker
from ragged_graph.providers.load import HostLoad
from ragged_graph.registry.cards import ModelCard
from ragged_graph.routing.privacy import scan_request
from ragged_graph.routing.query_text import document_text
from ragged_graph.routing_graph.convert import context_of, message_text
from ragged_graph.routing_graph.report import report_request
from ragged_graph.routing_graph.services import Services, ServicesProvider
from ragged_graph.routing_graph.state import AttemptRecord, Context, State
from ragged_graph.telemetry.tracing import tracers_only

__all__ = ["CALL_OPTIONS_KEY", "CallOptions", "last_attempt_failed", "make_invoke"]

CALL_OPTIONS_KEY = "ragged_graph_call_options"
"""``configurable`` key holding the run's :class:`CallOptions`."""

_NOSTREAM_TAG = "nostream"


@dataclass(frozen=True, kw_only=True)
class CallOptions:
    """How the chosen model is called; set by ``RaggedRouter`` through ``configurable``."""

    tools: Sequence[Any] = ()
    """Tools to bind on the chosen model."""
    tool_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``bind_tools`` (e.g. ``tool_choice``)."""
    schema: Any = None
    """A schema for structured output, if one is wanted."""
    schema_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for ``with_structured_output``."""
    stop: Sequence[str] | None = None
    """Stop sequences."""
    model_options: dict[str, Any] = field(default_factory=dict)
    """Ollama generation options (``temperature``, ``num_predict``, ...)."""
    max_retries: int | None = None
    """Retries of a transient failure on the same model; None: the config's setting."""
    relay: bool = False
    """The caller relays tokens itself: hide the model's own token callbacks."""
    stream_to_writer: bool = False
    """Send each chunk to the custom stream as ``{"token": chunk}``."""


_DEFAULT_OPTIONS = CallOptions()


@dataclass(frozen=True, kw_only=True)
class _Call:
    model: str
    host: str | None
    runnable: Runnable[Any, Any]
    messages: list[BaseMessage]
    config: RunnableConfig
    options: CallOptions
    max_retries: int
    backoff_s: float
    backoff_max_s: float
    restart_stream: bool
    health: HealthTracker
    card: ModelCard
    load: HostLoad
    failures: tuple[type[BaseException], ...] = PROVIDER_FAILURES
    role: str | None = None
    other_hosts: tuple[str, ...] = ()


def _messages_for(state: State) -> list[BaseMessage]:
    messages: list[BaseMessage] = list(state.get("messages") or [])
    if not messages:
        messages = [HumanMessage(state["query"])]
    style = (state.get("persona") or {}).get("response_style")
    if style:
        messages = [SystemMessage(style), *messages]
    documents = state.get("documents")
    if documents:
        listed = "\n\n".join(
            f"[{i}] {document_text(document)}" for i, document in enumerate(documents, start=1)
        )
        context = SystemMessage(
            "Answer from these retrieved documents; say so if they do not hold the answer.\n\n"
            + listed
        )
        messages = [context, *messages]
    return messages


# Ollama runs a model with a 4096-token window unless told otherwise, and silently drops the
# start of a longer prompt; a longer request gets a window sized for it (in 1024 steps, so
# that similar requests share one loaded runner).
_OLLAMA_DEFAULT_CONTEXT = 4096


def _context_window_for(required: int, model_window: int) -> int | None:
    if required <= _OLLAMA_DEFAULT_CONTEXT:
        return None
    return min(model_window, -(-required // 1024) * 1024)


def _with_fields(chat_model: BaseChatModel, generation: dict[str, Any]) -> BaseChatModel:
    """``chat_model`` with ``generation`` set as its own settings: structured output drops
    options bound per call (ChatOllama's ``with_structured_output`` builds its own chain), so
    a long prompt would lose its context window."""
    fields = {
        key: value for key, value in generation.items() if key in type(chat_model).model_fields
    }
    return chat_model.model_copy(update=fields) if fields else chat_model


def _prepare(state: State, config: RunnableConfig, services: Services) -> _Call:
    chain = state["chain"]
    model = chain[state.get("position", 0)]
    decision = state["decision"]
    target = state.get("target")
    if target and target.get("model") == model:
        host, base_url = target.get("host"), target.get("base_url")
    elif model == decision["model"]:
        host, base_url = decision.get("host"), decision.get("base_url")
    else:
        host, base_url = services.router.host_for(model)
    tried = {*(state.get("tried_hosts") or ()), *([host] if host else [])}
    other_hosts = tuple(
        choice.host
        for choice in services.router.hosts_for(model, exclude=tried)
        if choice.available
    )
    card = services.router.registry.get(model).card
    messages = _messages_for(state)
    if not card.local:
        _guard_privacy(state, messages, model=model, host=host)
    chat_model: BaseChatModel = services.models.chat_model(
        provider=card.provider, model=card.name, base_url=base_url
    )
    retries = services.router.config.fallbacks
    options: CallOptions = (config.get("configurable") or {}).get(
        CALL_OPTIONS_KEY, _DEFAULT_OPTIONS
    )
    generation = dict(options.model_options)
    num_ctx = _context_window_for(decision.get("required_context", 0), card.context_window)
    if num_ctx is not None:
        generation["num_ctx"] = num_ctx
    if options.stop:
        generation["stop"] = list(options.stop)
    runnable: Runnable[Any, Any] = chat_model
    if options.tools:
        runnable = chat_model.bind_tools(options.tools, **options.tool_kwargs)
    if options.schema is not None:
        structured = _with_fields(chat_model, generation) if card.local else chat_model
        runnable = structured.with_structured_output(
            options.schema, include_raw=True, **options.schema_kwargs
        )
    if not card.local:
        cloud_kwargs = cloud_generation_kwargs(generation)
        if cloud_kwargs:
            runnable = runnable.bind(**cloud_kwargs)
    elif generation and options.schema is None:
        # ChatOllama takes per-call settings as one `options` mapping (stop included).
        runnable = runnable.bind(options=generation)
    return _Call(
        model=model,
        host=host,
        runnable=runnable,
        messages=messages,
        failures=(
            PROVIDER_FAILURES
            if card.local
            else PROVIDER_FAILURES + cloud_failure_types(card.provider)
        ),
        max_retries=(
            options.max_retries if options.max_retries is not None else retries.max_retries
        ),
        backoff_s=retries.retry_backoff_s,
        backoff_max_s=retries.retry_backoff_max_s,
        restart_stream=retries.restart_stream_on_failure,
        health=services.health,
        card=card,
        load=services.load,
        role=state.get("role"),
        other_hosts=other_hosts,
        # A relaying caller reports the call to its own callbacks; the inner model reporting
        # too would count every call and token twice. Tracers keep it (redacted if they are).
        config=(
            {"callbacks": tracers_only(config), "tags": [_NOSTREAM_TAG]} if options.relay else {}
        ),
        options=options,
    )


def _guard_privacy(
    state: State, messages: Sequence[BaseMessage], *, model: str, host: str | None
) -> None:
    """Raise :class:`PrivacyGuardError` unless the request may go to a cloud model."""
    if state["decision"].get("local_only"):
        raise PrivacyGuardError(
            "not sent to a cloud model: the request is local-only", model=model, host=host
        )
    found = scan_request(
        (message_text(message) for message in messages), state.get("documents") or ()
    )
    if found.found:
        raise PrivacyGuardError(
            f"not sent to a cloud model: the request holds {found.describe()}",
            model=model,
            host=host,
        )


def _refused(state: State, error: ProviderError) -> dict[str, Any]:
    """The attempt of a model that could not be called at all (nothing was sent)."""
    model = state["chain"][state.get("position", 0)]
    return {
        "attempts": [
            AttemptRecord(
                model=model,
                host=error.host,
                ok=False,
                error_code=str(error.code),
                error=error.message,
                latency_ms=0.0,
                first_token_ms=None,
                role=state.get("role"),
            )
        ]
    }


def _routing_metadata(
    state: State, call: _Call, attempts: Sequence[AttemptRecord]
) -> dict[str, Any]:
    metadata = {**state["decision"], "answered_by": call.model, "attempts": list(attempts)}
    experiment = state.get("experiment")
    if experiment:
        metadata["experiment"] = experiment["name"]
        metadata["variant"] = experiment["variant"]
    return metadata


class _Stream:
    """One call's chunks, timing and (for relaying callers) the writer they go to."""

    def __init__(self, call: _Call) -> None:
        self.call = call
        self.started = time.perf_counter()
        self.first: float | None = None
        self._chunks: list[Any] = []
        self._writer = get_stream_writer() if call.options.stream_to_writer else None

    def add(self, chunk: Any) -> None:
        self.first = self.first or time.perf_counter()
        self._chunks.append(chunk)
        if self._writer is not None:
            self._writer({"token": chunk})

    def finish(self, result: Any) -> None:
        self.first = time.perf_counter()
        self._chunks = [result]

    @property
    def collected(self) -> Any:
        """The answer so far: the chunks merged, once, when asked (None before any).

        Adding each chunk to a running total as it came built a new message per chunk and
        copied the text so far each time (quadratic in the answer's length); all chunks
        merged at once cost about as much as two of those additions.
        """
        chunks = self._chunks
        if len(chunks) > 1:
            first, rest = chunks[0], chunks[1:]
            if isinstance(first, AIMessageChunk) and all(
                isinstance(chunk, AIMessageChunk) for chunk in rest
            ):
                merged = add_ai_message_chunks(first, *rest)
            else:
                merged = functools.reduce(operator.add, chunks)
            self._chunks = chunks = [merged]
        return chunks[0] if chunks else None

    def partial_text(self) -> str:
        collected = self.collected
        return message_text(collected) if isinstance(collected, BaseMessage) else ""

    def record(self, error: ProviderError | None) -> AttemptRecord:
        first = self.first
        return AttemptRecord(
            model=self.call.model,
            host=self.call.host,
            ok=error is None,
            error_code=str(error.code) if error else None,
            error=error.message if error else None,
            latency_ms=round((time.perf_counter() - self.started) * 1000, 3),
            first_token_ms=round((first - self.started) * 1000, 3) if first else None,
            role=self.call.role,
        )

    def succeeded(self) -> None:
        """The call answered: its time to first token is a latency sample of its host."""
        first = self.first if self.first is not None else time.perf_counter()
        self.call.load.record_latency(self.call.host, (first - self.started) * 1000)


def _answer(
    state: State,
    call: _Call,
    result: Any,
    records: list[AttemptRecord],
    services: Services,
    config: RunnableConfig,
    *,
    report: bool = True,
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if call.options.schema is not None:
        # Structured output travels on the message, for RaggedRouter to hand back.
        message: BaseMessage = result["raw"]
        extra = {"parsed": result["parsed"], "parsing_error": result.get("parsing_error")}
    else:
        message = result if result is not None else AIMessage(content="")
    if isinstance(message, AIMessageChunk):
        message = message_chunk_to_message(message)
    attempts = [*state.get("attempts", []), *records]
    metadata = {**message.response_metadata, "routing": _routing_metadata(state, call, attempts)}
    answer = message.model_copy(
        update={
            "response_metadata": metadata,
            "additional_kwargs": {**message.additional_kwargs, **extra},
        }
    )
    if report:
        report_request(services, state, config, attempts, answer=answer, card=call.card)
    return {"messages": [answer], "answer": message_text(answer), "attempts": records}


def _report_interrupted(
    state: State,
    call: _Call,
    stream: _Stream,
    records: list[AttemptRecord],
    error: StreamInterruptedError,
    services: Services,
    config: RunnableConfig,
) -> None:
    """The request ends here: its stream broke after the caller showed some of it."""
    attempts = [*state.get("attempts", []), *records, stream.record(error)]
    report_request(services, state, config, attempts, outcome=str(error.code))


def _typed_failure(call: _Call, exc: BaseException, stream: _Stream) -> ProviderError:
    partial = stream.partial_text()
    error = to_provider_error(
        exc,
        model=call.model,
        host=call.host,
        partial_text=partial,
        streamed=stream.first is not None,
    )
    if error is None:
        raise exc
    if partial and call.options.stream_to_writer and not call.restart_stream:
        # The caller has shown these tokens already; another answer cannot follow them.
        raise StreamInterruptedError(
            f"failed after streaming {len(partial)} characters ({error.detail})",
            model=call.model,
            host=call.host,
            partial_text=partial,
        ) from exc
    return error


def _retry_delay(call: _Call, error: ProviderError, retries_done: int) -> float | None:
    """Seconds to wait before trying the same model again, or None to move on.

    Only transient errors are retried, at most ``max_retries`` times, with exponential
    backoff and jitter so that concurrent requests do not retry in step.
    """
    if not is_transient(error) or retries_done >= call.max_retries:
        return None
    if isinstance(error, HostUnavailableError) and call.other_hosts:
        return None  # another host has the model: fail over rather than wait here
    delay = min(call.backoff_max_s, call.backoff_s * 2**retries_done)
    return float(delay * random.uniform(0.5, 1.0))


def _cooling(state: State, call: _Call, services: Services) -> dict[str, Any] | None:
    """An attempt record skipping a cooling model, when a later model of the chain is not
    cooling; None to go ahead (a cooling model is still tried when it is the last hope)."""
    if call.health.acquire(call.model, call.host):
        return None
    later = state["chain"][state.get("position", 0) + 1 :]
    if not any(call.health.available(model, services.router.host_for(model)[0]) for model in later):
        return None
    error = ModelCoolingDownError("skipped while cooling down", model=call.model, host=call.host)
    return {"attempts": [_Stream(call).record(error)]}


def _start(state: State, config: RunnableConfig, services: Services) -> _Call | dict[str, Any]:
    """The call to make, or the node's update when it is refused or its model cools down."""
    try:
        call = _prepare(state, config, services)
    except ProviderError as refused:
        return _refused(state, refused)
    skipped = _cooling(state, call, services)
    return skipped if skipped is not None else call


def _failed(
    state: State,
    config: RunnableConfig,
    call: _Call,
    stream: _Stream,
    records: list[AttemptRecord],
    exc: BaseException,
    services: Services,
) -> float | None:
    """Record a failed attempt; how long to wait before retrying, or None to give up.

    A stream broken after its first token is reported and raised (typed) instead.
    """
    try:
        error = _typed_failure(call, exc, stream)
    except StreamInterruptedError as interrupted:
        _report_interrupted(state, call, stream, records, interrupted, services, config)
        raise
    call.health.record_failure(error)
    records.append(stream.record(error))
    return _retry_delay(call, error, len(records) - 1)


def _succeeded(
    state: State,
    config: RunnableConfig,
    call: _Call,
    stream: _Stream,
    records: list[AttemptRecord],
    services: Services,
    *,
    report: bool,
) -> dict[str, Any]:
    call.health.record_success(call.model, call.host)
    stream.succeeded()
    records.append(stream.record(None))
    return _answer(state, call, stream.collected, records, services, config, report=report)


def make_invoke(provide: ServicesProvider, *, report: bool = True) -> tuple[Any, Any]:
    """The node as a (sync, async) pair of functions; ``report=False`` leaves the routing
    history record to the caller (the ensemble reports once, for every role)."""

    def invoke(state: State, config: RunnableConfig, runtime: Runtime[Context]) -> dict[str, Any]:
        services = provide(context_of(runtime))
        call = _start(state, config, services)
        if not isinstance(call, _Call):
            return call
        records: list[AttemptRecord] = []
        while True:
            stream = _Stream(call)
            call.load.begin(call.host)
            try:
                if call.options.schema is not None:
                    stream.finish(call.runnable.invoke(call.messages, call.config))
                else:
                    for chunk in call.runnable.stream(call.messages, call.config):
                        stream.add(chunk)
            except call.failures as exc:
                delay = _failed(state, config, call, stream, records, exc, services)
                if delay is None:
                    return {"attempts": records}
                time.sleep(delay)
                continue
            finally:
                call.load.end(call.host)
            return _succeeded(state, config, call, stream, records, services, report=report)

    async def ainvoke(
        state: State, config: RunnableConfig, runtime: Runtime[Context]
    ) -> dict[str, Any]:
        services = provide(context_of(runtime))
        call = _start(state, config, services)
        if not isinstance(call, _Call):
            return call
        records: list[AttemptRecord] = []
        while True:
            stream = _Stream(call)
            call.load.begin(call.host)
            try:
                if call.options.schema is not None:
                    stream.finish(await call.runnable.ainvoke(call.messages, call.config))
                else:
                    async for chunk in call.runnable.astream(call.messages, call.config):
                        stream.add(chunk)
            except call.failures as exc:
                delay = _failed(state, config, call, stream, records, exc, services)
                if delay is None:
                    return {"attempts": records}
                await asyncio.sleep(delay)
                continue
            finally:
                call.load.end(call.host)
            return _succeeded(state, config, call, stream, records, services, report=report)

    return invoke, ainvoke


def last_attempt_failed(state: State) -> bool:
    attempts = state.get("attempts") or []
    return bool(attempts) and not attempts[-1]["ok"]
