"""Sign-in, sessions, CSRF and throttling (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from matchdesk.accounts.models import LoginThrottle, Operator
from matchdesk.context import Matchdesk
from tests.web.conftest import PASSWORD, csrf_of, sign_in

Client = Callable[[str | None], TestClient]


def attempt(client: TestClient, email: str, password: str) -> Any:
    token = csrf_of(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/creators"},
        follow_redirects=False,
    )


def test_anonymous_pages_redirect_to_sign_in(client_as: Client) -> None:
    response = client_as(None).get("/creators?tier=A", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/creators%3Ftier%3DA"


def test_sign_in_sets_a_safe_session_cookie_and_redirects(
    client_as: Client, operators: dict[str, str]
) -> None:
    client = client_as(None)
    response = attempt(client, operators["viewer"], PASSWORD)
    assert (response.status_code, response.headers["location"]) == (303, "/creators")
    cookies = response.headers.get_list("set-cookie")
    assert [c.split("=", 1)[0] for c in cookies] == ["matchdesk_device", "matchdesk_session"]
    cookie = cookies[1]
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    assert client.get("/creators").status_code == 200


def test_next_cannot_leave_the_site(client_as: Client, operators: dict[str, str]) -> None:
    client = client_as(None)
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": operators["viewer"],
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client_as: Client, operators: dict[str, str]
) -> None:
    client = client_as(None)
    wrong = attempt(client, operators["viewer"], "not the password")
    unknown = attempt(client, "ghost@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong e-mail or password" in wrong.text
    assert "wrong e-mail or password" in unknown.text


def test_five_failures_lock_the_account_for_fifteen_minutes(
    md: Matchdesk, client_as: Client, operators: dict[str, str]
) -> None:
    client = client_as(None)
    for _ in range(5):
        assert attempt(client, operators["manager"], "guess").status_code == 401
    locked = attempt(client, operators["manager"], PASSWORD)
    assert locked.status_code == 429
    assert "too many failed attempts; try again in 15 minutes" in locked.text
    with md.transaction() as session:  # the lock has passed
        session.execute(
            update(LoginThrottle).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert attempt(client, operators["manager"], PASSWORD).status_code == 303


def test_forms_without_the_csrf_token_are_refused(
    client_as: Client, operators: dict[str, str]
) -> None:
    client = client_as(None)
    client.get("/login")
    response = client.post("/login", data={"email": operators["admin"], "password": PASSWORD})
    assert response.status_code == 403
    assert "This form has expired or did not come from matchdesk." in response.text
    admin = client_as("admin")
    refused = admin.post(
        "/settings/tokens", data={"name": "x", "role": "viewer", "csrf_token": "forged"}
    )
    assert refused.status_code == 403
    token = csrf_of(admin.get("/settings").text)
    accepted = admin.post(
        "/settings/tokens", data={"name": "x", "role": "viewer", "csrf_token": token}
    )
    assert accepted.status_code == 200
    assert 'id="new-token">mdk_' in accepted.text


def test_sign_out_ends_the_session(client_as: Client) -> None:
    client = client_as("viewer")
    token = csrf_of(client.get("/creators").text)
    assert (
        client.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/creators", follow_redirects=False).status_code == 303


def test_admin_adds_an_operator_who_can_then_sign_in(client_as: Client) -> None:
    admin = client_as("admin")
    token = csrf_of(admin.get("/settings").text)
    added = admin.post(
        "/settings/operators",
        data={
            "email": "New@Example.com",
            "name": "New",
            "role": "viewer",
            "password": "long enough pw",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    short = admin.post(
        "/settings/operators",
        data={"email": "b@example.com", "role": "viewer", "password": "short", "csrf_token": token},
    )
    assert short.status_code == 422
    assert "the password must have at least 10 characters" in short.text
    sign_in(client_as(None), "new@example.com", "long enough pw")


def test_errors_never_show_a_stack_trace(client_as: Client) -> None:
    page = client_as("viewer").get("/creators?page=0")
    assert page.status_code == 422
    assert "Traceback" not in page.text
    assert "The request is not valid." in page.text
    api = client_as(None).get("/api/v1/nowhere")
    assert api.json() == {
        "error": {
            "code": "not_found",
            "message": "There is nothing at this address.",
            "details": [],
        }
    }


def test_a_copied_cookie_stops_working_after_sign_out(client_as: Client, web: Any) -> None:
    client = client_as("manager")
    copy = TestClient(web)
    copy.cookies.set("matchdesk_session", client.cookies["matchdesk_session"])
    assert copy.get("/creators", follow_redirects=False).status_code == 200
    token = csrf_of(client.get("/creators").text)
    client.post("/logout", data={"csrf_token": token})
    assert copy.get("/creators", follow_redirects=False).status_code == 303
    assert copy.get("/api/v1/creators").status_code == 401


def test_a_deactivated_operator_is_signed_out_at_once(
    md: Matchdesk, client_as: Client, operators: dict[str, str]
) -> None:
    client = client_as("viewer")
    assert client.get("/creators", follow_redirects=False).status_code == 200
    with md.transaction() as session:
        operator = session.scalar(select(Operator).where(Operator.email == operators["viewer"]))
        assert operator is not None
        operator.active = False
    assert client.get("/creators", follow_redirects=False).status_code == 303
