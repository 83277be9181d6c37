"""Outreach fixtures: the app object with a fixed secret key and public address (so
unsubscribe links are known), and the real SMTP server of tests/mail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from matchdesk.context import Matchdesk
from tests.mail.conftest import Clock, SmtpServer, clock, smtp_server, smtp_settings
from tests.web.conftest import (
    browser,
    client_as,
    live_server,
    operators,
    page,
    password_hash,
    web,
)

__all__ = [
    "Clock",
    "SmtpServer",
    "browser",
    "client_as",
    "clock",
    "live_server",
    "operators",
    "page",
    "password_hash",
    "smtp_server",
    "smtp_settings",
    "web",
]

SECRET = "outreach-tests-secret-key-0123456789abcdef"
BASE_URL = "https://md.example"


@pytest.fixture
def omd(md: Matchdesk) -> Iterator[Matchdesk]:
    """`md` with a known secret key and base URL."""
    settings = md.settings.model_copy(
        update={"secret_key": SecretStr(SECRET), "base_url": BASE_URL}
    )
    app = Matchdesk.build(settings)
    yield app
    app.close()
