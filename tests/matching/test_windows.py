"""The compiled strength-window walk (windows.py) against a plain reference.

The reference takes the same two bucket orders and, creator by creator in Python, lists
the window neighbours, checks them with scoring.feasible, scores them with
scoring.scores, keeps each creator's `keep` best (score descending, partner ascending)
and unites the lists. The engine's candidates must be exactly those edges with exactly
those scores, whatever the thread split of the walk.
"""

from __future__ import annotations

import numpy as np
import pytest

from matchdesk.matching import Rules
from matchdesk.matching import candidates as cand
from matchdesk.matching.parallel import using_threads
from matchdesk.matching.prepare import PoolArrays, prepare
from matchdesk.matching.scoring import feasible, scores
from matchdesk.matching.synthetic import synthetic_problem


def reference(
    prep: PoolArrays, window: int, keep: int
) -> tuple[dict[tuple[int, int], float], int, int]:
    """The kept edges with their scores, and the distinct pairs checked and feasible."""
    creator, bucket, n_buckets = cand.candidate_entries(prep)
    sorted_entry, sorted_bucket, _, _ = cand._window_orders(
        creator, bucket, n_buckets, window, (prep.log_revenue, prep.log_followers)
    )
    near: dict[int, set[int]] = {}
    size = creator.size
    for o in range(2):
        for p in range(size):
            for q in range(max(0, p - window), min(size, p + window + 1)):
                if q != p and sorted_bucket[o, q] == sorted_bucket[o, p]:
                    x, y = int(creator[sorted_entry[o, p]]), int(creator[sorted_entry[o, q]])
                    if x != y:
                        near.setdefault(x, set()).add(y)
    kept: dict[tuple[int, int], float] = {}
    pairs = {(min(x, y), max(x, y)) for x, ys in near.items() for y in ys}
    a = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)
    ok = feasible(prep, a[:, 0], a[:, 1])
    feasible_pairs = int(np.count_nonzero(ok))
    # A creator without a feasible window partner has its whole buckets checked too.
    lonely = set(creator.tolist()) - set(a[ok].ravel().tolist())
    members: dict[int, set[int]] = {}
    for x, k in zip(creator.tolist(), bucket.tolist(), strict=True):
        members.setdefault(k, set()).add(x)
    scanned = {
        (min(x, y), max(x, y))
        for k, group in members.items()
        for x in group & lonely
        for y in group - {x}
    }
    for x, ys in near.items():
        ys_arr = np.array(sorted(ys), dtype=np.int64)
        xs = np.full(ys_arr.size, x, dtype=np.int64)
        ok = feasible(prep, xs, ys_arr)
        ys_arr = ys_arr[ok]
        if ys_arr.size == 0:
            continue
        s = scores(prep, np.minimum(x, ys_arr), np.maximum(x, ys_arr))
        ranked = sorted(zip((-s).tolist(), ys_arr.tolist(), strict=True))[:keep]
        for neg, y in ranked:
            kept[(min(x, y), max(x, y))] = -neg
    return kept, len(pairs) + len(scanned), feasible_pairs


@pytest.mark.parametrize(
    ("n", "seed", "window", "keep", "rules"),
    [
        (300, 1, 2, 3, Rules()),
        (400, 2, 4, 6, Rules(max_tier_distance=1)),
        (500, 3, 8, 24, Rules(require_shared_language=False)),
        (350, 4, 1, 1, Rules(duration_minutes=15, slot_step_minutes=15)),
    ],
)
@pytest.mark.parametrize("split", [False, True])
def test_walk_keeps_exactly_the_reference_edges(
    n: int,
    seed: int,
    window: int,
    keep: int,
    rules: Rules,
    split: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prep = prepare(synthetic_problem(n, seed, rules=rules, blocks=40, recent=40))
    if split:  # the two orders' walks in two threads
        monkeypatch.setattr(cand, "SPLIT_FROM", 0)
    with using_threads(2 if split else 1):
        found = cand.window_candidates(prep, window, keep)
    expected, checked, feasible_pairs = reference(prep, window, keep)
    got = {
        (int(a), int(b)): float(s) for a, b, s in zip(found.a, found.b, found.score, strict=True)
    }
    assert np.all(found.a < found.b)
    assert len(got) == found.a.size  # each edge once
    lonely = set(range(prep.n)) - {v for e in expected for v in e}
    if not any(found.best_checked[v] > -np.inf for v in lonely):
        assert got == expected  # the same edges with the same scores, to the bit
        # Every pair of either order's windows checked once (the walks' pairs disjoint),
        # and the lonely creators' bucket pairs.
        assert (found.checked, found.feasible_checked) == (checked, feasible_pairs)
    else:  # creators with no window partner got their whole buckets: a superset
        assert set(expected) <= set(got)
        assert all(got[e] == expected[e] for e in expected)
    # Best first, ties by pair key.
    order = np.lexsort((found.a * prep.n + found.b, -found.score))
    assert np.all(np.abs(found.score - found.score[order]) <= cand.score_quantum(found.score))


def test_gathered_bits_are_the_permuted_columns() -> None:
    from matchdesk.matching.windows import gathered_bits

    rng = np.random.default_rng(4)
    starts = rng.integers(0, 1 << 62, (3, 500)).astype(np.uint64)
    evening = starts & rng.integers(0, 1 << 62, (3, 500)).astype(np.uint64)
    perm = rng.permutation(500)
    out = gathered_bits(starts, evening, perm)
    assert out.tolist() == np.concatenate([starts[:, perm], evening[:, perm]]).T.tolist()
