"""revenue_30d follows the ledger as program days pass (the daily refresh, its job and
the worker that submits it once a day), and no roster edit overwrites a figure that
comes from results; both backends, frozen program days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from matchdesk.accounts.service import create_token
from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.mail.delivery import DeliverySettings
from matchdesk.results import daily
from matchdesk.roster.editing import update_creator
from matchdesk.web.app import create_app
from matchdesk.worker import run_worker
from tests.results.samples import add_creators, creator_figures, csv, load

DAY1 = date(2026, 3, 2)


def _luna(md: Matchdesk) -> None:
    add_creators(md, "luna", "sol")  # sol keeps the roster's figure: no results
    # 12:00 in Los Angeles (the program's zone) on the 2nd and on the 9th
    load(
        md,
        csv("luna,2026-03-02T20:00:00Z,60,100,,,,", "luna,2026-03-09T19:00:00Z,60,50,,,,"),
        today=date(2026, 3, 10),
    )


def test_revenue_30d_drops_as_days_pass_without_sessions(md: Matchdesk) -> None:
    _luna(md)
    assert creator_figures(md, "luna") == (150, "results", "B")
    # The 30 program days ending the 31st still hold the 2nd; on April 1st it has left.
    for today, revenue, changed in (
        (DAY1 + timedelta(days=29), 150, 0),
        (DAY1 + timedelta(days=30), 50, 1),
        (DAY1 + timedelta(days=37), 0, 1),
        (DAY1 + timedelta(days=60), 0, 0),
    ):
        with md.transaction() as session:
            done = daily.refresh(session, md.program, today)
        assert (done.day, done.revenue_changed, done.tiers_settled) == (today, changed, 0)
        assert creator_figures(md, "luna") == (revenue, "results", "B")
    assert creator_figures(md, "sol") == (500, "roster", "B")
    with md.transaction() as session:
        assert daily.last_refreshed(session) == DAY1 + timedelta(days=60)


def test_the_refresh_job_is_submitted_once_a_program_day(md: Matchdesk) -> None:
    _luna(md)
    april = date(2026, 4, 1)
    with md.transaction() as session:
        first = daily.submit_if_due(session, md.program, april)
        assert daily.submit_if_due(session, md.program, april) is None
        assert daily.submit_if_due(session, md.program, april - timedelta(days=1)) is None
        second = daily.submit_if_due(session, md.program, april + timedelta(days=1))
    assert first is not None
    assert second is not None
    assert second != first
    done = jobs.run_inline(md, first, default_registry())
    assert (done.status, done.result) == (
        "done",
        {"today": "2026-04-01", "revenue_changed": 1, "tiers_settled": 0},
    )
    assert creator_figures(md, "luna") == (50, "results", "B")


def test_the_worker_submits_and_runs_todays_refresh(md: Matchdesk, tmp_path: Path) -> None:
    _luna(md)  # sessions of March 2026: by the real today they have left the window
    settings = DeliverySettings(smtp_host="", outbox_dir=tmp_path / "outbox", mail_rate=0)
    report = run_worker(
        md, once=True, worker_id="w", registry=default_registry(), delivery=settings
    )
    assert (report.jobs_done, report.jobs_failed) == (1, 0)
    assert creator_figures(md, "luna") == (0, "results", "B")
    again = run_worker(md, once=True, worker_id="w", registry=default_registry(), delivery=settings)
    assert (again.jobs_done, again.jobs_failed) == (0, 0)  # once a program day


def test_an_edit_cannot_change_a_results_revenue(md: Matchdesk) -> None:
    _luna(md)
    with md.transaction() as session, pytest.raises(InvalidInput) as caught:
        update_creator(session, md.program, "luna", {"revenue_30d": "90000"}, "test")
    assert caught.value.details == [
        "revenue_30d: @luna's revenue_30d comes from their session results (150 diamonds "
        "over the last 30 program days) and cannot be edited"
    ]
    with md.transaction() as session:  # the same figure, with another field: saved
        update_creator(
            session, md.program, "luna", {"revenue_30d": "150", "followers": "1200"}, "test"
        )
        update_creator(session, md.program, "sol", {"revenue_30d": "90000"}, "test")
    assert creator_figures(md, "luna")[:2] == (150, "results")
    assert creator_figures(md, "sol") == (90000, "roster", "A")


def test_the_api_refuses_to_change_a_results_revenue(md: Matchdesk, tmp_path: Path) -> None:
    _luna(md)
    md.settings.secret_key_file = tmp_path / "secret"
    with md.transaction() as session:
        token = create_token(session, "manager script", "manager").token
    client = TestClient(create_app(md), headers={"Authorization": f"Bearer {token}"})
    refused = client.patch("/api/v1/creators/luna", json={"revenue_30d": 90000})
    assert refused.status_code == 422
    assert refused.json() == {
        "error": {
            "code": "invalid_input",
            "message": "the creator's details are not valid",
            "details": [
                "revenue_30d: @luna's revenue_30d comes from their session results (150 "
                "diamonds over the last 30 program days) and cannot be edited"
            ],
        }
    }
    assert creator_figures(md, "luna") == (150, "results", "B")
