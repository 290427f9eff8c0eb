"""`route()`: the decision for a query, in one call, with no model server needed."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from ragged_graph.config import RouterConfig, resolve_config
from ragged_graph.errors import InvalidRequestError
from ragged_graph.routing.decision import RoutingDecision
from ragged_graph.routing.router import RouteOptions, Router

__all__ = ["get_router", "route"]

_CACHE_SIZE = 8
_NO_OPTIONS = RouteOptions()
"""The options of a call without a persona (immutable, so built once)."""
_routers: OrderedDict[Any, tuple[Any, Router]] = OrderedDict()
_lock = threading.Lock()


def _cache_key(config: RouterConfig | str | os.PathLike[str] | None) -> Any:
    if config is None:
        return ("env", os.environ.get("RAGGED_GRAPH_CONFIG"), os.environ.get("OLLAMA_HOST"))
    if isinstance(config, RouterConfig):
        return ("object", id(config))
    return ("path", os.fspath(config))


def get_router(config: RouterConfig | str | os.PathLike[str] | None = None) -> Router:
    """The shared :class:`Router` for ``config`` (a config, a path, or None for the default).

    Routers hold a registry with a cached view of the Ollama hosts, so they are built once per
    configuration and reused.
    """
    key = _cache_key(config)
    with _lock:
        cached = _routers.get(key)
        if cached is not None:
            _routers.move_to_end(key)
            return cached[1]
    router = Router(resolve_config(config))
    with _lock:
        # The config object is kept with its router so that its id is not reused meanwhile.
        _routers[key] = (config, router)
        while len(_routers) > _CACHE_SIZE:
            _routers.popitem(last=False)[1][1].close()
    return router


def route(
    query: str,
    *,
    persona: str | None = None,
    context: Mapping[str, Any] | None = None,
    config: RouterConfig | str | os.PathLike[str] | None = None,
) -> RoutingDecision:
    """Decide which model should answer ``query``, without calling any model.

    Args:
        query: the user's query.
        persona: the persona to decide for.
        context: retrieved context, as ``{"documents": [...]}`` (strings or LangChain
            ``Document``\\ s).
        config: a :class:`RouterConfig`, a path to a config file, or None for
            ``$RAGGED_GRAPH_CONFIG`` or the defaults.
    """
    if not isinstance(query, str):
        raise InvalidRequestError(f"query must be a string, got {type(query).__name__}")
    if not query.strip():
        raise InvalidRequestError("query is empty: pass the text the user asked")
    documents: Sequence[Any] | None = None
    if context is not None:
        unknown = set(context) - {"documents"}
        if unknown:
            raise InvalidRequestError(
                f"unknown context keys {sorted(unknown)}; pass {{'documents': [...]}}"
            )
        documents = context.get("documents")
    options = RouteOptions(persona=persona) if persona is not None else _NO_OPTIONS
    return get_router(config).decide(query, documents=documents, options=options)
