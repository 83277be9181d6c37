"""The worker queues check-in reminders that fell due while it was down, and delivers
them over SMTP once (a real aiosmtpd server on loopback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from matchdesk.checkins.models import Checkin
from matchdesk.context import Matchdesk
from matchdesk.mail.delivery import DeliverySettings
from matchdesk.roster.models import Creator
from matchdesk.worker import run_worker
from tests.checkins.samples import add_creators, add_manager, operator_id
from tests.mail.conftest import SmtpServer, smtp_server, smtp_settings  # noqa: F401


def test_a_worker_started_after_the_due_time_sends_it_once_late(
    md: Matchdesk,
    smtp_server: SmtpServer,  # noqa: F811
    smtp_settings: DeliverySettings,  # noqa: F811
) -> None:
    add_manager(md, "mia@example.com", "Europe/Berlin", "Mon 09:00-17:00")
    add_creators(md, ["anna"], manager="mia@example.com")
    # Booked days ago for three hours from now: the 24-hour reminder fell due 21 hours
    # ago, while no worker ran.
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    with md.transaction() as session:
        session.add(
            Checkin(
                creator_id=session.scalar(select(Creator.id)),
                manager_id=operator_id(md, "mia@example.com"),
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                uid="checkin-test@example.org",
                booked_at=starts - timedelta(days=3),
            )
        )
    first = run_worker(md, once=True, worker_id="w1", delivery=smtp_settings)
    again = run_worker(md, once=True, worker_id="w1", delivery=smtp_settings)
    assert (first.messages.sent, again.messages.sent) == (2, 0)
    received = smtp_server.recorder.received
    assert sorted(r.rcpt_tos[0] for r in received) == ["anna@example.com", "mia@example.com"]
    for r in received:
        body = r.email.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "is in 24 hours" in text
        assert "(This reminder comes late: our mail service was paused when it was due.)" in text
    with md.transaction() as session:
        checkin = session.scalars(select(Checkin)).one()
        assert (checkin.reminder_24h, checkin.reminder_1h) == ("sent", "")
