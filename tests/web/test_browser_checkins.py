"""Check-ins in a real browser: a manager plans next week, opens a check-in, writes an
action item and (once the meeting took place) marks it held; a creator books and then
moves their check-in in the portal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from matchdesk.accounts.models import Operator
from matchdesk.checkins.due import this_monday
from matchdesk.checkins.hours import set_working_hours
from matchdesk.checkins.models import ActionItem, Checkin
from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.portal.links import issue_portal_link
from tests.checkins.samples import add_creators
from tests.web.conftest import PASSWORD, first_free, screenshot

WEEKDAYS = "; ".join(f"{d} 09:00-17:00" for d in ("Mon", "Tue", "Wed", "Thu", "Fri"))


def _manager_hours(md: Matchdesk) -> None:
    with md.transaction() as session:
        operator = session.scalars(
            select(Operator).where(Operator.email == "manager@example.com")
        ).one()
        set_working_hours(operator, "America/Los_Angeles", WEEKDAYS)


def test_a_manager_plans_opens_writes_an_action_item_and_marks_held(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    md.settings.base_url = live_server
    _manager_hours(md)
    add_creators(md, ["anna", "bob"], manager="manager@example.com")
    monday = this_monday(datetime.now(UTC), md.program.program.timezone) + timedelta(days=7)
    page.goto(f"{live_server}/checkins?week={monday.isoformat()}")
    page.fill("input[name=email]", "manager@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("#plan-week")
    assert page.locator("tr[data-state=overdue]").count() == 2
    page.click("#plan-week")
    page.wait_for_selector("#plan-result")
    assert page.inner_text("#plan-result h2") == "2 check-ins booked, 0 could not be booked"
    assert page.locator("tr[data-state=booked]").count() == 2
    screenshot(page, "checkins-planned")
    page.click("tr[data-handle=anna] td:last-child a")
    page.wait_for_selector("#item-form")
    assert page.inner_text("h1").startswith("Check-in with @anna")
    page.fill("#item-form input[name=text]", "Go LIVE on Fridays")
    page.fill("#item-form input[name=owner]", "anna")
    page.click("#item-form button")
    page.wait_for_selector("li[data-item]")
    assert page.inner_text("li[data-item]").startswith("Go LIVE on Fridays (anna)")
    assert page.is_visible("text=It can be marked held or no-show once it has started.")
    # The meeting takes place: its time is moved into the past (the browser's clock
    # cannot be frozen), then the manager reloads and marks it held.
    with md.transaction() as session:
        checkin = session.scalars(
            select(Checkin).join(ActionItem, ActionItem.checkin_id == Checkin.id)
        ).one()
        past = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=35)
        session.execute(
            update(Checkin)
            .where(Checkin.id == checkin.id)
            .values(starts_at=past, ends_at=past + timedelta(minutes=30))
        )
    page.reload()
    page.click("#mark-held")
    page.wait_for_selector("#checkin-status.held")
    screenshot(page, "checkin-held")
    # The creator's page loads their check-in history.
    page.goto(f"{live_server}/creators/anna")
    page.wait_for_selector("#checkin-history li[data-checkin]")
    assert page.inner_text("#checkin-history li .badge") == "held"
    with md.transaction() as session:
        summary = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "checkin_summary")
        ).one()
    assert summary.recipient == "anna@example.com"
    assert "- Go LIVE on Fridays (anna)" in summary.body_text


def test_a_creator_books_and_moves_their_checkin(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk, checkin_clock: datetime
) -> None:
    md.settings.base_url = live_server
    _manager_hours(md)
    add_creators(md, ["anna"], manager="manager@example.com", checkin_hours=WEEKDAYS)
    with md.transaction() as session:
        link = issue_portal_link(session, md.settings, "anna").url
    page.goto(link)
    page.click("#checkin-link a")
    page.wait_for_selector("#slots")
    assert page.inner_text("#current h2") == "No check-in booked"
    first = page.locator("button.slot").first
    first_start = first.get_attribute("data-start")
    assert first_start is not None
    expected = first_free(checkin_clock + timedelta(hours=24), "America/Los_Angeles", 9, 17)
    assert datetime.fromisoformat(first_start) == expected
    first.click()
    page.wait_for_selector("#done")
    assert page.inner_text("#done") == (
        "Your check-in is booked. A calendar invitation is on its way."
    )
    booked = page.inner_text("#booked-at")
    # Move it: the last free time shown.
    last = page.locator("button.slot").last
    last_start = last.get_attribute("data-start")
    assert last_start != first_start
    last.click()
    page.wait_for_selector("#done")
    assert page.inner_text("#booked-at") != booked
    screenshot(page, "portal-checkin")
    with md.transaction() as session:
        checkin = session.scalars(select(Checkin)).one()
        assert checkin.sequence == 1
        assert last_start is not None
        starts = (
            checkin.starts_at if checkin.starts_at.tzinfo else checkin.starts_at.replace(tzinfo=UTC)
        )
        assert starts == datetime.fromisoformat(last_start)
