"""Issue 15, finding 10: a Content-Security-Policy without inline script on every page, and
in Chromium no page breaks it while its features (confirm dialogs, the round form, charts,
the portal's editor and buttons, the API docs) work. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from matchdesk.context import Matchdesk
from matchdesk.portal.links import issue_portal_link
from matchdesk.rounds.models import Round
from matchdesk.web.app import ROUTERS
from matchdesk.web.security import CONTENT_SECURITY_POLICY
from tests.results.test_reports import _program
from tests.web.conftest import PASSWORD, sign_in
from tests.web.test_rounds_pages import add_creators, build, monday

TEMPLATES = Path(__file__).parents[2] / "src" / "matchdesk" / "web" / "templates"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Reports over the sessions _program loads (March 2026).
QUERY = {
    "/reports": "?from=2026-03-04&to=2026-03-10",
    "/reports/creators/luna": "?from=2026-03-04&to=2026-03-10",
}

# Logged by every page (an init script runs outside the page's policy): each violation the
# browser reports, besides Chromium's own "Refused to ..." console errors.
WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI +
                " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


def test_the_policy_forbids_inline_script_eval_plugins_and_framing() -> None:
    assert CONTENT_SECURITY_POLICY == POLICY


def test_no_template_holds_inline_script_handlers_or_javascript_urls() -> None:
    found = []
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
            r"\son[a-z]+\s*=",
            r"javascript:",
            r"\sstyle\s*=",
            r"<style",
        ):
            found += [(template.name, m.group(0)) for m in re.finditer(pattern, text, re.I)]
    assert found == []


def _seed(md: Matchdesk, client: TestClient) -> dict[str, str]:
    """Creators (luna and sol with sessions and a match; six who can meet on Monday
    evenings), a draft round; the values for the routes' path parameters."""
    _program(md)
    add_creators(md)
    built = build(client, monday())
    assert built.status_code == 303, built.text
    with md.transaction() as session:
        token = issue_portal_link(session, md.settings, "luna").url.rsplit("/", 1)[1]
    return {
        "handle": "luna",
        "round_id": built.headers["location"].rsplit("/", 1)[1],
        "job_id": "999",  # none: the error page
        "token": token,
    }


def html_pages(client: TestClient, values: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """Every HTML page a GET route gives (exports and images left out), with its answer."""
    for router in ROUTERS:
        for route in router.routes:
            if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
                continue
            if route.path.startswith("/api/v1") or re.search(r"\.\{\w+\}$", route.path):
                continue  # the API's JSON; exports and chart images
            path = re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values.get(m.group(1), "1"), route.path)
            path += QUERY.get(path, "")
            answer = client.get(path, follow_redirects=False)
            if answer.headers.get("content-type", "").startswith("text/html"):
                yield path, answer


CORE_PAGES = {
    "/",
    "/creators",
    "/creators/import",
    "/creators/luna",
    "/rounds",
    "/results",
    "/reports?from=2026-03-04&to=2026-03-10",
    "/reports/creators/luna?from=2026-03-04&to=2026-03-10",
    "/tiers/review",
    "/settings",
    "/api/docs",
}


def test_every_html_page_carries_the_policy(md: Matchdesk, client_as: Any) -> None:
    admin = client_as("admin")
    values = _seed(md, admin)
    pages = dict(html_pages(admin, values))
    policies = {
        path: answer.headers["content-security-policy"]
        for path, answer in pages.items()
        if answer.headers["content-security-policy"] != POLICY
    }
    assert policies == {}
    assert [path for path, answer in pages.items() if answer.status_code >= 500] == []
    ok = {path for path, answer in pages.items() if answer.status_code == 200}
    assert CORE_PAGES - ok == set()  # reached, signed in (not redirected to the sign-in)
    assert f"/rounds/{values['round_id']}" in ok
    assert f"/portal/{values['token']}" in ok
    assert f"/portal/{values['token']}/report" in ok
    assert pages["/jobs/999"].status_code == 404  # the error page
    assert {
        k: admin.get("/").headers[k]
        for k in ("x-frame-options", "referrer-policy", "x-content-type-options")
    } == {
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "x-content-type-options": "nosniff",
    }
    docs = admin.get("/api/docs").text
    assert "cdn" not in docs.lower()
    assert '<script src="/static/vendor/swagger-ui-bundle.js" defer></script>' in docs


@pytest.fixture
def watched(page: Any) -> list[str]:
    """The CSP violations and script errors every page of this test reports."""
    reports: list[str] = []
    page.context.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: (
            reports.append(m.text)
            if m.type == "error" and ("Content Security Policy" in m.text or "CSP" in m.text)
            else None
        ),
    )
    page.on("pageerror", lambda error: reports.append(f"script error: {error}"))
    return reports


def test_no_page_breaks_the_policy_and_their_features_work(
    md: Matchdesk,
    web: Any,
    operators: dict[str, str],
    page: Any,
    live_server: str,
    watched: list[str],
) -> None:
    md.settings.base_url = live_server
    values = _seed(md, sign_in(TestClient(web), operators["admin"]))
    paths = [path for path, _ in html_pages(sign_in(TestClient(web), operators["admin"]), values)]
    page.goto(live_server + "/login")
    page.fill("input[name=email]", operators["admin"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(live_server + "/")

    for path in paths:
        answer = page.goto(live_server + path)
        assert answer.headers["content-security-policy"] == POLICY, path
        page.wait_for_load_state("load")
    assert watched == [], "\n".join(watched)

    # Charts draw (vega through its interpreter: no eval).
    page.goto(live_server + "/reports" + QUERY["/reports"])
    for name in ("diamonds", "hours", "tiers"):
        page.wait_for_selector(f"#chart-{name}[data-drawn]", state="attached")
    assert page.get_attribute("#chart-diamonds", "data-drawn") == "2"

    # The API docs: Swagger UI from the vendored files lists the operations.
    page.goto(live_server + "/api/docs")
    page.wait_for_selector(".opblock", state="attached", timeout=60_000)
    page.locator(".opblock-summary").first.click()  # expanded: parameters, responses
    page.wait_for_selector(".opblock-body .responses-table", state="visible")

    # The round form: the cadence sets the start date.
    page.goto(live_server + "/rounds")
    page.select_option("#cadence", "monthly")
    assert page.input_value("#start").endswith("-01")

    # Publish asks first: dismissed, the round stays a draft; accepted, it is published.
    round_id = values["round_id"]
    page.goto(f"{live_server}/rounds/{round_id}")
    dialogs: list[str] = []

    def answer_with(accept: bool) -> None:
        def handle(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handle)

    answer_with(False)
    page.click("#publish")
    expect(page.locator("#round-status")).to_have_text("draft")
    answer_with(True)
    page.click("#publish")
    expect(page.locator("#round-status")).to_have_text("published")
    assert (
        dialogs
        == [
            f"Publish round {round_id}? Every matched creator with an e-mail address gets an "
            "invitation."
        ]
        * 2
    )
    with md.transaction() as session:
        assert session.get(Round, int(round_id)).status == "published"  # type: ignore[union-attr]

    # The error page's Go back returns to the page before.
    page.goto(live_server + "/creators")
    page.goto(live_server + "/jobs/999")
    page.click("a:has-text('Go back')")
    page.wait_for_url(live_server + "/creators")

    # The portal: the availability editor is shown, and Decline asks first.
    with md.transaction() as session:
        ann = issue_portal_link(session, md.settings, "ann").url
    page.goto(ann)
    assert page.is_visible("#day-editor")
    decline = page.locator("button:has-text('Decline')").first
    answer_with(False)
    decline.click()
    expect(page.locator(".badge").first).to_have_text("waiting for your answer")  # plain words
    assert dialogs[-1].startswith("Decline your match with @")
    answer_with(True)
    decline.click()
    expect(page.locator("#answered")).to_contain_text("Declined.")
    assert watched == [], "\n".join(watched)
