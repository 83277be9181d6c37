"""Published invitations through the worker to a real SMTP server on loopback."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar

from matchdesk.context import Matchdesk
from matchdesk.mail.delivery import DeliverySettings
from matchdesk.rounds.lifecycle import publish
from matchdesk.worker import run_worker
from tests.mail.conftest import SmtpServer
from tests.rounds.conftest import MANAGER, add_roster, build, creator, pairs


def test_invitations_arrive_with_local_times_and_a_valid_calendar(
    md: Matchdesk,
    smtp_server: SmtpServer,
    smtp_settings: DeliverySettings,
) -> None:
    add_roster(
        md,
        # Monday 30 November 18:00 UTC is 19:00 in Berlin and 03:00 on Tuesday in Tokyo.
        creator("kai", timezone="Europe/Berlin", availability="Mon 19:00-20:00"),
        creator("yui", timezone="Asia/Tokyo", availability="Tue 03:00-04:00"),
        creator("nomail", email="", availability="Wed 10:00-11:00"),
        creator("zoe", availability="Wed 10:00-11:00"),
    )
    round_id = build(md)
    assert [p[:3] for p in pairs(md, round_id)] == [
        ("kai", "yui", "2026-11-30T18:00:00Z"),
        ("nomail", "zoe", "2026-12-02T10:00:00Z"),
    ]
    with md.transaction() as session:
        assert publish(session, md.settings, md.program, round_id, MANAGER) == 3
    report = run_worker(md, once=True, delivery=smtp_settings)
    assert report.messages.sent == 3
    received = {tuple(r.rcpt_tos): r.email for r in smtp_server.recorder.received}
    assert sorted(received) == [("kai@example.com",), ("yui@example.com",), ("zoe@example.com",)]
    kai, yui = received[("kai@example.com",)], received[("yui@example.com",)]
    assert kai["Subject"] == "Your LIVE match with @yui, Mon 30 Nov 2026, 19:00 (Europe/Berlin)"
    assert yui["Subject"] == "Your LIVE match with @kai, Tue 1 Dec 2026, 03:00 (Asia/Tokyo)"
    assert kai["From"] == "Match Desk <noreply@example.org>"
    body = kai.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "When: Mon 30 Nov 2026, 19:00 (Europe/Berlin)\n" in body
    assert "\nPlease confirm or decline here:\nhttp://127.0.0.1:8000/portal/" in body
    (part,) = list(kai.iter_attachments())
    assert (part.get_content_type(), part.get_param("method"), part.get_filename()) == (
        "text/calendar",
        "REQUEST",
        "invite.ics",
    )
    calendar = Calendar.from_ical(part.get_content())
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["SUMMARY"]) == "LIVE match with @yui"
    assert event.decoded("DTSTART") == datetime(2026, 11, 30, 18, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 11, 30, 19, tzinfo=UTC)
    assert str(event["UID"]).startswith(f"round-{round_id}-creator-")
    assert (int(event["SEQUENCE"]), str(event["ATTENDEE"])) == (0, "mailto:kai@example.com")
    # Nothing is sent twice: a second pass finds nothing due.
    assert run_worker(md, once=True, delivery=smtp_settings).messages.sent == 0
    assert len(smtp_server.recorder.received) == 3
