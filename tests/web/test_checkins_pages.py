"""The Check-ins page: the due list per manager with filters, planning the week inline or
as a job; viewers read only."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.checkins.due import this_monday
from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.jobs.models import Job
from matchdesk.web.routes import checkins as checkin_routes
from tests.checkins.samples import add_creators, add_manager
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]


def _next_monday(md: Matchdesk) -> str:
    zone = md.program.program.timezone
    return (this_monday(datetime.now(UTC), zone) + timedelta(days=7)).isoformat()


def _rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr data-handle="([^"]+)" data-state="([^"]+)">', html)


def _world(md: Matchdesk) -> None:
    add_manager(md, "mia@example.com", "America/Los_Angeles", "Tue 10:00-12:00")
    add_creators(md, ["anna", "bob"], manager="mia@example.com")
    add_creators(md, ["eve"])


def test_the_due_list_per_manager_with_filters(md: Matchdesk, client_as: Client) -> None:
    _world(md)
    viewer = client_as("viewer")
    page = viewer.get(f"/checkins?week={_next_monday(md)}")
    assert page.status_code == 200
    assert _rows(page.text) == [("eve", "overdue"), ("anna", "overdue"), ("bob", "overdue")]
    assert re.findall(r'<h3 class="manager" data-manager="([^"]*)">', page.text) == [
        "",
        "mia@example.com",
    ]
    assert 'id="plan-week"' not in page.text  # a viewer reads only
    mine = viewer.get(f"/checkins?week={_next_monday(md)}&manager=mia@example.com")
    assert _rows(mine.text) == [("anna", "overdue"), ("bob", "overdue")]
    booked = viewer.get(f"/checkins?week={_next_monday(md)}&state=booked")
    assert _rows(booked.text) == []
    bad = viewer.get("/checkins?week=2026-03-03")
    assert bad.status_code == 422
    assert "week: 2026-03-03 is a Tuesday; a week starts on a Monday" in bad.text


def test_a_manager_plans_the_week(md: Matchdesk, client_as: Client) -> None:
    _world(md)
    manager = client_as("manager")
    monday = _next_monday(md)
    page = manager.get(f"/checkins?week={monday}")
    response = manager.post(
        "/checkins/schedule", data={"week": monday, "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 200
    result = response.text.split('id="plan-result"', 1)[1].split("</section>", 1)[0]
    assert "2 check-ins booked, 1 could not be booked" in result
    assert re.findall(r"<td>([^<]*)</td><td>([^<]*)</td>", result) == [
        ("(none)", "no manager (set the roster&#39;s manager column)")
    ]
    assert _rows(response.text) == [("eve", "overdue"), ("anna", "booked"), ("bob", "booked")]
    assert len(re.findall(r'<tr data-checkin="\d+">', response.text)) == 2


def test_a_large_week_is_planned_by_a_job(
    md: Matchdesk, client_as: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _world(md)
    monkeypatch.setattr(checkin_routes, "INLINE_LIMIT", 1)
    manager = client_as("manager")
    monday = _next_monday(md)
    token = csrf_of(manager.get("/checkins").text)
    response = manager.post(
        "/checkins/schedule",
        data={"week": monday, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with md.transaction() as session:
        job = session.scalars(select(Job)).one()
    assert response.headers["location"] == f"/jobs/{job.id}"
    assert (job.kind, job.payload["week"], job.payload["actor"]) == (
        "checkins.schedule",
        monday,
        "operator:manager@example.com",
    )
    done = jobs.run_inline(md, job.id, default_registry())
    assert (done.status, done.result) == (
        "done",
        {"week": monday, "booked": 2, "unbooked": 1, "next": f"/checkins?week={monday}"},
    )
    page = manager.get(f"/jobs/{job.id}")
    assert f'<a href="/checkins?week={monday}" id="job-result">' in page.text


def test_a_long_list_shows_200_per_manager_and_says_so(md: Matchdesk, client_as: Client) -> None:
    add_manager(md, "mia@example.com")
    add_creators(md, [f"c{i:03}" for i in range(205)], manager="mia@example.com")
    page = client_as("viewer").get(f"/checkins?week={_next_monday(md)}")
    assert len(_rows(page.text)) == 200
    assert "The first 200 of 205 are shown" in page.text
