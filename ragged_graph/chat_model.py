"""`RaggedRouter`: the routing graph as a LangChain chat model, for existing chains.

    chain = prompt | RaggedRouter(persona="developer") | StrOutputParser()

Each call routes the conversation (task, complexity, persona, hardware), calls the chosen
model through the graph, falls back along its chain on failure, and returns the answer with
the decision in ``response_metadata["routing"]``. ``bind_tools`` and
``with_structured_output`` pass through to the chosen model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, cast

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.types import StreamMode
from pydantic import ConfigDict, Field, PrivateAttr

from ragged_graph.config import RouterConfig, resolve_config
from ragged_graph.errors import InvalidRequestError
from ragged_graph.registry.cards import Capability, Tier
from ragged_graph.routing.decision import RoutingDecision
from ragged_graph.routing.router import Router
from ragged_graph.routing_graph import Context, InputState, RoutingGraph, Services, build_graph
from ragged_graph.routing_graph.convert import options_from
from ragged_graph.routing_graph.nodes.invoke import CALL_OPTIONS_KEY, CallOptions
from ragged_graph.routing_graph.nodes.select import REQUIRED_CAPABILITIES_KEY

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
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

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

    _router: Router = PrivateAttr()
    _graph: RoutingGraph = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        router = Router(resolve_config(self.config))
        services = Services.for_router(router)
        self._router = router
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
        params["ls_model_name"] = self.model or "ragged-router"
        return params

    @property
    def router(self) -> Router:
        """The router making the decisions (its registry, classifier and analyser)."""
        return self._router

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
        bound = self.bind(ragged_schema=schema, ragged_schema_kwargs=kwargs)

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

    def _context(self) -> Context:
        return Context(
            persona=self.persona,
            model=self.model,
            tier=self.tier.value if self.tier else None,
            local_only=self.local_only,
        )

    def _run_config(
        self,
        stop: list[str] | None,
        callbacks: Any,
        kwargs: dict[str, Any],
        *,
        stream_to_writer: bool,
    ) -> RunnableConfig:
        unexpected = set(kwargs) - _CALL_KWARGS
        if unexpected:
            raise InvalidRequestError(
                f"RaggedRouter does not take {', '.join(sorted(unexpected))}; "
                "bind tools with bind_tools() and schemas with with_structured_output()"
            )
        options = CallOptions(
            tools=kwargs.get("ragged_tools") or (),
            tool_kwargs=kwargs.get("ragged_tool_kwargs") or {},
            schema=kwargs.get("ragged_schema"),
            schema_kwargs=kwargs.get("ragged_schema_kwargs") or {},
            stop=stop,
            relay=True,
            stream_to_writer=stream_to_writer,
        )
        configurable: dict[str, Any] = {CALL_OPTIONS_KEY: options}
        if options.tools:
            configurable[REQUIRED_CAPABILITIES_KEY] = [Capability.TOOLS]
        return {"callbacks": callbacks, "configurable": configurable}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        config = self._run_config(
            stop, _child_callbacks(run_manager), kwargs, stream_to_writer=False
        )
        state = self._graph.invoke(
            InputState(messages=_as_messages(messages)), config, context=self._context()
        )
        return ChatResult(generations=[ChatGeneration(message=state["messages"][-1])])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        config = self._run_config(
            stop, _child_callbacks(run_manager), kwargs, stream_to_writer=False
        )
        state = await self._graph.ainvoke(
            InputState(messages=_as_messages(messages)), config, context=self._context()
        )
        return ChatResult(generations=[ChatGeneration(message=state["messages"][-1])])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        config = self._run_config(
            stop, _child_callbacks(run_manager), kwargs, stream_to_writer=True
        )
        final: Mapping[str, Any] = {}
        for part in self._graph.stream(
            InputState(messages=_as_messages(messages)),
            config,
            context=self._context(),
            stream_mode=_RELAY_MODES,
            version="v2",
        ):
            if part["type"] == "values":
                final = part["data"]
                continue
            if part["type"] != "custom":
                continue
            chunk = _generation_chunk(part["data"]["token"])
            if run_manager:
                run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        yield _routing_chunk(final)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        config = self._run_config(
            stop, _child_callbacks(run_manager), kwargs, stream_to_writer=True
        )
        final: Mapping[str, Any] = {}
        async for part in self._graph.astream(
            InputState(messages=_as_messages(messages)),
            config,
            context=self._context(),
            stream_mode=_RELAY_MODES,
            version="v2",
        ):
            if part["type"] == "values":
                final = part["data"]
                continue
            if part["type"] != "custom":
                continue
            chunk = _generation_chunk(part["data"]["token"])
            if run_manager:
                await run_manager.on_llm_new_token(chunk.text, chunk=chunk)
            yield chunk
        yield _routing_chunk(final)


_RELAY_MODES: list[StreamMode] = ["custom", "values"]


def _as_messages(messages: Sequence[BaseMessage]) -> list[AnyMessage]:
    return cast(list[AnyMessage], list(messages))


def _child_callbacks(
    run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None,
) -> CallbackManager | None:
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


_CALL_KWARGS = frozenset(
    {"ragged_tools", "ragged_tool_kwargs", "ragged_schema", "ragged_schema_kwargs"}
)


def _generation_chunk(token: BaseMessage) -> ChatGenerationChunk:
    message = token if isinstance(token, AIMessageChunk) else AIMessageChunk(content=token.content)
    # The routing decision is added once, to the last chunk: keep the model's own id-less.
    return ChatGenerationChunk(message=message.model_copy(update={"id": None}))


def _routing_chunk(final: Mapping[str, Any]) -> ChatGenerationChunk:
    messages = final.get("messages") or []
    routing = messages[-1].response_metadata.get("routing") if messages else None
    return ChatGenerationChunk(
        message=AIMessageChunk(content="", response_metadata={"routing": routing})
    )
