"""Hand-made rosters, matches and results files for the results tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from matchdesk.context import Matchdesk
from matchdesk.results.models import LedgerDay, LiveSession
from matchdesk.results.service import ResultsReport, import_results
from matchdesk.results.staging import aware
from matchdesk.roster.availability import parse_availability
from matchdesk.roster.models import Creator
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records
from matchdesk.rounds.models import Match, Round

HEADER = "handle,started_at,duration_minutes,diamonds,viewers_peak,new_followers,match_id,outcome"
TODAY = date(2026, 3, 20)  # the frozen "today" (program time) of revenue_30d


def add_creators(md: Matchdesk, *handles: str, revenue: int = 500) -> dict[str, int]:
    """Creators on the roster (UTC, English, one weekly window); their ids by handle."""
    records = [
        CreatorRecord(
            handle=h,
            timezone="UTC",
            languages=("en",),
            followers=1000,
            revenue_30d=revenue,
            availability=parse_availability("Mon 19:00-23:00"),
        )
        for h in handles
    ]
    with md.transaction() as session:
        save_records(session, md.program, records)
        return dict(session.execute(select(Creator.handle, Creator.id)).all())


def add_match(
    md: Matchdesk, a: str, b: str, starts: datetime, *, minutes: int = 60, status: str = "published"
) -> int:
    """A match of `a` and `b` in a weekly round of its own; its id."""
    with md.transaction() as session:
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
        round_ = Round(
            cadence="weekly",
            period_start=starts - timedelta(days=1),
            period_end=starts + timedelta(days=6),
            status="draft" if status == "proposed" else "published",
        )
        session.add(round_)
        session.flush()
        match = Match(
            round_id=round_.id,
            creator_a_id=ids[a],
            creator_b_id=ids[b],
            starts_at=starts,
            ends_at=starts + timedelta(minutes=minutes),
            score=1.0,
            status=status,
        )
        session.add(match)
        session.flush()
        return match.id


def csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *rows)) + "\n").encode()


def load(md: Matchdesk, data: bytes, **kwargs: Any) -> ResultsReport:
    kwargs.setdefault("today", TODAY)
    with md.transaction() as session:
        return import_results(session, md.program, data, "results.csv", actor="test", **kwargs)


def ledger(md: Matchdesk, handle: str) -> list[tuple[str, int, int, int, int, int]]:
    """(day, sessions, live_minutes, diamonds, new_followers, match_sessions), by day."""
    with md.transaction() as session:
        rows = session.execute(
            select(
                LedgerDay.day,
                LedgerDay.sessions,
                LedgerDay.live_minutes,
                LedgerDay.diamonds,
                LedgerDay.new_followers,
                LedgerDay.match_sessions,
            )
            .join(Creator, Creator.id == LedgerDay.creator_id)
            .where(Creator.handle == handle)
            .order_by(LedgerDay.day)
        ).all()
    return [
        (d.isoformat(), int(s), int(m), int(dm), int(f), int(ms)) for d, s, m, dm, f, ms in rows
    ]


def sessions(md: Matchdesk) -> list[tuple[str, str, int, int, int | None, str | None]]:
    """(handle, started_at UTC, minutes, diamonds, match_id, outcome), by handle and start."""
    with md.transaction() as session:
        rows = session.execute(
            select(
                Creator.handle,
                LiveSession.started_at,
                LiveSession.duration_minutes,
                LiveSession.diamonds,
                LiveSession.match_id,
                LiveSession.outcome,
            )
            .join(Creator, Creator.id == LiveSession.creator_id)
            .order_by(Creator.handle, LiveSession.started_at)
        ).all()
    return [(h, aware(s).strftime("%Y-%m-%dT%H:%MZ"), m, d, mid, o) for h, s, m, d, mid, o in rows]


def count(md: Matchdesk, model: Any) -> int:
    with md.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def creator_figures(md: Matchdesk, handle: str) -> tuple[int, str, str | None]:
    """(revenue_30d, revenue_source, tier)."""
    with md.transaction() as session:
        row = session.execute(
            select(Creator.revenue_30d, Creator.revenue_source, Creator.tier).where(
                Creator.handle == handle
            )
        ).one()
    return int(row[0]), row[1], row[2]
