"""The outbox pages (SQLite and PostgreSQL): the list with its filters and keyset pages, a
message with its headers and body, the retry of a failed one (audited, once), and the
reminder of a published round's unanswered creators (once per creator and round); the
same pages in Chromium at 1366 and 390 px wide."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from matchdesk.audit import entries_for
from matchdesk.context import Matchdesk
from matchdesk.mail.browse import OutboxFilter, list_messages, retry_message
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment, enqueue
from matchdesk.roster.editing import create_creator
from matchdesk.rounds.board import Edit
from matchdesk.rounds.lifecycle import publish, respond
from matchdesk.rounds.models import Match
from matchdesk.rounds.period import next_start
from matchdesk.rounds.reminders import remind_unanswered
from matchdesk.rounds.service import build_round
from tests.web.conftest import csrf_of, screenshot

Client = Callable[[str | None], TestClient]
ROW_RE = re.compile(r'<tr data-id="(\d+)">')
FLASH_RE = re.compile(r'id="flash">([^<]*)<')


def _fill(md: Matchdesk, count: int = 7) -> list[int]:
    """`count` messages: even ones to ann@example.com (invitations), odd ones to
    bob@example.org (newsletters); message 3 failed. Returns their ids, oldest first."""
    ids = []
    with md.transaction() as session:
        for i in range(count):
            row = enqueue(
                session,
                kind="match_invitation" if i % 2 == 0 else "newsletter",
                recipient="ann@example.com" if i % 2 == 0 else "Bob@Example.org",
                subject=f"Message {i}",
                text=f"Body {i}\nhttp://x/portal/token{i}",
                html="<p>Hi</p>" if i == 1 else None,
                attachments=[Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN")]
                if i == 0
                else [],
                idempotency_key=f"test:{i}",
            )
            ids.append(row.id)
        if count > 3:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == ids[3])
                .values(status="failed", attempts=8, last_error="550 mailbox unavailable")
            )
    return ids


def _listed(html: str) -> list[int]:
    return [int(i) for i in ROW_RE.findall(html)]


def test_list_filters_and_keyset_pages(md: Matchdesk) -> None:
    ids = _fill(md)
    with md.transaction() as session:
        first = list_messages(session, OutboxFilter(), size=3)
        assert [r.id for r in first.rows] == [ids[6], ids[5], ids[4]]
        assert first.next_before == ids[4]
        second = list_messages(session, OutboxFilter(), before=first.next_before, size=3)
        assert [r.id for r in second.rows] == [ids[3], ids[2], ids[1]]
        last = list_messages(session, OutboxFilter(), before=second.next_before, size=3)
        assert [r.id for r in last.rows] == [ids[0]]
        assert last.next_before is None
        assert first.counts == {"queued": 6, "sending": 0, "sent": 0, "failed": 1}
        assert first.kinds == ["match_invitation", "newsletter"]
        failed = list_messages(session, OutboxFilter(status="failed"))
        assert [(r.id, r.attempts, r.last_error) for r in failed.rows] == [
            (ids[3], 8, "550 mailbox unavailable")
        ]
        # Part of the address, any case; a LIKE wildcard in the search is a plain character.
        bob = list_messages(session, OutboxFilter(recipient="EXAMPLE.ORG"))
        assert [r.id for r in bob.rows] == [ids[5], ids[3], ids[1]]
        assert list_messages(session, OutboxFilter(recipient="%")).rows == []
        invitations = list_messages(session, OutboxFilter(kind="match_invitation"))
        assert [r.id for r in invitations.rows] == [ids[6], ids[4], ids[2], ids[0]]


def test_the_page_lists_filters_and_refuses_an_unknown_status(
    md: Matchdesk, client_as: Client
) -> None:
    ids = _fill(md)
    viewer = client_as("viewer")
    page = viewer.get("/outbox")
    assert page.status_code == 200
    assert _listed(page.text) == list(reversed(ids))
    assert "550 mailbox unavailable" in page.text
    assert 'href="/outbox/' not in page.text  # a viewer sees no message bodies
    assert _listed(viewer.get("/outbox?status=failed").text) == [ids[3]]
    assert _listed(viewer.get("/outbox?kind=newsletter&recipient=bob").text) == [
        ids[5],
        ids[3],
        ids[1],
    ]
    assert _listed(viewer.get(f"/outbox?before={ids[2]}").text) == [ids[1], ids[0]]
    empty = viewer.get("/outbox?recipient=nobody")
    assert "No message matches these filters." in empty.text
    bad = viewer.get("/outbox?status=lost")
    assert bad.status_code == 422
    assert "status: 'lost' is not one of queued, sending, sent, failed" in unescape(bad.text)


def test_a_message_shows_its_headers_body_and_attachments(md: Matchdesk, client_as: Client) -> None:
    ids = _fill(md)
    manager = client_as("manager")
    assert f'href="/outbox/{ids[0]}"' in manager.get("/outbox").text
    page = manager.get(f"/outbox/{ids[0]}")
    assert page.status_code == 200
    assert '<dt>To</dt><dd class="wrap">ann@example.com</dd>' in page.text
    assert '<dt>Subject</dt><dd class="wrap">Message 0</dd>' in page.text
    assert re.search(r"<dt>Message-ID</dt><dd class=\"wrap\">&lt;[0-9a-f]{32}@", page.text)
    assert "Body 0\nhttp://x/portal/token0" in page.text
    assert "invite.ics (text/calendar; method=REQUEST, 5 bytes)" in page.text
    assert "Retry" not in page.text  # queued, not failed
    html = manager.get(f"/outbox/{ids[1]}").text
    assert "&lt;p&gt;Hi&lt;/p&gt;" in html  # the HTML part as source, never rendered
    assert client_as("viewer").get(f"/outbox/{ids[0]}").status_code == 403
    assert manager.get("/outbox/99999").status_code == 404


def test_retry_of_a_failed_message_once_and_audited(md: Matchdesk, client_as: Client) -> None:
    ids = _fill(md)
    manager = client_as("manager")
    page = manager.get(f"/outbox/{ids[3]}")
    assert f'action="/outbox/{ids[3]}/retry"' in page.text
    token = csrf_of(page.text)
    assert manager.post(f"/outbox/{ids[3]}/retry", data={"csrf_token": "forged"}).status_code == 403
    done = manager.post(f"/outbox/{ids[3]}/retry", data={"csrf_token": token})
    assert done.status_code == 200
    assert FLASH_RE.findall(done.text) == [
        f"Message {ids[3]} is queued again; the worker sends it next."
    ]
    with md.transaction() as session:
        row = session.get(OutboxMessage, ids[3])
        assert row is not None
        assert (row.status, row.attempts, row.last_error) == (
            "queued",
            0,
            "550 mailbox unavailable",
        )
        (entry,) = entries_for(session, "outbox", ids[3])
        assert (entry.actor, entry.action, entry.after) == (
            "operator:manager@example.com",
            "message_retried",
            {"status": "queued"},
        )
    again = manager.post(f"/outbox/{ids[3]}/retry", data={"csrf_token": token})
    assert again.status_code == 409
    assert f"Message {ids[3]} is queued, not failed" in unescape(again.text)
    with md.transaction() as session:
        assert len(entries_for(session, "outbox", ids[3])) == 1


def test_retry_refuses_a_message_that_did_not_fail(md: Matchdesk) -> None:
    ids = _fill(md)
    with md.transaction() as session:
        from matchdesk.errors import Conflict, NotFound

        with pytest.raises(Conflict, match="is queued, not failed"):
            retry_message(session, ids[0])
        with pytest.raises(NotFound, match="No message 99999"):
            retry_message(session, 99999)


def _published_round(md: Matchdesk) -> int:
    """ann-ben and cat-dan meet on Monday evening; eve has no e-mail address and is
    paired with fay. Returns the published round's id."""
    evening = "Mon 18:00-22:00"
    with md.transaction() as session:
        for handle in ("ann", "ben", "cat", "dan", "eve", "fay"):
            create_creator(
                session,
                md.program,
                {
                    "handle": handle,
                    "email": "" if handle == "eve" else f"{handle}@example.com",
                    "timezone": "UTC",
                    "languages": "en",
                    "followers": "1000",
                    "revenue_30d": "100",
                    "availability": evening,
                },
                "test",
            )
        monday = next_start("weekly", date.today())
        round_ = build_round(session, md.program, cadence="weekly", start=monday, actor="test")
        session.flush()
        publish(session, md.settings, md.program, round_.id, Edit("test", None))
        return round_.id


def _pending(md: Matchdesk, round_id: int) -> set[str]:
    with md.transaction() as session:
        from matchdesk.roster.models import Creator

        handles = dict(session.execute(select(Creator.id, Creator.handle)).all())
        out = set()
        for m in session.scalars(select(Match).where(Match.round_id == round_id)):
            if m.a_response == "pending":
                out.add(handles[m.creator_a_id])
            if m.b_response == "pending":
                out.add(handles[m.creator_b_id])
        return out


def test_remind_those_who_have_not_answered_once_per_creator(
    md: Matchdesk, client_as: Client
) -> None:
    round_id = _published_round(md)
    with md.transaction() as session:
        from matchdesk.roster.models import Creator

        ann = session.scalars(select(Creator).where(Creator.handle == "ann")).one()
        match = session.scalars(
            select(Match).where((Match.creator_a_id == ann.id) | (Match.creator_b_id == ann.id))
        ).one()
        respond(session, md.settings, md.program, ann, match.id, "confirm")
    waiting = _pending(md, round_id)
    assert "ann" not in waiting
    assert len(waiting) == 5
    manager = client_as("manager")
    board = manager.get(f"/rounds/{round_id}")
    assert f'action="/rounds/{round_id}/remind"' in board.text
    token = csrf_of(board.text)
    done = manager.post(f"/rounds/{round_id}/remind", data={"csrf_token": token})
    assert done.status_code == 200
    assert FLASH_RE.findall(done.text) == ["4 reminders queued; 1 without an e-mail address: @eve."]
    with md.transaction() as session:
        reminders = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "match_reminder")
        ).all()
        assert sorted(r.recipient for r in reminders) == sorted(
            f"{h}@example.com" for h in waiting - {"eve"}
        )
        assert all(
            r.subject.startswith("Reminder: please answer your LIVE match with @")
            for r in reminders
        )
        assert all("/portal/" in r.body_text for r in reminders)
    again = manager.post(f"/rounds/{round_id}/remind", data={"csrf_token": token})
    assert FLASH_RE.findall(again.text) == [
        "0 reminders queued; 4 reminded before (not again); 1 without an e-mail address: @eve."
    ]
    with md.transaction() as session:
        count = len(
            session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.kind == "match_reminder")
            ).all()
        )
        assert count == 4
        entries = [
            e for e in entries_for(session, "round", round_id) if e.action == "round.reminded"
        ]
        assert [e.after for e in entries] == [
            {"unanswered": 5, "queued": 0, "reminded_before": 4, "no_email": 1},
            {"unanswered": 5, "queued": 4, "reminded_before": 0, "no_email": 1},
        ]
    assert client_as("viewer").post(f"/rounds/{round_id}/remind").status_code == 403


def test_a_draft_round_has_no_one_to_remind(md: Matchdesk) -> None:
    with md.transaction() as session:
        monday = next_start("weekly", date.today())
        round_ = build_round(session, md.program, cadence="weekly", start=monday, actor="test")
        session.flush()
        from matchdesk.errors import Conflict

        with pytest.raises(Conflict, match="only a published round has answers to wait for"):
            remind_unanswered(session, md.settings, md.program, round_.id)


@pytest.mark.parametrize("width", [1366, 390])
def test_outbox_in_chromium(
    browser: Any, live_server: str, md: Matchdesk, operators: dict[str, str], width: int
) -> None:
    ids = _fill(md, 3)
    with md.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == ids[1])
            .values(status="failed", attempts=8, last_error="550 mailbox unavailable " * 8)
        )
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", operators["manager"])
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.click("nav.main-nav >> text=Outbox")
        page.wait_for_selector("#messages")
        assert page.locator("#messages tbody tr").count() == 3
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.select_option("select[name=status]", "failed")
        page.click("button:has-text('Filter')")
        page.wait_for_url(re.compile(r"status=failed"))
        assert page.locator("#messages tbody tr").count() == 1
        page.click("#messages >> text=Message 1")
        page.wait_for_selector("#last-error")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button:has-text('Retry')")
        page.wait_for_selector("#flash")
        assert (
            page.inner_text("#flash")
            == f"Message {ids[1]} is queued again; the worker sends it next."
        )
        assert page.inner_text("#state .badge") == "queued"
        screenshot(page, f"outbox-message-{width}")
    finally:
        context.close()
