"""A campaign in a real browser: created from its file in the page, its leaderboard per
league, the standings export; the creator's own rank in the portal."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import expect

from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link
from matchdesk.web.app import create_app
from tests.outreach.test_campaigns import FILE, setup
from tests.web.conftest import PASSWORD, screenshot


def test_create_and_open_a_leaderboard(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    setup(md)
    page.goto(live_server + "/outreach/campaigns")
    page.fill("input[name=email]", operators["manager"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(live_server + "/outreach/campaigns")
    page.fill("#campaign-text", FILE.replace("ends = 2026-03-09", "ends = 2026-02-01"))
    page.click("#create-campaign")
    expect(page.locator("#problems li")).to_have_text(["ends: before starts"])
    page.fill("#campaign-text", FILE)
    page.click("#create-campaign")
    page.wait_for_url(f"{live_server}/outreach/campaigns/*")
    rows = page.locator("#leaderboard tbody tr")
    expect(rows).to_have_count(3)
    assert [rows.nth(i).inner_text().split("\t") for i in range(3)] == [
        ["Glow", "1", "nyc", "10,700"],
        ["Glow", "2", "bkk", "8,825"],
        ["Spark", "1", "low", "4,000"],
    ]
    page.click("a:has-text('Spark')")
    expect(rows).to_have_count(1)
    screenshot(page, "campaign-leaderboard")
    with page.expect_download() as download:
        page.click("a:has-text('CSV')")
    path = download.value.path()
    assert path is not None
    with open(path, encoding="utf-8") as handle:
        assert handle.read().splitlines() == [
            "League,Rank,Creator,Points",
            "Glow,1,nyc,10700",
            "Glow,2,bkk,8825",
            "Spark,1,low,4000",
        ]


def test_the_creator_sees_their_own_rank(omd: Matchdesk) -> None:
    from datetime import date

    from matchdesk.outreach.campaigns import create_from_text

    setup(omd)
    with omd.transaction() as session:
        create_from_text(session, FILE, today=date(2026, 12, 1), actor="t")
        token = issue_portal_link(session, omd.settings, "bkk").url.rsplit("/", 1)[1]
    client = TestClient(create_app(omd))
    page = client.get(f"/portal/{token}/campaigns")
    assert page.status_code == 200
    assert "<td>Spring push</td>" in page.text
    assert '<td class="number">2 of 2</td>' in page.text
    assert '<td class="number">8,825</td>' in page.text
