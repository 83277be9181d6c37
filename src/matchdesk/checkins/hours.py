"""Whose hours a check-in must fit: a manager's working hours and a creator's check-in
hours, each on their own clock, read from the database columns (availability syntax)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.accounts.models import Operator
from matchdesk.checkins.slots import Hours, SlotRules
from matchdesk.errors import InvalidInput
from matchdesk.program import Program
from matchdesk.roster.availability import (
    AvailabilityError,
    format_availability,
    parse_availability,
    validate_timezone,
)
from matchdesk.roster.models import Creator


def slot_rules(program: Program) -> SlotRules:
    """The program's `[checkins]` rules on the program's slot grid."""
    rules = program.checkins
    return SlotRules(
        duration_minutes=rules.duration_minutes,
        buffer_minutes=rules.buffer_minutes,
        step_minutes=program.matching.slot_step_minutes,
        max_per_day=rules.max_per_day,
    )


def manager_hours(operator: Operator) -> Hours | None:
    """The operator's working hours, or None while they have set none."""
    if not operator.timezone or not operator.working_hours:
        return None
    return Hours(parse_availability(operator.working_hours), operator.timezone)


def creator_hours(creator: Creator, program: Program) -> Hours:
    """The creator's check-in hours, else the program's default, on the creator's clock."""
    text = creator.checkin_hours or program.checkins.default_creator_hours
    return Hours(parse_availability(text), creator.timezone)


def set_working_hours(operator: Operator, timezone: str, hours: str) -> None:
    """Set an operator's zone and working hours; InvalidInput naming the field that is
    wrong. The windows are stored normalised (sorted, `Mon 09:00-17:00` form)."""
    problems = []
    try:
        zone = validate_timezone(timezone.strip())
    except AvailabilityError as exc:
        problems.append(f"timezone: {exc}")
    try:
        windows = parse_availability(hours)
    except AvailabilityError as exc:
        problems.append(f"hours: {exc}")
    if problems:
        raise InvalidInput(f"the working hours of {operator.email} are not valid", problems)
    operator.timezone = zone
    operator.working_hours = format_availability(sorted(set(windows)))


def set_checkin_hours(session: Session, creator: Creator, hours: str, *, actor: str) -> None:
    """Set a creator's own check-in hours ("" for the program's default), audited;
    InvalidInput naming the mistake. The windows are stored normalised."""
    try:
        windows = parse_availability(hours)
    except AvailabilityError as exc:
        raise InvalidInput("the check-in hours are not valid", [f"hours: {exc}"]) from None
    before = creator.checkin_hours
    creator.checkin_hours = format_availability(sorted(set(windows)))
    if creator.checkin_hours != before:
        creator.version += 1
        audit.record(
            session,
            actor,
            "creator.checkin_hours",
            "creator",
            creator.handle,
            {"checkin_hours": before},
            {"checkin_hours": creator.checkin_hours},
        )
