"""The routing graph's nodes, one module each. Each ``make_*`` takes a services provider."""

from ragged_graph.routing_graph.nodes.classify import make_classify
from ragged_graph.routing_graph.nodes.complexity import make_complexity
from ragged_graph.routing_graph.nodes.fallback import make_fallback
from ragged_graph.routing_graph.nodes.invoke import make_invoke
from ragged_graph.routing_graph.nodes.persona import make_persona
from ragged_graph.routing_graph.nodes.select import make_select

__all__ = [
    "make_classify",
    "make_complexity",
    "make_fallback",
    "make_invoke",
    "make_persona",
    "make_select",
]
