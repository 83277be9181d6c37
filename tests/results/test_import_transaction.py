"""The results import runs in the caller's transaction (SPEC section 4 at scale: on
PostgreSQL the staging COPY too): what the caller wrote before it in that transaction is
seen by it, and a rollback of that transaction takes back every write of the import
(sessions, ledger, rollups, creator figures, the completed match); both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.results.cache import results_version
from matchdesk.results.models import CreatorResults, LedgerDay, LiveSession, TierDay, WeekMask
from matchdesk.results.service import import_results
from matchdesk.roster.availability import parse_availability
from matchdesk.roster.models import Creator
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records
from matchdesk.rounds.models import Match
from tests.results.samples import TODAY, add_creators, add_match, count, creator_figures, csv

STARTS = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)


def _both_sides(match_id: int) -> bytes:
    return csv(
        f"luna,2026-03-10T20:00:00Z,60,1200,,,{match_id},win",
        f"zed_99,2026-03-10T20:00:00Z,60,800,,,{match_id},loss",
    )


def _status(md: Matchdesk, match_id: int) -> str:
    with md.transaction() as session:
        return session.scalars(select(Match.status).where(Match.id == match_id)).one()


class Abort(Exception):
    pass


def _import_then_abort(md: Matchdesk, match_id: int) -> None:
    with md.transaction() as session:
        report = import_results(
            session, md.program, _both_sides(match_id), "r.csv", actor="test", today=TODAY
        )
        assert (report.created, report.linked, report.matches_completed) == (2, 2, 1)
        # Inside the transaction the import's writes are there ...
        status = session.scalars(select(Match.status).where(Match.id == match_id)).one()
        assert status == "completed"
        assert session.scalar(select(LedgerDay.diamonds).limit(1)) is not None
        raise Abort


def test_a_rolled_back_transaction_takes_the_whole_import_back(md: Matchdesk) -> None:
    add_creators(md, "luna", "zed_99")
    match_id = add_match(md, "luna", "zed_99", STARTS)
    with md.transaction() as session:
        version = results_version(session)
    with pytest.raises(Abort):
        _import_then_abort(md, match_id)
    # ... and after its rollback none of them is.
    tables = (LiveSession, LedgerDay, TierDay, WeekMask, CreatorResults)
    assert [count(md, table) for table in tables] == [0, 0, 0, 0, 0]
    assert _status(md, match_id) == "published"
    assert creator_figures(md, "luna") == (500, "roster", "B")
    with md.transaction() as session:
        assert results_version(session) == version
    # The same file imports afterwards as if for the first time.
    with md.transaction() as session:
        again = import_results(
            session, md.program, _both_sides(match_id), "r.csv", actor="test", today=TODAY
        )
    assert (again.created, again.updated, again.unchanged, again.matches_completed) == (2, 0, 0, 1)
    assert _status(md, match_id) == "completed"


def test_the_import_sees_what_its_transaction_wrote_before_it(md: Matchdesk) -> None:
    record = CreatorRecord(
        handle="nova",
        timezone="UTC",
        languages=("en",),
        followers=10,
        revenue_30d=0,
        availability=parse_availability("Mon 19:00-23:00"),
    )
    with md.transaction() as session:
        save_records(session, md.program, [record])  # not committed yet
        report = import_results(
            session,
            md.program,
            csv("nova,2026-03-10T20:00:00Z,45,300,,,,"),
            "r.csv",
            actor="test",
            today=TODAY,
        )
        assert report.created == 1
    with md.transaction() as session:
        assert session.execute(
            select(Creator.handle, LiveSession.diamonds).join(
                Creator, Creator.id == LiveSession.creator_id
            )
        ).all() == [("nova", 300)]
    assert creator_figures(md, "nova") == (300, "results", "B")
