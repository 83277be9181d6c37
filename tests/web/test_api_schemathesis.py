"""The API against its own OpenAPI schema (schemathesis, in-process over ASGI): for
generated requests to every operation, no server error, every status code documented,
every response body as the schema says. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from matchdesk.accounts.service import create_token
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.roster.editing import create_creator
from matchdesk.web.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def manager_token(md: Matchdesk) -> str:
    with md.transaction() as session:
        return create_token(session, "schemathesis", "manager").token


@pytest.fixture
def roster(md: Matchdesk) -> None:
    """Two creators, so that reads and edits of the schema's example handle find one."""
    with md.transaction() as session:
        for handle in ("luna.star", "zed_99"):
            create_creator(
                session,
                md.program,
                {
                    "handle": handle,
                    "timezone": "Asia/Kolkata",
                    "languages": "hi;en",
                    "followers": "12500",
                    "revenue_30d": "20000",
                    "availability": "Mon 19:00-23:00; Fri 22:00-02:00",
                },
                "test",
            )


def _openapi() -> dict[str, Any]:
    # The schema is read once, at collection, from an app whose database is never opened
    # (what /openapi.json serves); each test sends its requests to the `web` app of its
    # own backend. (The lazy `schemathesis.pytest.from_fixture` loader does not work with
    # pytest 9.2: it sets `Function._nodeid`, which pytest no longer has.)
    settings = Settings(
        database_url="sqlite://",
        program=Path("/nonexistent/matchdesk.toml"),
        secret_key=SecretStr("schema-only-" + "x" * 32),
    )
    document: dict[str, Any] = create_app(Matchdesk.build(settings)).openapi()
    return document


schema = schemathesis.openapi.from_dict(_openapi())


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, web: Any, roster: None, manager_token: str) -> None:
    case.call_and_validate(
        app=web, headers={"Authorization": f"Bearer {manager_token}"}, checks=CHECKS
    )
