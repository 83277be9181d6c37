"""Every route, for every kind of caller, with the exact expected status.

Callers: anonymous, viewer, manager, admin (signed in with a cookie, sending their CSRF
token), a creator with their portal link, and another creator with theirs. A route added
without a row here fails `test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.accounts.service import create_token
from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.portal.links import issue_portal_link
from matchdesk.roster.editing import create_creator, set_availability
from matchdesk.rounds.board import Edit
from matchdesk.rounds.lifecycle import publish
from matchdesk.rounds.models import Match
from matchdesk.rounds.period import next_start
from matchdesk.rounds.service import build_round, get_round
from matchdesk.web.app import ROUTERS
from tests.web.conftest import csrf_of

CALLERS = ("anonymous", "viewer", "manager", "admin", "creator", "other_creator")
ANON, VIEW, MAN, ADM, CRE, OTH = CALLERS


@dataclass(frozen=True)
class Case:
    method: str
    route: str  # the route's path pattern, as the router declares it
    path: str  # with parameters filled in; {caller} is replaced by the caller's name
    expected: dict[str, int]
    form: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None


def row(
    anon: int, viewer: int, manager: int, admin: int, creator: int, other: int
) -> dict[str, int]:
    return dict(zip(CALLERS, (anon, viewer, manager, admin, creator, other), strict=True))


PAGE = row(303, 200, 200, 200, 303, 303)  # an ops page every operator may read
API_READ = row(401, 200, 200, 200, 401, 401)

CASES = [
    Case("GET", "/login", "/login", row(200, 303, 303, 303, 200, 200)),
    # The API's documentation (Swagger UI over /openapi.json, both public).
    Case("GET", "/api/docs", "/api/docs", row(200, 200, 200, 200, 200, 200)),
    Case(
        "POST",
        "/login",
        "/login",
        row(401, 401, 401, 401, 401, 401),
        form={"email": "nobody-{caller}@example.com", "password": "wrong password"},
    ),
    Case("POST", "/logout", "/logout", row(303, 303, 303, 303, 303, 303)),
    Case("GET", "/", "/", PAGE),
    Case("GET", "/rounds", "/rounds", PAGE),
    # The world's round covers next week already: a second build of it is refused.
    Case(
        "POST",
        "/rounds",
        "/rounds",
        row(303, 403, 409, 409, 303, 303),
        form={"cadence": "weekly", "start": "{monday}"},
    ),
    Case("GET", "/jobs/{job_id}", "/jobs/{job_id}", PAGE),
    Case("GET", "/rounds/{round_id}", "/rounds/{round_id}", PAGE),
    Case("GET", "/rounds/{round_id}/export.{fmt}", "/rounds/{round_id}/export.csv", PAGE),
    Case(
        "POST",
        "/rounds/{round_id}/matches/{match_id}/lock",
        "/rounds/{round_id}/matches/{match_id}/lock",
        row(303, 403, 303, 303, 303, 303),
        form={"version": "{version}", "locked": "true"},
    ),
    # An unknown match: the role check passes, the edit finds nothing (and changes nothing).
    Case(
        "POST",
        "/rounds/{round_id}/matches/{match_id}/unpair",
        "/rounds/{round_id}/matches/99999/unpair",
        row(303, 403, 404, 404, 303, 303),
        form={"version": "{version}"},
    ),
    # The match has not happened yet.
    Case(
        "POST",
        "/rounds/{round_id}/matches/{match_id}/no-show",
        "/rounds/{round_id}/matches/{match_id}/no-show",
        row(303, 403, 409, 409, 303, 303),
        form={"version": "{version}", "handles": "anna"},
    ),
    # bob has no match to swap.
    Case(
        "POST",
        "/rounds/{round_id}/swap",
        "/rounds/{round_id}/swap",
        row(303, 403, 422, 422, 303, 303),
        form={"version": "{version}", "first": "anna", "second": "bob"},
    ),
    # anna is matched already.
    Case(
        "POST",
        "/rounds/{round_id}/pair",
        "/rounds/{round_id}/pair",
        row(303, 403, 422, 422, 303, 303),
        form={"version": "{version}", "first": "anna", "second": "bob"},
    ),
    Case(
        "POST",
        "/rounds/{round_id}/exclude",
        "/rounds/{round_id}/exclude",
        row(303, 403, 303, 303, 303, 303),
        form={"version": "{version}", "handle": "bob"},
    ),
    # anna is not excluded.
    Case(
        "POST",
        "/rounds/{round_id}/include",
        "/rounds/{round_id}/include",
        row(303, 403, 422, 422, 303, 303),
        form={"version": "{version}", "handle": "anna"},
    ),
    # The round is published: re-optimise, publish and discard are refused, rematch runs.
    Case(
        "POST",
        "/rounds/{round_id}/reoptimise",
        "/rounds/{round_id}/reoptimise",
        row(303, 403, 409, 409, 303, 303),
        form={"version": "{version}"},
    ),
    Case(
        "POST",
        "/rounds/{round_id}/publish",
        "/rounds/{round_id}/publish",
        row(303, 403, 409, 409, 303, 303),
        form={"version": "{version}"},
    ),
    Case(
        "POST",
        "/rounds/{round_id}/rematch",
        "/rounds/{round_id}/rematch",
        row(303, 403, 303, 303, 303, 303),
        form={"version": "{version}"},
    ),
    Case(
        "POST",
        "/rounds/{round_id}/discard",
        "/rounds/{round_id}/discard",
        row(303, 403, 409, 409, 303, 303),
        form={"version": "{version}"},
    ),
    Case("GET", "/results", "/results", PAGE),
    Case("POST", "/results", "/results", row(303, 403, 422, 422, 303, 303)),
    # A big upload's job outcome (managers); the world's job is a round build: not an import.
    Case(
        "GET", "/results/jobs/{job_id}", "/results/jobs/{job_id}", row(303, 403, 404, 404, 303, 303)
    ),
    Case(
        "POST",
        "/results/confirm",
        "/results/confirm",
        row(303, 403, 404, 404, 303, 303),
        form={"upload_id": "none"},
    ),
    Case("GET", "/reports", "/reports?from=2026-03-02&to=2026-03-08", PAGE),
    Case(
        "GET",
        "/reports/export/{table}.{fmt}",
        "/reports/export/weeks.xlsx?from=2026-03-02&to=2026-03-08",
        PAGE,
    ),
    Case(
        "GET",
        "/reports/charts/{chart}.{fmt}",
        "/reports/charts/diamonds.svg?from=2026-03-02&to=2026-03-08",
        PAGE,
    ),
    Case("GET", "/reports/creators/{handle}", "/reports/creators/anna", PAGE),
    Case(
        "GET",
        "/reports/creators/{handle}/export/{table}.{fmt}",
        "/reports/creators/anna/export/days.csv",
        PAGE,
    ),
    Case(
        "GET",
        "/reports/creators/{handle}/charts/{chart}.{fmt}",
        "/reports/creators/anna/charts/days.svg",
        PAGE,
    ),
    Case("GET", "/tiers/review", "/tiers/review", PAGE),
    # Nobody is proposed in the world: applying a move refuses (nothing changes).
    Case(
        "POST",
        "/tiers/review",
        "/tiers/review",
        row(303, 403, 422, 422, 303, 303),
        form={"handle": "anna"},
    ),
    Case("GET", "/checkins", "/checkins", PAGE),
    # There is no check-in 99999: operators get 404 (a viewer may not write: 403).
    Case("GET", "/checkins/{checkin_id}", "/checkins/99999", row(303, 404, 404, 404, 303, 303)),
    Case(
        "POST",
        "/checkins/{checkin_id}/notes",
        "/checkins/99999/notes",
        row(303, 403, 404, 404, 303, 303),
        form={"notes": "x", "version": "1"},
    ),
    Case(
        "POST",
        "/checkins/{checkin_id}/items",
        "/checkins/99999/items",
        row(303, 403, 404, 404, 303, 303),
        form={"text": "x"},
    ),
    Case(
        "POST",
        "/checkins/{checkin_id}/items/{item_id}/done",
        "/checkins/99999/items/99999/done",
        row(303, 403, 404, 404, 303, 303),
    ),
    Case(
        "POST",
        "/checkins/{checkin_id}/close",
        "/checkins/99999/close",
        row(303, 403, 404, 404, 303, 303),
        form={"outcome": "held", "version": "1"},
    ),
    Case(
        "POST",
        "/checkins/{checkin_id}/cancel",
        "/checkins/99999/cancel",
        row(303, 403, 404, 404, 303, 303),
        form={"version": "1"},
    ),
    Case("GET", "/checkins/me/hours", "/checkins/me/hours", PAGE),
    Case(
        "POST",
        "/checkins/me/hours",
        "/checkins/me/hours",
        row(303, 200, 200, 200, 303, 303),
        form={"timezone": "UTC", "hours": "Mon 09:00-17:00"},
    ),
    Case(
        "POST",
        "/checkins/me/feed/renew",
        "/checkins/me/feed/renew",
        row(303, 303, 303, 303, 303, 303),
    ),
    # The signed address is the credential: a forged one is unknown to everyone.
    Case("GET", "/calendar/{token}.ics", "/calendar/forged.ics", row(404, 404, 404, 404, 404, 404)),
    Case("GET", "/creators/{handle}/checkins", "/creators/anna/checkins", PAGE),
    # Plans next week (nobody is due in the world: nothing is booked).
    Case(
        "POST",
        "/checkins/schedule",
        "/checkins/schedule",
        row(303, 403, 200, 200, 303, 303),
        form={"week": "{monday}"},
    ),
    Case("GET", "/outreach", "/outreach", PAGE),
    # Outreach (issue 12): unknown segment names and newsletter ids answer 404 to those
    # allowed; managers change things; the unsubscribe link needs no sign-in.
    Case("GET", "/outreach/segments/new", "/outreach/segments/new", PAGE),
    Case("GET", "/outreach/segments/rule-row", "/outreach/segments/rule-row", PAGE),
    Case(
        "GET",
        "/outreach/segments/{name}",
        "/outreach/segments/nope",
        row(303, 404, 404, 404, 303, 303),
    ),
    Case(
        "POST",
        "/outreach/segments/preview",
        "/outreach/segments/preview",
        PAGE,
        form={"match": "all", "field": "tier", "op": "=", "value": "A"},
    ),
    Case(
        "POST",
        "/outreach/segments",
        "/outreach/segments",
        row(303, 403, 422, 422, 303, 303),
        form={"name": "", "match": "all"},
    ),
    Case("GET", "/outreach/newsletters/new", "/outreach/newsletters/new", PAGE),
    Case(
        "POST",
        "/outreach/newsletters",
        "/outreach/newsletters",
        row(303, 403, 422, 422, 303, 303),
        form={"name": "x", "segment": "nope", "subject": "s", "body": "b"},
    ),
    *(
        Case(
            "GET",
            f"/outreach/newsletters/{{newsletter_id}}{tail}",
            f"/outreach/newsletters/99999{tail}",
            row(303, 404, 404, 404, 303, 303),
        )
        for tail in ("", "/figures")
    ),
    Case(
        "GET",
        "/outreach/newsletters/{newsletter_id}/preview",
        "/outreach/newsletters/99999/preview?handle=anna",
        row(303, 200, 200, 200, 303, 303),  # a fragment saying so
    ),
    *(
        Case(
            "POST",
            f"/outreach/newsletters/{{newsletter_id}}/{action}",
            f"/outreach/newsletters/99999/{action}",
            row(303, 403, 404, 404, 303, 303),
            form={"handle": "anna"},
        )
        for action in ("test", "send", "pause", "resume")
    ),
    Case("GET", "/outreach/campaigns", "/outreach/campaigns", PAGE),
    Case(
        "POST",
        "/outreach/campaigns",
        "/outreach/campaigns",
        row(303, 403, 422, 422, 303, 303),
        form={"text": "name = 1"},
    ),
    Case(
        "GET",
        "/outreach/campaigns/{campaign_id}",
        "/outreach/campaigns/99999",
        row(303, 404, 404, 404, 303, 303),
    ),
    Case(
        "GET",
        "/outreach/campaigns/{campaign_id}/standings.{fmt}",
        "/outreach/campaigns/99999/standings.csv",
        row(303, 404, 404, 404, 303, 303),
    ),
    Case("GET", "/unsubscribe/{token}", "/unsubscribe/forged", row(403, 403, 403, 403, 403, 403)),
    Case("POST", "/unsubscribe/{token}", "/unsubscribe/forged", row(403, 403, 403, 403, 403, 403)),
    # The bounce webhook's secret address is its credential (no sign-in, no CSRF).
    Case(
        "POST",
        "/webhooks/bounces/{token}",
        "/webhooks/bounces/forged",
        row(403, 403, 403, 403, 403, 403),
    ),
    Case("GET", "/outbox", "/outbox", PAGE),
    # bob has a bye in the world's round (no availability).
    Case("GET", "/rounds/{round_id}/byes/{handle}", "/rounds/{round_id}/byes/bob", PAGE),
    Case("GET", "/creators/suggest", "/creators/suggest?q=an", PAGE),
    # The world's round was just published: nothing to undo (a 303 back to the board).
    Case(
        "POST",
        "/rounds/{round_id}/undo",
        "/rounds/{round_id}/undo",
        row(303, 403, 303, 303, 303, 303),
        form={"version": "{version}"},
    ),
    # A message's body holds a portal link: managers only (an unknown id: 404).
    Case(
        "GET",
        "/outbox/{message_id}",
        "/outbox/99999",
        row(303, 403, 404, 404, 303, 303),
    ),
    Case(
        "POST",
        "/outbox/{message_id}/retry",
        "/outbox/99999/retry",
        row(303, 403, 404, 404, 303, 303),
    ),
    Case(
        "POST",
        "/rounds/{round_id}/remind",
        "/rounds/{round_id}/remind",
        row(303, 403, 303, 303, 303, 303),
    ),
    Case("GET", "/creators", "/creators", PAGE),
    Case("GET", "/creators/export.{extension}", "/creators/export.csv", PAGE),
    Case("GET", "/creators/{handle}", "/creators/anna", PAGE),
    Case("GET", "/creators/new", "/creators/new", row(303, 403, 200, 200, 303, 303)),
    Case(
        "POST",
        "/creators/new",
        "/creators/new",
        row(303, 403, 303, 303, 303, 303),
        form={
            "handle": "web_{caller}",
            "timezone": "UTC",
            "languages": "en",
            "followers": "1",
            "revenue_30d": "1",
        },
    ),
    Case(
        "GET", "/creators/{handle}/edit", "/creators/anna/edit", row(303, 403, 200, 200, 303, 303)
    ),
    # anna is past version 1: the stale edit is refused (nothing changes).
    Case(
        "POST",
        "/creators/{handle}/edit",
        "/creators/anna/edit",
        row(303, 403, 409, 409, 303, 303),
        form={"version": "1", "display_name": "Anna"},
    ),
    Case(
        "POST",
        "/creators/{handle}/status",
        "/creators/anna/status",
        row(303, 403, 409, 409, 303, 303),
        form={"version": "1", "status": "paused"},
    ),
    # No creator checked: refused on the roster page (a 303 back to it, nothing changes).
    Case(
        "POST",
        "/creators/bulk",
        "/creators/bulk",
        row(303, 403, 303, 303, 303, 303),
        form={"action": "pause"},
    ),
    Case("GET", "/creators/import", "/creators/import", row(303, 403, 200, 200, 303, 303)),
    Case("POST", "/creators/import", "/creators/import", row(303, 403, 422, 422, 303, 303)),
    Case(
        "GET",
        "/creators/import/jobs/{job_id}",
        "/creators/import/jobs/{job_id}",
        row(303, 403, 404, 404, 303, 303),
    ),
    Case(
        "POST",
        "/creators/import/confirm",
        "/creators/import/confirm",
        row(303, 403, 404, 404, 303, 303),
        form={"upload_id": "none"},
    ),
    Case(
        "POST",
        "/creators/{handle}/portal-link",
        "/creators/anna/portal-link",
        row(303, 403, 200, 200, 303, 303),
    ),
    Case(
        "POST",
        "/creators/{handle}/portal-links/revoke",
        "/creators/anna/portal-links/revoke",
        row(303, 403, 200, 200, 303, 303),
    ),
    Case("GET", "/settings", "/settings", PAGE),
    Case(
        "POST",
        "/settings/display-zone",
        "/settings/display-zone",
        row(303, 303, 303, 303, 303, 303),
        form={"timezone": "UTC"},
    ),
    # No tier given: refused (a program needs one), nothing saved.
    Case(
        "POST",
        "/settings/program",
        "/settings/program",
        row(303, 403, 403, 422, 303, 303),
        form={"version": "0"},
    ),
    Case(
        "POST",
        "/settings/operators",
        "/settings/operators",
        row(303, 403, 403, 303, 303, 303),
        form={"email": "new-{caller}@example.com", "role": "viewer", "password": "long password 1"},
    ),
    Case(
        "POST",
        "/settings/tokens",
        "/settings/tokens",
        row(303, 403, 403, 200, 303, 303),
        form={"name": "integration", "role": "viewer"},
    ),
    Case(
        "POST",
        "/settings/tokens/{token_id}/revoke",
        "/settings/tokens/{token_id}/revoke",
        row(303, 403, 403, 303, 303, 303),
    ),
    Case("GET", "/portal/{token}", "/portal/{portal}", row(403, 403, 403, 403, 200, 200)),
    Case(
        "GET",
        "/portal/{token}/report",
        "/portal/{portal}/report",
        row(403, 403, 403, 403, 200, 200),
    ),
    Case(
        "POST",
        "/portal/{token}/availability",
        "/portal/{portal}/availability",
        row(403, 403, 403, 403, 303, 303),
        form={"availability": "Tue 18:00-20:00"},
    ),
    Case("GET", "/api/v1/creators", "/api/v1/creators", API_READ),
    Case("GET", "/api/v1/creators/{handle}", "/api/v1/creators/anna", API_READ),
    Case(
        "POST",
        "/api/v1/creators",
        "/api/v1/creators",
        row(401, 403, 201, 201, 401, 401),
        json={
            "handle": "new_{caller}",
            "timezone": "UTC",
            "languages": ["en"],
            "followers": 1,
            "revenue_30d": 1,
        },
    ),
    Case(
        "PATCH",
        "/api/v1/creators/{handle}",
        "/api/v1/creators/anna",
        row(401, 403, 200, 200, 401, 401),
        json={"display_name": "Anna"},
    ),
    Case(
        "DELETE",
        "/api/v1/creators/{handle}",
        "/api/v1/creators/victim_{caller}",
        row(401, 403, 204, 204, 401, 401),
    ),
    Case("GET", "/api/v1/program", "/api/v1/program", API_READ),
    Case("GET", "/api/v1/rounds", "/api/v1/rounds", API_READ),
    Case("GET", "/api/v1/rounds/{round_id}", "/api/v1/rounds/{round_id}", API_READ),
    Case(
        "GET",
        "/api/v1/reports/creators/{handle}",
        "/api/v1/reports/creators/anna?from=2026-03-02&to=2026-03-08",
        API_READ,
    ),
    Case(
        "GET",
        "/api/v1/reports/program",
        "/api/v1/reports/program?from=2026-03-02&to=2026-03-08",
        API_READ,
    ),
    Case(
        "POST",
        "/api/v1/results",
        "/api/v1/results",
        row(401, 403, 200, 200, 401, 401),
        json={
            "rows": [
                {
                    "handle": "anna",
                    "started_at": "2026-03-02T19:00:00Z",
                    "duration_minutes": 60,
                    "diamonds": 100,
                }
            ]
        },
    ),
    Case(
        "GET",
        "/portal/{token}/campaigns",
        "/portal/{portal}/campaigns",
        row(403, 403, 403, 403, 200, 200),
    ),
    # Subscriptions in the portal (issue 12): the creator's own, through their link.
    Case(
        "GET",
        "/portal/{token}/subscriptions",
        "/portal/{portal}/subscriptions",
        row(403, 403, 403, 403, 200, 200),
    ),
    Case(
        "POST",
        "/portal/{token}/subscriptions",
        "/portal/{portal}/subscriptions",
        row(403, 403, 403, 403, 303, 303),
        form={"topic": "campaigns"},
    ),
    # Check-ins in the portal: nobody in the world has a manager, so booking is refused
    # (422, saying so) and there is nothing to cancel (404); a bad link is refused (403).
    Case(
        "GET",
        "/portal/{token}/checkin",
        "/portal/{portal}/checkin",
        row(403, 403, 403, 403, 200, 200),
    ),
    Case(
        "POST",
        "/portal/{token}/checkin/book",
        "/portal/{portal}/checkin/book",
        row(403, 403, 403, 403, 422, 422),
        form={"starts_at": "2030-01-08T10:00:00+00:00"},
    ),
    Case(
        "POST",
        "/portal/{token}/checkin/hours",
        "/portal/{portal}/checkin/hours",
        row(403, 403, 403, 403, 303, 303),
        form={"hours": "Mon 10:00-12:00"},
    ),
    Case(
        "POST",
        "/portal/{token}/checkin/cancel",
        "/portal/{portal}/checkin/cancel",
        row(403, 403, 403, 403, 404, 404),
    ),
    # anna's match (with cleo): anna may answer it, bob's link may not (404 "not yours").
    Case(
        "POST",
        "/portal/{token}/matches/{match_id}/{answer}",
        "/portal/{portal}/matches/{match_id}/confirm",
        row(403, 403, 403, 403, 303, 404),
    ),
]


def test_every_route_is_in_the_matrix() -> None:
    declared = {(m, r.path) for router in ROUTERS for r in router.routes for m in r.methods}  # type: ignore[attr-defined]
    covered = {(c.method, c.route) for c in CASES}
    assert declared - {("HEAD", p) for _, p in declared} == covered


@dataclass
class World:
    clients: dict[str, TestClient]
    csrf: dict[str, str]
    portal: dict[str, str]
    token_id: int
    md: Matchdesk
    round_id: int
    match_id: int
    job_id: int
    monday: str

    def version(self) -> str:
        """The round's version now (each caller's edit may have raised it)."""
        with self.md.transaction() as session:
            return str(get_round(session, self.round_id).version)


@pytest.fixture
def world(md: Matchdesk, web: Any, client_as: Callable[[str | None], TestClient]) -> World:
    with md.transaction() as session:
        fields = {"timezone": "UTC", "languages": "en", "followers": "10", "revenue_30d": "10"}
        for handle in ("anna", "bob", *(f"victim_{c}" for c in CALLERS)):
            create_creator(session, md.program, {"handle": handle, **fields}, "test")
        token_id = create_token(session, "to revoke", "viewer").record.id
        # A published round in which anna and cleo (the only two with availability) meet.
        evening = "Mon 18:00-22:00"
        set_availability(session, md.program, "anna", evening, actor="test")
        create_creator(
            session, md.program, {"handle": "cleo", **fields, "availability": evening}, "test"
        )
        monday = next_start("weekly", date.today())
        round_ = build_round(session, md.program, cadence="weekly", start=monday, actor="test")
        session.flush()
        match_id = session.scalars(select(Match.id).where(Match.round_id == round_.id)).one()
        publish(session, md.settings, md.program, round_.id, Edit("test", None))
        job_id = jobs.submit(session, "round.build", {"cadence": "monthly"}).id
        portal = {
            CRE: issue_portal_link(session, md.settings, "anna").url,
            OTH: issue_portal_link(session, md.settings, "bob").url,
        }
    portal = {k: v.rsplit("/", 1)[1] for k, v in portal.items()}
    clients: dict[str, TestClient] = {}
    csrf: dict[str, str] = {}
    for caller in CALLERS:
        role = caller if caller in ("viewer", "manager", "admin") else None
        client = client_as(role)
        clients[caller] = client
        csrf[caller] = csrf_of(client.get("/settings" if role else "/login").text)
    return World(
        clients, csrf, portal, token_id, md, round_.id, match_id, job_id, monday.isoformat()
    )


def _portal_page_csrf(world: World, caller: str, token: str) -> str:
    html = world.clients[caller].get(f"/portal/{token}").text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    return match.group(1) if match else ""


def _version(world: World, token: str, caller: str) -> str:
    html = world.clients[caller].get(f"/portal/{token}").text
    match = re.search(r'name="version" value="(\d+)"', html)
    return match.group(1) if match else "1"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.path}")
def test_route_answers_each_caller_exactly(world: World, case: Case) -> None:
    outcomes = {}
    for caller in CALLERS:
        client = world.clients[caller]
        portal_token = world.portal.get(caller, "not-a-valid-link")
        path = (
            case.path.replace("{caller}", caller)
            .replace("{portal}", portal_token)
            .replace("{token_id}", str(world.token_id))
            .replace("{round_id}", str(world.round_id))
            .replace("{match_id}", str(world.match_id))
            .replace("{job_id}", str(world.job_id))
        )
        csrf = world.csrf[caller]
        form = {
            k: v.replace("{caller}", caller)
            .replace("{version}", world.version())
            .replace("{monday}", world.monday)
            for k, v in case.form.items()
        }
        if case.route.startswith("/portal/") and case.method == "POST":
            csrf = _portal_page_csrf(world, caller, portal_token) or csrf
            if case.route.endswith("/availability"):
                form["version"] = _version(world, portal_token, caller)
        kwargs: dict[str, Any] = {"follow_redirects": False}
        if case.json is not None:
            kwargs["json"] = {
                k: v.replace("{caller}", caller) if isinstance(v, str) else v
                for k, v in case.json.items()
            }
            kwargs["headers"] = {"X-CSRF-Token": csrf}
        elif case.method != "GET":
            kwargs["data"] = {**form, "csrf_token": csrf}
            if case.method == "DELETE":
                kwargs = {"follow_redirects": False, "headers": {"X-CSRF-Token": csrf}}
        if case.method == "DELETE":
            kwargs["headers"] = {"X-CSRF-Token": csrf}
            kwargs.pop("data", None)
        response = client.request(case.method, path, **kwargs)
        outcomes[caller] = response.status_code
    assert outcomes == case.expected


def test_a_portal_link_shows_only_its_own_creator(world: World) -> None:
    anna = world.clients[CRE].get(f"/portal/{world.portal[CRE]}").text
    bob = world.clients[OTH].get(f"/portal/{world.portal[OTH]}").text
    assert "@anna" in anna
    assert "@bob" not in anna
    assert "@bob" in bob
    assert "@anna" not in bob
