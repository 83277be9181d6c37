"""A check-in's page (agenda, action items, notes, held), an operator's working hours
and private calendar feed, and the creator page's check-in history."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select

from matchdesk.accounts.models import Operator
from matchdesk.checkins.models import Checkin
from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.models import Creator
from tests.checkins.samples import add_creators
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]


def _checkin(md: Matchdesk, starts: datetime) -> int:
    add_creators(md, ["anna"], manager="manager@example.com", timezone="Europe/Berlin")
    with md.transaction() as session:
        checkin = Checkin(
            creator_id=session.scalar(select(Creator.id)),
            manager_id=session.scalar(
                select(Operator.id).where(Operator.email == "manager@example.com")
            ),
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            uid="checkin-web@example.org",
        )
        session.add(checkin)
        session.flush()
        return checkin.id


def test_open_write_an_action_item_and_mark_held(md: Matchdesk, client_as: Client) -> None:
    checkin_id = _checkin(md, datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20))
    viewer = client_as("viewer").get(f"/checkins/{checkin_id}")
    assert viewer.status_code == 200
    assert 'id="item-form"' not in viewer.text
    assert 'id="mark-held"' not in viewer.text
    manager = client_as("manager")
    page = manager.get(f"/checkins/{checkin_id}")
    token = csrf_of(page.text)
    assert re.search(r'id="fig-diamonds">0<', page.text)
    added = manager.post(
        f"/checkins/{checkin_id}/items",
        data={"text": "Go LIVE on Fridays", "owner": "anna", "due_on": "", "csrf_token": token},
    )
    assert added.status_code == 200
    assert re.findall(r'<li data-item="\d+" class="">\s*Go LIVE on Fridays', added.text)
    refused = manager.post(
        f"/checkins/{checkin_id}/items", data={"text": "", "due_on": "soon", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "due: &#39;soon&#39; is not a date (YYYY-MM-DD)" in refused.text
    saved = manager.post(
        f"/checkins/{checkin_id}/notes",
        data={"notes": "Fridays", "version": "1", "csrf_token": token},
    )
    assert ">Fridays</textarea>" in saved.text
    stale = manager.post(
        f"/checkins/{checkin_id}/notes", data={"notes": "x", "version": "1", "csrf_token": token}
    )
    assert stale.status_code == 409
    held = manager.post(
        f"/checkins/{checkin_id}/close",
        data={"outcome": "held", "version": "2", "csrf_token": token},
    )
    assert held.status_code == 200
    assert '<span class="badge held" id="checkin-status">held</span>' in held.text
    with md.transaction() as session:
        summary = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "checkin_summary")
        ).one()
    assert summary.recipient == "anna@example.com"
    assert "- Go LIVE on Fridays (anna)" in summary.body_text
    history = manager.get("/creators/anna/checkins")
    assert re.findall(r'<li data-checkin="(\d+)">', history.text) == [str(checkin_id)]
    assert '<span class="badge held">held</span>' in history.text


def test_working_hours_and_the_private_calendar_feed(
    md: Matchdesk, client_as: Client, hold_clock: Callable[[datetime], datetime]
) -> None:
    # The program's clock held before the check-in: the feed reaches 30 days back from
    # now, and on the real clock a check-in of 8 January 2030 left it on 7 February 2030.
    hold_clock(datetime(2026, 12, 9, 20, 10, tzinfo=UTC))
    checkin_id = _checkin(md, datetime(2030, 1, 8, 9, tzinfo=UTC))
    manager = client_as("manager")
    page = manager.get("/checkins/me/hours")
    token = csrf_of(page.text)
    bad = manager.post(
        "/checkins/me/hours",
        data={"timezone": "Mars/Base", "hours": "Mon 9-5", "csrf_token": token},
    )
    assert bad.status_code == 422
    assert 'value="Mon 9-5"' in bad.text
    ok = manager.post(
        "/checkins/me/hours",
        data={"timezone": "Europe/Berlin", "hours": "Tue 09:00-12:00; Mon 09:00-17:00",
              "csrf_token": token},
    )  # fmt: skip
    assert 'id="saved"' in ok.text
    assert 'value="Mon 09:00-17:00; Tue 09:00-12:00"' in ok.text
    feed = re.search(r'<code id="feed-url">[^<]*(/calendar/[^<]+\.ics)</code>', ok.text)
    assert feed
    anonymous = TestClient(manager.app)
    response = anonymous.get(feed.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [(str(e["uid"]), str(e["summary"])) for e in events] == [
        ("checkin-web@example.org", "Check-in with @anna")
    ]
    assert checkin_id
    manager.post("/checkins/me/feed/renew", data={"csrf_token": token})
    assert anonymous.get(feed.group(1)).status_code == 404
    assert anonymous.get("/calendar/forged.ics").status_code == 404


def test_a_manager_cancels_a_checkin(md: Matchdesk, client_as: Client) -> None:
    # Two hours away: inside the creator's notice, but a manager may still cancel.
    checkin_id = _checkin(md, datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2))
    manager = client_as("manager")
    token = csrf_of(manager.get(f"/checkins/{checkin_id}").text)
    stale = manager.post(
        f"/checkins/{checkin_id}/cancel", data={"version": "7", "csrf_token": token}
    )
    assert stale.status_code == 409
    done = manager.post(
        f"/checkins/{checkin_id}/cancel", data={"version": "1", "csrf_token": token}
    )
    assert '<span class="badge cancelled" id="checkin-status">cancelled</span>' in done.text
    with md.transaction() as session:
        kinds = [
            (m.kind, m.recipient)
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
    assert kinds == [
        ("checkin_cancellation", "anna@example.com"),
        ("checkin_cancellation", "manager@example.com"),
    ]
