"""The Results page, the results API and the creator page's revenue source (both
backends), and an import through the page in Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from matchdesk.accounts.service import create_token
from matchdesk.context import Matchdesk
from matchdesk.results.models import LiveSession
from tests.results.samples import add_creators, count, csv, ledger, sessions
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]
BAD = csv("luna,2026-03-02T19:00:00,60,1200,,,,", "ghost,2026-03-02T20:00:00Z,0,5,,,,tie")
GOOD = csv("luna,2026-03-02T19:00:00Z,60,1200,340,12,,", "zed_99,2026-03-02T20:00:00Z,30,50,,,,")


def _cells(html: str, table: str) -> list[list[str]]:
    body = html.split(f'<table class="{table}">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", r, re.S)]
        for r in rows
    ]


def test_an_empty_results_page_says_how_to_fill_it(client_as: Client) -> None:
    viewer = client_as("viewer").get("/results")
    assert viewer.status_code == 200
    assert "No results yet." in viewer.text
    assert 'action="/results"' not in viewer.text  # a viewer cannot import
    assert 'action="/results"' in client_as("manager").get("/results").text


def test_upload_shows_every_problem_then_a_preview_then_imports(
    md: Matchdesk, client_as: Client
) -> None:
    add_creators(md, "luna", "zed_99")
    client = client_as("manager")
    token = csrf_of(client.get("/results").text)
    checked = client.post(
        "/results", data={"csrf_token": token}, files={"file": ("week.csv", BAD, "text/csv")}
    )
    assert checked.status_code == 422
    assert "week.csv: 4 problems found; nothing was imported" in checked.text
    assert _cells(checked.text, "problems") == [
        [
            "2",
            "started_at",
            "&#39;2026-03-02T19:00:00&#39; has no UTC offset; add one or Z "
            "(e.g. 2026-03-02T19:00:00Z), a time alone is ambiguous",
        ],
        ["3", "handle", "&#39;ghost&#39; is not on the roster"],
        ["3", "duration_minutes", "&#39;0&#39; minutes is out of range (1 to 1440)"],
        ["3", "outcome", "&#39;tie&#39; is not an outcome (use win, loss or draw)"],
    ]
    checked = client.post(
        "/results", data={"csrf_token": token}, files={"file": ("week.csv", GOOD, "text/csv")}
    )
    assert checked.status_code == 200
    assert "2 new, 0 updated, 0 unchanged; 0 linked to a match" in checked.text
    # The program's zone is America/Los_Angeles: 19:00Z is 11:00 PST.
    assert _cells(checked.text, "preview") == [
        ["2", "@luna", "Mon 02 Mar 2026, 11:00", "60", "1,200", "", "new"],
        ["3", "@zed_99", "Mon 02 Mar 2026, 12:00", "30", "50", "", "new"],
    ]
    assert count(md, LiveSession) == 0
    upload_id = re.search(r'name="upload_id" value="([^"]+)"', checked.text).group(1)  # type: ignore[union-attr]
    done = client.post("/results/confirm", data={"csrf_token": token, "upload_id": upload_id})
    assert done.status_code == 200
    assert "Imported 2 sessions from week.csv" in done.text
    assert _cells(done.text, "sessions") == [
        ["@zed_99", "Mon 02 Mar 2026, 12:00", "30", "50", "", ""],
        ["@luna", "Mon 02 Mar 2026, 11:00", "60", "1,200", "", ""],
    ]
    assert ledger(md, "luna") == [("2026-03-02", 1, 60, 1200, 12, 0)]
    again = client.post("/results/confirm", data={"csrf_token": token, "upload_id": upload_id})
    # Issue 13, defect 15: "already imported", not "no longer available".
    assert again.status_code == 409
    assert re.search(
        r"week\.csv was already imported, on \d{4}-\d\d-\d\d at \d\d:\d\d UTC by "
        r"manager@example\.com; nothing was imported again\.",
        again.text,
    )


def test_the_creator_page_says_where_its_revenue_comes_from(
    md: Matchdesk, client_as: Client
) -> None:
    add_creators(md, "luna", "zed_99")
    client = client_as("viewer")
    assert "from the roster file (no session results yet)" in client.get("/creators/luna").text
    with md.transaction() as session:
        from matchdesk.results.service import import_results

        import_results(session, md.program, GOOD, "r.csv", actor="test")
    page = client.get("/creators/luna").text
    assert "from imported session results (the last 30 program days)" in page


def test_the_api_imports_rows_with_the_same_checks(web: Any, md: Matchdesk) -> None:
    add_creators(md, "luna")
    with md.transaction() as session:
        token = create_token(session, "results script", "manager").token
    api = TestClient(web, headers={"Authorization": f"Bearer {token}"})
    row = {"handle": "luna", "started_at": "2026-03-02T19:00:00Z", "duration_minutes": 60}
    refused = api.post("/api/v1/results", json={"rows": [{**row, "diamonds": -1, "colour": "x"}]})
    assert refused.status_code == 422
    assert refused.json() == {
        "error": {
            "code": "invalid_input",
            "message": "the rows: 2 problems found; nothing was imported",
            "details": [
                "row 1, column diamonds: '-1' is negative; it must be 0 or more",
                "row 1, column colour: unknown column (known columns: handle, started_at, "
                "duration_minutes, diamonds, viewers_peak, new_followers, match_id, outcome)",
            ],
        }
    }
    dry = api.post("/api/v1/results", json={"rows": [{**row, "diamonds": 5}], "dry_run": True})
    assert dry.json() == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "linked": 0,
        "matches_completed": 0,
        "dry_run": True,
    }
    assert count(md, LiveSession) == 0
    done = api.post("/api/v1/results", json={"rows": [{**row, "diamonds": "1,500"}]})
    assert (done.status_code, done.json()["created"]) == (200, 1)
    assert sessions(md) == [("luna", "2026-03-02T19:00Z", 60, 1500, None, None)]


def test_import_through_the_page_in_chromium(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk, tmp_path: Path
) -> None:
    from tests.web.conftest import PASSWORD, screenshot

    add_creators(md, "luna", "zed_99")
    page.goto(live_server + "/results")
    page.fill("input[name=email]", operators["manager"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(live_server + "/results")
    file = tmp_path / "week.csv"
    file.write_bytes(BAD)
    page.set_input_files("input[type=file]", str(file))
    page.click("button:has-text('Check file')")
    rows = page.locator("#problems tbody tr")
    assert rows.count() == 4
    assert rows.nth(1).inner_text().split("\t") == [
        "3",
        "handle",
        "'ghost' is not on the roster",
    ]
    screenshot(page, "results-problems")
    file.write_bytes(GOOD)
    page.set_input_files("input[type=file]", str(file))
    page.click("button:has-text('Check file')")
    assert page.locator("#preview table.preview tbody tr").count() == 2
    page.click("button:has-text('Import 2 sessions')")
    assert page.inner_text("#imported h2") == "Imported 2 sessions from week.csv"
    assert page.locator("#latest tbody tr").count() == 2
    screenshot(page, "results")
    assert ledger(md, "zed_99") == [("2026-03-02", 1, 30, 50, 0, 0)]
