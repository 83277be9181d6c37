"""Web fixtures: signed-in test clients per role, a live server and headless Chromium.

Chromium is Debian's (`/usr/bin/chromium`, installed by `make test`), driven by Playwright;
Playwright's own browser download does not work here and is never used.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from matchdesk.accounts.models import Operator
from matchdesk.context import Matchdesk
from matchdesk.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[2] / "build" / "screenshots"
PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web(md: Matchdesk, tmp_path: Path) -> Any:
    md.settings.secret_key_file = tmp_path / "secret"
    return create_app(md)


@pytest.fixture(scope="session")
def password_hash() -> str:
    # argon2 is slow on purpose (0.2 s here): hash the test password once per run.
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def operators(md: Matchdesk, password_hash: str) -> dict[str, str]:
    """One operator of each role (password `PASSWORD`); returns their e-mails by role."""
    emails = {role: f"{role}@example.com" for role in ("admin", "manager", "viewer")}
    with md.transaction() as session:
        for role, email in emails.items():
            session.add(Operator(email=email, password_hash=password_hash, role=role))
    return emails


def csrf_of(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def client_as(web: Any, operators: dict[str, str]) -> Callable[[str | None], TestClient]:
    """A test client signed in with the given role (None: anonymous)."""

    def make(role: str | None) -> TestClient:
        client = TestClient(web)
        return sign_in(client, operators[role]) if role else client

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(web: Any) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for the browser."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a failure timeout only: a busy machine is slow
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


# One Chromium per test process. tests/outreach re-exports these fixtures, which makes a
# second session fixture of the same function; a second sync_playwright() in the same
# thread fails ("Sync API inside the asyncio loop"), so both share this one, the last
# user closing it.
_CHROMIUM: dict[str, Any] = {"users": 0}


def _start_chromium() -> Any:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium")
    playwright = sync_playwright().start()
    _CHROMIUM["playwright"] = playwright
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if _CHROMIUM["users"] == 0:
        _CHROMIUM["browser"] = _start_chromium()
    _CHROMIUM["users"] += 1
    try:
        yield _CHROMIUM["browser"]
    finally:
        _CHROMIUM["users"] -= 1
        if _CHROMIUM["users"] == 0:
            _CHROMIUM.pop("browser").close()
            _CHROMIUM.pop("playwright").stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    # Failure timeouts only (every wait ends on its event): a busy 2-core CI machine took
    # more than 10 s to answer a sign-in and render the results page under load.
    page.set_default_timeout(60_000)
    expect.set_options(timeout=60_000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> None:
    """Keep a picture of the page under build/screenshots (for people to look at)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def checkin_clock(hold_clock: Callable[[datetime], datetime]) -> datetime:
    """The program's clock held at ten past this hour: the page's free times and the
    booking's 24-hour notice are read at one known moment (on the real clock a slot
    exactly 24 hours out, offered just before the hour, was refused just after it)."""
    return hold_clock(datetime.now(UTC).replace(minute=10, second=0, microsecond=0))


def first_free(after: datetime, zone: str, opens: int, closes: int) -> datetime:
    """The first start on the 30-minute grid at or after `after` whose 30 minutes lie
    within `opens`:00-`closes`:00 on a weekday in `zone`."""
    start = after + (datetime.min.replace(tzinfo=UTC) - after) % timedelta(minutes=30)
    while True:
        local = start.astimezone(ZoneInfo(zone))
        if local.weekday() < 5 and opens <= local.hour and local.hour + 0.5 <= closes:
            return start
        start += timedelta(minutes=30)
