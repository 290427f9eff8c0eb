"""The ensemble subgraph: a rewriter, the routed primary and a verifier answer together.

See :mod:`ragged_graph.routing.ensemble` for when it runs and how each role's model is chosen,
and :mod:`~ragged_graph.routing_graph.ensemble.builder` for its wiring.
"""

from ragged_graph.routing_graph.ensemble.builder import (
    ENSEMBLE_NODE_NAMES,
    EnsembleGraph,
    build_ensemble,
    make_ensemble_node,
)
from ragged_graph.routing_graph.ensemble.calls import RoleCaller, RoleResult
from ragged_graph.routing_graph.ensemble.state import EnsembleState
from ragged_graph.routing_graph.ensemble.verdict import Verdict, VerdictName

__all__ = [
    "ENSEMBLE_NODE_NAMES",
    "EnsembleGraph",
    "EnsembleState",
    "RoleCaller",
    "RoleResult",
    "Verdict",
    "VerdictName",
    "build_ensemble",
    "make_ensemble_node",
]
