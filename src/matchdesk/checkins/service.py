"""Check-ins: planning a week, and what the outside calls to read them (SPEC section 6).
The caller owns the transaction.

Planning reads the due list, each due creator's slots with their manager (`find_slots`:
both people's hours on their own clocks, the creator's matches with the buffer, the
notice), and hands them all to `planner.plan_week`, which books the week at once. The
bookings are inserted in the caller's transaction; the partial unique index on (manager,
start) refuses a slot someone booked meanwhile, so the plan as a whole fails rather than
double-booking (plan again).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.accounts.models import Operator
from matchdesk.checkins.due import Week, aware, due_list
from matchdesk.checkins.hours import creator_hours, manager_hours, slot_rules
from matchdesk.checkins.messages import invitations, start_reminders
from matchdesk.checkins.models import Checkin
from matchdesk.checkins.planner import ManagerWeek, Request, plan_week
from matchdesk.checkins.slots import Interval, find_slots
from matchdesk.config import Settings
from matchdesk.errors import Conflict
from matchdesk.program import Program
from matchdesk.roster.models import Creator
from matchdesk.rounds.invitations import Sender
from matchdesk.rounds.models import Match

# Matches that hold a creator's time: published (waiting for answers) and confirmed.
BUSY_MATCHES = ("published", "confirmed")
NO_MANAGER = "no manager (set the roster's manager column)"
NO_HOURS = "the manager has no working hours (Settings or `matchdesk users hours`)"
UNKNOWN_MANAGER = "the manager is not an operator"

ProgressFn = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Booked:
    checkin_id: int
    handle: str
    manager: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class ScheduleResult:
    """What planning a week did: the check-ins booked, the creators left out with the
    reason, and which solver each manager's week came from."""

    booked: list[Booked] = field(default_factory=list)
    unbooked: list[tuple[str, str, str]] = field(default_factory=list)  # handle, manager, why
    solver: dict[str, str] = field(default_factory=dict)


def new_uid(domain: str) -> str:
    """A check-in's calendar UID: random, so it says nothing about the program."""
    return f"checkin-{uuid.uuid4().hex}@{domain}"


def creator_busy(
    session: Session, creator_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """The creators' published and confirmed matches overlapping [start, end)."""
    wanted = set(creator_ids)
    busy: dict[int, list[Interval]] = defaultdict(list)
    rows = session.execute(
        select(Match.creator_a_id, Match.creator_b_id, Match.starts_at, Match.ends_at).where(
            Match.status.in_(BUSY_MATCHES), Match.starts_at < end, Match.ends_at > start
        )
    )
    for a, b, starts, ends in rows:
        for creator in (a, b):
            if creator in wanted:
                busy[creator].append((aware(starts), aware(ends)))
    return busy


def manager_booked(
    session: Session, manager_ids: list[int], start: datetime, end: datetime
) -> dict[int, list[datetime]]:
    """The starts of the managers' booked check-ins in [start, end)."""
    out: dict[int, list[datetime]] = defaultdict(list)
    for manager_id, starts in session.execute(
        select(Checkin.manager_id, Checkin.starts_at).where(
            Checkin.status == "booked",
            Checkin.manager_id.in_(manager_ids),
            Checkin.starts_at >= start,
            Checkin.starts_at < end,
        )
    ):
        out[manager_id].append(aware(starts))
    return out


def schedule_week(
    session: Session,
    program: Program,
    week: Week,
    *,
    now: datetime,
    actor: str,
    settings: Settings,
    manager: str | None = None,
    progress: ProgressFn | None = None,
) -> ScheduleResult:
    """Book every due check-in of `week` (of one manager's creators, if given) that the
    hard rules allow; the rest are listed with the reason. Raises Conflict when a slot
    was booked by someone else while the plan was made."""
    rules = slot_rules(program)
    domain = Sender.from_settings().domain
    result = ScheduleResult()
    entries = [e for e in due_list(session, program, week, manager=manager) if e.state != "booked"]
    emails = sorted({e.manager for e in entries if e.manager})
    operators = {
        o.email: o for o in session.scalars(select(Operator).where(Operator.email.in_(emails)))
    }
    creators = {
        c.id: c
        for c in session.scalars(
            select(Creator).where(Creator.id.in_([e.creator_id for e in entries]))
        )
    }
    # A day either side: the buffer and the per-day cap reach over the week's edges.
    wide_start, wide_end = week.start - timedelta(days=1), week.end + timedelta(days=1)
    busy = creator_busy(session, list(creators), wide_start, wide_end)
    booked = manager_booked(session, [o.id for o in operators.values()], wide_start, wide_end)
    not_before = now + timedelta(hours=program.checkins.min_notice_hours)
    requests: list[Request] = []
    weeks: dict[int, ManagerWeek] = {}
    handles: dict[int, str] = {}
    for done, entry in enumerate(entries):
        if progress and done % 500 == 0:
            progress(done, len(entries), "Finding free slots")
        handles[entry.creator_id] = entry.handle
        operator = operators.get(entry.manager)
        if not entry.manager or operator is None:
            why = NO_MANAGER if not entry.manager else UNKNOWN_MANAGER
            result.unbooked.append((entry.handle, entry.manager, why))
            continue
        hours = manager_hours(operator)
        if hours is None:
            result.unbooked.append((entry.handle, entry.manager, NO_HOURS))
            continue
        if operator.id not in weeks:
            weeks[operator.id] = ManagerWeek(hours.timezone, tuple(sorted(booked[operator.id])))
        search = find_slots(
            hours,
            creator_hours(creators[entry.creator_id], program),
            week.start,
            week.end,
            rules,
            busy=busy.get(entry.creator_id, ()),
            not_before=not_before,
        )
        requests.append(Request(entry.creator_id, operator.id, search.slots, search.reason))
    if progress:
        progress(len(entries), len(entries), "Planning the week")
    plan = plan_week(requests, weeks, rules)
    email_of = {o.id: o.email for o in operators.values()}
    rows = []
    for request in requests:
        creator_id, manager_id = cast(int, request.creator), cast(int, request.manager)
        handle, email = handles[creator_id], email_of[manager_id]
        slot = plan.booked.get(creator_id)
        if slot is None:
            result.unbooked.append((handle, email, plan.unbooked[request.creator]))
            continue
        rows.append(
            Checkin(
                creator_id=creator_id,
                manager_id=manager_id,
                starts_at=slot.start,
                ends_at=slot.end,
                status="booked",
                uid=new_uid(domain),
                booked_by=actor,
                booked_at=now,
                updated_at=now,
            )
        )
    # The last progress report: past here the transaction writes, and on SQLite the
    # job's progress (another transaction) would wait for this one's lock.
    if progress:
        progress(len(entries), len(entries), "Booking and queueing invitations")
    for row in rows:
        start_reminders(row, now)
    session.add_all(rows)
    try:
        # No savepoint: on SQLite its RELEASE would commit. The caller rolls back.
        session.flush()
    except IntegrityError:
        raise Conflict(
            "another booking took one of the planned slots while the week was planned; "
            "plan the week again"
        ) from None
    for row in rows:
        result.booked.append(
            Booked(
                row.id,
                handles[row.creator_id],
                email_of[row.manager_id],
                row.starts_at,
                row.ends_at,
            )
        )
    invitations(session, settings, program, rows)
    result.solver = {email_of[cast(int, m)]: s for m, s in plan.solver.items()}
    result.unbooked.sort(key=lambda u: (u[1], u[0]))
    result.booked.sort(key=lambda b: (b.manager, b.starts_at))
    audit.record(
        session,
        actor,
        "checkins.schedule",
        "week",
        week.monday.isoformat(),
        after={"booked": len(result.booked), "unbooked": len(result.unbooked)},
    )
    return result


@dataclass(frozen=True)
class CheckinRow:
    checkin_id: int
    creator: str
    manager: str
    starts_at: datetime
    ends_at: datetime
    status: str


def list_checkins(
    session: Session,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    manager: str | None = None,
    creator_id: int | None = None,
) -> list[CheckinRow]:
    """Check-ins starting in [start, end), by start."""
    query = (
        select(
            Checkin.id,
            Creator.handle,
            Operator.email,
            Checkin.starts_at,
            Checkin.ends_at,
            Checkin.status,
        )
        .join(Creator, Creator.id == Checkin.creator_id)
        .join(Operator, Operator.id == Checkin.manager_id)
        .order_by(Checkin.starts_at, Checkin.id)
    )
    if start is not None:
        query = query.where(Checkin.starts_at >= start)
    if end is not None:
        query = query.where(Checkin.starts_at < end)
    if manager is not None:
        query = query.where(Operator.email == manager.strip().lower())
    if creator_id is not None:
        query = query.where(Checkin.creator_id == creator_id)
    return [
        CheckinRow(i, h, m, aware(s), aware(e), st) for i, h, m, s, e, st in session.execute(query)
    ]
