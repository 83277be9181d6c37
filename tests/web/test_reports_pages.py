"""The report pages, their exports and charts, the report API and the creator's own
report in the portal (both backends; Chromium for the charts)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link
from tests.results.test_reports import _program
from tests.web.conftest import PASSWORD

Q = "from=2026-03-04&to=2026-03-10"


def test_api_documents(md: Matchdesk, client_as: Callable[[str | None], TestClient]) -> None:
    _program(md)
    viewer = client_as("viewer")
    answer = viewer.get(f"/api/v1/reports/program?{Q}")
    assert answer.status_code == 200
    assert answer.json()["weeks"][1] == {
        "week_start": "2026-03-09",
        "sessions": 3,
        "live_minutes": 145,
        "diamonds": 5027,
        "creators_live": 2,
    }
    assert list(answer.json()) == ["from", "to", "weeks", "tiers"]
    answer = viewer.get(f"/api/v1/reports/creators/@LUNA?{Q}")
    assert answer.status_code == 200
    assert answer.json() == {
        "handle": "luna",
        "from": "2026-03-04",
        "to": "2026-03-10",
        "sessions": 5,
        "live_minutes": 305,
        "diamonds": 730,
        "days_live": 5,
        "matches_completed": 1,
        "match_diamonds": 400,
        "uplift": None,
    }
    missing = viewer.get(f"/api/v1/reports/creators/nobody?{Q}")
    assert (missing.status_code, missing.json()["error"]["message"]) == (
        404,
        "No creator with handle 'nobody'.",
    )
    bad = viewer.get("/api/v1/reports/program?from=2026-03-10&to=2026-03-04")
    assert (bad.status_code, bad.json()["error"]["details"]) == (
        422,
        ["from: 2026-03-10 is after to: 2026-03-04"],
    )


def test_program_page_and_exports(
    md: Matchdesk, client_as: Callable[[str | None], TestClient]
) -> None:
    _program(md)
    viewer = client_as("viewer")
    page = viewer.get(f"/reports?{Q}")
    assert page.status_code == 200
    assert 'data-chart="chart-diamonds"' in page.text
    assert "<script>" not in page.text  # no inline script (CSP)
    csv = viewer.get(f"/reports/export/weeks.csv?{Q}")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv.text == (
        "week from,sessions,LIVE hours,diamonds,creators live\n"
        "2026-03-02,5,5.3,1010,2\n"
        "2026-03-09,3,2.4,5027,2\n"
    )
    xlsx = viewer.get(f"/reports/export/weeks.xlsx?{Q}")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [
        ("week from", "sessions", "LIVE hours", "diamonds", "creators live"),
        (datetime(2026, 3, 2), 5, 5.3, 1010, 2),
        (datetime(2026, 3, 9), 3, 2.4, 5027, 2),
    ]
    assert sheet["A2"].is_date
    assert sheet["B2"].data_type == "n"
    svg = viewer.get(f"/reports/charts/diamonds.svg?{Q}")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg")
    assert svg.text.count('aria-roledescription="bar"') == 2  # one bar a week
    png = viewer.get(f"/reports/charts/hours.png?{Q}")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert viewer.get(f"/reports/export/nothing.csv?{Q}").status_code == 404


def test_creator_page_and_exports(
    md: Matchdesk, client_as: Callable[[str | None], TestClient]
) -> None:
    _program(md)
    viewer = client_as("viewer")
    page = viewer.get(f"/reports/creators/luna?{Q}")
    assert page.status_code == 200
    assert "Invited to 1 matches: confirmed 0, declined 0, no-show 0." in page.text
    assert "Tier B. Next tier A: 18,270 diamonds (30 days) and 0 followers to go." in page.text
    csv = viewer.get(f"/reports/creators/luna/export/matches.csv?{Q}")
    assert csv.text.splitlines()[1:] == [
        f"{_match_id(md)},2026-03-06T20:00:00,sol,completed,400,win,"
    ]
    days = viewer.get(f"/reports/creators/luna/export/days.csv?{Q}").text.splitlines()
    assert days == [
        "day,sessions,LIVE minutes,diamonds,new followers,match sessions",
        "2026-03-04,1,120,100,0,0",
        "2026-03-05,1,30,200,0,0",
        "2026-03-06,1,50,400,0,1",
        "2026-03-07,1,60,10,0,0",
        "2026-03-09,1,45,20,0,0",
    ]
    assert viewer.get(f"/reports/creators/nobody?{Q}").status_code == 404


def test_the_program_page_compares_with_the_previous_period(
    md: Matchdesk, client_as: Callable[[str | None], TestClient]
) -> None:
    _program(md)
    viewer = client_as("viewer")
    page = viewer.get(f"/reports?{Q}").text
    assert "2026-03-04 to 2026-03-10, program days (America/Los_Angeles), compared with " in page
    assert "compared with 2026-02-25 to 2026-03-03." in page
    # The previous 7 days hold luna's session of 00:30 PST on 2026-03-03 alone.
    assert (
        '<div class="tile"><span class="figure">6,037</span>'
        "<span>diamonds (previous 1,000, +503.7%)</span></div>" in page
    )
    assert viewer.get(f"/reports/export/totals.csv?{Q}").text.splitlines() == [
        "figure,this period,previous period,change",
        "diamonds,6037,1000,5.037",
        "sessions,8,1,7.0",
        "LIVE hours,7.8,1.0,6.75",
        "creators live,2,1,1.0",
    ]
    # The one round (no tier: "all") from 2026-03-05, its match held by both.
    assert viewer.get(f"/reports/export/rounds.csv?{Q}").text.splitlines()[1:] == [
        f"{_round_of(md, _match_id(md))},weekly,all,2026-03-05,1,1,1.0,0.0,0.0"
    ]
    assert viewer.get(f"/reports/export/movers.csv?{Q}").text.splitlines()[1:] == [
        "sol,A,5307,0,5307,",
        "luna,B,730,1000,-270,-0.27",
    ]
    assert viewer.get(f"/reports/export/tiers.csv?{Q}").text.splitlines() == [
        "week from,tier,creators live",
        "2026-03-02,A,1",
        "2026-03-02,B,1",
        "2026-03-09,A,1",
        "2026-03-09,B,1",
    ]
    # One match: too few creators for a tier's difference-in-differences.
    assert viewer.get(f"/reports/export/uplift.csv?{Q}").text.splitlines()[1:] == [
        "S,,,,0,0",
        "A,,,,0,0",
        "B,,,,0,0",
    ]
    # The round has no tier: a row for each weekly tier (no pre-period: nobody counted).
    assert viewer.get(f"/reports/export/round_uplift.csv?{Q}").text.splitlines() == [
        "round,cadence,period from,tier,uplift,low,high,matched,control",
        f"{_round_of(md, _match_id(md))},weekly,2026-03-05,A,,,,0,0",
        f"{_round_of(md, _match_id(md))},weekly,2026-03-05,B,,,,0,0",
    ]


def _report_links(html: str) -> list[str]:
    """The page's export and chart links, sorted."""
    links = {h.replace("&amp;", "&") for h in re.findall(r'href="(/reports[^"]*)"', html)}
    return sorted(link for link in links if "/export/" in link or "/charts/" in link)


def test_every_table_exports_and_every_chart_renders_from_the_pages_links(
    md: Matchdesk, client_as: Callable[[str | None], TestClient]
) -> None:
    _program(md)
    viewer = client_as("viewer")
    tables = ("dark", "movers", "round_uplift", "rounds", "tiers", "totals", "uplift", "weeks")
    program = _report_links(viewer.get(f"/reports?{Q}").text)
    assert [link for link in program if "/export/" in link] == [
        f"/reports/export/{table}.{fmt}?{Q}" for table in tables for fmt in ("csv", "xlsx")
    ]
    assert [link for link in program if "/charts/" in link] == [
        f"/reports/charts/{chart}.{fmt}?{Q}"
        for chart in ("diamonds", "hours", "tiers")
        for fmt in ("png", "svg")
    ]
    creator = _report_links(viewer.get(f"/reports/creators/luna?{Q}").text)
    assert creator == [
        *(f"/reports/creators/luna/charts/days.{fmt}?{Q}" for fmt in ("png", "svg")),
        *(
            f"/reports/creators/luna/export/{table}.{fmt}?{Q}"
            for table in ("days", "matches")
            for fmt in ("csv", "xlsx")
        ),
    ]
    media = {"csv": "text/csv; charset=utf-8", "png": "image/png", "svg": "image/svg+xml"}
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    for link in [*program, *creator]:
        answer = viewer.get(link)
        fmt = link.split("?", 1)[0].rsplit(".", 1)[1]
        assert (link, answer.status_code, answer.headers["content-type"]) == (
            link,
            200,
            media.get(fmt, xlsx),
        )
        if fmt == "xlsx":
            # The same table as the CSV beside it: the same header, one row a CSV line.
            sheet = load_workbook(io.BytesIO(answer.content)).active
            assert sheet is not None
            rows = list(sheet.iter_rows(values_only=True))
            lines = viewer.get(link.replace(".xlsx?", ".csv?")).text.splitlines()
            assert (link, ",".join(str(c) for c in rows[0]), len(rows)) == (
                link,
                lines[0],
                len(lines),
            )
    svg = viewer.get(f"/reports/creators/luna/charts/days.svg?{Q}").text
    assert svg.count('aria-roledescription="point"') == 5  # a point a day live
    assert viewer.get(f"/reports/creators/luna/charts/nothing.svg?{Q}").status_code == 404
    assert viewer.get(f"/reports/creators/nobody/charts/days.svg?{Q}").status_code == 404


def _match_id(md: Matchdesk) -> int:
    from sqlalchemy import select

    from matchdesk.rounds.models import Match

    with md.transaction() as session:
        return int(session.scalars(select(Match.id)).one())


def test_portal_shows_the_creator_their_own_report_only(
    md: Matchdesk, client_as: Callable[[str | None], TestClient]
) -> None:
    _program(md)
    with md.transaction() as session:
        luna = issue_portal_link(session, md.settings, "luna").url.rsplit("/", 1)[1]
    anonymous = client_as(None)
    page = anonymous.get(f"/portal/{luna}/report?{Q}")
    assert page.status_code == 200
    assert "Your report" in page.text
    assert '<span class="figure" id="fig-diamonds">730</span>' in page.text
    assert "sol," not in page.text
    assert "/reports/creators" not in page.text
    assert anonymous.get(f"/portal/not-a-token/report?{Q}").status_code == 403


def test_browser_draws_the_charts_and_exports(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    _program(md)
    page.goto(live_server + f"/reports?{Q}")
    page.fill("input[name=email]", operators["viewer"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(live_server + f"/reports?{Q}")
    for name in ("diamonds", "hours", "tiers"):
        page.wait_for_selector(f"#chart-{name}[data-drawn]", state="attached")
    assert page.get_attribute("#chart-diamonds", "data-drawn") == "2"
    assert page.locator("#chart-diamonds g.mark-rect.role-mark path").count() == 2  # a bar a week
    assert page.locator("#chart-hours g.mark-symbol.role-mark path").count() == 2  # a point a week
    assert page.locator("#chart-tiers g.mark-rect.role-mark path").count() == 4  # 2 weeks x 2 tiers
    with page.expect_download() as download:
        page.click("#table-weeks a:has-text('CSV')")
    assert download.value.suggested_filename == "program-weeks-2026-03-04-2026-03-10.csv"
    page.goto(live_server + f"/reports/creators/luna?{Q}")
    page.wait_for_selector("#chart-days[data-drawn]", state="attached")
    assert page.get_attribute("#chart-days", "data-drawn") == "5"
    assert (
        page.locator("#chart-days g.mark-symbol.role-mark path").count() == 5
    )  # a point a day live
    with page.expect_download() as download:
        page.click("#table-days a:has-text('XLSX')")
    assert download.value.suggested_filename == "luna-days-2026-03-04-2026-03-10.xlsx"


__all__ = ["date"]


def test_dashboard_lists_what_needs_attention(
    md: Matchdesk,
    client_as: Callable[[str | None], TestClient],
    hold_clock: Callable[[datetime], datetime],
) -> None:
    _program(md)
    from tests.results.samples import add_creators, add_match

    add_creators(md, "mira", "nova")
    # Its round runs from 2026-03-11 20:00 to 03-18 20:00 UTC; the match is past, nobody
    # answered, no session: unanswered and missing results.
    late = add_match(md, "mira", "nova", datetime(2026, 3, 12, 20, 0, tzinfo=UTC))
    hold_clock(datetime(2026, 3, 14, 20, 0, tzinfo=UTC))  # Saturday 14th, 13:00 in LA
    page = client_as("viewer").get("/")
    assert page.status_code == 200
    html = page.text
    round_id = _round_of(md, late)
    # luna and sol's round (2026-03-05 to 03-12) is over: still published (nothing closes
    # a round), but no longer open.
    assert html.count('id="attention-round-') == 1
    assert (
        f'id="attention-round-{round_id}" href="/rounds/{round_id}">\n'
        '      <span class="figure">1</span>\n'
        "      <span>unanswered invitations · 0 declined · 0 byes" in html
    )
    # luna and sol were last live on 2026-03-09 and 2026-03-11: none in 03-12 to 03-14.
    assert (
        '<a class="tile warn" id="attention-dark" href="/reports#dark">'
        '<span class="figure">2</span>' in html
    )
    assert (
        '<a class="tile warn" id="attention-results" href="/results">'
        '<span class="figure">1</span>' in html
    )


def _round_of(md: Matchdesk, match_id: int) -> int:
    from matchdesk.rounds.models import Match

    with md.transaction() as session:
        match = session.get(Match, match_id)
        assert match is not None
        return match.round_id
