"""The creator portal in a real browser: open the link, edit availability, save."""

from __future__ import annotations

from typing import Any

from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link
from matchdesk.roster.editing import create_creator, creator_state
from matchdesk.roster.service import get_creator
from tests.portal.samples import LUNA
from tests.web.conftest import screenshot


def test_creator_edits_availability_through_the_link(
    page: Any, live_server: str, md: Matchdesk, web: Any
) -> None:
    md.settings.base_url = live_server
    with md.transaction() as session:
        create_creator(session, md.program, LUNA, "operator:m@example.com")
        link = issue_portal_link(session, md.settings, "luna.star").url

    page.goto(link)
    assert page.inner_text("h1") == "Hi Luna @luna.star"
    assert page.inner_text("#followers") == "12,500"
    assert "No matches scheduled yet" in page.inner_text("#matches")
    assert page.locator("#windows li").all_inner_texts() == [
        "Mon 19:00–23:00",
        "Fri 22:00–02:00 (next day)",
    ]

    # The per-day editor: change Monday to Tuesday 20:00-23:30, drop Friday, add Sunday.
    page.select_option("[aria-label='Day of window 1']", "Tue")
    page.fill("[aria-label='From, window 1']", "20:00")
    page.fill("[aria-label='To, window 1']", "23:30")
    page.click("[aria-label='Remove window 2']")
    page.click("#add-window")
    page.select_option("[aria-label='Day of window 2']", "Sun")
    page.fill("[aria-label='From, window 2']", "23:00")
    page.fill("[aria-label='To, window 2']", "01:00")
    assert page.input_value("#availability-text") == "Tue 20:00-23:30; Sun 23:00-01:00"
    page.click("button:has-text('Save availability')")

    page.wait_for_selector("#saved")
    assert page.inner_text("#saved") == "Saved"
    assert page.locator("#windows li").all_inner_texts() == [
        "Tue 20:00–23:30",
        "Sun 23:00–01:00 (next day)",
    ]
    screenshot(page, "portal")
    with md.transaction() as session:
        creator = get_creator(session, "luna.star")
        assert creator is not None
        assert creator_state(session, creator)["availability"] == (
            "Tue 20:00-23:30; Sun 23:00-01:00"
        )

    # A mistake typed as text is shown next to the field, and nothing changes.
    page.fill("#availability-text", "Tue 20:00-23:30; Sun 23:00-25:00")
    assert page.is_hidden("#day-editor")  # rows cannot show 25:00: the text field rules
    page.click("button:has-text('Save availability')")
    page.wait_for_selector("#availability-error")
    assert page.inner_text("#availability-error") == "'Sun 23:00-25:00': hour 25 is not 00-23"
    assert page.input_value("#availability-text") == "Tue 20:00-23:30; Sun 23:00-25:00"
    assert page.is_hidden("#day-editor")
    screenshot(page, "portal-mistake")
    assert page.locator("#windows li").all_inner_texts() == [
        "Tue 20:00–23:30",
        "Sun 23:00–01:00 (next day)",
    ]
