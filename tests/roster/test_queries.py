"""Roster search: the SQL path and the in-memory index give the same pages, exactly."""

from __future__ import annotations

import itertools

import pytest

from matchdesk.context import Matchdesk
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.editing import update_creator
from matchdesk.roster.index import RosterIndexCache
from matchdesk.roster.queries import SORT_KEYS, CreatorFilter, search_creators
from matchdesk.roster.service import save_records

TIERS = ("S", "A", "B")


@pytest.fixture
def roster(md: Matchdesk) -> list[str]:
    records = generate_creators(400, seed=21)
    with md.transaction() as session:
        save_records(session, md.program, records)
    return [r.handle for r in records]


def page_handles(
    md: Matchdesk, f: CreatorFilter, sort: str, page: int, index: RosterIndexCache | None
) -> tuple[int, list[str]]:
    with md.transaction() as session:
        result = search_creators(
            session, f, sort=sort, page=page, per_page=25, tier_order=TIERS, index=index
        )
        return result.total, [c.handle for c in result.creators]


FILTERS = [
    CreatorFilter(),
    CreatorFilter(tier="A"),
    CreatorFilter(tier="S", status="active"),
    CreatorFilter(region="US", language="es"),
    CreatorFilter(language="hi"),
    CreatorFilter(q="@KA"),
    CreatorFilter(q="lu", tier="B"),
    CreatorFilter(q="so"),  # display names such as "Sofía"
    CreatorFilter(q="LUNA"),  # inside handles (issue 13, defect 3)
    CreatorFilter(q="ía"),  # folded: matches "ia" in names and handles
    CreatorFilter(q="a.", status="active"),
    CreatorFilter(status="paused"),
    CreatorFilter(region="zz"),
    CreatorFilter(tier="nope"),
    CreatorFilter(language="xx", q="a"),
]


def test_index_and_sql_agree_on_every_filter_sort_and_page(
    md: Matchdesk, roster: list[str]
) -> None:
    index = RosterIndexCache(TIERS)
    for f, sort, page in itertools.product(FILTERS, SORT_KEYS, (1, 2)):
        assert page_handles(md, f, sort, page, index) == page_handles(md, f, sort, page, None), (
            f,
            sort,
            page,
        )


def test_exact_results_for_a_few_queries(md: Matchdesk, roster: list[str]) -> None:
    records = {r.handle: r for r in generate_creators(400, seed=21)}
    index = RosterIndexCache(TIERS)
    total, first = page_handles(md, CreatorFilter(region="BR"), "-followers", 1, index)
    expected = sorted(
        (r for r in records.values() if r.region == "BR"), key=lambda r: (-r.followers, r.handle)
    )
    assert total == len(expected)
    assert first == [r.handle for r in expected[:25]]
    total, tiers = page_handles(md, CreatorFilter(), "tier", 1, index)
    assert total == 400
    ranked = sorted(
        records.values(),
        key=lambda r: (
            TIERS.index(md.program.tier_for(r.revenue_30d, r.followers) or "B"),
            r.handle,
        ),
    )
    assert tiers == [r.handle for r in ranked[:25]]


def test_the_index_follows_every_change(md: Matchdesk, roster: list[str]) -> None:
    index = RosterIndexCache(TIERS)
    handle = sorted(roster)[0]
    assert page_handles(md, CreatorFilter(q=handle), "handle", 1, index) == (1, [handle])
    with md.transaction() as session:
        update_creator(
            session, md.program, handle, {"revenue_30d": "999999", "display_name": "Zed Q"}, "test"
        )
    assert page_handles(md, CreatorFilter(tier="S", q="zed q"), "handle", 1, index) == (1, [handle])


def test_search_finds_inside_handles_and_names_whatever_the_case_and_accents(
    md: Matchdesk,
) -> None:
    """Issue 13, defect 3: "luna" found none of @drona_luna6099, @lapa.luna6009."""
    from matchdesk.roster.editing import create_creator

    people = [
        ("drona_luna6099", "Drona"),
        ("lapa.luna6009", "Lapa"),
        ("sofia_x", "SOFÍA Pérez"),
        ("zed_99", "Łukasz Ødegaard"),
        ("mia", "Müller Straße"),
    ]
    with md.transaction() as session:
        for handle, name in people:
            fields = {
                "handle": handle,
                "display_name": name,
                "timezone": "UTC",
                "languages": "en",
                "followers": "10",
                "revenue_30d": "10",
                "availability": "",
            }
            create_creator(session, md.program, fields, "test")
    index = RosterIndexCache(TIERS)
    expected = {
        "luna": ["drona_luna6099", "lapa.luna6009"],
        "@LUNA60": ["drona_luna6099", "lapa.luna6009"],
        "Lúna": ["drona_luna6099", "lapa.luna6009"],
        "a.l": ["lapa.luna6009"],
        "sofia": ["sofia_x"],
        "perez": ["sofia_x"],
        "PÉREZ": ["sofia_x"],
        "lukasz": ["zed_99"],
        "odegaard": ["zed_99"],
        "strasse": ["mia"],
        "muller": ["mia"],
        "_": ["drona_luna6099", "sofia_x", "zed_99"],
        "%": [],
        "nobody": [],
    }
    for q, handles in expected.items():
        for path in (index, None):
            assert page_handles(md, CreatorFilter(q=q), "handle", 1, path) == (
                len(handles),
                handles,
            ), (q, path)
