"""The routing graph: LangGraph wiring around :mod:`ragged_graph.routing`."""

from ragged_graph.routing_graph.builder import RoutingGraph, build_graph
from ragged_graph.routing_graph.services import Services, ServicesProvider, default_services
from ragged_graph.routing_graph.state import AttemptRecord, Context, InputState, OutputState, State

__all__ = [
    "AttemptRecord",
    "Context",
    "InputState",
    "OutputState",
    "RoutingGraph",
    "Services",
    "ServicesProvider",
    "State",
    "build_graph",
    "default_services",
]
