"""A check-in's agenda and its close: the creator's figures since their last check-in
(from the ledger, through the results package's report functions), the action items
still open, the manager's notes and new action items; marking it held or no-show sends
the creator a summary through the outbox. The caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.accounts.models import Operator
from matchdesk.checkins.due import aware
from matchdesk.checkins.models import ActionItem, Checkin
from matchdesk.config import Settings
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.mail.outbox import NewMessage, enqueue_many
from matchdesk.program import Program
from matchdesk.results import analytics
from matchdesk.results.reports import creator_report
from matchdesk.roster.models import Creator
from matchdesk.rounds.invitations import local_time

FIRST_PERIOD_DAYS = 30  # the figures of a first check-in: the last 30 program days
CLOSED = ("held", "no_show")
MAX_NOTES = 20_000
MAX_ITEM = 500
MAX_OWNER = 100


@dataclass(frozen=True)
class Agenda:
    checkin: Checkin
    creator: Creator
    manager: Operator
    period: tuple[date, date]
    figures: dict[str, Any]
    matches: list[dict[str, Any]]
    reliability: dict[str, int]
    tier: dict[str, Any]
    open_items: list[ActionItem]  # from earlier check-ins, still open
    items: list[ActionItem]  # written at this one


def get_checkin(session: Session, checkin_id: int) -> Checkin:
    checkin = session.get(Checkin, checkin_id)
    if checkin is None:
        raise NotFound(f"no check-in {checkin_id}")
    return checkin


def _period(session: Session, program: Program, checkin: Checkin, today: date) -> tuple[date, date]:
    """From the day of the creator's last held check-in before this one (else 30 days
    back) to the day before this one, or today if that is earlier; program days."""
    zone = ZoneInfo(program.program.timezone)
    day = aware(checkin.starts_at).astimezone(zone).date()
    last = session.scalar(
        select(Checkin.starts_at)
        .where(
            Checkin.creator_id == checkin.creator_id,
            Checkin.status == "held",
            Checkin.starts_at < checkin.starts_at,
        )
        .order_by(Checkin.starts_at.desc())
        .limit(1)
    )
    end = min(day - timedelta(days=1), today)
    start = (
        aware(last).astimezone(zone).date() if last else end - timedelta(days=FIRST_PERIOD_DAYS - 1)
    )
    return min(start, end), end


def agenda(session: Session, program: Program, checkin_id: int, today: date) -> Agenda:
    """Everything the check-in page shows (see the module docstring)."""
    checkin = get_checkin(session, checkin_id)
    creator = session.get(Creator, checkin.creator_id)
    manager = session.get(Operator, checkin.manager_id)
    assert creator is not None
    assert manager is not None
    start, end = _period(session, program, checkin, today)
    items = list(
        session.scalars(
            select(ActionItem).where(ActionItem.creator_id == creator.id).order_by(ActionItem.id)
        )
    )
    return Agenda(
        checkin=checkin,
        creator=creator,
        manager=manager,
        period=(start, end),
        figures=creator_report(session, program, creator.handle, start, end),
        matches=analytics.creator_matches(session, program, creator.id, start, end),
        reliability=analytics.reliability(session, creator.id),
        tier=analytics.tier_distance(program, creator),
        open_items=[i for i in items if i.checkin_id != checkin.id and not i.done],
        items=[i for i in items if i.checkin_id == checkin.id],
    )


def _check_version(checkin: Checkin, version: int | None) -> None:
    if version is not None and version != checkin.version:
        raise Conflict(
            "this check-in was changed by someone else since you opened it; "
            "reload the page to see their change"
        )


def save_notes(
    session: Session, checkin_id: int, notes: str, *, version: int | None, actor: str
) -> Checkin:
    """Replace the manager's notes (optimistic: a stale version is refused)."""
    checkin = get_checkin(session, checkin_id)
    _check_version(checkin, version)
    if len(notes) > MAX_NOTES:
        raise InvalidInput("the notes are too long", [f"notes: at most {MAX_NOTES:,} characters"])
    before = checkin.notes
    checkin.notes = notes
    checkin.version += 1
    audit.record(
        session, actor, "checkin.notes", "checkin", checkin.id, {"notes": before}, {"notes": notes}
    )
    return checkin


def add_action_item(
    session: Session,
    checkin_id: int,
    *,
    text: str,
    owner: str,
    due_on: str,
    actor: str,
) -> ActionItem:
    """An action item at this check-in; InvalidInput naming each bad field."""
    checkin = get_checkin(session, checkin_id)
    problems = []
    text, owner = text.strip(), owner.strip()
    if not text:
        problems.append("text: say what is to be done")
    elif len(text) > MAX_ITEM:
        problems.append(f"text: at most {MAX_ITEM} characters")
    if len(owner) > MAX_OWNER:
        problems.append(f"owner: at most {MAX_OWNER} characters")
    due: date | None = None
    if due_on.strip():
        try:
            due = date.fromisoformat(due_on.strip())
        except ValueError:
            problems.append(f"due: {due_on.strip()[:20]!r} is not a date (YYYY-MM-DD)")
    if problems:
        raise InvalidInput("the action item is not valid", problems)
    item = ActionItem(
        checkin_id=checkin.id, creator_id=checkin.creator_id, text=text, owner=owner, due_on=due
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        actor,
        "checkin.action_item",
        "checkin",
        checkin.id,
        after={"item": item.id, "text": text},
    )
    return item


def set_item_done(session: Session, item_id: int, done: bool, *, actor: str) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None:
        raise NotFound(f"no action item {item_id}")
    item.done = done
    audit.record(
        session, actor, "checkin.action_item_done", "action_item", item.id, after={"done": done}
    )
    return item


def close(
    session: Session,
    settings: Settings,
    program: Program,
    checkin_id: int,
    outcome: str,
    *,
    version: int | None,
    actor: str,
    now: datetime,
) -> Checkin:
    """Mark the check-in held or no-show and queue the creator's summary (their figures
    and the action items still open, with those written today). Once only."""
    if outcome not in CLOSED:
        raise InvalidInput(
            "the outcome is not valid", [f"outcome: {outcome!r} is not held or no_show"]
        )
    checkin = get_checkin(session, checkin_id)
    _check_version(checkin, version)
    if checkin.status != "booked":
        raise Conflict(f"this check-in is {checkin.status.replace('_', '-')} already")
    if aware(checkin.starts_at) > now:
        raise Conflict("this check-in has not started yet")
    today = now.astimezone(ZoneInfo(program.program.timezone)).date()
    seen = agenda(session, program, checkin.id, today)
    checkin.status = outcome
    checkin.version += 1
    checkin.closed_at = checkin.updated_at = now
    audit.record(
        session,
        actor,
        f"checkin.{outcome}",
        "checkin",
        checkin.id,
        {"status": "booked"},
        {"status": outcome},
    )
    creator = seen.creator
    if creator.email:
        enqueue_many(session, [_summary(program, seen, outcome)])
    return checkin


def _summary(program: Program, seen: Agenda, outcome: str) -> NewMessage:
    creator, figures = seen.creator, seen.figures
    name = creator.display_name or "@" + creator.handle
    when = local_time(aware(seen.checkin.starts_at), creator.timezone)
    start, end = seen.period
    hours = figures["live_minutes"] / 60
    lines = [f"Hi {name},", ""]
    if outcome == "held":
        lines.append(f"Thank you for the check-in on {when}. Here is what we looked at.")
    else:
        lines.append(f"We missed you at the check-in on {when}. Here is what we wanted to look at.")
    lines += [
        "",
        f"Your figures from {start:%d %b} to {end:%d %b %Y}:",
        f"- Diamonds: {figures['diamonds']:,}",
        f"- LIVE: {hours:,.1f} hours on {figures['days_live']} days "
        f"({figures['sessions']} sessions)",
        f"- Matches completed: {figures['matches_completed']} "
        f"({figures['match_diamonds']:,} diamonds in them)",
    ]
    tier = seen.tier
    if tier.get("next"):
        lines.append(
            f"- Tier {tier['tier']}: {tier['revenue_short']:,} diamonds (30 days) "
            f"to tier {tier['next']}"
        )
    elif tier.get("tier"):
        lines.append(f"- Tier {tier['tier']}: the top tier")
    todo = [i for i in seen.open_items + seen.items if not i.done]
    if todo:
        lines += ["", "Action items:"]
        for item in todo:
            due = f", by {item.due_on:%d %b}" if item.due_on else ""
            owner = f" ({item.owner}{due})" if item.owner else (f" ({due[2:]})" if due else "")
            lines.append(f"- {item.text}{owner}")
    lines += ["", program.program.name, ""]
    return NewMessage(
        kind="checkin_summary",
        recipient=creator.email,
        subject=f"Your check-in summary ({when})",
        text="\n".join(lines),
        idempotency_key=f"checkin:{seen.checkin.id}:summary",
    )
