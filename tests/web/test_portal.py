"""The creator portal through the app (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matchdesk.audit import entries_for
from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link, make_portal_token, portal_csrf
from matchdesk.roster.editing import (
    create_creator,
    creator_state,
    delete_creator,
    set_availability,
)
from matchdesk.roster.service import get_creator
from tests.portal.samples import LUNA as SAMPLE_LUNA
from tests.web.conftest import csrf_of

LUNA = {**SAMPLE_LUNA, "email": "luna@example.com"}
ZED = {
    "handle": "zed_99",
    "display_name": "Zed Ninety",
    "email": "zed@example.com",
    "timezone": "America/Sao_Paulo",
    "languages": "pt",
    "followers": "987654",
    "revenue_30d": "31337",
    "availability": "Sat 10:00-12:00",
}
VERSION_RE = re.compile(r'name="version" value="(\d+)"')


@pytest.fixture
def links(md: Matchdesk, web: Any) -> dict[str, str]:
    """Luna and Zed on the roster; each one's portal path."""
    with md.transaction() as session:
        for fields in (LUNA, ZED):
            create_creator(session, md.program, fields, "operator:m@example.com")
        return {
            handle: issue_portal_link(session, md.settings, handle).url.removeprefix(
                md.settings.public_url()
            )
            for handle in ("luna.star", "zed_99")
        }


def state(md: Matchdesk, handle: str) -> dict[str, Any]:
    with md.transaction() as session:
        creator = get_creator(session, handle)
        assert creator is not None
        return creator_state(session, creator)


def form(page: str, availability: str) -> dict[str, str]:
    version = VERSION_RE.search(page)
    assert version
    return {"availability": availability, "version": version.group(1), "csrf_token": csrf_of(page)}


def test_portal_shows_own_figures_and_no_one_elses(web: Any, links: dict[str, str]) -> None:
    client = TestClient(web)
    page = client.get(links["luna.star"])
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert "Hi Luna" in html
    assert '<span class="figure" id="tier">S</span>' in html
    assert '<span class="figure" id="followers">12,500</span>' in html
    assert '<span class="figure" id="revenue">250,000</span>' in html
    assert "No matches scheduled yet" in html
    assert "This page is yours alone: do not share its address. The link works until" in html
    assert "Asia/Kolkata" in html
    assert "<li>Mon 19:00–23:00</li>" in html
    assert "<li>Fri 22:00–02:00 (next day)</li>" in html
    assert ">Mon 19:00-23:00; Fri 22:00-02:00</textarea>" in html
    for foreign in ("zed", "Zed Ninety", "987,654", "31,337", "America/Sao_Paulo", "Sat 10:00"):
        assert foreign not in html
    # No operator navigation for a creator.
    assert 'href="/creators"' not in html

    other = client.get(links["zed_99"]).text
    assert '<span class="figure" id="followers">987,654</span>' in other
    assert "luna" not in other.lower()
    assert "250,000" not in other


def test_saving_availability(md: Matchdesk, web: Any, links: dict[str, str]) -> None:
    client = TestClient(web)
    path = links["luna.star"]
    page = client.get(path).text
    saved = client.post(
        f"{path}/availability",
        data=form(page, "tue 20:00 - 23:30;  Sun 23:00-01:00"),
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{path}?saved=1#availability"
    after = client.get(saved.headers["location"]).text
    assert '<p class="flash success" role="status" id="saved">Saved</p>' in after
    assert "<li>Tue 20:00–23:30</li>" in after
    assert "<li>Sun 23:00–01:00 (next day)</li>" in after
    assert "<li>Mon 19:00–23:00</li>" not in after
    luna = state(md, "luna.star")
    assert luna["availability"] == "Tue 20:00-23:30; Sun 23:00-01:00"
    assert luna["version"] == 2
    assert state(md, "zed_99")["availability"] == "Sat 10:00-12:00"
    with md.transaction() as session:
        entry = entries_for(session, "creator", "luna.star")[0]
    assert entry.actor == "creator:luna.star"
    assert entry.action == "creator_updated"

    cleared = client.post(f"{path}/availability", data=form(after, ""))
    assert cleared.status_code == 200
    assert "No availability yet: you are not matched until you add some." in cleared.text
    assert state(md, "luna.star")["availability"] == ""


def test_invalid_availability_shows_the_message_and_changes_nothing(
    md: Matchdesk, web: Any, links: dict[str, str]
) -> None:
    client = TestClient(web)
    path = links["luna.star"]
    typed = "Mon 19:00-23:00; Fri 25:00-02:00"
    refused = client.post(f"{path}/availability", data=form(client.get(path).text, typed))
    assert refused.status_code == 422
    assert (
        '<ul class="portal-field-error" id="availability-error" role="alert">\n'
        "        <li>&#39;Fri 25:00-02:00&#39;: hour 25 is not 00-23</li>"
    ) in refused.text
    assert f">{typed}</textarea>" in refused.text
    assert "Saved" not in refused.text
    assert state(md, "luna.star")["availability"] == "Mon 19:00-23:00; Fri 22:00-02:00"
    assert state(md, "luna.star")["version"] == 1

    funny = client.post(f"{path}/availability", data=form(refused.text, "Funday 10:00-11:00"))
    assert "<li>&#39;Funday 10:00-11:00&#39;: unknown day &#39;Funday&#39; (use Mon..Sun)</li>" in (
        funny.text
    )


def test_stale_version_is_refused(md: Matchdesk, web: Any, links: dict[str, str]) -> None:
    client = TestClient(web)
    path = links["luna.star"]
    page = client.get(path).text
    with md.transaction() as session:
        set_availability(session, md.program, "luna.star", "Wed 18:00-20:00", "operator:m")
    refused = client.post(f"{path}/availability", data=form(page, "Thu 18:00-20:00"))
    assert refused.status_code == 409
    assert (
        "@luna.star was changed by someone else since you loaded it "
        "(your version 1, now 2); reload and try again."
    ) in refused.text
    assert ">Thu 18:00-20:00</textarea>" in refused.text
    assert "<li>Wed 18:00–20:00</li>" in refused.text
    assert state(md, "luna.star")["availability"] == "Wed 18:00-20:00"
    assert state(md, "luna.star")["version"] == 2


def test_post_without_or_with_a_foreign_csrf_is_refused(
    md: Matchdesk, web: Any, links: dict[str, str]
) -> None:
    client = TestClient(web)
    path = links["luna.star"]
    good = form(client.get(path).text, "Thu 18:00-20:00")
    zed_csrf = csrf_of(client.get(links["zed_99"]).text)
    for data in (
        {k: v for k, v in good.items() if k != "csrf_token"},
        {**good, "csrf_token": ""},
        {**good, "csrf_token": zed_csrf},
    ):
        refused = client.post(f"{path}/availability", data=data)
        assert refused.status_code == 403
        assert '<section class="card error-page" role="alert">' in refused.text
        assert "This form did not come from your matchdesk page." in refused.text
    assert state(md, "luna.star")["availability"] == "Mon 19:00-23:00; Fri 22:00-02:00"


def test_bad_expired_and_orphaned_links(md: Matchdesk, web: Any, links: dict[str, str]) -> None:
    client = TestClient(web)
    path = links["luna.star"]
    tampered = client.get(path[:-3] + ("abc" if not path.endswith("abc") else "xyz"))
    assert tampered.status_code == 403
    assert "This link is not valid." in tampered.text
    assert "Luna" not in tampered.text

    with md.transaction() as session:
        luna = get_creator(session, "luna.star")
        assert luna is not None
        luna_id = luna.id
    fifteen_days_ago = datetime.now(UTC) - timedelta(days=15)
    old = make_portal_token(md.settings, "luna.star", luna_id, clock=lambda: fifteen_days_ago)
    expired = client.get(f"/portal/{old}")
    assert expired.status_code == 410
    assert "This link has expired. Ask your program manager for a new one." in expired.text
    page = client.get(path).text
    stale_form = form(page, "Thu 18:00-20:00")
    late = client.post(f"/portal/{old}/availability", data=stale_form)
    assert late.status_code == 403  # the form's CSRF belongs to another link
    late = client.post(
        f"/portal/{old}/availability",
        data={**stale_form, "csrf_token": portal_csrf(md.settings, old)},
    )
    assert late.status_code == 410
    assert state(md, "luna.star")["availability"] == "Mon 19:00-23:00; Fri 22:00-02:00"

    with md.transaction() as session:
        delete_creator(session, "zed_99", "operator:m@example.com")
    gone = client.get(links["zed_99"])
    assert gone.status_code == 403
    assert "This link is not valid." in gone.text
