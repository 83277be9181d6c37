"""The report cache's warmer: the dashboard's and the default program report's figures
are computed as the app starts and again after every import, so a request finds
them (no computation of its own), and they are the import's figures; both backends."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from matchdesk.context import Matchdesk
from matchdesk.results.cache import ResultsCache
from matchdesk.results.dashboard import attention, roster_counts
from matchdesk.results.report_tables import program_page
from matchdesk.results.staging import today_in
from matchdesk.results.warming import Warmer, default_period
from matchdesk.web.app import create_app
from tests.results.samples import add_creators, csv, load

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _held_clock(hold_clock: Callable[[datetime], datetime]) -> None:
    """The program's clock held (Wednesday 9 December 2026, 12:10 in Los Angeles) for the
    warmer's thread and the test's "requests" alike: on the real clock the warmer could
    warm the figures of one program day and the test ask, just after midnight in Los
    Angeles, for the next one's (a computation of the request's own: a miss)."""
    hold_clock(datetime(2026, 12, 9, 20, 10, tzinfo=UTC))


class CountingCache(ResultsCache):
    """A cache that counts its misses (each one a computation)."""

    def __init__(self) -> None:
        super().__init__()
        self.misses = 0

    def get(
        self,
        session: Session,
        key: tuple[Hashable, ...],
        compute: Callable[[], T],
        versions: tuple[str, str] | None = None,
    ) -> T:
        def counted() -> T:
            self.misses += 1
            return compute()

        return super().get(session, key, counted, versions)


def _requests(md: Matchdesk, cache: ResultsCache) -> int:
    """What the dashboard and the default program report read; the period's diamonds."""
    today = today_in(md.program.program.timezone)
    with md.transaction() as session:
        roster_counts(session, cache)
        attention(session, md.program, cache)
        page = program_page(session, md.program, *default_period(today), today, cache)
    totals = {row["figure"]: row["now"] for row in page.figures["totals"]}
    return int(totals["diamonds"])


def _session_row(md: Matchdesk, handle: str, days_ago: int, diamonds: int) -> str:
    day = today_in(md.program.program.timezone) - timedelta(days=days_ago)
    return f"{handle},{day.isoformat()}T12:00:00Z,60,{diamonds},,,,"


def test_requests_find_the_figures_warm_before_and_after_an_import(md: Matchdesk) -> None:
    add_creators(md, "luna", "sol")
    load(md, csv(_session_row(md, "luna", 3, 100)))
    cache = CountingCache()
    warmer = Warmer(md, cache, every=0.01)
    warmer.start()
    try:
        assert warmer.wait(1)
        warmed = cache.misses
        assert warmed > 0
        assert _requests(md, cache) == 100
        assert cache.misses == warmed  # nothing computed by the "requests"

        load(md, csv(_session_row(md, "sol", 2, 700)))
        assert warmer.wait(2)
        again = cache.misses
        assert again > warmed
        assert _requests(md, cache) == 800  # the import's figures, not the old ones
        assert cache.misses == again
    finally:
        warmer.stop()
    assert warmer._thread is not None
    assert not warmer._thread.is_alive()


def test_the_served_app_warms_its_cache_as_it_starts(md: Matchdesk) -> None:
    add_creators(md, "luna")
    load(md, csv(_session_row(md, "luna", 1, 50)))
    cold = create_app(md)
    with TestClient(cold):
        assert len(cold.state.results_cache) == 0  # tests and the CLI: no warmer
    app = create_app(md, warm_reports=True)
    with TestClient(app):
        assert app.state.results_warmer.wait(1)
        assert len(app.state.results_cache) > 0
    assert not app.state.results_warmer._thread.is_alive()
