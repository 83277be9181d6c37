"""A creator as the roster file describes it (SPEC section 1), validated."""

from __future__ import annotations

from dataclasses import dataclass

from matchdesk.roster.availability import Window

# The roster file's columns, in the order export writes them.
COLUMNS = (
    "handle",
    "display_name",
    "email",
    "timezone",
    "languages",
    "region",
    "category",
    "followers",
    "revenue_30d",
    "availability",
    "blocked",
    "status",
    "manager",
    "checkin_hours",
)
REQUIRED_COLUMNS = ("handle", "timezone", "languages", "followers", "revenue_30d", "availability")
STATUSES = ("active", "paused")


@dataclass(frozen=True)
class CreatorRecord:
    """One creator's row: handles lower-case without `@`, languages and blocks in file order."""

    handle: str
    timezone: str
    languages: tuple[str, ...]
    followers: int
    revenue_30d: int
    availability: tuple[Window, ...] = ()
    display_name: str = ""
    email: str = ""
    region: str = ""
    category: str = ""
    blocked: tuple[str, ...] = ()
    status: str = "active"
    manager: str = ""  # the manager's (an operator's) e-mail, lower-case
    checkin_hours: tuple[Window, ...] = ()  # empty: the program's default
