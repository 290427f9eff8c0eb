"""`RaggedRouter`: the routing graph as a LangChain chat model, for existing chains.

    chain = prompt | RaggedRouter(persona="developer") | StrOutputParser()

Each call routes the conversation (task, complexity, persona, hardware), calls the chosen
model through the graph, falls back along its chain on failure, and returns the answer with
the decision in ``response_metadata["routing"]``. ``bind_tools`` and
``with_structured_output`` pass through to the chosen model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast
from uuid import UUID

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    BaseCallbackHandler,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, ensure_config
from langchain_core.utils.uuid import uuid7
from langgraph.types import StreamMode
from pydantic import ConfigDict, Field, PrivateAttr

from ragged_graph.config import EnsembleMode, RouterConfig, resolve_config
from ragged_graph.errors import InvalidRequestError, UnknownPersonaError
from ragged_graph.registry.cards import Capability, Tier
from ragged_graph.routing.decision import RoutingDecision
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Context, InputState, RoutingGraph, Services, build_graph
from ragged_graph.routing_graph.convert import options_from
from ragged_graph.routing_graph.nodes.invoke import CALL_OPTIONS_KEY, CallOptions
from ragged_graph.routing_graph.nodes.select import REQUIRED_CAPABILITIES_KEY
from ragged_graph.routing_graph.report import REQUEST_ID_KEY, SESSION_ID_KEYS
from ragged_graph.telemetry.tracing import redacting_config

if TYPE_CHECKING:
    from ragged_graph.telemetry.feedback import Feedback
    from ragged_graph.telemetry.store import HistoryStore

__all__ = ["RaggedRouter"]


class RaggedRouter(BaseChatModel):
    """A chat model that routes every call to the right model, with fallbacks.

    Args:
        config: a :class:`RouterConfig`, a path to a config file, or None for
            ``$RAGGED_GRAPH_CONFIG`` or the defaults.
        persona: the persona to route for.
        model: always use this model (routing still supplies the fallbacks).
        tier: force this tier.
        local_only: only use models on the user's own hardware.
        cost_limit: the most one call may cost, in US dollars.
        latency_limit: the longest one call should take, in seconds (by prediction).
        optimise: ``quality`` (default), ``latency`` or ``cost``.
        user_id: who is asking, for A/B experiments assigned by user (a call's
            ``user_id`` in its configurable or metadata wins).
        ensemble: ``auto`` (the config's ``ensemble:`` policy decides), ``always`` (a
            rewriter, the routed model and a verifier answer together) or ``never``.
    """

    # Unknown settings are refused rather than silently dropped.
    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    config: RouterConfig | str | None = Field(default=None, exclude=True)
    """The router configuration, or a path to one."""
    persona: str | None = None
    """The persona to route for."""
    model: str | None = None
    """An explicit model, instead of the routed choice."""
    tier: Tier | None = None
    """A forced tier."""
    local_only: bool = False
    """Only use models on the user's own hardware."""
    cost_limit: float | None = Field(default=None, ge=0)
    """The most one call may cost, in US dollars (the config's budgets apply too)."""
    latency_limit: float | None = Field(default=None, gt=0)
    """The longest one call should take, in seconds, by prediction."""
    optimise: Literal["quality", "latency", "cost"] = "quality"
    """What routing favours: the best fit, the fastest answer or the cheapest."""
    user_id: str | None = None
    """Who is asking, for A/B experiments assigned by user."""
    ensemble: EnsembleMode = "auto"
    """Answer with the ensemble: as the config's policy says, ``always`` or ``never``."""
    temperature: float | None = Field(default=None, ge=0)
    """Sampling temperature passed to the chosen model."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Most tokens the chosen model may generate (Ollama's ``num_predict``)."""
    stop: list[str] | None = None
    """Default stop sequences."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds to wait for a model's answer; the config's ``request_timeout_s`` otherwise."""
    max_retries: int | None = Field(default=None, ge=0, le=10)
    """Retries of a transient failure on the same model before falling back."""
    streaming: bool = False
    """Stream from the chosen model even on ``invoke`` (callbacks then see each token)."""

    _router: Router = PrivateAttr()
    _services: Services = PrivateAttr()
    _graph: RoutingGraph = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        config = resolve_config(self.config)
        if self.timeout is not None:
            config = config.with_request_timeout(self.timeout)
        router = Router(config)
        services = Services.for_router(router)
        self._router = router
        self._services = services
        self._graph = build_graph(lambda _context: services)

    @property
    def _llm_type(self) -> str:
        return "ragged-router"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"persona": self.persona, "model": self.model, "tier": self.tier}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "ragged_graph"
        # The model answering is chosen per call; traces name it in the routing metadata.
        params["ls_model_name"] = kwargs.get("model") or self.model or "ragged-router"
        if self.temperature is not None:
            params["ls_temperature"] = self.temperature
        if self.max_tokens is not None:
            params["ls_max_tokens"] = self.max_tokens
        return params

    @property
    def router(self) -> Router:
        """The router making the decisions (its registry, classifier and analyser)."""
        return self._router

    @property
    def services(self) -> Services:
        """The router, chat-model factory, health tracker and routing-history writer in use."""
        return self._services

    def close(self) -> None:
        """Write the routing-history records still queued (they are also written at exit)."""
        self._services.close()

    def feedback(
        self,
        run_id: object,
        *,
        score: float | None = None,
        thumbs: bool | None = None,
        correction: str | None = None,
        comment: str | None = None,
    ) -> Feedback:
        """Rate an answer: ``run_id`` is the answer itself (the ``AIMessage``) or the id of the
        call that produced it (``config={"run_id": ...}``); ``score`` from 0 to 1, ``thumbs``
        up or down, and/or the answer it should have given.

        Stored with the routing record (the history must be on) and sent to LangSmith as
        feedback on that run when tracing is on. Invalid feedback raises
        :class:`~ragged_graph.errors.InvalidRequestError`.
        """
        from ragged_graph.telemetry.feedback import make_feedback, submit_feedback

        if isinstance(run_id, BaseMessage):
            run_id = _run_id_of(run_id)
        rating = make_feedback(
            run_id, score=score, thumbs=thumbs, correction=correction, comment=comment
        )
        history = self._services.history
        if history is not None:
            history.flush()  # the rated request's record may still be queued
        submit_feedback(
            history.url if history is not None else None, rating, then=self._maybe_retrain
        )
        return rating

    def _maybe_retrain(self, store: HistoryStore) -> None:
        """Retrain the learned router in the background once enough new feedback came in."""
        settings = self._router.config.learning
        if not settings.retrain_after:
            return
        from ragged_graph.learning.history_training import (
            feedback_since_training,
            learning_embeddings,
            retrain_in_background,
        )

        if feedback_since_training(store, settings) >= settings.retrain_after:
            retrain_in_background(store.url, settings, learning_embeddings(self._router.config))

    @property
    def graph(self) -> RoutingGraph:
        """The compiled routing graph this chat model runs."""
        return self._graph

    # The roadmap's conveniences.

    def set_persona(self, name: str | None) -> None:
        """Route later calls for persona ``name`` (None: no persona)."""
        if name is not None:
            self._router.check_persona(name)
        self.persona = name

    def query(self, text: str) -> AIMessage:
        """Route and answer ``text``; the decision is in ``response_metadata["routing"]``."""
        result = self.invoke(text)
        assert isinstance(result, AIMessage)
        return result

    def route(self, text: str, *, documents: Sequence[str] | None = None) -> RoutingDecision:
        """The decision for ``text`` without calling any model."""
        return self._router.decide(text, documents=documents, options=options_from(self._context()))

    # Tools and structured output pass through to the chosen model.

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        tool_kwargs = dict(kwargs)
        if tool_choice is not None:
            tool_kwargs["tool_choice"] = tool_choice
        return self.bind(ragged_tools=list(tools), ragged_tool_kwargs=tool_kwargs)

    def with_structured_output(
        self,
        schema: Mapping[str, Any] | type,
        *,
        include_raw: bool = False,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        bound = self.bind(
            ragged_schema=schema,
            ragged_schema_kwargs=kwargs,
            ls_structured_output_format={
                "kwargs": {"method": kwargs.get("method")},
                "schema": schema,
            },
        )

        def unpack(message: AIMessage) -> Any:
            parsed = message.additional_kwargs.get("parsed")
            if include_raw:
                error = message.additional_kwargs.get("parsing_error")
                return {"raw": message, "parsed": parsed, "parsing_error": error}
            if parsed is None and message.additional_kwargs.get("parsing_error"):
                raise message.additional_kwargs["parsing_error"]
            return parsed

        return bound | RunnableLambda(unpack, name="structured_output")

    # Running the graph.

    def _context(self, overrides: Mapping[str, Any] | None = None) -> Context:
        """Per-call settings: this router's, with a call's own (kwargs or configurable) on top."""
        given = overrides or {}
        tier = given.get("tier", self.tier)
        return Context(
            persona=given.get("persona", self.persona),
            model=given.get("model") or self.model,
            tier=tier.value if isinstance(tier, Tier) else tier,
            local_only=bool(given.get("local_only", self.local_only)),
            cost_limit=given.get("cost_limit", self.cost_limit),
            latency_limit=given.get("latency_limit", self.latency_limit),
            optimise=given.get("optimise", self.optimise),
            ensemble=given.get("ensemble", self.ensemble),
        )

    # Per-call settings through `configurable`, e.g.
    # `router.invoke(text, config={"configurable": {"persona": "researcher"}})`.

    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        settings = _configured(config)
        config = self._traced(config, {**settings, **kwargs}, input)
        return super().invoke(input, config, stop=stop, **settings, **kwargs)

    async def ainvoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        settings = _configured(config)
        config = self._traced(config, {**settings, **kwargs}, input)
        return await super().ainvoke(input, config, stop=stop, **settings, **kwargs)

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        settings = _configured(config)
        config, parent = _streaming(self._traced(config, {**settings, **kwargs}, input))
        kwargs[_STREAM_PARENT] = parent
        yield from super().stream(input, config, stop=stop, **settings, **kwargs)

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        settings = _configured(config)
        config, parent = _streaming(self._traced(config, {**settings, **kwargs}, input))
        kwargs[_STREAM_PARENT] = parent
        async for chunk in super().astream(input, config, stop=stop, **settings, **kwargs):
            yield chunk

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        kwargs.pop(_STREAM_PARENT, None)  # plumbing, not a parameter to trace
        return super()._get_invocation_params(stop=stop, **kwargs)

    def _traced(
        self,
        config: RunnableConfig | None,
        overrides: Mapping[str, Any],
        input: LanguageModelInput | None = None,
    ) -> RunnableConfig | None:
        """``config``, with LangSmith tracers that redact when this call's text must not be
        traced (``tracing.redact_queries``); swapped in before this call's own run starts.
        With ``local_only``, a call whose text the privacy guard keeps local (personal data,
        secrets) is redacted too."""
        settings = self._router.config.tracing
        if settings.redact_queries == "never":
            return config
        if settings.redact_queries == "local_only":
            context = self._context(overrides)
            if not (
                context.local_only
                or self._local_only_persona(context.persona)
                or self._holds_private_data(input)
            ):
                return config
        return redacting_config(config)

    def _holds_private_data(self, input: LanguageModelInput | None) -> bool:
        """Whether the privacy guard would keep this input local (scanned only while a cloud
        model could be chosen)."""
        if input is None:
            return False
        try:
            messages = self._convert_input(input).to_messages()
        except Exception:  # a bad input fails the call itself, with its own error
            return False
        return self._router.screen(str(message.text) for message in messages).found

    def _local_only_persona(self, name: str | None) -> bool:
        if name is None:
            return False
        try:
            return self._router.personas.get(name).local_only
        except UnknownPersonaError:
            # The call fails on it in the graph; its trace keeps the text out meanwhile.
            return True

    def _run(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None,
        kwargs: dict[str, Any],
        *,
        stream_to_writer: bool,
    ) -> tuple[InputState, RunnableConfig, Context]:
        """The graph input, config and context for one call."""
        unexpected = set(kwargs) - _CALL_KWARGS
        if unexpected:
            raise InvalidRequestError(
                f"RaggedRouter does not take {', '.join(sorted(unexpected))} per call; set "
                "temperature/max_tokens on the router, bind tools with bind_tools() and "
                "schemas with with_structured_output()"
            )
        model_options: dict[str, Any] = {}
        if self.temperature is not None:
            model_options["temperature"] = self.temperature
        if self.max_tokens is not None:
            model_options["num_predict"] = self.max_tokens
        options = CallOptions(
            tools=kwargs.get("ragged_tools") or (),
            tool_kwargs=kwargs.get("ragged_tool_kwargs") or {},
            schema=kwargs.get("ragged_schema"),
            schema_kwargs=kwargs.get("ragged_schema_kwargs") or {},
            stop=stop if stop is not None else self.stop,
            model_options=model_options,
            max_retries=self.max_retries,
            relay=True,
            stream_to_writer=stream_to_writer,
        )
        required: set[Capability] = set()
        if options.tools:
            required.add(Capability.TOOLS)
        if any(_has_image(message) for message in messages):
            required.add(Capability.VISION)
        configurable: dict[str, Any] = {CALL_OPTIONS_KEY: options}
        if required:
            configurable[REQUIRED_CAPABILITIES_KEY] = sorted(required)
        # Streaming calls get no run manager from LangChain; `stream()` said which run it is.
        parent: _ParentRun | None = (
            run_manager if run_manager is not None else kwargs.get(_STREAM_PARENT)
        )
        if parent is not None:
            # The routing history files the request under this run's id, and its session.
            configurable[REQUEST_ID_KEY] = str(parent.run_id)
            metadata = parent.inheritable_metadata
            session = next((metadata[key] for key in SESSION_ID_KEYS if metadata.get(key)), None)
            if session is not None:
                configurable["session_id"] = str(session)
            # LangChain copies a call's configurable into its metadata, so both arrive here.
            user = metadata.get("user_id") or self.user_id
        else:
            user = self.user_id
        if user is not None:
            configurable["user_id"] = str(user)
        config: RunnableConfig = {
            "callbacks": _child_callbacks(parent),
            "configurable": configurable,
        }
        graph_input = InputState(messages=_as_messages(messages))
        return graph_input, config, self._context(kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        graph_input, config, context = self._run(
            messages, stop, run_manager, kwargs, stream_to_writer=False
        )
        state = self._graph.invoke(graph_input, config, context=context)
        return _chat_result(state)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        graph_input, config, context = self._run(
            messages, stop, run_manager, kwargs, stream_to_writer=False
        )
        state = await self._graph.ainvoke(graph_input, config, context=context)
        return _chat_result(state)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        graph_input, config, context = self._run(
            messages, stop, run_manager, kwargs, stream_to_writer=True
        )
        final: Mapping[str, Any] = {}
        relayed = False
        for part in self._graph.stream(
            graph_input,
            config,
            context=context,
            stream_mode=_RELAY_MODES,
            version="v2",
        ):
            if part["type"] == "values":
                final = part["data"]
                continue
            if part["type"] != "custom":
                continue
            chunk = _generation_chunk(part["data"]["token"])
            relayed = True
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        yield _final_chunk(final, relayed=relayed)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        graph_input, config, context = self._run(
            messages, stop, run_manager, kwargs, stream_to_writer=True
        )
        final: Mapping[str, Any] = {}
        relayed = False
        async for part in self._graph.astream(
            graph_input,
            config,
            context=context,
            stream_mode=_RELAY_MODES,
            version="v2",
        ):
            if part["type"] == "values":
                final = part["data"]
                continue
            if part["type"] != "custom":
                continue
            chunk = _generation_chunk(part["data"]["token"])
            relayed = True
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        yield _final_chunk(final, relayed=relayed)


_RELAY_MODES: list[StreamMode] = ["custom", "values"]


def _as_messages(messages: Sequence[BaseMessage]) -> list[AnyMessage]:
    return cast(list[AnyMessage], list(messages))


class _ParentRun(Protocol):
    """What the graph needs of the chat-model run it runs in: a run manager has it."""

    @property
    def run_id(self) -> UUID: ...
    @property
    def inheritable_handlers(self) -> list[BaseCallbackHandler]: ...
    @property
    def inheritable_tags(self) -> list[str]: ...
    @property
    def inheritable_metadata(self) -> dict[str, Any]: ...


@dataclass(frozen=True, kw_only=True)
class _StreamParent:
    """A streaming call's run, settled before it starts (see :func:`_streaming`)."""

    run_id: UUID
    inheritable_handlers: list[BaseCallbackHandler]
    inheritable_tags: list[str]
    inheritable_metadata: dict[str, Any]


_STREAM_PARENT = "ragged_stream_parent"
"""Call keyword carrying the :class:`_StreamParent` from ``stream()`` to ``_stream()``."""


def _streaming(config: RunnableConfig | None) -> tuple[RunnableConfig, _StreamParent]:
    """The config for a streaming call, and its run as the graph's parent.

    LangChain hands ``_stream``/``_astream`` no run manager, so the graph could not run as
    the call's child (its trace and callbacks would stand apart). The call's run id and
    callbacks are settled here instead: LangChain starts the run with them, and the graph
    inherits them.
    """
    config = ensure_config(config)
    run_id = config.get("run_id") or uuid7()
    manager = CallbackManager.configure(
        inheritable_callbacks=config.get("callbacks"),
        inheritable_tags=config.get("tags"),
        inheritable_metadata=config.get("metadata"),
    )
    parent = _StreamParent(
        run_id=run_id,
        inheritable_handlers=list(manager.inheritable_handlers),
        inheritable_tags=list(manager.inheritable_tags),
        inheritable_metadata=dict(manager.inheritable_metadata),
    )
    return {**config, "run_id": run_id, "callbacks": manager}, parent


def _child_callbacks(run_manager: _ParentRun | None) -> CallbackManager | None:
    """Callbacks that make the graph run a child of this chat-model run (for tracing)."""
    if run_manager is None:
        return None
    manager = CallbackManager(
        handlers=[],
        parent_run_id=run_manager.run_id,
    )
    manager.set_handlers(run_manager.inheritable_handlers)
    manager.add_tags(run_manager.inheritable_tags)
    manager.add_metadata(run_manager.inheritable_metadata)
    return manager


_SETTINGS = (
    "persona",
    "model",
    "tier",
    "local_only",
    "cost_limit",
    "latency_limit",
    "optimise",
    "ensemble",
)
_CALL_KWARGS = frozenset(
    {
        "ragged_tools",
        "ragged_tool_kwargs",
        "ragged_schema",
        "ragged_schema_kwargs",
        _STREAM_PARENT,
        *_SETTINGS,
    }
)


def _configured(config: RunnableConfig | None) -> dict[str, Any]:
    """The routing settings a call's ``configurable`` holds."""
    configurable = (config or {}).get("configurable") or {}
    return {key: configurable[key] for key in _SETTINGS if key in configurable}


_IMAGE_BLOCKS = frozenset({"image", "image_url"})


def _has_image(message: BaseMessage) -> bool:
    content = message.content
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") in _IMAGE_BLOCKS for block in content
    )


def _run_id_of(answer: BaseMessage) -> str:
    # LangChain names a chat model's answer after its run: ``lc_run--<run id>[-<index>]``.
    ident = (answer.id or "").removeprefix("lc_run--")
    return ident[:36] if len(ident) > 36 and ident[36] == "-" else ident


def _chat_result(state: Mapping[str, Any]) -> ChatResult:
    # Without an id LangChain names the answer after this call's run (``lc_run--<run id>``),
    # as it does a streamed one: the id `feedback()` takes, not the inner model call's.
    answer = state["messages"][-1].model_copy(update={"id": None})
    return ChatResult(generations=[ChatGeneration(message=answer)])


def _generation_chunk(token: BaseMessage) -> ChatGenerationChunk:
    message = token if isinstance(token, AIMessageChunk) else AIMessageChunk(content=token.content)
    # The stream's one id and its one "last" marker belong to the final chunk this model sends.
    return ChatGenerationChunk(
        message=message.model_copy(update={"id": None, "chunk_position": None})
    )


def _final_chunk(final: Mapping[str, Any], *, relayed: bool) -> ChatGenerationChunk:
    """The last chunk: the routing decision, and the whole answer if nothing was streamed."""
    messages = final.get("messages") or []
    answer = messages[-1] if messages else None
    routing = answer.response_metadata.get("routing") if answer is not None else None
    if answer is None or relayed:
        message = AIMessageChunk(content="", response_metadata={"routing": routing})
    else:
        # Structured output is not streamed: hand over the complete message at once.
        message = AIMessageChunk(
            content=answer.content,
            additional_kwargs=answer.additional_kwargs,
            response_metadata=answer.response_metadata,
            tool_calls=getattr(answer, "tool_calls", []),
            usage_metadata=getattr(answer, "usage_metadata", None),
        )
    return ChatGenerationChunk(message=message.model_copy(update={"chunk_position": "last"}))
