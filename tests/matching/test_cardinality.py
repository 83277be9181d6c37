"""Maximum cardinality on the full feasible graph, on every path of the engine."""

from __future__ import annotations

import numpy as np
import pytest
import rustworkx as rx
from families import maximum_cardinality, narrow_pool
from matching_checks import assert_valid

from matchdesk.matching import ByeReason, SolverOptions, solve
from matchdesk.matching.candidates import full_graph
from matchdesk.matching.cardinality import augment_on_edges
from matchdesk.matching.prepare import prepare
from matchdesk.matching.synthetic import CARDINALITY_FAMILIES

FAMILIES = CARDINALITY_FAMILIES


def test_the_reproducer_of_issue_14_matches_everyone() -> None:
    # 650 creators with one or two 5-minute windows on Monday and Tuesday 10:00-13:00
    # UTC, two languages, seed 13: the candidate solve alone matched 640 of them.
    problem = narrow_pool(650, 13)
    assert maximum_cardinality(problem) == 650
    result = solve(problem)
    assert_valid(problem, result)
    assert result.statistics.matched == 650
    assert result.byes == ()


@pytest.mark.parametrize("n", [650, 1200])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_families_reach_the_maximum_cardinality(family: str, n: int) -> None:
    problem = narrow_pool(n, 13, **FAMILIES[family])
    result = solve(problem)
    assert_valid(problem, result)
    assert result.statistics.matched == maximum_cardinality(problem)
    prep = prepare(problem)
    a, b, _ = full_graph(prep)
    matched = np.zeros(prep.n, dtype=np.bool_)
    matched[result.pair_a] = True
    matched[result.pair_b] = True
    for row, reason in zip(result.bye_rows.tolist(), result.bye_reasons, strict=True):
        partners = np.concatenate([b[a == row], a[b == row]])
        if reason is ByeReason.NO_FEASIBLE_PARTNER:
            assert partners.size == 0
        else:
            assert partners.size > 0
            assert np.all(matched[partners])  # lost to better pairs, or the odd one out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_big_component_path_reaches_the_maximum_cardinality(seed: int) -> None:
    # Components over exact_limit go through the relaxation or greedy and augmenting
    # paths; thin candidates miss pairs the maximum needs. The search restores both.
    problem = narrow_pool(900, seed, max_windows=1, languages=3)
    options = SolverOptions(
        exhaustive_limit=0, exact_limit=3, relaxation_limit=50, window=1, keep=1
    )
    result = solve(problem, options=options)
    assert_valid(problem, result)
    assert result.statistics.matched == maximum_cardinality(problem)


def test_the_search_finds_the_maximum_on_random_graphs() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        n = int(rng.integers(2, 80))
        i, j = np.triu_indices(n, 1)
        keep = rng.random(i.size) < rng.random() * 0.25
        a, b = i[keep], j[keep]
        mate = np.full(n, -1, dtype=np.int64)
        for k in rng.permutation(a.size).tolist():  # a random maximal matching to start
            if mate[a[k]] < 0 and mate[b[k]] < 0:
                mate[a[k]], mate[b[k]] = b[k], a[k]
        outcome = augment_on_edges(n, a, b, mate, np.ones(n, dtype=np.bool_), 1 << 60)
        graph = rx.PyGraph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from_no_data(list(zip(a.tolist(), b.tolist(), strict=True)))
        best = len(rx.max_weight_matching(graph, max_cardinality=True))
        edges = set(zip(a.tolist(), b.tolist(), strict=True))
        rows = np.flatnonzero(mate >= 0).tolist()
        assert outcome.complete
        assert all(mate[mate[v]] == v for v in rows)
        assert all((min(v, int(mate[v])), max(v, int(mate[v]))) in edges for v in rows)
        assert len(rows) // 2 == best


def test_the_search_without_a_partner_cache_finds_the_same_matching() -> None:
    # Past its cache limit the search generates a creator's partners again at every
    # scan (bounded memory); the matching it finds is the same.
    from matchdesk.matching.candidates import candidate_entries
    from matchdesk.matching.cardinality import augment_on_feasible, bucket_index

    prep = prepare(narrow_pool(900, 2, max_windows=1, languages=3))
    eligible = prep.active & prep.has_start
    creator, bucket, _ = candidate_entries(prep)
    buckets = bucket_index(creator, bucket, prep.n)
    mates = []
    for limit in (1 << 40, 0):
        mate = np.full(prep.n, -1, dtype=np.int64)
        outcome = augment_on_feasible(
            prep.n,
            mate,
            eligible,
            buckets,
            prep.starts,
            prep.tier,
            0,
            False,
            prep.forbidden,
            1 << 60,
            cache_limit=limit,
        )
        assert outcome.complete
        mates.append(mate)
    assert np.array_equal(mates[0], mates[1])
    a, b, _ = full_graph(prep)
    graph = rx.PyGraph()
    graph.add_nodes_from(range(prep.n))
    graph.add_edges_from_no_data(list(zip(a.tolist(), b.tolist(), strict=True)))
    assert np.count_nonzero(mates[0] >= 0) == 2 * len(
        rx.max_weight_matching(graph, max_cardinality=True)
    )


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_barrier_bound_proves_only_maximum_matchings(seed: int) -> None:
    # barrier_proves: a perfect matching is proved, and so is one whose only free
    # creator is an odd one out; a matching one pair short never is.
    from matchdesk.matching.candidates import candidate_entries
    from matchdesk.matching.cardinality import augment_on_feasible, barrier_proves, bucket_index

    prep = prepare(narrow_pool(700, seed))
    eligible = prep.active & prep.has_start
    creator, bucket, _ = candidate_entries(prep)
    buckets = bucket_index(creator, bucket, prep.n)
    args = (buckets, prep.starts, prep.tier, 0, False, prep.forbidden, 1 << 60)
    mate = np.full(prep.n, -1, dtype=np.int64)
    assert augment_on_feasible(prep.n, mate, eligible, *args).complete
    assert np.count_nonzero(eligible & (mate < 0)) == 0
    assert barrier_proves(prep.n, mate, eligible, *args)[0]
    x = int(np.flatnonzero(mate >= 0)[0])
    y = int(mate[x])
    short = mate.copy()
    short[[x, y]] = -1  # x and y are a feasible pair, both free
    assert not barrier_proves(prep.n, short, eligible, *args)[0]
    fewer = eligible.copy()
    fewer[x] = False  # y alone is free: the odd one out of an odd number of creators
    assert barrier_proves(prep.n, short, fewer, *args)[0]
    searched = short.copy()
    outcome = augment_on_feasible(prep.n, searched, fewer, *args)
    assert outcome.complete
    assert outcome.added == 0
    assert outcome.phases == 0
    assert searched.tolist() == short.tolist()
