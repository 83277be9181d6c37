"""An operator's own display preferences: the time zone they read times in."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchdesk.accounts.models import Operator
from matchdesk.errors import InvalidInput, NotFound

HINT = "(use an IANA name such as Europe/Berlin)"


@cache
def zone_names() -> tuple[str, ...]:
    """The places' IANA zones (and UTC), sorted: what a zone box suggests."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def display_zone_of(session: Session, operator_id: int) -> str:
    """The operator's display zone ("" means the program's)."""
    zone = session.scalar(select(Operator.display_timezone).where(Operator.id == operator_id))
    return zone or ""


def set_display_zone(session: Session, operator_id: int, zone: str) -> tuple[str, str]:
    """Set the operator's display zone (an IANA name, or "" for the program's). Returns the
    zone before and after. Raises `InvalidInput` for an unknown zone."""
    zone = zone.strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(
                "the display time zone is not valid",
                [f"timezone: unknown time zone '{zone[:64]}' {HINT}"],
            ) from None
        if "/" not in zone and zone != "UTC":
            raise InvalidInput(
                "the display time zone is not valid",
                [f"timezone: '{zone}' is not a place's zone {HINT}"],
            )
    operator = session.get(Operator, operator_id)
    if operator is None:
        raise NotFound("No such operator.")
    before = operator.display_timezone
    operator.display_timezone = zone
    return before, zone
