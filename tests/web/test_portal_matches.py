"""A creator's matches in the portal: shown in their own time zone, confirmed or declined
through their link, and nobody else's (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.portal.links import issue_portal_link, open_portal
from matchdesk.roster.editing import create_creator
from matchdesk.rounds.board import Edit
from matchdesk.rounds.lifecycle import publish
from matchdesk.rounds.models import Bye, Match
from matchdesk.rounds.period import next_start
from matchdesk.rounds.service import aware, build_round, get_round
from tests.web.conftest import csrf_of

# ann and ben can only meet each other (Monday evening UTC), cat and dan likewise (Tuesday).
CREATORS = {
    "ann": ("Asia/Kolkata", "Mon 23:30-03:30"),  # 18:00-22:00 UTC
    "ben": ("UTC", "Mon 18:00-22:00"),
    "cat": ("UTC", "Tue 18:00-22:00"),
    "dan": ("UTC", "Tue 18:00-22:00"),
}


@pytest.fixture
def world(md: Matchdesk, web: Any) -> dict[str, Any]:
    """A published round with ann x ben and cat x dan; each creator's portal path."""
    with md.transaction() as session:
        for handle, (timezone, availability) in CREATORS.items():
            fields = {
                "handle": handle,
                "email": f"{handle}@example.com",
                "timezone": timezone,
                "languages": "en",
                "followers": "1000",
                "revenue_30d": "100",
                "availability": availability,
            }
            create_creator(session, md.program, fields, "test")
        round_ = build_round(
            session,
            md.program,
            cadence="weekly",
            start=next_start("weekly", date.today()),
            actor="t",
        )
        session.flush()
        publish(session, md.settings, md.program, round_.id, Edit("t", None))
        matches = {
            frozenset((m.creator_a_id, m.creator_b_id)): m
            for m in session.scalars(select(Match).where(Match.round_id == round_.id))
        }
        assert len(matches) == 2
        links = {
            h: issue_portal_link(session, md.settings, h).url.removeprefix(md.settings.public_url())
            for h in CREATORS
        }
        ann_match = next(m for m in matches.values() if m.starts_at.weekday() == 0)
        cat_match = next(m for m in matches.values() if m.starts_at.weekday() == 1)
        return {
            "round_id": round_.id,
            "links": links,
            "ann_match": ann_match.id,
            "cat_match": cat_match.id,
            "monday": ann_match.starts_at,
        }


def answer(client: TestClient, link: str, match_id: int, what: str) -> Any:
    page = client.get(link).text
    return client.post(
        f"{link}/matches/{match_id}/{what}",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=False,
    )


def test_the_portal_lists_the_creators_own_match_in_their_time_zone(
    web: Any, world: dict[str, Any]
) -> None:
    html = TestClient(web).get(world["links"]["ann"]).text
    # Kolkata is UTC+05:30: a start between 18:00 and 21:00 UTC is 23:30 to 02:30 there.
    local = aware(world["monday"]).astimezone(ZoneInfo("Asia/Kolkata"))
    end = local + timedelta(hours=1)
    expected = f"{local:%a} {local.day} {local:%b %Y, %H:%M}–{end:%H:%M}"
    assert local.minute == 30
    assert f'<span class="when">{expected}</span>' in html
    assert '<strong class="partner">@ben</strong>' in html
    assert f'id="portal-match-{world["ann_match"]}"' in html
    assert f'id="portal-match-{world["cat_match"]}"' not in html
    assert "@cat" not in html
    assert "@dan" not in html
    assert "your answer: pending" in html
    assert html.count('class="primary">Confirm</button>') == 1


def test_confirm_then_both_confirmed(md: Matchdesk, web: Any, world: dict[str, Any]) -> None:
    client = TestClient(web)
    links, mid = world["links"], world["ann_match"]
    response = answer(client, links["ann"], mid, "confirm")
    assert response.status_code == 303
    assert response.headers["location"] == f"{links['ann']}?answered=confirm&match={mid}#matches"
    page = client.get(response.headers["location"]).text
    # Issue 13, defect 13: not "your match is confirmed" while the partner has not answered,
    # no internal status word, and the link's expiry on the creator's own clock.
    assert (
        '<p class="flash success" role="status" id="answered">Thank you for your answer. The '
        "match is confirmed once @ben says yes too; this page shows it.</p>"
    ) in page
    assert '<span class="badge published">you said yes; waiting for @ben</span>' in page
    assert ">published<" not in page
    assert "your answer: confirmed" in page
    assert 'class="primary">Confirm</button>' not in page
    with md.transaction() as session:
        match = session.get(Match, mid)
        assert match is not None
        assert (match.status, match.a_response, match.b_response) == (
            "published",
            "confirmed",
            "pending",
        )
    confirmed = answer(client, links["ben"], mid, "confirm")
    assert confirmed.status_code == 303
    with md.transaction() as session:
        assert session.get(Match, mid).status == "confirmed"  # type: ignore[union-attr]
    both = client.get(confirmed.headers["location"]).text
    assert "Thank you: your match with @ann is confirmed: you both said yes." in both
    assert '<span class="badge confirmed">confirmed: you both said yes</span>' in both
    ann_page = client.get(links["ann"]).text
    expiry = re.search(r'<p class="hint portal-foot" id="link-expiry">(.*?)</p>', ann_page, re.S)
    assert expiry
    assert "UTC</time>" not in expiry.group(1)
    assert re.search(r"\d\d \w\w\w \d{4}, \d\d:\d\d \(Asia/Kolkata\)</time>", expiry.group(1))


def test_decline_frees_both_and_cancels_the_decliners_event(
    md: Matchdesk, web: Any, world: dict[str, Any]
) -> None:
    client = TestClient(web)
    response = answer(client, world["links"]["ben"], world["ann_match"], "decline")
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert "Declined." in page
    assert '<span class="badge declined">declined</span>' in page
    assert "Decline</button>" not in page
    with md.transaction() as session:
        match = session.get(Match, world["ann_match"])
        assert match is not None
        assert (match.status, match.b_response) == ("declined", "declined")
        round_byes = session.execute(
            select(Bye.reason).where(Bye.round_id == world["round_id"]).order_by(Bye.reason)
        ).scalars()
        assert list(round_byes) == ["declined", "partner declined"]
        kinds = session.execute(
            select(OutboxMessage.recipient, OutboxMessage.kind).order_by(OutboxMessage.id)
        ).all()
        assert [k for k in kinds if k[0] == "ben@example.com"] == [
            ("ben@example.com", "match_invitation"),
            ("ben@example.com", "match_cancellation"),
        ]
        # Built (1), published (2); answers leave the version alone.
        assert get_round(session, world["round_id"]).version == 2


def test_another_creators_match_is_not_theirs(
    md: Matchdesk, web: Any, world: dict[str, Any]
) -> None:
    client = TestClient(web)
    for what in ("confirm", "decline"):
        response = answer(client, world["links"]["ann"], world["cat_match"], what)
        assert response.status_code == 404
        assert "This match is not yours." in response.text
    with md.transaction() as session:
        match = session.get(Match, world["cat_match"])
        assert match is not None
        assert (match.status, match.a_response, match.b_response) == (
            "published",
            "pending",
            "pending",
        )


def test_an_answer_needs_the_links_form_value(web: Any, world: dict[str, Any]) -> None:
    client = TestClient(web)
    link = world["links"]["ann"]
    forged = client.post(
        f"{link}/matches/{world['ann_match']}/confirm",
        data={"csrf_token": "guess"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    other = client.get(world["links"]["cat"]).text  # cat's page's value does not fit ann's link
    reused = client.post(
        f"{link}/matches/{world['ann_match']}/confirm",
        data={"csrf_token": csrf_of(other)},
        follow_redirects=False,
    )
    assert reused.status_code == 403
    assert client.post(f"{link}/matches/{world['ann_match']}/maybe").status_code == 422


def test_a_started_match_offers_no_answer(md: Matchdesk, world: dict[str, Any]) -> None:
    token = world["links"]["ann"].rsplit("/", 1)[1]
    during = aware(world["monday"]) + timedelta(minutes=1)
    with md.transaction() as session:
        before = open_portal(session, md.settings, token)
        later = open_portal(session, md.settings, token, clock=lambda: during)
    [waiting] = before.matches
    [running] = later.matches
    assert (waiting.started, waiting.can_confirm, waiting.can_decline) == (False, True, True)
    assert (running.started, running.can_confirm, running.can_decline) == (True, False, False)
