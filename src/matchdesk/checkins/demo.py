"""Demo managers for `matchdesk demo`: three operators with working hours in three zones,
the demo's creators shared among them, so the Check-ins page has a week to plan."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matchdesk.accounts.models import Operator
from matchdesk.roster.models import Creator

MANAGERS = (
    ("mia.manager@example.com", "Mia", "America/Los_Angeles"),
    ("lars.manager@example.com", "Lars", "Europe/Berlin"),
    ("priya.manager@example.com", "Priya", "Asia/Kolkata"),
)
HOURS = "Mon 09:00-17:00; Tue 09:00-17:00; Wed 09:00-17:00; Thu 09:00-17:00; Fri 09:00-13:00"


def add_demo_managers(session: Session) -> int:
    """Add the demo managers (they cannot sign in: no password is set; `matchdesk users
    set-password` gives one) and share the creators among them by id. Returns how many
    creators got a manager."""
    ids = []
    for email, name, zone in MANAGERS:
        operator = session.scalar(select(Operator).where(Operator.email == email))
        if operator is None:
            operator = Operator(
                email=email,
                name=name,
                password_hash="!",  # no password verifies against this
                role="manager",
                timezone=zone,
                working_hours=HOURS,
            )
            session.add(operator)
        ids.append(email)
    session.flush()
    creators = list(session.scalars(select(Creator.id).order_by(Creator.id)))
    for index, email in enumerate(ids):
        mine = creators[index :: len(ids)]
        for start in range(0, len(mine), 5000):
            session.execute(
                update(Creator)
                .where(Creator.id.in_(mine[start : start + 5000]))
                .values(manager=email)
            )
    return len(creators)
