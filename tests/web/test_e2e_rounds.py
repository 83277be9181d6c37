"""A round end to end in a real browser: build from the page, lock, swap, a refused swap
shown on the board, undo, publish, a creator declines through their link, rematch, and the
messages on the outbox page; then a big build that runs as a job with its progress page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.mail.models import OutboxMessage
from matchdesk.matching.pairs import pair_violations
from matchdesk.portal.links import issue_portal_link
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.models import Creator
from matchdesk.roster.service import save_records
from matchdesk.rounds.models import Match, Round
from matchdesk.rounds.pool import load_pool
from matchdesk.rounds.service import aware, get_round, round_pool_ids
from tests.web.conftest import PASSWORD, screenshot

STANDING = ("proposed", "published", "confirmed")


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/rounds")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(base + "/rounds")


def standing_matches(md: Matchdesk, round_id: int) -> list[tuple[int, str, str, bool]]:
    """(id, a, b, locked) of the round's standing matches, by id."""
    with md.transaction() as session:
        rows = session.execute(
            select(Match.id, Creator.handle, Match.creator_b_id, Match.locked)
            .join(Creator, Creator.id == Match.creator_a_id)
            .where(Match.round_id == round_id, Match.status.in_(STANDING))
            .order_by(Match.id)
        ).all()
        handles = dict(session.execute(select(Creator.id, Creator.handle)).all())
    return [(i, a, handles[b], locked) for i, a, b, locked in rows]


def feasible_swap(md: Matchdesk, round_id: int) -> tuple[str, str, str, str]:
    """Two unlocked matches x-px and y-py where y-px and x-py meet every hard rule."""
    with md.transaction() as session:
        round_ = get_round(session, round_id)
        problem = load_pool(
            session,
            md.program,
            cadence=round_.cadence,
            creator_ids=round_pool_ids(session, round_id),
            period_start=aware(round_.period_start),
            period_end=aware(round_.period_end),
        ).problem
    free = [(a, b) for _, a, b, locked in standing_matches(md, round_id) if not locked]
    for i, (x, px) in enumerate(free):
        for y, py in free[i + 1 :]:
            if not pair_violations(problem, y, px) and not pair_violations(problem, x, py):
                return x, px, y, py
    raise AssertionError("no feasible swap in the demo round")


def outbox(md: Matchdesk, handle: str) -> list[tuple[str, str]]:
    with md.transaction() as session:
        email = session.scalars(select(Creator.email).where(Creator.handle == handle)).one()
        return [
            (kind, subject)
            for kind, subject in session.execute(
                select(OutboxMessage.kind, OutboxMessage.subject)
                .where(OutboxMessage.recipient == email)
                .order_by(OutboxMessage.id)
            )
        ]


def outbox_subjects(md: Matchdesk, handle: str) -> list[str]:
    return [subject for _, subject in outbox(md, handle)]


def test_build_review_publish_decline_rematch(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    md.settings.base_url = live_server
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(200, seed=11))
    page.on("dialog", lambda dialog: dialog.accept())  # publish and decline ask first
    sign_in(page, live_server, operators["manager"])

    # Build next week's round from the page (small pool: built in the request).
    page.click("button:has-text('Build the draft')")
    page.wait_for_url(re.compile(r".*/rounds/\d+$"))
    round_id = int(page.url.rsplit("/", 1)[1])
    matches = standing_matches(md, round_id)
    expect(page.locator("#flash")).to_have_text(
        re.compile(rf"Round built: {len(matches)} matches from \d+ creators\.")
    )
    expect(page.locator("#match-total")).to_have_text(str(len(matches)))

    # Lock the first pair on the page.
    first = page.locator("table.board tbody tr").first
    locked_id = int(first.get_attribute("id").removeprefix("match-"))
    first.locator("button:has-text('Lock')").click()
    expect(page.locator("#board-note")).to_have_text(f"Match {locked_id} locked.")  # in place
    expect(page.locator(f"#match-{locked_id} .lock-state")).to_have_text("🔒 locked")

    # Swap two creators of two other pairs.
    x, px, y, py = feasible_swap(md, round_id)
    page.fill("[aria-label='Swap: first creator']", x)
    page.fill("[aria-label='Swap: second creator']", "@" + y)
    page.click("#swap-form button")
    expect(page.locator("#board-note")).to_have_text(f"Swapped: @{x} and @{y} exchanged partners.")
    pairs = {frozenset((a, b)) for _, a, b, _ in standing_matches(md, round_id)}
    assert frozenset((x, py)) in pairs
    assert frozenset((y, px)) in pairs
    assert frozenset((x, px)) not in pairs
    # A swap that breaks a rule is refused on the board, in plain words (issue 13, defect 6).
    page.fill("[aria-label='Swap: first creator']", x)
    page.fill("[aria-label='Swap: second creator']", py)
    page.click("#swap-form button")
    expect(page.locator("#board-note")).to_have_text(
        f"The swap cannot be made: @{x} and @{py} are partners already."
    )
    expect(page.locator("table.board")).to_be_visible()  # the board stays
    page.reload()  # the log is drawn with the page
    expect(page.locator("#audit tbody tr").first).to_contain_text("match swapped")
    screenshot(page, "round-board")

    # Undo the last edit: the swap is taken back (the lock before it stays).
    page.click("#undo")
    expect(page.locator("#flash")).to_have_text(f"Undone: @{x} and @{y} swapped back.")
    pairs = {frozenset((a, b)) for _, a, b, _ in standing_matches(md, round_id)}
    assert {frozenset((x, px)), frozenset((y, py))} <= pairs
    assert frozenset((x, py)) not in pairs
    assert [m[3] for m in standing_matches(md, round_id) if m[0] == locked_id] == [True]
    expect(page.locator("#audit tbody tr").first).to_contain_text("round undone")

    # Publish: every matched creator with an e-mail address is invited.
    page.click("#publish")
    expect(page.locator("#flash")).to_have_text(re.compile(r"Published: \d+ invitations queued\."))
    expect(page.locator("#round-status")).to_have_text("published")

    # A creator (with an e-mail address, as is their partner) declines through their link.
    with md.transaction() as session:
        emails = dict(session.execute(select(Creator.handle, Creator.email)).all())
    match_id, decliner, partner, _ = next(
        m
        for m in standing_matches(md, round_id)
        if emails[m[1]] and emails[m[2]] and m[0] != locked_id
    )
    with md.transaction() as session:
        link = issue_portal_link(session, md.settings, decliner).url
    page.goto(link)
    row = page.locator(f"#portal-match-{match_id}")
    expect(row.locator(".partner")).to_have_text("@" + partner)
    expect(row.locator(".answer")).to_have_text("your answer: pending")
    screenshot(page, "portal-matches")
    row.locator("button:has-text('Decline')").click()
    expect(page.locator("#answered")).to_contain_text("Declined.")
    expect(page.locator(f"#portal-match-{match_id} .badge")).to_have_text("declined")

    # Rematch from the board.
    page.goto(f"{live_server}/rounds/{round_id}")
    page.click("#rematch")
    expect(page.locator("#flash")).to_have_text(re.compile(r"Rematched: \d+ new matches\."))
    partner_now = [m for m in standing_matches(md, round_id) if partner in m[1:3]]
    page.fill("input[name=q]", partner)
    expect(page.locator("#match-total")).to_have_text(str(1 + len(partner_now)))
    invitation = ("match_invitation", f"Your LIVE match with @{decliner}")
    assert [k for k, _ in outbox(md, decliner)] == ["match_invitation", "match_cancellation"]
    partner_mail = outbox(md, partner)
    assert partner_mail[0][0] == invitation[0]
    assert partner_mail[0][1].startswith(invitation[1])
    if partner_now:  # a new partner: the partner's event is updated in place
        [(new_id, a, b, _)] = partner_now
        new_partner = b if a == partner else a
        expect(page.locator(f"#match-{new_id}")).to_contain_text("@" + new_partner)
        assert len(partner_mail) == 2
        assert partner_mail[1][0] == "match_invitation"
        assert partner_mail[1][1].startswith(f"Updated: your LIVE match with @{new_partner}")
    else:  # nobody free could meet them: their event is cancelled
        assert [k for k, _ in partner_mail] == ["match_invitation", "match_cancellation"]
    screenshot(page, "round-board-rematched")

    # The outbox page: the decliner's two messages, newest first, queued (no worker runs
    # here); a manager opens one and reads it as it goes out.
    page.click("nav.main-nav >> text=Outbox")
    page.fill("input[name=recipient]", emails[decliner])
    page.click("button:has-text('Filter')")
    page.wait_for_url(re.compile(r"/outbox\?.*recipient="))
    rows = page.locator("#messages tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").nth(2)).to_have_text("match cancellation")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("match invitation")
    for i in range(2):
        expect(rows.nth(i).locator("td").nth(1)).to_have_text(emails[decliner])
        expect(rows.nth(i).locator(".badge")).to_have_text("queued")
    rows.nth(1).locator("a").click()
    expect(page.locator("h1")).to_have_text(outbox_subjects(md, decliner)[0])
    expect(page.locator("#state .badge")).to_have_text("queued")
    expect(page.locator("#body .message-body")).to_contain_text("/portal/")
    screenshot(page, "outbox-after-rematch")


def test_a_big_build_runs_as_a_job_with_a_progress_page(
    page: Any, live_server: str, operators: dict[str, str], md: Matchdesk
) -> None:
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(200, seed=11))
    md.settings.round_inline_limit = 50
    sign_in(page, live_server, operators["manager"])
    start = page.input_value("#start")
    page.select_option("#cadence", "monthly")
    monthly = page.input_value("#start")
    assert monthly.endswith("-01")
    assert page.locator("#tier option[value=S]").is_enabled()
    assert not page.locator("#tier option[value=B]").is_enabled()
    page.select_option("#cadence", "weekly")
    assert page.input_value("#start") == start
    page.click("button:has-text('Build the draft')")
    page.wait_for_url(re.compile(r".*/jobs/\d+$"))
    job_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#job-status")).to_have_text("queued")
    screenshot(page, "job-progress")

    # The worker (here: this test, in-process) runs it; the page follows to the round.
    finished = jobs.run_inline(md, job_id, default_registry())
    assert finished.status == "done", finished.error
    round_id = finished.result["round_id"]  # type: ignore[index]
    page.wait_for_url(f"{live_server}/rounds/{round_id}")
    with md.transaction() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        assert (round_.cadence, round_.status) == ("weekly", "draft")
        assert aware(round_.period_end) - aware(round_.period_start) >= timedelta(hours=167)
    page.goto(live_server + "/rounds")
    expect(page.locator(f"a[href='/rounds/{round_id}']")).to_have_text(f"Round {round_id}")
    screenshot(page, "rounds")
