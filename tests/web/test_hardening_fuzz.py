"""The probe's payload classes against every HTML route (issue 15): XSS strings, NUL and
control characters, oversized and extreme values, formula-leading values in every form
field and query parameter. Every answer is 2xx, 3xx or 4xx, never 5xx, on SQLite and
PostgreSQL (schemathesis covers the API: test_api_schemathesis.py)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from matchdesk.context import Matchdesk
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records
from matchdesk.web.app import ROUTERS
from tests.web.conftest import csrf_of, sign_in

PAYLOADS = [
    "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>",
    "a\x00b",
    "\x01\x08\x1f\x7f",
    "x" * 20_000,
    "9999-12-27",
    "0001-01-01",
    "=cmd|' /C calc'!A0",
    "-99999999999999999999",
]
PATH_VALUES = {"handle": "anna", "round_id": "1", "token_id": "1", "match_id": "1"}


def _path(route: APIRoute) -> str:
    return re.sub(
        r"\{(\w+)(?::\w+)?\}", lambda m: PATH_VALUES.get(m.group(1), "1"), route.path_format
    )


def _html_routes() -> list[APIRoute]:
    return [
        r
        for router in ROUTERS
        for r in router.routes
        if isinstance(r, APIRoute) and not r.path.startswith("/api/") and r.path != "/logout"
    ]


def _answer(client: TestClient, method: str, path: str, **kw: Any) -> int:
    # raise_server_exceptions=False: a server exception comes back as the 500 a user sees.
    status: int = client.request(method, path, follow_redirects=False, **kw).status_code
    return status


def test_no_payload_in_any_form_field_or_query_parameter_gives_a_5xx(
    md: Matchdesk, web: Any, operators: dict[str, str]
) -> None:
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
    client = sign_in(TestClient(web, raise_server_exceptions=False), operators["admin"])
    csrf = csrf_of(client.get("/settings").text)
    failures = []
    seen: set[tuple[str, str, int]] = set()
    for route in _html_routes():
        path = _path(route)
        fields = [p.alias for p in route.dependant.body_params]
        queries = [p.alias for p in route.dependant.query_params]
        for method in sorted(route.methods or ()):
            for payload in PAYLOADS:
                if method == "GET":
                    status = _answer(
                        client, "GET", path, params=dict.fromkeys(queries, payload[:200])
                    )
                else:
                    files = {f: ("x.csv", payload.encode()) for f in fields if f == "file"}
                    data = {f: payload for f in fields if f != "file"}
                    data["csrf_token"] = csrf
                    status = _answer(client, method, path, data=data, files=files or None)
                seen.add((method, route.path, status))
                if status >= 500:
                    failures.append((method, route.path, payload[:30]))
    assert failures == []
    assert len(seen) >= 30  # every route was reached (a failed sign-in would make them 303s)
