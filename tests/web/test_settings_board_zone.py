"""The board in the operator's zone (UTC on hover) with readable scores, and the round's
score explained (SQLite and PostgreSQL; Chromium at 1366 and 390 px)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.accounts.models import Operator
from matchdesk.accounts.preferences import set_display_zone
from matchdesk.context import Matchdesk
from matchdesk.rounds.models import Match
from matchdesk.rounds.service import aware, build_round
from tests.web.conftest import screenshot
from tests.web.test_rounds_pages import add_creators, monday

Client = Callable[[str | None], TestClient]


def _round(md: Matchdesk) -> tuple[int, Match]:
    add_creators(md)
    with md.transaction() as session:
        round_ = build_round(session, md.program, cadence="weekly", start=monday(), actor="test")
        session.flush()
        first = session.scalars(
            select(Match).where(Match.round_id == round_.id).order_by(Match.id)
        ).first()
        assert first is not None
        return round_.id, first


def _zone(md: Matchdesk, email: str, zone: str) -> None:
    with md.transaction() as session:
        operator = session.scalars(select(Operator).where(Operator.email == email)).one()
        set_display_zone(session, operator.id, zone)


def test_board_times_in_the_operators_zone_and_scores_in_words(
    md: Matchdesk, client_as: Client, operators: dict[str, str]
) -> None:
    round_id, match = _round(md)
    _zone(md, operators["viewer"], "Asia/Kolkata")
    html = client_as("viewer").get(f"/rounds/{round_id}").text
    starts = aware(match.starts_at)
    local = starts.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%a %d %b %H:%M")
    utc = starts.strftime("%a %d %b %H:%M")
    assert '<th>Start <span class="tz">Asia/Kolkata</span></th>' in html
    assert f'title="{utc} UTC">{local}</time>' in html
    row = html.split(f'id="match-{match.id}"', 1)[1].split("</tr>", 1)[0]
    words = re.sub(r"<[^>]+>", "", row.split('class="parts"', 1)[1]).split()
    # Six English creators alike (same revenue and followers), all on Monday 18:00-22:00 UTC.
    assert " ".join(words).startswith(
        "> revenue fit 1.00 audience fit 1.00 both evenings never met no recent byes"
    )
    assert row.count("<meter ") == 5
    assert 'aria-label="revenue fit"' in row
    # The manager has chosen nothing: the program's zone.
    other = client_as("manager").get(f"/rounds/{round_id}").text
    assert '<th>Start <span class="tz">America/Los_Angeles</span></th>' in other
    explained = re.search(r'<p class="hint" id="score-explained">(.*?)</p>', html, re.S)
    assert explained is not None
    text = " ".join(explained.group(1).split()).replace("&#39;", "'")
    assert text.startswith(
        "Each match scores from 0 to 1, weighing revenue fit 35%, audience fit 25%, a slot in "
        "both creators' evenings 20%, a pair that has not met recently 10%, creators with "
        "recent byes 10%. "
    )
    assert "no pairing of this pool can score more than" in text


@pytest.mark.parametrize("width", [1366, 390])
def test_board_zone_in_chromium(
    browser: Any, live_server: str, md: Matchdesk, operators: dict[str, str], width: int
) -> None:
    round_id, match = _round(md)
    _zone(md, operators["manager"], "Europe/Berlin")
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", operators["manager"])
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/rounds/{round_id}")
        cell = page.locator(f"#match-{match.id} time")
        starts = aware(match.starts_at)
        assert cell.inner_text() == starts.astimezone(ZoneInfo("Europe/Berlin")).strftime(
            "%a %d %b %H:%M"
        )
        assert cell.get_attribute("title") == starts.strftime("%a %d %b %H:%M") + " UTC"
        assert page.locator(f"#match-{match.id} meter").count() == 5
        screenshot(page, f"board-zone-{width}")
    finally:
        context.close()
