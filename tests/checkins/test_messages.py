"""Invitations and reminders of check-ins through the outbox, with a frozen clock: one
UID, SEQUENCE raised on each change, CANCEL on cancellation; reminders 24 h and 1 h
before, each once, late with a note or skipped after a worker outage, none for a time
that was moved away from."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from matchdesk.checkins.booking import book, cancel
from matchdesk.checkins.messages import queue_due_reminders
from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment
from matchdesk.program import Program
from tests.checkins.test_booking import NOW, TUE_15, _creator, _world


def _outbox(md: Matchdesk) -> list[OutboxMessage]:
    with md.transaction() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _event(message: OutboxMessage) -> tuple[str, Any]:
    ics = Attachment.from_json(message.attachments[0]).content
    calendar = Calendar.from_ical(ics)
    return str(calendar["method"]), next(iter(calendar.walk("VEVENT")))


def _book(md: Matchdesk, at: datetime, now: datetime = NOW) -> int:
    with md.transaction() as session:
        checkin = book(
            session, md.program, _creator(session, "anna"), at, now=now, actor="c",
            settings=md.settings,
        )  # fmt: skip
        return checkin.id


def _remind(md: Matchdesk, now: datetime) -> int:
    with md.transaction() as session:
        return queue_due_reminders(session, md.settings, md.program, now)


def test_invitations_one_uid_sequence_raised_cancel(md: Matchdesk) -> None:
    _world(md)
    checkin_id = _book(md, TUE_15)
    _book(md, TUE_15 + timedelta(minutes=30))
    with md.transaction() as session:
        cancel(session, md.program, _creator(session, "anna"), now=NOW, actor="c",
               settings=md.settings)  # fmt: skip
    messages = _outbox(md)
    assert [(m.kind, m.recipient, m.idempotency_key) for m in messages] == [
        ("checkin_invitation", "anna@example.com", f"checkin:{checkin_id}:seq:0:creator"),
        ("checkin_invitation", "mia@example.com", f"checkin:{checkin_id}:seq:0:manager"),
        ("checkin_invitation", "anna@example.com", f"checkin:{checkin_id}:seq:1:creator"),
        ("checkin_invitation", "mia@example.com", f"checkin:{checkin_id}:seq:1:manager"),
        ("checkin_cancellation", "anna@example.com", f"checkin:{checkin_id}:seq:2:creator"),
        ("checkin_cancellation", "mia@example.com", f"checkin:{checkin_id}:seq:2:manager"),
    ]
    # Each in their own time: anna in New York, Mia in Berlin.
    assert messages[0].subject == (
        "Check-in with your manager mia@example.com, Tue 3 Mar 2026, 10:00 (America/New_York)"
    )
    assert messages[1].subject == "Check-in with @anna, Tue 3 Mar 2026, 16:00 (Europe/Berlin)"
    assert messages[2].subject.startswith("Moved: Check-in with your manager")
    assert "/checkin\n" in messages[0].body_text  # the creator's link to their page
    events = [_event(m) for m in messages]
    assert {str(e["uid"]) for _, e in events} == {str(events[0][1]["uid"])}
    assert [(method, int(e["sequence"])) for method, e in events] == [
        ("REQUEST", 0), ("REQUEST", 0), ("REQUEST", 1), ("REQUEST", 1),
        ("CANCEL", 2), ("CANCEL", 2),
    ]  # fmt: skip
    assert events[0][1].decoded("dtstart") == TUE_15
    assert events[2][1].decoded("dtstart") == TUE_15 + timedelta(minutes=30)


def _reminders(md: Matchdesk) -> list[tuple[str, str]]:
    return [(m.kind, m.recipient) for m in _outbox(md) if m.kind.startswith("checkin_reminder")]


def test_reminders_each_once_at_their_time(md: Matchdesk) -> None:
    _world(md)
    _book(md, TUE_15)
    assert _remind(md, TUE_15 - timedelta(hours=24, seconds=1)) == 0
    assert _remind(md, TUE_15 - timedelta(hours=24)) == 2
    assert _remind(md, TUE_15 - timedelta(hours=24)) == 0
    assert _remind(md, TUE_15 - timedelta(hours=2)) == 0
    assert _remind(md, TUE_15 - timedelta(hours=1)) == 2
    assert _remind(md, TUE_15 - timedelta(minutes=1)) == 0
    assert _reminders(md) == [
        ("checkin_reminder_24h", "anna@example.com"),
        ("checkin_reminder_24h", "mia@example.com"),
        ("checkin_reminder_1h", "anna@example.com"),
        ("checkin_reminder_1h", "mia@example.com"),
    ]
    texts = [m.body_text for m in _outbox(md) if m.kind == "checkin_reminder_24h"]
    assert "is in 24 hours: Tue 3 Mar 2026, 10:00 (America/New_York)" in texts[0]
    assert "late" not in texts[0]


def test_a_worker_down_when_they_fell_due(md: Matchdesk) -> None:
    _world(md)
    _book(md, TUE_15)
    # Back 22 hours late: the 24-hour reminder still has a purpose, sent with a note.
    assert _remind(md, TUE_15 - timedelta(hours=2)) == 2
    late = [m.body_text for m in _outbox(md) if m.kind == "checkin_reminder_24h"]
    assert "(This reminder comes late: our mail service was paused when it was due.)" in late[0]
    # Down again past the start: the 1-hour reminder is skipped, never sent afterwards.
    assert _remind(md, TUE_15 + timedelta(minutes=5)) == 0
    assert _remind(md, TUE_15 + timedelta(hours=2)) == 0
    assert [k for k, _ in _reminders(md)] == ["checkin_reminder_24h"] * 2


def test_down_until_inside_the_last_hour_only_the_1h_reminder(md: Matchdesk) -> None:
    _world(md)
    _book(md, TUE_15)
    assert _remind(md, TUE_15 - timedelta(minutes=30)) == 2
    assert [k for k, _ in _reminders(md)] == ["checkin_reminder_1h"] * 2


def test_a_moved_checkins_old_reminders_are_never_sent(md: Matchdesk) -> None:
    _world(md, hours="Tue 10:00-12:00")
    checkin_id = _book(md, TUE_15 + timedelta(minutes=30))
    _book(md, TUE_15 + timedelta(hours=1, minutes=30))  # moved an hour later
    # The old time's 24-hour moment passes: nothing.
    assert _remind(md, TUE_15 + timedelta(minutes=30) - timedelta(hours=24)) == 0
    assert _remind(md, TUE_15 + timedelta(hours=1, minutes=30) - timedelta(hours=24)) == 2
    keys = [m.idempotency_key for m in _outbox(md) if m.kind == "checkin_reminder_24h"]
    assert keys == [
        f"checkin:{checkin_id}:seq:1:reminder:24h:creator",
        f"checkin:{checkin_id}:seq:1:reminder:24h:manager",
    ]


def test_booked_inside_the_window_no_reminder_at_booking(md: Matchdesk) -> None:
    md.program = Program.model_validate({"checkins": {"min_notice_hours": 0}})
    _world(md)
    _book(md, TUE_15, now=TUE_15 - timedelta(hours=3))
    assert _remind(md, TUE_15 - timedelta(hours=3)) == 0
    assert _remind(md, TUE_15 - timedelta(hours=1)) == 2
    assert [k for k, _ in _reminders(md)] == ["checkin_reminder_1h"] * 2
