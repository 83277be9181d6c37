"""Operators and creators for the check-in tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from matchdesk.accounts.models import Operator
from matchdesk.checkins.hours import set_working_hours
from matchdesk.context import Matchdesk
from matchdesk.roster.availability import parse_availability
from matchdesk.roster.models import Creator
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records

WEEKDAYS = "Mon 09:00-17:00; Tue 09:00-17:00; Wed 09:00-17:00; Thu 09:00-17:00; Fri 09:00-17:00"
# Monday 2026-03-02; the program's zone is America/Los_Angeles (the built-in program).
MONDAY = "2026-03-02"
JOINED = datetime(2026, 1, 5, 12, tzinfo=UTC)


def add_manager(
    md: Matchdesk, email: str, timezone: str = "America/Los_Angeles", hours: str = WEEKDAYS
) -> int:
    with md.transaction() as session:
        # No password: argon2 would cost 0.2 s an operator, and these never sign in.
        operator = Operator(email=email, password_hash="!", role="manager")
        session.add(operator)
        set_working_hours(operator, timezone, hours)
        session.flush()
        return operator.id


def add_creators(
    md: Matchdesk,
    handles: list[str],
    *,
    manager: str = "",
    timezone: str = "America/Los_Angeles",
    revenue: int = 30_000,
    checkin_hours: str = "",
    email: str = "",
) -> None:
    records = [
        CreatorRecord(
            handle=h,
            timezone=timezone,
            languages=("en",),
            followers=1000,
            revenue_30d=revenue,
            manager=manager,
            checkin_hours=parse_availability(checkin_hours),
            email=email or f"{h}@example.com",
        )
        for h in handles
    ]
    with md.transaction() as session:
        save_records(session, md.program, records)
        session.execute(
            update(Creator).where(Creator.handle.in_(handles)).values(created_at=JOINED)
        )


def operator_id(md: Matchdesk, email: str) -> int:
    with md.transaction() as session:
        return int(session.scalar(select(Operator.id).where(Operator.email == email)) or 0)
