"""The matching engine: pure optimisation core (no database, web or CLI).

Build a `MatchProblem` (creators, period, rules, weights, pair constraints), call
`solve`, read the `Result`; `explain` says why a creator got its partner or its bye.
"""

from matchdesk.matching.explain import Alternative, Explanation, explain
from matchdesk.matching.problem import Creator, CreatorTable, MatchProblem, Rules, Weights
from matchdesk.matching.result import Bye, ByeReason, Match, Result, ScoreParts, Statistics, Status
from matchdesk.matching.solver import SolverOptions, solve

__all__ = [
    "Alternative",
    "Bye",
    "ByeReason",
    "Creator",
    "CreatorTable",
    "Explanation",
    "Match",
    "MatchProblem",
    "Result",
    "Rules",
    "ScoreParts",
    "SolverOptions",
    "Statistics",
    "Status",
    "Weights",
    "explain",
    "solve",
]
