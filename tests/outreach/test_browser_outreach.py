"""Outreach in a real browser: build a segment from rule rows (live count), write and
preview a newsletter, send it, see its figures; the one-click unsubscribe link."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.mail.delivery import Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from tests.mail.conftest import Clock, SmtpServer
from tests.outreach.samples import add_roster
from tests.web.conftest import PASSWORD, screenshot


def test_segment_newsletter_send_figures(
    page: Any,
    live_server: str,
    operators: dict[str, str],
    md: Matchdesk,
    smtp_server: SmtpServer,
    smtp_settings: DeliverySettings,
    clock: Clock,
) -> None:
    add_roster(md)
    page.goto(live_server + "/outreach")
    page.fill("input[name=email]", operators["manager"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(live_server + "/outreach")
    page.click("#new-segment")
    page.wait_for_url(live_server + "/outreach/segments/new")
    # The first row has no value yet: it is left out, and everyone matches.
    expect(page.locator("#segment-count")).to_have_text("5 creators now")
    page.fill("#segment-name", "Music")
    row = page.locator("tr.rule-row").nth(0)
    row.locator("select[name=field]").select_option("category")
    row.locator("input[name=value]").fill("music")
    expect(page.locator("#segment-count")).to_have_text("2 creators now")
    page.click("#add-rule")
    expect(page.locator("tr.rule-row")).to_have_count(2)
    second = page.locator("tr.rule-row").nth(1)
    second.locator("select[name=field]").select_option("followers")
    second.locator("select[name=op]").select_option(">")
    second.locator("input[name=value]").fill("1000")
    expect(page.locator("#segment-count")).to_have_text("1 creator now")
    expect(page.locator(".segment-sample li")).to_have_text(["ana"])
    second.locator("select[name=op]").select_option("<")
    expect(page.locator(".segment-sample li")).to_have_text(["dee"])
    second.locator("[data-remove-rule]").click()
    expect(page.locator("#segment-count")).to_have_text("2 creators now")
    second_value = page.locator("tr.rule-row input[name=value]")
    second_value.nth(0).fill("musik")
    expect(page.locator("#segment-count")).to_have_text("0 creators now")
    second_value.nth(0).fill("music")
    expect(page.locator("#segment-count")).to_have_text("2 creators now")
    screenshot(page, "segment-builder")
    page.click("#save-segment")
    page.wait_for_url(live_server + "/outreach/segments/Music")

    page.goto(live_server + "/outreach/newsletters/new")
    page.fill("#newsletter-name", "Music news")
    page.select_option("#newsletter-segment", "Music")
    page.fill("#newsletter-subject", "Hi {{ display_name }}")
    page.fill("#newsletter-body", "Hello **{{ nickname }}**")
    page.click("#save-newsletter")
    expect(page.locator("#problems li")).to_contain_text(["body: unknown field 'nickname'"])
    page.fill("#newsletter-body", "Hello **{{ display_name }}**, {{ diamonds_30d | thousands }}")
    page.click("#save-newsletter")
    page.wait_for_url(re.compile(r".*/outreach/newsletters/\d+$"))
    newsletter_id = int(page.url.rsplit("/", 1)[1])
    expect(page.locator("#preview-subject")).to_have_text("Hi Ana")
    expect(page.locator("#preview-html strong")).to_have_text("Ana")
    page.select_option("#preview-handle", "dee")
    expect(page.locator("#preview-subject")).to_have_text("Hi Dee")
    screenshot(page, "newsletter-draft")

    page.click("#test-send")
    expect(page.locator("#notice")).to_have_text("A test message is on its way to your address.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#send")
    page.wait_for_url(re.compile(rf".*/outreach/newsletters/{newsletter_id}\?job=\d+$"))
    job_id = int(page.url.rsplit("=", 1)[1])
    expect(page.locator("#newsletter-status")).to_have_text("sending")
    expect(page.locator("[data-figure=recipients]")).to_have_text("2")
    finished = jobs.run_inline(md, job_id, default_registry())
    assert finished.status == "done", finished.error
    assert finished.result == {"newsletter_id": newsletter_id, "queued": 2}
    Courier(md, smtp_settings, "w1", clock=clock).deliver_due()
    expect(page.locator("[data-figure=sent]")).to_have_text("2", timeout=60_000)
    received = sorted(r.rcpt_tos[0] for r in smtp_server.recorder.received)
    assert received == ["ana@x.org", "dee@x.org", operators["manager"]]
    page.reload()
    expect(page.locator("#newsletter-status")).to_have_text("sent")
    screenshot(page, "newsletter-sent")

    # The footer link: a page with a button, no sign-in needed.
    with md.transaction() as session:
        headers = session.scalars(
            select(OutboxMessage.headers).where(OutboxMessage.recipient == "dee@x.org")
        ).one()
    assert headers is not None
    link = headers["List-Unsubscribe"].strip("<>")
    assert link.startswith("http://127.0.0.1:")  # no base_url: the served address
    anonymous = page.context.browser.new_context()
    other = anonymous.new_page()
    other.goto(link.replace(link.split("/unsubscribe/")[0], live_server))
    other.click("#unsubscribe-button")
    expect(other.locator("#unsubscribe h1")).to_have_text("Te has dado de baja")  # dee: es
    anonymous.close()
    page.reload()
    expect(page.locator("[data-figure=unsubscribed]")).to_have_text("1")
