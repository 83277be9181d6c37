"""The demo program's first round: next week's weekly round, as a draft to try the board on."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from matchdesk.program import Program
from matchdesk.rounds.models import Round
from matchdesk.rounds.period import next_start, program_today
from matchdesk.rounds.service import build_round


def build_demo_round(
    session: Session, program: Program, *, today: date | None = None
) -> Round | None:
    """Build the weekly round starting next Monday (program time), or None when no tier is
    matched weekly."""
    if not any(t.cadence == "weekly" for t in program.tiers):
        return None
    if today is None:
        today = program_today(program.program.timezone)
    start = next_start("weekly", today)
    return build_round(session, program, cadence="weekly", start=start, actor="demo")
