"""The cardinality families (synthetic.narrow_pool) and their reference maximum."""

from __future__ import annotations

import rustworkx as rx

from matchdesk.matching import MatchProblem
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.prepare import prepare
from matchdesk.matching.synthetic import narrow_pool

__all__ = ["maximum_cardinality", "narrow_pool"]


def maximum_cardinality(problem: MatchProblem) -> int:
    """Creators matched by a maximum-cardinality matching of the full feasible graph
    (rustworkx, unit weights), locked pairs included."""
    prep = prepare(problem)
    a, b, _ = full_graph(prep)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(prep.n))
    graph.add_edges_from_no_data(list(zip(a.tolist(), b.tolist(), strict=True)))
    pairs = rx.max_weight_matching(graph, max_cardinality=True)
    return 2 * (len(pairs) + len(problem.locked_pairs))
