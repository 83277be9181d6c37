"""The tier review page: proposals with their figures, a manager applies a selection
(CSRF checked), a viewer only reads; the same in Chromium (check two of three, apply)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.results.models import TierMove
from matchdesk.roster.models import Creator
from matchdesk.rounds.period import program_today
from tests.results.test_tier_review import add, plant
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]


@pytest.fixture(autouse=True)
def _held_clock(hold_clock: Callable[[datetime], datetime]) -> None:
    """The program's clock held at Wednesday 9 December 2026, 12:10 in Los Angeles, for
    the test's reviewed Sundays and the page's alike (on the real clock the test's reading
    just before Monday 00:00 there and the page's just after it reviewed another pair of
    weeks, and none of the planted moves was proposed)."""
    hold_clock(datetime(2026, 12, 9, 20, 10, tzinfo=UTC))


def _three_proposed(md: Matchdesk) -> list[date]:
    """amy, bob and cyd (B) have held A's revenue for the last two complete weeks; dan (A)
    stays. Returns the two reviewed Sundays."""
    today = program_today(md.program.program.timezone)
    last_sunday = today - timedelta(days=today.weekday() + 1)
    first = last_sunday - timedelta(weeks=1)
    for handle, revenue in (("amy", 21_000), ("bob", 25_000), ("cyd", 30_000)):
        plant(md, add(md, handle, "B", email=f"{handle}@example.com"), first, [revenue, revenue])
    plant(md, add(md, "dan", "A"), first, [30_000, 30_000])
    return [first, last_sunday]


def _rows(html: str) -> list[list[str]]:
    body = html.split('<table class="tier-moves">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-handle="[^"]+">(.*?)</tr>', body, re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows
    ]


def _tiers(md: Matchdesk) -> dict[str, str | None]:
    with md.transaction() as session:
        return dict(session.execute(select(Creator.handle, Creator.tier)).all())


def test_the_page_lists_proposals_and_applies_a_selection(md: Matchdesk, client_as: Client) -> None:
    sundays = _three_proposed(md)
    assert sundays == [date(2026, 11, 29), date(2026, 12, 6)]
    viewer = client_as("viewer").get("/tiers/review")
    assert viewer.status_code == 200
    assert 'type="checkbox"' not in viewer.text  # a viewer reads only
    assert _rows(viewer.text) == [
        ["amy", "B", "A (up)", "21,000", "21,000", "20,000 diamonds", "1,000"],
        ["bob", "B", "A (up)", "25,000", "25,000", "20,000 diamonds", "1,000"],
        ["cyd", "B", "A (up)", "30,000", "30,000", "20,000 diamonds", "1,000"],
    ]
    assert f"30 days to {sundays[1].strftime('%d %b')}" in viewer.text

    manager = client_as("manager")
    page = manager.get("/tiers/review")
    assert _rows(page.text)[0][0] == ""  # the checkbox cell
    token = csrf_of(page.text)
    forged = manager.post("/tiers/review", data={"handle": ["amy"], "csrf_token": "forged"})
    assert forged.status_code == 403
    none = manager.post("/tiers/review", data={"csrf_token": token})
    assert none.status_code == 422
    assert "Check at least one tier move to apply." in none.text
    applied = manager.post("/tiers/review", data={"handle": ["amy", "cyd"], "csrf_token": token})
    assert applied.status_code == 200
    assert "Applied 2 tier moves" in applied.text
    assert [r[1] for r in _rows(applied.text)] == ["bob"]
    assert _tiers(md) == {"amy": "A", "bob": "B", "cyd": "A", "dan": "A"}
    with md.transaction() as session:
        assert list(session.scalars(select(TierMove.applied_by).order_by(TierMove.id))) == [
            "operator:manager@example.com",
            "operator:manager@example.com",
        ]
        assert sorted(session.scalars(select(OutboxMessage.recipient))) == [
            "amy@example.com",
            "cyd@example.com",
        ]
    # amy's move is no longer proposed: applying it again refuses, nothing changes.
    again = manager.post("/tiers/review", data={"handle": ["amy", "bob"], "csrf_token": token})
    assert again.status_code == 422
    assert "handle amy: not proposed" in again.text
    assert _tiers(md)["bob"] == "B"


def test_apply_two_of_three_in_chromium(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    from tests.web.conftest import PASSWORD, screenshot

    _three_proposed(md)
    page.goto(live_server + "/results")
    page.fill("input[name=email]", operators["manager"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(live_server + "/results")
    page.click("#tier-review-link")
    page.wait_for_url(live_server + "/tiers/review")
    assert page.locator("#proposals tbody tr").count() == 3
    page.check('input[aria-label="Apply amy\'s move"]')
    page.check('input[aria-label="Apply bob\'s move"]')
    screenshot(page, "tier-review")
    page.click("button:has-text('Apply the checked moves')")
    assert page.inner_text("#applied h2") == "Applied 2 tier moves"
    assert page.inner_text("#applied ul") == "amy: B → A\nbob: B → A"
    assert page.locator("#proposals tbody tr").count() == 1
    assert page.inner_text("#proposals tbody tr td:nth-child(2)") == "cyd"
    assert _tiers(md) == {"amy": "A", "bob": "A", "cyd": "B", "dan": "A"}


def _tier_tile(html: str) -> str:
    found = re.search(r'<a class="tile[^"]*" id="attention-tiers"[^>]*>.*?</a>', html, re.S)
    assert found is not None
    return found.group(0)


def test_the_dashboard_counts_the_moves_to_review_and_links_to_the_review(
    md: Matchdesk, client_as: Client
) -> None:
    _three_proposed(md)
    manager = client_as("manager")
    assert _tier_tile(manager.get("/").text) == (
        '<a class="tile warn" id="attention-tiers" href="/tiers/review">'
        '<span class="figure">3</span><span>tier moves to review</span></a>'
    )
    token = csrf_of(manager.get("/tiers/review").text)
    applied = manager.post("/tiers/review", data={"handle": ["amy", "cyd"], "csrf_token": token})
    assert applied.status_code == 200
    # The applied moves change the roster's version: the cached count follows at once.
    assert '<span class="figure">1</span>' in _tier_tile(manager.get("/").text)
    manager.post("/tiers/review", data={"handle": ["bob"], "csrf_token": token})
    assert _tier_tile(manager.get("/").text) == (
        '<a class="tile" id="attention-tiers" href="/tiers/review">'
        '<span class="figure">0</span><span>tier moves to review</span></a>'
    )
