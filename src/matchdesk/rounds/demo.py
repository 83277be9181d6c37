"""The demo program's first round: next week's weekly round, as a draft to try the board on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from matchdesk.program import Program
from matchdesk.rounds.models import Round
from matchdesk.rounds.service import build_round


def next_monday(today: date) -> date:
    """The first Monday after `today` (a week ahead when `today` is a Monday)."""
    return today + timedelta(days=7 - today.weekday())


def build_demo_round(
    session: Session, program: Program, *, today: date | None = None
) -> Round | None:
    """Build the weekly round starting next Monday (program time), or None when no tier is
    matched weekly."""
    if not any(t.cadence == "weekly" for t in program.tiers):
        return None
    if today is None:
        today = datetime.now(UTC).astimezone(ZoneInfo(program.program.timezone)).date()
    return build_round(session, program, cadence="weekly", start=next_monday(today), actor="demo")
