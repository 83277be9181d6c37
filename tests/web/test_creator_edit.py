"""Creator editing in the app (SQLite and PostgreSQL): add, edit (the roster file's
validation, the version check), pause and resume, and the roster page's bulk changes
(all or none, version-checked, audited); the form in Chromium at 1366 and 390 px."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.audit import entries_for
from matchdesk.context import Matchdesk
from matchdesk.roster.bulk import bulk_change
from matchdesk.roster.editing import create_creator, creator_state, update_creator
from matchdesk.roster.forms import NAMES
from matchdesk.roster.models import Creator
from matchdesk.roster.service import get_creator
from tests.web.conftest import csrf_of, screenshot

Client = Callable[[str | None], TestClient]
FLASH_RE = re.compile(r'id="flash">([^<]*)<')
BASE = {"timezone": "UTC", "languages": "en", "followers": "1000", "revenue_30d": "100"}


def _add(md: Matchdesk, *handles: str) -> None:
    with md.transaction() as session:
        for handle in handles:
            create_creator(session, md.program, {"handle": handle, **BASE}, "test")


def _state(md: Matchdesk, handle: str) -> dict[str, Any]:
    with md.transaction() as session:
        creator = get_creator(session, handle)
        assert creator is not None
        return {**creator_state(session, creator), "manager": creator.manager}


def _form(base: dict[str, str] | None = None, **fields: str) -> dict[str, str]:
    empty = dict.fromkeys(NAMES, "")
    return {**empty, "status": "active", **(base or {}), **fields}


def test_add_a_creator_and_its_refusals(md: Matchdesk, client_as: Client) -> None:
    _add(md, "zed")
    manager = client_as("manager")
    page = manager.get("/creators/new")
    assert page.status_code == 200
    token = csrf_of(page.text)
    bad = manager.post(
        "/creators/new",
        data={
            **_form(BASE, timezone="Mars/Olympus", blocked="nobody", availability="Mon 25:00"),
            "handle": "luna.star",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    text = unescape(bad.text)
    assert "the creator's details are not valid" in text
    assert '<p class="field-error">timezone: ' in text
    assert "Mars/Olympus" in text  # what was typed is kept
    with md.transaction() as session:
        assert get_creator(session, "luna.star") is None
    done = manager.post(
        "/creators/new",
        data={
            **_form(
                BASE,
                display_name="Luna",
                email="luna@example.com",
                languages="en;es",
                availability="Mon 19:00-23:00",
                blocked="zed",
                manager="manager@example.com",
            ),
            "handle": "@Luna.Star",
            "csrf_token": token,
        },
    )
    assert done.status_code == 200
    assert FLASH_RE.findall(done.text) == ["@luna.star added to the roster."]
    state = _state(md, "luna.star")
    assert (state["display_name"], state["languages"], state["availability"]) == (
        "Luna",
        "en;es",
        "Mon 19:00-23:00",
    )
    assert (state["blocked"], state["manager"], state["tier"]) == (
        "zed",
        "manager@example.com",
        "B",
    )
    again = manager.post(
        "/creators/new", data={**_form(BASE), "handle": "luna.star", "csrf_token": token}
    )
    assert again.status_code == 409
    assert "A creator with handle @luna.star already exists." in unescape(again.text)
    unknown = manager.post(
        "/creators/new",
        data={**_form(BASE, manager="who@example.com"), "handle": "nova", "csrf_token": token},
    )
    assert unknown.status_code == 422
    assert "manager: 'who@example.com' is not an operator (add them first)" in unescape(
        unknown.text
    )
    assert client_as("viewer").get("/creators/new").status_code == 403


def test_edit_saves_only_what_changed_and_refuses_a_stale_version(
    md: Matchdesk, client_as: Client
) -> None:
    _add(md, "ann", "bob")
    manager = client_as("manager")
    page = manager.get("/creators/ann/edit")
    assert page.status_code == 200
    assert 'name="version" value="1"' in page.text
    assert 'value="1000"' in page.text
    token = csrf_of(page.text)
    current = _form(BASE)
    saved = manager.post(
        "/creators/ann/edit",
        data={
            **current,
            "display_name": "Ann",
            "availability": "Tue 20:00-22:00",
            "blocked": "bob",
            "version": "1",
            "csrf_token": token,
        },
    )
    assert FLASH_RE.findall(saved.text) == ["Saved @ann: display name, availability, blocked."]
    state = _state(md, "ann")
    assert (state["display_name"], state["availability"], state["blocked"], state["version"]) == (
        "Ann",
        "Tue 20:00-22:00",
        "bob",
        2,
    )
    with md.transaction() as session:
        (entry, _created) = entries_for(session, "creator", "ann")
        assert entry.before == {"display_name": "", "availability": "", "blocked": ""}
        assert entry.after == {
            "display_name": "Ann",
            "availability": "Tue 20:00-22:00",
            "blocked": "bob",
        }
    # Someone else edits ann (version 3); a save of the form read at version 2 is refused.
    with md.transaction() as session:
        update_creator(session, md.program, "ann", {"category": "music"}, "operator:other", 2)
    stale = manager.post(
        "/creators/ann/edit",
        data={**_form(BASE, display_name="Annie"), "version": "2", "csrf_token": token},
    )
    assert stale.status_code == 409
    assert "was changed by someone else since you loaded it (your version 2, now 3)" in unescape(
        stale.text
    )
    assert 'value="Annie"' in stale.text  # the typing is not lost
    assert _state(md, "ann")["display_name"] == "Ann"
    untouched = manager.get("/creators/ann/edit")
    values = {
        **_form(BASE, display_name="Ann", availability="Tue 20:00-22:00", blocked="bob"),
        "category": "music",
    }
    same = manager.post(
        "/creators/ann/edit", data={**values, "version": "3", "csrf_token": csrf_of(untouched.text)}
    )
    assert FLASH_RE.findall(same.text) == ["Nothing to save: no field changed."]
    assert _state(md, "ann")["version"] == 3
    invalid = manager.post(
        "/creators/ann/edit",
        data={**values, "followers": "many", "version": "3", "csrf_token": token},
    )
    assert invalid.status_code == 422
    assert '<p class="field-error">followers: ' in invalid.text


def test_an_edit_of_other_fields_keeps_a_tier_set_by_hand(md: Matchdesk) -> None:
    _add(md, "ann")
    with md.transaction() as session:
        bulk_change(session, md.program, {"ann": 1}, "tier", "A", "test")
    with md.transaction() as session:
        update_creator(session, md.program, "ann", {"display_name": "Ann"}, "test")
    assert _state(md, "ann")["tier"] == "A"
    with md.transaction() as session:
        update_creator(session, md.program, "ann", {"revenue_30d": "150"}, "test")
    assert _state(md, "ann")["tier"] == "B"  # new figures: the program's rule again


def test_pause_and_resume(md: Matchdesk, client_as: Client) -> None:
    _add(md, "ann")
    manager = client_as("manager")
    page = manager.get("/creators/ann")
    assert 'id="pause-resume">Pause<' in page.text
    token = csrf_of(page.text)
    paused = manager.post(
        "/creators/ann/status", data={"status": "paused", "version": "1", "csrf_token": token}
    )
    assert FLASH_RE.findall(paused.text) == ["@ann is paused."]
    assert 'id="pause-resume">Resume<' in paused.text
    stale = manager.post(
        "/creators/ann/status", data={"status": "active", "version": "1", "csrf_token": token}
    )
    assert stale.status_code == 409
    resumed = manager.post(
        "/creators/ann/status", data={"status": "active", "version": "2", "csrf_token": token}
    )
    assert FLASH_RE.findall(resumed.text) == ["@ann is active."]
    assert _state(md, "ann")["status"] == "active"
    assert client_as("viewer").post("/creators/ann/status").status_code == 403


def test_bulk_changes_from_the_roster_page(md: Matchdesk, client_as: Client) -> None:
    _add(md, "ann", "bob", "cat")
    manager = client_as("manager")
    page = manager.get("/creators")
    assert 'value="ann:1"' in page.text
    token = csrf_of(page.text)

    def bulk(action: str, *creators: str, **extra: str) -> Any:
        data = {"action": action, "creator": list(creators), "csrf_token": token, **extra}
        return manager.post("/creators/bulk", data={**data, "back": "?sort=handle"})

    paused = bulk("pause", "ann:1", "bob:1")
    assert str(paused.url).endswith("/creators?sort=handle")
    assert FLASH_RE.findall(paused.text) == ["2 creators paused."]
    tier = bulk("tier", "ann:2", "cat:1", bulk_tier="A")
    assert FLASH_RE.findall(tier.text) == ["2 creators moved to tier A."]
    given = bulk("manager", "bob:2", "cat:2", bulk_manager="manager@example.com")
    assert FLASH_RE.findall(given.text) == ["2 creators given to manager@example.com."]
    with md.transaction() as session:
        rows = session.execute(
            select(
                Creator.handle, Creator.status, Creator.tier, Creator.manager, Creator.version
            ).order_by(Creator.handle)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("ann", "paused", "A", "", 3),
            ("bob", "paused", "B", "manager@example.com", 3),
            ("cat", "active", "A", "manager@example.com", 3),
        ]
        assert [e.after for e in entries_for(session, "creator", "ann")][:2] == [
            {"tier": "A", "bulk": True},
            {"status": "paused", "bulk": True},
        ]
    # A stale version (ann is at 3) refuses the whole change: bob stays paused.
    stale = bulk("resume", "ann:2", "bob:3")
    error = re.findall(r'id="flash-error">([^<]*)<', unescape(stale.text))
    assert error == [
        "Nothing was changed: @ann was changed by someone else since you loaded the page "
        "(your version 2, now 3). Reload and try again."
    ]
    assert _state(md, "bob")["status"] == "paused"
    unknown = bulk("tier", "ann:3", bulk_tier="Z")
    assert re.findall(r'id="flash-error">([^<]*)<', unescape(unknown.text)) == [
        "the bulk change is not valid tier: 'Z' is not a tier of the program (S, A, B)"
    ]
    none = bulk("pause")
    assert re.findall(r'id="flash-error">([^<]*)<', unescape(none.text)) == [
        "the bulk change is not valid creator: check at least one creator"
    ]
    already = bulk("pause", "ann:3")
    assert FLASH_RE.findall(already.text) == ["0 creators paused; 1 already so."]
    assert 'name="creator"' not in client_as("viewer").get("/creators").text


@pytest.mark.parametrize("width", [1366, 390])
def test_creator_form_in_chromium(
    browser: Any, live_server: str, md: Matchdesk, operators: dict[str, str], width: int
) -> None:
    _add(md, "zed")
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", operators["manager"])
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/creators")
        page.click("#add-creator")
        page.wait_for_selector("#creator-form")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.fill("#f-handle", "luna")
        page.fill("#f-timezone", "Europe/Berlin")
        page.fill("#f-languages", "de;en")
        page.fill("#f-followers", "12.5k")
        page.fill("#f-revenue_30d", "abc")
        page.click("#save")
        page.wait_for_selector("#problems")
        assert page.locator(".field-error").all_inner_texts() == [
            "revenue_30d: 'abc' is not a number (e.g. 12500, 12,500, 12.5k or 1.2M)"
        ]
        assert page.input_value("#f-timezone") == "Europe/Berlin"
        page.fill("#f-revenue_30d", "30000")
        page.fill("#f-availability", "Fri 22:00-02:00")
        page.click("#save")
        page.wait_for_selector("#flash")
        assert page.inner_text("#flash") == "@luna added to the roster."
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"creator-added-{width}")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#pause-resume")
        page.wait_for_selector("#pause-resume:has-text('Resume')")
        assert page.inner_text("#flash") == "@luna is paused."
        page.goto(f"{live_server}/creators")
        page.check("[aria-label='Check @zed']")
        page.check("[aria-label='Check @luna']")
        page.select_option("select[name=bulk_tier]", "S")
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#bulk button[value=tier]")
        page.wait_for_selector("#flash")
        assert page.inner_text("#flash") == "2 creators moved to tier S."
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"roster-bulk-{width}")
    finally:
        context.close()
    state = _state(md, "luna")
    assert (state["followers"], state["revenue_30d"], state["status"], state["tier"]) == (
        12_500,
        30_000,
        "paused",
        "S",
    )
