"""The creator form of the web app: the fields it shows, their current text, and which of
them a submission changes (only those are sent to `editing.update_creator`, so saving an
untouched form writes nothing)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from matchdesk.roster.editing import creator_state
from matchdesk.roster.models import Creator

# (field, label, hint): the roster file's columns, in the order the form shows them.
FIELDS = (
    ("display_name", "Display name", "Any text, up to 100 characters."),
    ("email", "E-mail", "Needed for invitations and reminders."),
    ("timezone", "Time zone", "An IANA name, e.g. America/New_York."),
    ("languages", "Languages", "ISO 639-1 codes separated by ;, e.g. en;es."),
    ("region", "Region", "ISO 3166-1 alpha-2, e.g. US."),
    ("category", "Category", "e.g. music, gaming."),
    ("followers", "Followers", "A whole number; 12,500 and 12.5k accepted."),
    ("revenue_30d", "Revenue, last 30 days", "Diamonds received over the last 30 days."),
    (
        "availability",
        "Weekly availability",
        "In the creator's own time zone: Mon 19:00-23:00; Fri 22:00-02:00 (an end before its"
        " start crosses midnight). Empty: never matched.",
    ),
    ("blocked", "Blocked creators", "Handles separated by ;: never matched with them."),
    ("status", "Status", "Paused creators are left out of new rounds."),
    ("manager", "Manager", "The operator who looks after this creator."),
)
NAMES = tuple(name for name, _, _ in FIELDS)


def form_values(session: Session, creator: Creator) -> dict[str, str]:
    """The creator's fields as the form shows them (the roster file's text)."""
    state = creator_state(session, creator)
    values = {name: str(state.get(name) or "") for name in NAMES if name != "manager"}
    values["manager"] = creator.manager
    return values


def changed_fields(current: Mapping[str, str], submitted: Mapping[str, str]) -> dict[str, str]:
    """The submitted fields whose text differs from the current text (spaces aside)."""
    return {
        name: text
        for name, text in submitted.items()
        if name in NAMES and text.strip() != current.get(name, "").strip()
    }
