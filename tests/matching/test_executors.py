"""Shards and executors: every executor and thread count gives the local result."""

from __future__ import annotations

import numpy as np
import pytest
from matching_checks import assert_valid, signature

from matchdesk.matching import Result, Rules, SolverOptions, candidates, parallel, scoring, solve
from matchdesk.matching.prepare import prepare
from matchdesk.matching.scoring import feasible
from matchdesk.matching.shards import shard_labels
from matchdesk.matching.synthetic import synthetic_problem

# Window candidates, relaxation and improvement moves on a small pool.
BIG_PATH = SolverOptions(exhaustive_limit=0, exact_limit=3, relaxation_limit=40, window=2, keep=3)


def full_signature(result: Result) -> tuple[object, ...]:
    stats = result.statistics
    return (
        signature(result),
        stats.weight,
        stats.upper_bound,
        stats.candidate_edges,
        stats.checked_pairs,
        stats.components,
        stats.exact_components,
        result.candidates.a.tobytes(),
        result.candidates.b.tobytes(),
    )


def test_no_feasible_pair_crosses_a_shard() -> None:
    problem = synthetic_problem(300, 5, rules=Rules(max_tier_distance=0), blocks=30)
    prep = prepare(problem)
    count, label = shard_labels(prep)
    assert count > 3  # tiers x language groups
    i, j = np.triu_indices(prep.n, 1)
    ok = feasible(prep, i, j)
    assert np.all(label[i[ok]] == label[j[ok]])
    assert np.all(label[i[ok]] >= 0)


@pytest.mark.parametrize("options", [None, BIG_PATH])
def test_process_executor_gives_the_local_result(options: SolverOptions | None) -> None:
    problem = synthetic_problem(400, 7, dst_week=True, blocks=40, recent=40)
    local = solve(problem, seed=3, options=options)
    assert local.statistics.matched > 0
    assert_valid(problem, local)
    forked = solve(problem, seed=3, options=options, executor="process")
    assert full_signature(forked) == full_signature(local)


def test_thread_count_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small slices and sorts, so that two threads really split the work of this pool.
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 64)
    monkeypatch.setattr(scoring, "PAIR_CHUNK", 500)
    monkeypatch.setattr(candidates, "SPLIT_FROM", 0)  # two walks of the windows
    problem = synthetic_problem(500, 11, blocks=20)
    one = solve(problem, options=SolverOptions(exhaustive_limit=0, threads=1))
    two = solve(problem, options=SolverOptions(exhaustive_limit=0, threads=2))
    assert full_signature(one) == full_signature(two)


def test_unknown_executor_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^executor: "):
        SolverOptions(executor="cluster")  # type: ignore[arg-type]


def test_ray_executor_gives_the_local_result() -> None:
    # Ray is in the dev extra (and the `scale` extra), so this runs in `make test`; a
    # local Ray instance with 2 CPUs takes a few seconds to start.
    import ray

    problem = synthetic_problem(400, 7, dst_week=True, blocks=40, recent=40)
    local = solve(problem, seed=1, options=BIG_PATH)
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = solve(problem, seed=1, options=BIG_PATH, executor="ray")
    finally:
        if started:
            ray.shutdown()
    assert full_signature(remote) == full_signature(local)


def test_grouped_is_the_stable_argsort_of_the_labels() -> None:
    from matchdesk.matching.shards import _grouped

    labels = np.random.default_rng(5).integers(-1, 7, 5000)
    order, bounds = _grouped(labels, 7)
    reference = np.argsort(labels, kind="stable")
    assert order.tolist() == reference.tolist()
    expected = np.searchsorted(labels[reference], np.arange(-1, 8))[1:]
    assert bounds.tolist() == expected.tolist()
