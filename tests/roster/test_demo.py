"""The demo generator: reproducible, valid by the roster's own rules, realistic in shape."""

from collections import Counter

import numpy as np

from matchdesk.roster.demo import generate_creators
from matchdesk.roster.importing import validate_table
from matchdesk.roster.records import COLUMNS
from matchdesk.roster.service import record_row
from matchdesk.roster.tables import read_table, write_csv


def test_same_seed_same_roster_other_seed_other_roster() -> None:
    assert generate_creators(200, seed=4) == generate_creators(200, seed=4)
    assert generate_creators(200, seed=4) != generate_creators(200, seed=5)
    assert generate_creators(0) == []


def test_every_generated_creator_passes_the_importer() -> None:
    records = generate_creators(2000, seed=9)
    data = write_csv(list(COLUMNS), [record_row(r) for r in records])
    result = validate_table(read_table(data, "demo.csv"))
    assert result.problems == []
    assert result.records == [
        r.__class__(**{**r.__dict__, "availability": tuple(sorted(set(r.availability)))})
        for r in records
    ]


def test_shape_of_a_large_demo_roster() -> None:
    records = generate_creators(20_000, seed=1)
    assert len({r.handle for r in records}) == 20_000
    revenue = np.array([r.revenue_30d for r in records])
    followers = np.array([r.followers for r in records])
    # Heavy tails: the top 1% of creators hold a large share of all revenue.
    top = np.sort(revenue)[-200:].sum() / revenue.sum()
    assert 0.2 < top < 0.6
    assert np.median(followers) < followers.mean() / 2
    # Tiers of the default program: a few S, a quarter A, the rest B.
    assert 0.02 < (revenue >= 200_000).mean() < 0.05
    assert 0.2 < (revenue >= 20_000).mean() < 0.32
    regions = Counter(r.region for r in records)
    assert regions.most_common(1)[0][0] == "US"
    assert {"IN", "BR", "ID", "SA", "DE", "PH"} <= set(regions)
    # Languages follow regions; availability is mostly evening; some block lists.
    assert all(r.languages[0] == "pt" for r in records if r.region == "BR")
    starts = [w.start for r in records for w in r.availability]
    assert np.mean([17 * 60 <= s <= 23 * 60 for s in starts]) > 0.6
    assert 0.02 < np.mean([bool(r.blocked) for r in records]) < 0.06
    assert 0.01 < np.mean([not r.availability for r in records]) < 0.05
