"""Issue 15 (a hostile probe of every route): one test per finding, on SQLite and
PostgreSQL, each with the exact refusal."""

from __future__ import annotations

import inspect
import logging
import stat
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from matchdesk.accounts.service import find_operator, normalize_email, set_password
from matchdesk.audit import AuditEntry
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.portal.links import issue_portal_link
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.importing import deliverable_email
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import export_roster, save_records
from matchdesk.roster.tables import read_table
from matchdesk.rounds.period import round_period
from matchdesk.web.app import create_app
from matchdesk.web.routes import auth, results, roster, settings
from matchdesk.web.security import CONTENT_SECURITY_POLICY, RedactPortalTokens
from tests.web.conftest import PASSWORD, csrf_of

Client = Callable[[str | None], TestClient]


def attempt(client: TestClient, email: str, password: str) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/creators"},
        follow_redirects=False,
    )


# Finding 5: every field that reaches the database fits the column, on both backends.


def test_an_import_with_a_long_file_name_is_confirmed_and_audited(
    md: Matchdesk, client_as: Client
) -> None:
    client = client_as("manager")
    name = "roster-" + "x" * 150 + ".csv"
    page = client.get("/creators/import").text
    checked = client.post(
        "/creators/import",
        data={"csrf_token": csrf_of(page)},
        files={
            "file": (
                name,
                b"handle,timezone,languages,followers,revenue_30d,availability\nanna,UTC,en,1,2,\n",
            )
        },
    )
    assert checked.status_code == 200
    upload_id = checked.text.split('name="upload_id" value="', 1)[1].split('"', 1)[0]
    confirmed = client.post(
        "/creators/import/confirm",
        data={"csrf_token": csrf_of(checked.text), "upload_id": upload_id},
    )
    assert confirmed.status_code == 200
    with md.transaction() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "roster_imported"))
        assert entry is not None
        assert entry.subject_id == name


def test_an_operator_with_a_67_character_e_mail_is_created(
    md: Matchdesk, client_as: Client
) -> None:
    admin = client_as("admin")
    email = "a" * 55 + "@example.com"
    assert len(email) == 67
    response = admin.post(
        "/settings/operators",
        data={
            "csrf_token": csrf_of(admin.get("/settings").text),
            "email": email,
            "role": "viewer",
            "password": "long enough password",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with md.transaction() as session:
        assert find_operator(session, email).role == "viewer"


def test_nul_in_a_form_or_a_path_is_a_400_not_a_500(client_as: Client) -> None:
    client = client_as(None)
    signed_out = attempt(client, "a\x00b@example.com", "whatever")
    assert signed_out.status_code == 400
    assert "The field &#39;email&#39; contains a NUL character." in signed_out.text
    viewer = client_as("viewer")
    path = viewer.get("/creators/a%00b")
    assert (path.status_code, path.text) == (
        400,
        "The address contains a control character (such as NUL).",
    )
    assert viewer.get("/creators?q=%00").status_code == 400


@pytest.mark.parametrize("start", [date(9999, 12, 27), date(0o1, 1, 1)])
def test_far_round_start_dates_are_refused(start: date) -> None:
    with pytest.raises(InvalidInput) as caught:
        round_period("weekly", start, "Pacific/Kiritimati")
    assert caught.value.details == [
        f"start: {start.isoformat()} is out of range; a round starts between "
        "2000-01-01 and 2999-12-31"
    ]


# Finding 2: CPU and database work stay off the event loop.


def test_handlers_doing_cpu_or_database_work_run_in_the_thread_pool() -> None:
    handlers = [
        auth.login,
        auth.logout,
        roster.import_check,
        roster.import_confirm,
        roster.creators_export,
        roster.creator_portal_link,
        settings.add_operator,
        settings.add_token,
        settings.revoke,
        results.results_check,
        results.results_confirm,
    ]
    assert [h.__name__ for h in handlers if inspect.iscoroutinefunction(h)] == []


# Finding 6: the lockout is neither an oracle nor a weapon.


def test_unknown_and_locked_accounts_get_the_same_answer(
    client_as: Client, operators: dict[str, str]
) -> None:
    client = client_as(None)
    answers = []
    for email in (operators["admin"], "ghost@example.com"):
        for _ in range(5):
            assert attempt(client, email, "a wrong guess").status_code == 401
        refused = attempt(client, email, PASSWORD)
        answers.append(
            (
                refused.status_code,
                "too many failed attempts; try again in 15 minutes" in refused.text,
            )
        )
    assert answers == [(429, True), (429, True)]


def test_one_client_address_is_throttled_across_accounts(
    client_as: Client, operators: dict[str, str]
) -> None:
    client = client_as(None)
    for n in range(20):
        assert attempt(client, f"guess{n}@example.com", "a wrong guess").status_code == 401
    refused = attempt(client, operators["viewer"], PASSWORD)
    assert refused.status_code == 429


def test_a_known_device_passes_a_lock_with_the_right_password(
    client_as: Client, operators: dict[str, str]
) -> None:
    owner = client_as("manager")  # has signed in: holds the known-device cookie
    owner.cookies.delete("matchdesk_session")
    attacker = client_as(None)
    for _ in range(5):
        attempt(attacker, operators["manager"], "a wrong guess")
    assert attempt(attacker, operators["manager"], PASSWORD).status_code == 429
    assert attempt(owner, operators["manager"], "a wrong guess").status_code == 401
    passed = attempt(owner, operators["manager"], PASSWORD)
    assert (passed.status_code, passed.headers["location"]) == (303, "/creators")


# Finding 7: a new password ends the operator's sessions.


def test_set_password_ends_the_operators_sessions(
    md: Matchdesk, client_as: Client, operators: dict[str, str]
) -> None:
    viewer = client_as("viewer")
    assert viewer.get("/creators").status_code == 200
    with md.transaction() as session:
        set_password(session, find_operator(session, operators["viewer"]), "a brand new password")
    signed_out = viewer.get("/creators", follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (
        303,
        "/login?next=/creators",
    )


# Finding 3 (the e-mail part): only plain, deliverable addresses.


@pytest.mark.parametrize(
    "address", ["=?utf-8?q?admin?=@example.com", "a..b@example.com", "x" * 65 + "@example.com"]
)
def test_undeliverable_addresses_are_refused(address: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_email(address)
    assert caught.value.message == f"'{address[:60]}' is not a valid e-mail address"
    assert not deliverable_email(address)


# Finding 8: short or empty keys refused everywhere; the key file private from the start.


def test_a_short_secret_key_is_refused_in_development_too() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(secret_key=SecretStr("abcde"))
    assert caught.value.errors()[0]["msg"] == (
        "Value error, MATCHDESK_SECRET_KEY holds a key of 5 characters; a signing key needs "
        "at least 32 (delete the file to have a new one made, or set a longer key)"
    )


def test_an_empty_key_file_is_refused_and_a_new_one_is_private(tmp_path: Path) -> None:
    empty = tmp_path / "empty-secret"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="holds a key of 0 characters") as caught:
        Settings(secret_key_file=empty).signing_key()
    assert str(caught.value) == (
        f"{empty} holds a key of 0 characters; a signing key needs at least 32 "
        "(delete the file to have a new one made, or set a longer key)"
    )
    fresh = tmp_path / "fresh-secret"
    key = Settings(secret_key_file=fresh).signing_key()
    assert (len(key), stat.S_IMODE(fresh.stat().st_mode)) == (64, 0o600)
    assert Settings(secret_key_file=fresh).signing_key() == key


# Finding 9: portal links can be revoked; tokens stay out of the access log.


def test_a_manager_revokes_a_creators_portal_links(md: Matchdesk, client_as: Client) -> None:
    with md.transaction() as session:
        save_records(
            session,
            md.program,
            [
                CreatorRecord(
                    handle="anna", timezone="UTC", languages=("en",), followers=1, revenue_30d=1
                )
            ],
        )
        old = issue_portal_link(session, md.settings, "anna").url
    creator = client_as(None)
    path = "/portal/" + old.rsplit("/portal/", 1)[1]
    assert creator.get(path).status_code == 200
    manager = client_as("manager")
    page = manager.get("/creators/anna").text
    revoked = manager.post("/creators/anna/portal-links/revoke", data={"csrf_token": csrf_of(page)})
    assert revoked.status_code == 200
    assert creator.get(path).status_code == 403
    with md.transaction() as session:
        new = issue_portal_link(session, md.settings, "anna").url
    assert creator.get("/portal/" + new.rsplit("/portal/", 1)[1]).status_code == 200


def test_portal_tokens_are_redacted_in_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/portal/eyJpZCI6MX0.abc.def/report?x=1", "1.1", 200),
        None,
    )
    assert RedactPortalTokens().filter(record)
    assert record.getMessage() == ('127.0.0.1:5000 - "GET /portal/[token]/report?x=1 HTTP/1.1" 200')


# Finding 10: browser-hardening headers on every answer (the policy itself and the pages
# under it: test_hardening_csp.py).


def test_every_answer_carries_the_hardening_headers(client_as: Client) -> None:
    response = client_as(None).get("/login")
    assert {
        k: response.headers[k]
        for k in (
            "content-security-policy",
            "x-frame-options",
            "referrer-policy",
            "x-content-type-options",
        )
    } == {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-frame-options": "DENY",
        "referrer-policy": "same-origin",
        "x-content-type-options": "nosniff",
    }


# Finding 11: exports are streamed and bounded.


def test_exports_stream_the_same_file_and_at_most_two_run_at_once(
    md: Matchdesk, web: Any, client_as: Client
) -> None:
    # The slots exist before the first request (no lazy creation two requests could race).
    assert isinstance(web.state.roster_exports, threading.BoundedSemaphore)
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(2500, seed=5))
        expected = {ext: export_roster(session, f"roster.{ext}") for ext in ("csv", "xlsx")}
    viewer = client_as("viewer")
    csv_answer = viewer.get("/creators/export.csv")
    assert csv_answer.content == expected["csv"]
    xlsx_answer = viewer.get("/creators/export.xlsx")
    assert read_table(xlsx_answer.content, "r.xlsx") == read_table(expected["xlsx"], "r.xlsx")
    slots = web.state.roster_exports
    assert slots is not create_app(md).state.roster_exports  # one per app, made with it
    assert slots.acquire(blocking=False)
    assert slots.acquire(blocking=False)
    try:
        refused = viewer.get("/creators/export.csv")
    finally:
        slots.release()
        slots.release()
    assert refused.status_code == 429
    assert "2 exports are running; try again in a minute." in refused.text
