"""The creator's check-in page in the portal: free times in their own zone, book, move,
cancel; a time taken by someone else shows the next free ones."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.checkins.models import Checkin
from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link
from matchdesk.roster.models import Creator
from tests.checkins.samples import add_creators, add_manager
from tests.web.conftest import csrf_of, first_free


def _link(md: Matchdesk, handle: str) -> str:
    with md.transaction() as session:
        url = issue_portal_link(session, md.settings, handle).url
    return "/portal/" + url.rsplit("/", 1)[1]


def _starts(html: str) -> list[str]:
    return re.findall(r'class="slot" data-start="([^"]+)"', html)


def test_book_move_cancel_in_the_portal(md: Matchdesk, web: Any, checkin_clock: datetime) -> None:
    # Every day 09:00-11:00 in Tokyo for both: the next 14 days' slots.
    hours = "; ".join(f"{d} 09:00-11:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri"))
    add_manager(md, "mia@example.com", "Asia/Tokyo", hours)
    add_creators(
        md, ["anna", "bob"], manager="mia@example.com", timezone="Asia/Tokyo",
        checkin_hours=hours,
    )  # fmt: skip
    client = TestClient(web)
    anna, bob = _link(md, "anna"), _link(md, "bob")
    page = client.get(f"{anna}/checkin")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    starts = _starts(page.text)
    assert starts
    first = datetime.fromisoformat(starts[0])
    assert first == first_free(checkin_clock + timedelta(hours=24), "Asia/Tokyo", 9, 11)
    assert first.astimezone().utcoffset() is not None
    token = csrf_of(page.text)
    booked = client.post(f"{anna}/checkin/book", data={"starts_at": starts[0], "csrf_token": token})
    assert booked.status_code == 200  # followed the redirect
    assert "Your check-in is booked." in booked.text
    assert starts[0] not in _starts(client.get(f"{bob}/checkin").text)
    # bob's page was read before anna booked: his pick of her time is refused, with others.
    taken = client.post(
        f"{bob}/checkin/book", data={"starts_at": starts[0], "csrf_token": csrf_of(page.text)}
    )
    assert taken.status_code == 403  # anna's page's token is not bob's
    taken = client.post(
        f"{bob}/checkin/book",
        data={"starts_at": starts[0], "csrf_token": csrf_of(client.get(f"{bob}/checkin").text)},
    )
    assert taken.status_code == 409
    assert "Someone else just took that time." in taken.text
    assert len(re.findall(r'<div class="chips" id="next-slots">', taken.text)) == 1
    moved = client.post(f"{anna}/checkin/book", data={"starts_at": starts[-1], "csrf_token": token})
    assert "Your check-in is booked." in moved.text
    with md.transaction() as session:
        checkin = session.scalars(select(Checkin)).one()
        assert (checkin.sequence, checkin.status) == (1, "booked")
    cancelled = client.post(f"{anna}/checkin/cancel", data={"csrf_token": token})
    assert "Your check-in is cancelled." in cancelled.text
    assert "Past check-ins" in cancelled.text
    bad = client.post(f"{anna}/checkin/book", data={"starts_at": "tomorrow", "csrf_token": token})
    assert bad.status_code == 422


def test_the_creator_sets_their_checkin_hours(md: Matchdesk, web: Any) -> None:
    add_manager(md, "mia@example.com", "Asia/Tokyo", "Mon 09:00-11:00; Tue 09:00-11:00")
    add_creators(md, ["anna"], manager="mia@example.com", timezone="Asia/Tokyo")
    client = TestClient(web)
    anna = _link(md, "anna")
    page = client.get(f"{anna}/checkin")
    tokyo = ZoneInfo("Asia/Tokyo")

    def clock(html: str) -> set[str]:
        return {f"{datetime.fromisoformat(s).astimezone(tokyo):%H:%M}" for s in _starts(html)}

    # The program's default hours (10:00-20:00) meet Mia's 09:00-11:00 from 10:00.
    assert clock(page.text) == {"10:00", "10:30"}
    token = csrf_of(page.text)
    bad = client.post(f"{anna}/checkin/hours", data={"hours": "Mon 9-11", "csrf_token": token})
    assert bad.status_code == 422
    assert "&#39;Mon 9-11&#39;: time &#39;9&#39; is not HH:MM" in bad.text
    saved = client.post(
        f"{anna}/checkin/hours",
        data={"hours": "Tue 09:00-11:00; Mon 09:00-10:00", "csrf_token": token},
    )
    assert "Your check-in hours are saved." in saved.text
    assert 'value="Mon 09:00-10:00; Tue 09:00-11:00"' in saved.text
    assert clock(saved.text) == {"09:00", "09:30", "10:00", "10:30"}
    with md.transaction() as session:
        creator = session.scalars(select(Creator)).one()
        assert creator.checkin_hours == "Mon 09:00-10:00; Tue 09:00-11:00"
