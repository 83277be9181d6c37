"""A LIVE session as the results file describes it (SPEC section 4), validated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The results file's columns, in the order an export would write them.
COLUMNS = (
    "handle",
    "started_at",
    "duration_minutes",
    "diamonds",
    "viewers_peak",
    "new_followers",
    "match_id",
    "outcome",
)
REQUIRED_COLUMNS = ("handle", "started_at", "duration_minutes", "diamonds")
OUTCOMES = ("win", "loss", "draw")
MAX_DURATION_MINUTES = 1440


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One session: `handle` lower-case without `@`, `started_at` an aware UTC datetime.

    `match_id` is the match the row names (None: the import links the session to an
    overlapping published or confirmed match of the creator, if there is one)."""

    handle: str
    started_at: datetime
    duration_minutes: int
    diamonds: int
    viewers_peak: int | None = None
    new_followers: int | None = None
    match_id: int | None = None
    outcome: str | None = None

    @property
    def ended_at(self) -> datetime:
        return self.started_at + timedelta(minutes=self.duration_minutes)
