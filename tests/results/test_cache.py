"""The report figures' cache: computed once per data version, never stale after an import,
a daily refresh or a roster change; both backends."""

from __future__ import annotations

from datetime import date

from matchdesk.context import Matchdesk
from matchdesk.results import daily
from matchdesk.results.cache import ResultsCache
from matchdesk.results.dashboard import attention
from matchdesk.results.report_tables import program_page
from matchdesk.roster.version import roster_changed
from tests.results.samples import add_creators, csv, load


def test_computed_once_per_version(md: Matchdesk) -> None:
    cache = ResultsCache()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with md.transaction() as session:
        assert [cache.get(session, ("k",), compute) for _ in range(3)] == [1, 1, 1]
        assert cache.get(session, ("other",), compute) == 2
        roster_changed(session)
        assert cache.get(session, ("k",), compute) == 3
    add_creators(md, "luna")
    load(md, csv("luna,2026-03-02T20:00:00Z,60,100,,,,"))
    with md.transaction() as session:
        assert cache.get(session, ("k",), compute) == 4
        daily.refresh(session, md.program, date(2026, 3, 20))
        assert cache.get(session, ("k",), compute) == 5


def test_pages_follow_each_import(md: Matchdesk) -> None:
    cache = ResultsCache()
    add_creators(md, "luna", "sol")
    first, last, today = date(2026, 3, 2), date(2026, 3, 8), date(2026, 3, 20)

    def figures() -> tuple[int, list[tuple[str, int]], int]:
        with md.transaction() as session:
            page = program_page(session, md.program, first, last, today, cache)
            todo = attention(session, md.program, cache)
        totals = {row["figure"]: row["now"] for row in page.figures["totals"]}
        movers = [(row["handle"], row["diamonds"]) for row in page.tables["movers"].rows]
        return int(totals["diamonds"]), movers, todo.dark

    load(md, csv("luna,2026-03-02T20:00:00Z,60,100,,,,"))
    # The dashboard's "today" is the real one: by then both creators have gone dark.
    assert figures() == (100, [("luna", 100)], 1)
    load(md, csv("sol,2026-03-03T20:00:00Z,60,700,,,,"))
    assert figures() == (800, [("sol", 700), ("luna", 100)], 2)
