"""Small hand-made rosters whose rounds have one right answer, and helpers to read a
round back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.availability import parse_availability
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records
from matchdesk.rounds.board import Edit
from matchdesk.rounds.models import Round
from matchdesk.rounds.pool import Pool, load_pool, pool_creator_ids
from matchdesk.rounds.service import build_round, round_document
from tests.mail.conftest import smtp_server, smtp_settings  # noqa: F401 (fixtures)

# The week of Monday 30 November 2026 in the default program's zone (Los Angeles, UTC-8):
# 2026-11-30T08:00Z to 2026-12-07T08:00Z.
WEEK = date(2026, 11, 30)
NEXT_WEEK = date(2026, 12, 7)
WEEK_START = datetime(2026, 11, 30, 8, tzinfo=UTC)
NEXT_WEEK_START = datetime(2026, 12, 7, 8, tzinfo=UTC)
NEXT_WEEK_END = datetime(2026, 12, 14, 8, tzinfo=UTC)
MANAGER = Edit("operator:manager@example.com", None)


def creator(
    handle: str,
    *,
    languages: str = "en",
    timezone: str = "UTC",
    availability: str = "Mon 18:00-19:00",
    followers: int = 10_000,
    revenue: int = 1_000,
    email: str | None = None,
    blocked: tuple[str, ...] = (),
    status: str = "active",
) -> CreatorRecord:
    """A creator of tier B (weekly) unless `revenue` says otherwise; e-mail
    `{handle}@example.com` unless given ("" for none)."""
    return CreatorRecord(
        handle=handle,
        timezone=timezone,
        languages=tuple(languages.split(";")),
        followers=followers,
        revenue_30d=revenue,
        availability=parse_availability(availability),
        display_name=handle.title(),
        email=f"{handle}@example.com" if email is None else email,
        blocked=blocked,
        status=status,
    )


def add_roster(md: Matchdesk, *records: CreatorRecord) -> None:
    with md.transaction() as session:
        save_records(session, md.program, list(records))


def build(md: Matchdesk, start: date = WEEK, **kwargs: Any) -> int:
    with md.transaction() as session:
        round_ = build_round(
            session, md.program, cadence="weekly", start=start, actor="test", **kwargs
        )
        session.flush()
        return round_.id


def document(md: Matchdesk, round_id: int) -> dict[str, Any]:
    with md.transaction() as session:
        return round_document(session, round_id)


def pairs(md: Matchdesk, round_id: int) -> list[tuple[str, str, str, str]]:
    """(creator_a, creator_b, starts_at, status) of every match, in document order."""
    return [
        (m["creator_a"], m["creator_b"], m["starts_at"], m["status"])
        for m in document(md, round_id)["matches"]
    ]


def byes(md: Matchdesk, round_id: int) -> dict[str, str]:
    return {b["creator"]: b["reason"] for b in document(md, round_id)["byes"]}


def version(md: Matchdesk, round_id: int) -> int:
    with md.transaction() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        return round_.version


def outbox(md: Matchdesk) -> list[tuple[str, str, str]]:
    """(kind, recipient, idempotency key) of every message, in order."""
    with md.transaction() as session:
        return [
            (m.kind, m.recipient, m.idempotency_key)
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def weekly_pool(md: Matchdesk, start: datetime = NEXT_WEEK_START) -> Pool:
    """The weekly pool (tiers A and B) for the week starting `start`, from the database."""
    with md.transaction() as session:
        return load_pool(
            session,
            md.program,
            cadence="weekly",
            creator_ids=pool_creator_ids(session, ["A", "B"]),
            period_start=start,
            period_end=start + timedelta(days=7),
        )


def fairness_credit(pool: Pool) -> dict[str, int]:
    """The engine's fairness input per handle."""
    table = pool.problem.creators
    return dict(zip(table.ids.tolist(), table.recent_byes.tolist(), strict=True))
