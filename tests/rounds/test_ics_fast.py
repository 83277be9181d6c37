"""The fast invitation calendar is byte for byte icalendar's, and steps aside for values
that need escaping."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

from matchdesk.rounds import invitations
from matchdesk.rounds.ics_fast import fast_calendar
from matchdesk.rounds.invitations import PRODID, Sender


def _both(**fields: object) -> tuple[bytes | None, bytes]:
    sender = fields.pop("organizer")
    assert isinstance(sender, Sender)
    fast = fast_calendar(
        prodid=PRODID, organizer_address=sender.address, organizer_name=sender.name, **fields
    )  # type: ignore[arg-type]
    slow = invitations.calendar_bytes_icalendar(organizer=sender, **fields)  # type: ignore[arg-type]
    return fast, slow


def test_fast_calendars_equal_icalendars() -> None:
    rng = random.Random(13)
    letters = string.ascii_letters + string.digits + "._-@/:?=&#%+ "
    start = datetime(2026, 3, 9, 19, tzinfo=UTC)
    compared = 0
    for i in range(400):
        summary = "LIVE match with @" + "".join(rng.choices(letters, k=rng.randint(1, 90)))
        description = "".join(rng.choices(letters, k=rng.randint(0, 400)))
        fast, slow = _both(
            method=rng.choice(["REQUEST", "CANCEL"]),
            uid=f"round-{i}-creator-{rng.randint(1, 10**6)}@example.com",
            sequence=rng.randint(0, 40),
            summary=summary,
            description=description,
            starts_at=start + timedelta(minutes=30 * i),
            ends_at=start + timedelta(minutes=30 * i + 60),
            organizer=Sender("matchdesk@example.com", rng.choice(["matchdesk", "LIVE Desk"]), "x"),
            attendee="".join(rng.choices(string.ascii_lowercase, k=rng.randint(1, 60))) + "@x.org",
            stamp=datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
        )
        if fast is not None:
            assert fast == slow, (fast, slow)
            compared += 1
    assert (
        compared == 194
    )  # the others: the organizer "LIVE Desk" needs quoting: icalendar writes it


def test_values_that_need_escaping_go_through_icalendar() -> None:
    common = {
        "prodid": PRODID,
        "method": "REQUEST",
        "uid": "u@x",
        "sequence": 0,
        "starts_at": datetime(2026, 3, 9, 19, tzinfo=UTC),
        "ends_at": datetime(2026, 3, 9, 20, tzinfo=UTC),
        "organizer_address": "m@x.com",
        "attendee": "a@x.com",
        "stamp": datetime(2026, 3, 1, tzinfo=UTC),
    }
    for summary, description, name in (
        ("a, b", "d", "matchdesk"),
        ("a", "line\nbreak", "matchdesk"),
        ("Lüna", "d", "matchdesk"),
        ("a", "d", "Desk: team"),
        ("a", "back\\slash", "matchdesk"),
        ("a; b", "d", "matchdesk"),
        ("a", "d", "desk^team"),
    ):
        assert (
            fast_calendar(summary=summary, description=description, organizer_name=name, **common)  # type: ignore[arg-type]
            is None
        )
