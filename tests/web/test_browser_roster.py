"""The roster in a real browser: sign in, import with mistakes, fix, import, filter, open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from matchdesk.context import Matchdesk
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.service import save_records
from tests.web.conftest import PASSWORD, screenshot

BAD = (
    "handle,timezone,languages,followers,revenue_30d,availability,blocked\n"
    "luna.star,Asia/Kolkata,hi;en,12.5k,250000,Mon 19:00-23:00,\n"
    "zed_99,Mars/Base,en,-4,100,Fri 22:00-02:00,nobody\n"
)
GOOD = BAD.replace("Mars/Base,en,-4,100,Fri 22:00-02:00,nobody", "UTC,en,40,100,Fri 22:00-02:00,")


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/creators")
    assert page.url.startswith(base + "/login?next=/creators")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(base + "/creators")


def test_import_with_mistakes_then_fixed_then_filter_and_open(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk, tmp_path: Path
) -> None:
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(120, seed=8))
    sign_in(page, live_server, operators["manager"])
    assert page.text_content("#total") == "120"
    screenshot(page, "creators")
    page.goto(live_server + "/")
    assert page.inner_text(".tile .figure >> nth=0") == "120"
    screenshot(page, "dashboard")
    page.goto(live_server + "/settings")
    assert page.inner_text("#program h2") == "Program: LIVE Match Program"
    screenshot(page, "settings")
    page.goto(live_server + "/creators")

    page.click("text=Import")
    bad = tmp_path / "roster.csv"
    bad.write_text(BAD)
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Check file')")
    rows = page.locator("#problems tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).inner_text().split("\t") for i in range(3)] == [
        [
            "3",
            "timezone",
            "unknown time zone 'Mars/Base' (use an IANA name such as America/New_York)",
        ],
        ["3", "followers", "'-4' is negative; it must be 0 or more"],
        ["3", "blocked", "'nobody' is not on the roster or in this file"],
    ]
    screenshot(page, "import-problems")

    bad.write_text(GOOD)
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Check file')")
    assert "2 new, 0 updated, 0 unchanged" in page.inner_text("#preview")
    page.click("button:has-text('Import 2 creators')")
    assert page.inner_text("h2") == "Imported 2 creators from roster.csv"

    page.goto(live_server + "/creators")
    page.select_option("select[name=tier]", "S")
    page.fill("input[name=q]", "luna.star")  # "luna" is inside another tier S handle too
    # expect() rather than wait_for_function("..."): a string predicate is eval-ed, which the
    # Content-Security-Policy refuses.
    expect(page.locator("#total")).to_have_text("1", timeout=60_000)
    assert "tier=S" in page.url
    page.click("a:has-text('@luna.star')")
    page.wait_for_url(live_server + "/creators/luna.star")
    assert page.inner_text("h1").startswith("@luna.star")
    assert "Mon 19:00–23:00" in page.inner_text(".windows")
    assert "operator:manager@example.com: roster imported" not in page.inner_text(
        ".timeline, .empty"
    )
    screenshot(page, "creator")


def test_leaving_the_search_box_sends_no_second_search(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    """The search box's own `change` (fired when it loses focus, e.g. on the mousedown of a
    click on a creator's link) must not send the filter again: the answer's pushState would
    cancel the navigation the click started (a failure seen in CI)."""
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(30, seed=8))
    sign_in(page, live_server, operators["manager"])
    page.fill("input[name=q]", "a")
    expect(page).to_have_url(
        live_server + "/creators?q=a&tier=&region=&language=&status=&sort=handle"
    )
    sent: list[str] = []
    # the roster's own requests only (the browser may fetch the favicon at any moment)
    page.on(
        "request",
        lambda request: sent.append(request.url) if "/creators" in request.url else None,
    )
    page.dispatch_event("input[name=q]", "change")  # what a blur after typing fires
    with page.expect_response(lambda response: "status=active" in response.url):
        page.select_option("select[name=status]", "active")
    assert [url.removeprefix(live_server) for url in sent] == [
        "/creators?q=a&tier=&region=&language=&status=active&sort=handle"
    ]
