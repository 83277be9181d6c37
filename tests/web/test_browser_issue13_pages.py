"""The pages issue 13 changed, in Chromium at 1366 and 390 px: the creator page (block
list, messages in the timeline, answer rates), a roster page past the end, and the portal
(where a match stands in plain words, the link's expiry on the creator's clock). None of
them scrolls sideways or logs an error in the console."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link
from matchdesk.roster.editing import update_creator
from matchdesk.rounds.board import Edit
from matchdesk.rounds.lifecycle import publish
from matchdesk.rounds.service import build_round
from tests.web.conftest import PASSWORD, screenshot
from tests.web.test_rounds_pages import add_creators, monday


@pytest.fixture(params=[1366, 390], ids=["1366px", "390px"])
def sized(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(viewport={"width": request.param, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)  # a failure timeout only
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page, errors
    context.close()


def _fits(page: Any) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_creator_roster_and_portal_pages(
    sized: tuple[Any, list[str]], live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    page, errors = sized
    width = page.viewport_size["width"]
    md.settings.base_url = live_server
    add_creators(md)
    with md.transaction() as session:
        update_creator(session, md.program, "ann", {"blocked": "zoe"}, "test")
        round_ = build_round(session, md.program, cadence="weekly", start=monday(), actor="t")
        session.flush()
        publish(session, md.settings, md.program, round_.id, Edit("test", None))
        link = issue_portal_link(session, md.settings, "ann").url

    page.goto(f"{live_server}/creators/ann")
    page.fill("input[name=email]", operators["viewer"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{live_server}/creators/ann")
    expect(page.locator("#blocks")).to_have_text("@zoe")
    expect(page.locator("#blocked-by")).to_have_text("nobody")
    expect(page.locator("#pending")).to_have_text("1")
    expect(page.locator("#confirm-rate")).to_have_text("no answer yet")
    expect(page.locator(".timeline li.message").first).to_contain_text(
        "match invitation “Your LIVE match with @"
    )
    _fits(page)
    screenshot(page, f"creator-{width}")

    page.goto(f"{live_server}/creators?page=9")
    expect(page.locator("#past-the-end")).to_contain_text(
        "Page 9 is past the end: there is 1 page."
    )
    page.click("#past-the-end a")
    expect(page.locator("#total")).to_have_text("7")
    _fits(page)

    page.goto(link)
    match = page.locator(".portal-matches li").first
    expect(match.locator(".badge")).to_have_text("waiting for your answer")
    expect(page.locator("#link-expiry time")).to_have_text(
        re.compile(r"^\d\d \w\w\w \d{4}, \d\d:\d\d \(UTC\)$")
    )
    match.locator("button:has-text('Confirm')").click()
    expect(page.locator("#answered")).to_contain_text("The match is confirmed once @")
    expect(page.locator(".portal-matches li .badge").first).to_contain_text(
        "you said yes; waiting for @"
    )
    _fits(page)
    screenshot(page, f"portal-{width}")
    assert errors == []
