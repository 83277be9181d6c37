"""A creator books, reschedules or cancels their own check-in (the portal), up to the
program's notice.

Two creators taking one slot at the same moment: the partial unique index on (manager,
start) over booked check-ins decides. The loser's INSERT (or UPDATE) fails with an
IntegrityError, turned here into `SlotTaken`; the caller rolls the transaction back
and shows `next_free` from a fresh one. (No savepoint: with the pysqlite driver a
SAVEPOINT outside an explicit BEGIN starts the transaction and its RELEASE commits it,
so the booking would be committed early.) A slot next to another (closer than duration +
buffer) is not the same key, so after writing, the booking takes the manager's row lock
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite has one writer at a time already) and
checks its neighbours and the day's count: whichever commits second sees the first, and
raises `SlotTaken` so that its caller rolls its row back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.accounts.models import Operator
from matchdesk.checkins.due import aware
from matchdesk.checkins.hours import creator_hours, manager_hours, slot_rules
from matchdesk.checkins.messages import invitations, start_reminders
from matchdesk.checkins.models import Checkin
from matchdesk.checkins.service import creator_busy, new_uid
from matchdesk.checkins.slots import Interval, Slot, find_slots, manager_day
from matchdesk.config import Settings
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.program import Program
from matchdesk.roster.models import Creator
from matchdesk.rounds.invitations import Sender

HORIZON = timedelta(days=14)  # how far ahead the portal offers slots
NEXT_SHOWN = 5


TAKEN = "Someone else just took that time. Here are the next free ones."


class SlotTaken(Conflict):
    """The slot was booked by someone else first (or is not free): roll back, then offer
    `next_free`."""

    code = "slot_taken"


@dataclass(frozen=True)
class CreatorCheckin:
    """What the portal shows: the creator's open check-in (if any), its manager, and
    whether it can still be changed (the notice)."""

    checkin: Checkin | None
    manager: Operator | None
    changeable: bool
    notice_hours: int


def _manager_of(session: Session, creator: Creator) -> Operator:
    operator = (
        session.scalar(select(Operator).where(Operator.email == creator.manager))
        if creator.manager
        else None
    )
    if operator is None or manager_hours(operator) is None:
        raise InvalidInput(
            "check-ins cannot be booked yet",
            ["your program manager has not set up check-in times yet; they will contact you"],
        )
    return operator


def open_checkin(session: Session, creator_id: int) -> Checkin | None:
    """The creator's booked check-in, if any."""
    return session.scalar(
        select(Checkin).where(Checkin.creator_id == creator_id, Checkin.status == "booked")
    )


def creator_checkin(
    session: Session, program: Program, creator: Creator, now: datetime
) -> CreatorCheckin:
    """The creator's open check-in and whether the notice still lets them change it."""
    checkin = open_checkin(session, creator.id)
    manager = (
        session.scalar(select(Operator).where(Operator.email == creator.manager))
        if creator.manager
        else None
    )
    notice = timedelta(hours=program.checkins.min_notice_hours)
    changeable = checkin is None or aware(checkin.starts_at) >= now + notice
    return CreatorCheckin(checkin, manager, changeable, program.checkins.min_notice_hours)


def free_slots(
    session: Session,
    program: Program,
    creator: Creator,
    now: datetime,
    *,
    horizon: timedelta = HORIZON,
) -> tuple[Slot, ...]:
    """The slots the creator may book with their manager from `now` + the notice to
    `now` + `horizon`: both people's hours, clear of the creator's matches and of the
    manager's other check-ins (the creator's own excepted, for a reschedule), days not
    full. Raises InvalidInput when the creator has no manager with working hours."""
    manager = _manager_of(session, creator)
    hours = manager_hours(manager)
    assert hours is not None
    rules = slot_rules(program)
    start, end = now, now + horizon
    around = (start - timedelta(days=1), end + timedelta(days=1))
    others = session.execute(
        select(Checkin.starts_at, Checkin.ends_at).where(
            Checkin.manager_id == manager.id,
            Checkin.status == "booked",
            Checkin.creator_id != creator.id,
            Checkin.starts_at >= around[0],
            Checkin.starts_at < around[1],
        )
    ).all()
    manager_busy: list[Interval] = [(aware(s), aware(e)) for s, e in others]
    busy = creator_busy(session, [creator.id], *around).get(creator.id, []) + manager_busy
    per_day: dict[object, int] = {}
    for s, _ in manager_busy:
        day = manager_day(s, hours.timezone)
        per_day[day] = per_day.get(day, 0) + 1
    search = find_slots(
        hours,
        creator_hours(creator, program),
        start,
        end,
        rules,
        busy=busy,
        not_before=now + timedelta(hours=program.checkins.min_notice_hours),
    )
    return tuple(
        s
        for s in search.slots
        if per_day.get(manager_day(s.start, hours.timezone), 0) < rules.max_per_day
    )


def _lock_manager(session: Session, manager_id: int) -> None:
    query = select(Operator.id).where(Operator.id == manager_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    session.execute(query)


def _neighbour_problem(
    session: Session, program: Program, checkin: Checkin, manager: Operator
) -> str:
    """Why the freshly written `checkin` clashes with the manager's other check-ins
    (committed ones included, under the manager's lock), or ""."""
    rules = slot_rules(program)
    start = aware(checkin.starts_at)
    close = session.scalar(
        select(func.count())
        .select_from(Checkin)
        .where(
            Checkin.manager_id == manager.id,
            Checkin.status == "booked",
            Checkin.id != checkin.id,
            Checkin.starts_at > start - rules.gap,
            Checkin.starts_at < start + rules.gap,
        )
    )
    if close:
        return "taken"
    hours = manager_hours(manager)
    assert hours is not None
    day = manager_day(start, hours.timezone)
    same_day = [
        s
        for (s,) in session.execute(
            select(Checkin.starts_at).where(
                Checkin.manager_id == manager.id,
                Checkin.status == "booked",
                Checkin.starts_at >= start - timedelta(days=1),
                Checkin.starts_at < start + timedelta(days=1),
            )
        )
        if manager_day(aware(s), hours.timezone) == day
    ]
    return "full" if len(same_day) > rules.max_per_day else ""


def next_free(
    session: Session, program: Program, creator: Creator, now: datetime
) -> tuple[Slot, ...]:
    """The nearest free slots, offered after a lost race."""
    return free_slots(session, program, creator, now)[:NEXT_SHOWN]


def book(
    session: Session,
    program: Program,
    creator: Creator,
    starts_at: datetime,
    *,
    now: datetime,
    actor: str,
    settings: Settings,
) -> Checkin:
    """Book (or move the creator's open check-in to) the slot starting at `starts_at`.
    Refuses a time that is not one of `free_slots` (InvalidInput), a change inside the
    notice (Conflict), and a slot someone else took first (SlotTaken: the transaction
    must then be rolled back, it may hold a refused write)."""
    manager = _manager_of(session, creator)
    starts_at = aware(starts_at)
    current = open_checkin(session, creator.id)
    notice = timedelta(hours=program.checkins.min_notice_hours)
    if current is not None and aware(current.starts_at) < now + notice:
        raise Conflict(
            f"your check-in is less than {program.checkins.min_notice_hours} hours away and "
            "can no longer be moved; ask your manager"
        )
    slots = {s.start: s for s in free_slots(session, program, creator, now)}
    if starts_at not in slots:
        raise SlotTaken(TAKEN)
    slot = slots[starts_at]
    before = None if current is None else {"starts_at": aware(current.starts_at).isoformat()}
    if current is None:
        checkin = Checkin(
            creator_id=creator.id,
            manager_id=manager.id,
            starts_at=slot.start,
            ends_at=slot.end,
            status="booked",
            uid=new_uid(Sender.from_settings().domain),
            booked_by=actor,
            booked_at=now,
            updated_at=now,
        )
        session.add(checkin)
    else:
        checkin = current
        checkin.starts_at, checkin.ends_at = slot.start, slot.end
        checkin.manager_id = manager.id
        checkin.version += 1
        checkin.sequence += 1
        checkin.booked_at, checkin.updated_at = now, now
    start_reminders(checkin, now)
    try:
        session.flush()
    except IntegrityError:
        raise SlotTaken(TAKEN) from None
    _lock_manager(session, manager.id)
    if _neighbour_problem(session, program, checkin, manager):
        raise SlotTaken(TAKEN)
    audit.record(
        session,
        actor,
        "checkin.reschedule" if before else "checkin.book",
        "checkin",
        checkin.id,
        before=before,
        after={"starts_at": slot.start.isoformat()},
    )
    invitations(session, settings, program, [checkin])
    return checkin


def cancel(
    session: Session,
    program: Program,
    creator: Creator,
    *,
    now: datetime,
    actor: str,
    settings: Settings,
    respect_notice: bool = True,
) -> Checkin:
    """Cancel the creator's open check-in (not inside the notice, for a creator)."""
    checkin = open_checkin(session, creator.id)
    if checkin is None:
        raise NotFound("there is no check-in to cancel")
    notice = timedelta(hours=program.checkins.min_notice_hours)
    if respect_notice and aware(checkin.starts_at) < now + notice:
        raise Conflict(
            f"your check-in is less than {program.checkins.min_notice_hours} hours away and "
            "can no longer be cancelled here; ask your manager"
        )
    checkin.status = "cancelled"
    checkin.version += 1
    checkin.sequence += 1
    checkin.closed_at = checkin.updated_at = now
    audit.record(
        session,
        actor,
        "checkin.cancel",
        "checkin",
        checkin.id,
        before={"status": "booked"},
        after={"status": "cancelled"},
    )
    invitations(session, settings, program, [checkin])
    return checkin
