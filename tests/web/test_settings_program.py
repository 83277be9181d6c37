"""Settings (SQLite and PostgreSQL): an operator's display time zone (the board and the
outbox show times in it, UTC on hover), and the program's tiers and matching rules edited
by an admin: validated as the program file is, version-checked, audited, in effect at once
(tiers recomputed) and kept for the next start; Chromium at 1366 and 390 px."""

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
from matchdesk.mail.outbox import enqueue
from matchdesk.program_store import saved_program, startup_program
from matchdesk.roster.editing import create_creator
from matchdesk.roster.models import Creator
from tests.web.conftest import csrf_of, screenshot

Client = Callable[[str | None], TestClient]
FLASH_RE = re.compile(r'id="flash">([^<]*)<')


def _program_form(md: Matchdesk, version: int, token: str, **changes: Any) -> dict[str, Any]:
    """The Settings form as the page sends it: every tier row plus an empty new one."""
    tiers = [t.model_dump() for t in md.program.tiers]
    form: dict[str, Any] = {
        "csrf_token": token,
        "version": str(version),
        "tier_name": [t["name"] for t in tiers] + [""],
        "tier_min_revenue_30d": [str(t["min_revenue_30d"]) for t in tiers] + [""],
        "tier_min_followers": [str(t["min_followers"]) for t in tiers] + [""],
        "tier_cadence": [t["cadence"] for t in tiers] + ["weekly"],
        "tier_checkin_every_weeks": [str(t["checkin_every_weeks"]) for t in tiers] + [""],
        "duration_minutes": str(md.program.matching.duration_minutes),
        "max_tier_distance": str(md.program.matching.max_tier_distance),
        "require_shared_language": "true",
        "rematch_cooldown_rounds": str(md.program.matching.rematch_cooldown_rounds),
        "slot_step_minutes": str(md.program.matching.slot_step_minutes),
    }
    form.update(changes)
    return form


def test_display_zone_is_each_operators_own(md: Matchdesk, client_as: Client) -> None:
    with md.transaction() as session:
        message = enqueue(
            session,
            kind="match_invitation",
            recipient="ann@example.com",
            subject="Hello",
            text="Hi",
            idempotency_key="zone:1",
        )
        created = message.created_at
    viewer = client_as("viewer")
    page = viewer.get("/settings")
    assert 'id="display-zone"' in page.text
    token = csrf_of(page.text)
    bad = viewer.post("/settings/display-zone", data={"timezone": "Mars/Base", "csrf_token": token})
    assert bad.status_code == 422
    assert (
        "timezone: unknown time zone 'Mars/Base' (use an IANA name such as Europe/Berlin)"
        in unescape(bad.text)
    )
    done = viewer.post(
        "/settings/display-zone", data={"timezone": "Asia/Kolkata", "csrf_token": token}
    )
    assert FLASH_RE.findall(done.text) == ["Times are shown in Asia/Kolkata."]
    from zoneinfo import ZoneInfo

    from matchdesk.rounds.service import aware

    local = aware(created).astimezone(ZoneInfo("Asia/Kolkata")).strftime("%a %d %b, %H:%M")
    utc = aware(created).strftime("%a %d %b %Y, %H:%M UTC")
    outbox = viewer.get("/outbox").text
    assert f'title="{utc}">{local}</time>' in outbox
    assert "Times are Asia/Kolkata; hover for UTC." in outbox
    # Another operator still reads the program's zone.
    other = client_as("manager").get("/outbox").text
    la = aware(created).astimezone(ZoneInfo("America/Los_Angeles")).strftime("%a %d %b, %H:%M")
    assert f">{la}</time>" in other
    # A new sign-in reads the stored choice again.
    again = client_as("viewer").get("/outbox").text
    assert f">{local}</time>" in again
    with md.transaction() as session:
        (entry,) = entries_for(session, "operator", "viewer@example.com")
        assert (entry.action, entry.before, entry.after) == (
            "display_zone_set",
            {"display_timezone": ""},
            {"display_timezone": "Asia/Kolkata"},
        )
    back = viewer.post("/settings/display-zone", data={"timezone": "", "csrf_token": token})
    assert FLASH_RE.findall(unescape(back.text)) == [
        "Times are shown in the program's (America/Los_Angeles)."
    ]


def test_an_admin_edits_tiers_and_rules_in_effect_at_once(md: Matchdesk, client_as: Client) -> None:
    with md.transaction() as session:
        for handle, revenue in (("ann", "50000"), ("bob", "500")):
            create_creator(
                session,
                md.program,
                {
                    "handle": handle,
                    "timezone": "UTC",
                    "languages": "en",
                    "followers": "10",
                    "revenue_30d": revenue,
                },
                "test",
            )
    admin = client_as("admin")
    page = admin.get("/settings")
    assert 'id="program-form"' in page.text
    assert 'id="program-form"' not in client_as("manager").get("/settings").text
    token = csrf_of(page.text)
    # A mistake names the key, as the program file's check does; nothing changes.
    bad = admin.post(
        "/settings/program",
        data=_program_form(
            md,
            0,
            token,
            slot_step_minutes="7",
            tier_cadence=["weekly", "daily", "weekly", "weekly"],
        ),
    )
    assert bad.status_code == 422
    text = unescape(bad.text)
    assert "settings: tiers[1].cadence: Input should be 'weekly' or 'monthly'" in text
    assert "settings: matching: slot_step_minutes" in text
    assert 'value="7"' in bad.text  # what was typed is kept
    huge = admin.post(
        "/settings/program", data=_program_form(md, 0, token, rematch_cooldown_rounds="9" * 20)
    )
    assert huge.status_code == 422
    assert "settings: matching.rematch_cooldown_rounds: at most 15 digits" in unescape(huge.text)
    with md.transaction() as session:
        assert saved_program(session) is None
    # A new tier "C" under B's line, A raised to 60,000, 45-minute matches.
    form = _program_form(md, 0, token, duration_minutes="45")
    form["tier_name"][-1] = "C"
    form["tier_min_revenue_30d"] = ["200000", "60000", "1000", "0"]
    done = admin.post("/settings/program", data=form)
    assert FLASH_RE.findall(done.text) == [
        "Program settings saved (version 1); 2 creators changed tier."
    ]
    assert [t.name for t in md.program.tiers] == ["S", "A", "B", "C"]
    assert md.program.matching.duration_minutes == 45
    with md.transaction() as session:
        tiers = dict(session.execute(select(Creator.handle, Creator.tier)).all())
        assert tiers == {"ann": "B", "bob": "C"}
        saved = saved_program(session)
        assert saved is not None
        assert saved[1] == 1
        (entry,) = entries_for(session, "program", 1)
        assert entry.actor == "operator:admin@example.com"
        assert entry.after is not None
        assert entry.after["matching"]["duration_minutes"] == 45
        assert [t["name"] for t in entry.after["tiers"]] == ["S", "A", "B", "C"]
    # A save of the page read before (version 0) is refused.
    stale = admin.post("/settings/program", data=_program_form(md, 0, token))
    assert stale.status_code == 409
    assert "your version 0, now 1" in unescape(stale.text)
    # The next start reads the saved program, not the file's.
    assert [t.name for t in startup_program(md.engine, md.program.model_copy()).tiers] == [
        "S",
        "A",
        "B",
        "C",
    ]
    assert client_as("manager").post("/settings/program", data=form).status_code == 403


@pytest.mark.parametrize("width", [1366, 390])
def test_settings_in_chromium(
    browser: Any, live_server: str, md: Matchdesk, operators: dict[str, str], width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", operators["admin"])
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/settings")
        page.fill("#display-timezone", "Europe/Berlin")
        page.click("#display-zone button")
        page.wait_for_selector("#flash")
        assert page.inner_text("#flash") == "Times are shown in Europe/Berlin."
        page.fill("#rule-duration_minutes", "90")
        page.click("#save-program")
        page.wait_for_selector("#flash")
        assert (
            page.inner_text("#flash")
            == "Program settings saved (version 1); 0 creators changed tier."
        )
        assert page.input_value("#rule-duration_minutes") == "90"
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"settings-{width}")
    finally:
        context.close()
    assert md.program.matching.duration_minutes == 90
