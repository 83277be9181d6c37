"""The REST API under /api/v1 (SQLite and PostgreSQL): list, read, create, change and
delete creators, the program's rules, roles, tokens, sessions with CSRF, one error shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event

from matchdesk.accounts.service import create_token, revoke_token
from matchdesk.audit import entries_for
from matchdesk.context import Matchdesk
from matchdesk.roster.editing import create_creator
from matchdesk.web.routes.api import router
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]
Api = Callable[[str], TestClient]

# Sorted by handle: ana_maria, anna, bruno, carla, dev.raj, luna.star, zed_99.
# Tiers (built-in program): S from 200,000 revenue, A from 20,000, B below.
ROSTER = [
    ("anna", "Anna", "DE", "de;en", 12_000, 25_000, "active"),  # A
    ("bruno", "Bruno Silva", "BR", "pt;es", 50_000, 250_000, "active"),  # S
    ("carla", "Carla", "BR", "pt", 3_000, 500, "paused"),  # B
    ("dev.raj", "Dev", "IN", "hi;en", 80_000, 30_000, "active"),  # A
    ("ana_maria", "Ana María", "ES", "es", 7_000, 1_500, "active"),  # B
    ("luna.star", "Luna", "IN", "hi;en", 12_500, 20_000, "paused"),  # A
    ("zed_99", "Zoe Night", "US", "en", 100, 0, "active"),  # B
]
NEW = {
    "handle": "@New.Comer",
    "timezone": "America/Sao_Paulo",
    "languages": ["pt", "en"],
    "followers": 15_000,
    "revenue_30d": 21_000,
    "availability": "Mon 19:00-23:00; Fri 22:00-02:00",
    "display_name": "New Comer",
    "region": "br",
    "blocked": ["@Anna"],
}


def fill(md: Matchdesk) -> None:
    with md.transaction() as session:
        for handle, name, region, languages, followers, revenue, status in ROSTER:
            create_creator(
                session,
                md.program,
                {
                    "handle": handle,
                    "display_name": name,
                    "email": f"{handle}@example.com",
                    "timezone": "Europe/Berlin",
                    "region": region,
                    "languages": languages,
                    "followers": str(followers),
                    "revenue_30d": str(revenue),
                    "availability": "Tue 20:00-22:00",
                    "status": status,
                },
                "test",
            )


@pytest.fixture
def api(web: Any, md: Matchdesk) -> Api:
    """A client with a bearer token of the given role (token named after the role)."""

    def make(role: str) -> TestClient:
        with md.transaction() as session:
            token = create_token(session, f"{role} script", role).token
        return TestClient(web, headers={"Authorization": f"Bearer {token}"})

    return make


def handles(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["handle"] for item in response.json()["items"]]


def error(code: str, message: str, details: list[str] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


INVALID = "The request is not valid."
NOT_VALID = "the creator's details are not valid"


def test_list_filters(md: Matchdesk, api: Api) -> None:
    fill(md)
    client = api("viewer")
    everyone = client.get("/api/v1/creators")
    assert handles(everyone) == [
        "ana_maria",
        "anna",
        "bruno",
        "carla",
        "dev.raj",
        "luna.star",
        "zed_99",
    ]
    assert {k: v for k, v in everyone.json().items() if k != "items"} == {
        "total": 7,
        "page": 1,
        "per_page": 50,
        "pages": 1,
    }
    assert everyone.json()["items"][1] == {
        "handle": "anna",
        "display_name": "Anna",
        "email": "anna@example.com",
        "timezone": "Europe/Berlin",
        "languages": ["de", "en"],
        "region": "DE",
        "category": "",
        "followers": 12_000,
        "revenue_30d": 25_000,
        "tier": "A",
        "status": "active",
        "version": 1,
    }
    get = client.get
    assert handles(get("/api/v1/creators?q=an")) == ["ana_maria", "anna"]
    assert handles(get("/api/v1/creators?q=@LU")) == ["luna.star"]
    assert handles(get("/api/v1/creators?q=zoe")) == ["zed_99"]  # display name
    assert handles(get("/api/v1/creators?tier=A")) == ["anna", "dev.raj", "luna.star"]
    assert handles(get("/api/v1/creators?region=br")) == ["bruno", "carla"]
    assert handles(get("/api/v1/creators?language=EN")) == [
        "anna",
        "dev.raj",
        "luna.star",
        "zed_99",
    ]
    assert handles(get("/api/v1/creators?status=paused")) == ["carla", "luna.star"]
    assert handles(get("/api/v1/creators?language=pt&status=active")) == ["bruno"]
    assert handles(get("/api/v1/creators?q=nobody")) == []


def test_list_sorts_and_pages(md: Matchdesk, api: Api) -> None:
    fill(md)
    get = api("viewer").get
    assert handles(get("/api/v1/creators?sort=-followers")) == [
        "dev.raj",
        "bruno",
        "luna.star",
        "anna",
        "ana_maria",
        "carla",
        "zed_99",
    ]
    assert handles(get("/api/v1/creators?sort=revenue_30d")) == [
        "zed_99",
        "carla",
        "ana_maria",
        "luna.star",
        "anna",
        "dev.raj",
        "bruno",
    ]
    # Tiers in the program's order, strongest first; ties broken by handle.
    assert handles(get("/api/v1/creators?sort=tier")) == [
        "bruno",
        "anna",
        "dev.raj",
        "luna.star",
        "ana_maria",
        "carla",
        "zed_99",
    ]
    assert handles(get("/api/v1/creators?sort=-handle&per_page=2")) == ["zed_99", "luna.star"]
    second = get("/api/v1/creators?per_page=3&page=2")
    assert handles(second) == ["carla", "dev.raj", "luna.star"]
    assert {k: v for k, v in second.json().items() if k != "items"} == {
        "total": 7,
        "page": 2,
        "per_page": 3,
        "pages": 3,
    }
    assert handles(get("/api/v1/creators?per_page=3&page=3")) == ["zed_99"]
    beyond = get("/api/v1/creators?per_page=3&page=4")
    assert (handles(beyond), beyond.json()["total"]) == ([], 7)


def test_list_refuses_bad_parameters(api: Api) -> None:
    response = api("viewer").get(
        "/api/v1/creators?sort=popularity&per_page=201&page=0&folowers=1&q=a%00"
    )
    assert response.status_code == 422
    assert response.json() == error(
        "invalid_input",
        INVALID,
        [
            "q: control characters are not allowed",
            "sort: Input should be 'handle', '-handle', 'followers', '-followers', "
            "'revenue_30d', '-revenue_30d', 'tier' or '-tier'",
            "page: Input should be greater than or equal to 1",
            "per_page: Input should be less than or equal to 200",
            "folowers: Extra inputs are not permitted",
        ],
    )


@contextmanager
def statements(md: Matchdesk) -> Iterator[list[str]]:
    """The SQL statements run while the block runs, as `VERB table`."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        table = words[words.index("FROM") + 1] if "FROM" in words else words[1]
        seen.append(f"{words[0]} {table}")

    event.listen(md.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(md.engine, "before_cursor_execute", record)


def test_a_list_page_costs_the_same_queries_whatever_its_size(md: Matchdesk, api: Api) -> None:
    fill(md)
    client = api("viewer")
    client.get("/api/v1/creators")  # the first list after a change reads the roster's index
    for per_page in (1, 7):
        with statements(md) as run:
            assert len(handles(client.get(f"/api/v1/creators?per_page={per_page}"))) == per_page
        assert run == [
            "SELECT api_tokens",  # the bearer token
            "UPDATE api_tokens",  # its last use
            "SELECT program_state",  # the roster's version: is the index current?
            "SELECT creators",  # the page's creators, by id
        ]


def test_read_a_creator(md: Matchdesk, api: Api) -> None:
    fill(md)
    with md.transaction() as session:
        create_creator(
            session,
            md.program,
            {
                "handle": "mia",
                "timezone": "Asia/Kolkata",
                "languages": "hi",
                "followers": "1.2M",
                "revenue_30d": "200,000",
                "availability": "Fri 22:00-02:00; Mon 19:00-23:00",
                "blocked": "zed_99;anna",
            },
            "test",
        )
    client = api("viewer")
    response = client.get("/api/v1/creators/@MIA")
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == {
        "handle": "mia",
        "display_name": "",
        "email": "",
        "timezone": "Asia/Kolkata",
        "languages": ["hi"],
        "region": "",
        "category": "",
        "followers": 1_200_000,
        "revenue_30d": 200_000,
        "tier": "S",
        "status": "active",
        "version": 1,
        "availability": "Mon 19:00-23:00; Fri 22:00-02:00",
        "blocked": ["anna", "zed_99"],
    }
    missing = client.get("/api/v1/creators/nobody")
    assert missing.status_code == 404
    assert missing.json() == error("not_found", "No creator with handle @nobody.")
    odd = client.get("/api/v1/creators/no%20body")
    assert odd.status_code == 422
    assert odd.json() == error(
        "invalid_input",
        INVALID,
        ["handle: String should match pattern '^@?[A-Za-z0-9_.]{1,24}$'"],
    )


def test_create_a_creator(md: Matchdesk, api: Api) -> None:
    fill(md)
    client = api("manager")
    response = client.post("/api/v1/creators", json=NEW)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/api/v1/creators/new.comer"
    assert response.headers["etag"] == '"1"'
    created = {
        "handle": "new.comer",
        "display_name": "New Comer",
        "email": "",
        "timezone": "America/Sao_Paulo",
        "languages": ["pt", "en"],
        "region": "BR",
        "category": "",
        "followers": 15_000,
        "revenue_30d": 21_000,
        "tier": "A",
        "status": "active",
        "version": 1,
        "availability": "Mon 19:00-23:00; Fri 22:00-02:00",
        "blocked": ["anna"],
    }
    assert response.json() == created
    assert client.get(response.headers["location"]).json() == created
    with md.transaction() as session:
        [entry] = entries_for(session, "creator", "new.comer")
        assert (entry.actor, entry.action) == ("token:manager script", "creator_created")
        assert entry.after == {
            **created,
            "languages": "pt;en",
            "blocked": "anna",
        }
    again = client.post("/api/v1/creators", json={**NEW, "handle": "NEW.COMER"})
    assert again.status_code == 409
    assert again.json() == error("conflict", "A creator with handle @new.comer already exists.")


def test_a_new_creator_is_listed_at_once(md: Matchdesk, api: Api) -> None:
    fill(md)
    client = api("manager")
    assert handles(client.get("/api/v1/creators?region=BR")) == ["bruno", "carla"]
    assert client.post("/api/v1/creators", json=NEW).status_code == 201
    assert handles(client.get("/api/v1/creators?region=BR")) == ["bruno", "carla", "new.comer"]


def test_create_refuses_invalid_creators(md: Matchdesk, api: Api) -> None:
    client = api("manager")
    # Types and shapes first (nothing else is looked at until they are right) ...
    typed = client.post(
        "/api/v1/creators",
        json={
            "handle": "x",
            "languages": "en",
            "followers": "12k",
            "revenue_30d": -1,
            "status": "retired",
            "blocked": ["not a handle"],
            "display_name": "Nul\x00",
            "tier": "S",
        },
    )
    assert typed.status_code == 422
    assert typed.json() == error(
        "invalid_input",
        INVALID,
        [
            "timezone: Field required",
            "languages: Input should be a valid list",
            "followers: Input should be a valid integer",
            "revenue_30d: Input should be greater than or equal to 0",
            "display_name: control characters are not allowed",
            "blocked.0: String should match pattern '^@?[A-Za-z0-9_.]{2,24}$'",
            "status: Input should be 'active' or 'paused'",
            "tier: Extra inputs are not permitted",
        ],
    )
    # ... then every value as the roster file's cells are checked.
    values = client.post(
        "/api/v1/creators",
        json={
            **NEW,
            "handle": "x",
            "timezone": "Mars/Olympus",
            "languages": ["en", "xx"],
            "availability": "Mon 25:00-26:00",
            "email": "not-an-address",
            "region": "ZZ",
        },
    )
    assert values.status_code == 422
    assert values.json() == error(
        "invalid_input",
        NOT_VALID,
        [
            "handle: 'x' is not a valid handle (2-24 characters of a-z 0-9 _ .)",
            "timezone: unknown time zone 'Mars/Olympus' (use an IANA name such as "
            "America/New_York)",
            "languages: unknown language code 'xx' (use ISO 639-1 codes such as en, es, pt "
            "separated by ;)",
            "availability: 'Mon 25:00-26:00': hour 25 is not 00-23",
            "email: 'not-an-address' is not a valid e-mail address",
            "region: 'ZZ' is not an ISO 3166-1 alpha-2 country code (e.g. US, BR)",
        ],
    )
    unknown_block = client.post("/api/v1/creators", json={**NEW, "blocked": ["ghost"]})
    assert unknown_block.status_code == 422
    assert unknown_block.json() == error(
        "invalid_input", NOT_VALID, ["blocked: 'ghost' not on the roster"]
    )
    not_json = client.post(
        "/api/v1/creators", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 422
    assert not_json.json()["error"]["code"] == "invalid_input"
    with md.transaction() as session:
        assert entries_for(session, "creator", "new.comer") == []


def test_update_with_a_current_or_stale_version(md: Matchdesk, api: Api) -> None:
    fill(md)
    client = api("manager")
    assert handles(client.get("/api/v1/creators?tier=S")) == ["bruno"]
    etag = client.get("/api/v1/creators/anna").headers["etag"]
    changed = client.patch(
        "/api/v1/creators/anna",
        json={"revenue_30d": 300_000, "languages": ["en"], "blocked": ["bruno"]},
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    assert (body["revenue_30d"], body["tier"], body["languages"], body["blocked"]) == (
        300_000,
        "S",
        ["en"],
        ["bruno"],
    )
    assert (body["version"], body["display_name"], body["availability"]) == (
        2,
        "Anna",
        "Tue 20:00-22:00",
    )
    assert handles(client.get("/api/v1/creators?tier=S")) == ["anna", "bruno"]
    with md.transaction() as session:
        entry = entries_for(session, "creator", "anna")[0]
        assert (entry.actor, entry.action) == ("token:manager script", "creator_updated")
        assert entry.before == {
            "languages": "de;en",
            "revenue_30d": 25_000,
            "blocked": "",
            "tier": "A",
        }
        assert entry.after == {
            "languages": "en",
            "revenue_30d": 300_000,
            "blocked": "bruno",
            "tier": "S",
        }
    stale_message = (
        "@anna was changed by someone else since you loaded it (your version 1, now 2); "
        "reload and try again."
    )
    stale = client.patch("/api/v1/creators/anna", json={"followers": 1}, headers={"If-Match": etag})
    assert stale.status_code == 409
    assert stale.json() == error("conflict", stale_message)
    stale_field = client.patch("/api/v1/creators/anna", json={"followers": 1, "version": 1})
    assert stale_field.status_code == 409
    assert stale_field.json() == error("conflict", stale_message)
    current_field = client.patch("/api/v1/creators/anna", json={"status": "paused", "version": 2})
    assert (current_field.status_code, current_field.json()["status"]) == (200, "paused")
    anyone = client.patch(
        "/api/v1/creators/ANNA", json={"category": "music"}, headers={"If-Match": "*"}
    )
    assert (anyone.status_code, anyone.headers["etag"]) == (200, '"4"')
    assert client.get("/api/v1/creators/anna").json()["category"] == "music"


def test_update_refuses_invalid_changes(md: Matchdesk, api: Api) -> None:
    fill(md)
    client = api("manager")
    refused = client.patch(
        "/api/v1/creators/anna",
        json={"handle": "anna2", "display_name": None, "followers": 1.5},
    )
    assert refused.status_code == 422
    assert refused.json() == error(
        "invalid_input",
        INVALID,
        [
            "followers: Input should be a valid integer",
            "display_name: null is not allowed; leave the field out to keep its value",
            "handle: Extra inputs are not permitted",
        ],
    )
    bad_value = client.patch("/api/v1/creators/anna", json={"timezone": "Nowhere"})
    assert bad_value.status_code == 422
    assert bad_value.json() == error(
        "invalid_input",
        NOT_VALID,
        ["timezone: unknown time zone 'Nowhere' (use an IANA name such as America/New_York)"],
    )
    self_block = client.patch("/api/v1/creators/anna", json={"blocked": ["anna"]})
    assert self_block.json() == error(
        "invalid_input", NOT_VALID, ["blocked: 'anna' cannot block itself"]
    )
    bad_etag = client.patch(
        "/api/v1/creators/anna", json={"followers": 1}, headers={"If-Match": 'W/"1"'}
    )
    assert bad_etag.status_code == 422
    assert bad_etag.json() == error(
        "invalid_input", INVALID, ['If-Match: \'W/"1"\' is not an ETag of this API (e.g. "3")']
    )
    disagree = client.patch(
        "/api/v1/creators/anna", json={"followers": 1, "version": 2}, headers={"If-Match": '"1"'}
    )
    assert disagree.status_code == 422
    assert disagree.json() == error(
        "invalid_input", INVALID, ["version: 2 disagrees with If-Match (1)"]
    )
    missing = client.patch("/api/v1/creators/nobody", json={"followers": 1})
    assert missing.status_code == 404
    assert missing.json() == error("not_found", "No creator with handle @nobody.")
    assert client.get("/api/v1/creators/anna").json()["version"] == 1


def test_delete_a_creator(md: Matchdesk, api: Api) -> None:
    fill(md)
    client = api("manager")
    assert handles(client.get("/api/v1/creators?region=BR")) == ["bruno", "carla"]
    stale = client.delete("/api/v1/creators/anna", headers={"If-Match": '"7"'})
    assert stale.status_code == 409
    assert stale.json() == error(
        "conflict",
        "@anna was changed by someone else since you loaded it (your version 7, now 1); "
        "reload and try again.",
    )
    stale_query = client.delete("/api/v1/creators/anna?version=2")
    assert stale_query.status_code == 409
    gone = client.delete("/api/v1/creators/anna", headers={"If-Match": '"1"'})
    assert (gone.status_code, gone.content) == (204, b"")
    assert client.get("/api/v1/creators/anna").status_code == 404
    assert client.delete("/api/v1/creators/bruno?version=1").status_code == 204
    again = client.delete("/api/v1/creators/anna")
    assert again.status_code == 404
    assert again.json() == error("not_found", "No creator with handle @anna.")
    assert handles(client.get("/api/v1/creators?region=BR")) == ["carla"]
    with md.transaction() as session:
        entry = entries_for(session, "creator", "anna")[0]
        assert (entry.actor, entry.action, entry.after) == (
            "token:manager script",
            "creator_deleted",
            None,
        )
        assert entry.before is not None
        assert entry.before["handle"] == "anna"


def test_program_rules(api: Api) -> None:
    response = api("viewer").get("/api/v1/program")
    assert response.status_code == 200
    assert response.json() == {
        "name": "LIVE Match Program",
        "timezone": "America/Los_Angeles",
        "tiers": [
            {"name": "S", "min_revenue_30d": 200_000, "min_followers": 0, "cadence": "monthly"},
            {"name": "A", "min_revenue_30d": 20_000, "min_followers": 0, "cadence": "weekly"},
            {"name": "B", "min_revenue_30d": 0, "min_followers": 0, "cadence": "weekly"},
        ],
        "matching": {
            "duration_minutes": 60,
            "max_tier_distance": 0,
            "require_shared_language": True,
            "rematch_cooldown_rounds": 4,
            "slot_step_minutes": 30,
        },
    }


def test_tokens_and_roles(md: Matchdesk, web: Any, api: Api) -> None:
    fill(md)
    viewer = api("viewer")
    assert viewer.get("/api/v1/creators/anna").status_code == 200
    for refused in (
        viewer.post("/api/v1/creators", json=NEW),
        viewer.patch("/api/v1/creators/anna", json={"followers": 1}),
        viewer.delete("/api/v1/creators/anna"),
    ):
        assert refused.status_code == 403
        assert refused.json() == error(
            "forbidden", "This needs the manager role; you are signed in as a viewer."
        )
    assert api("manager").patch("/api/v1/creators/anna", json={"followers": 1}).status_code == 200
    assert api("admin").delete("/api/v1/creators/anna").status_code == 204

    anonymous = TestClient(web).get("/api/v1/creators")
    assert anonymous.status_code == 401
    assert anonymous.json() == error("not_signed_in", "Please sign in.")
    unknown = TestClient(web, headers={"Authorization": "Bearer mdk_nope"}).get("/api/v1/program")
    assert unknown.status_code == 401
    assert unknown.json() == error("not_signed_in", "The API token is unknown or revoked.")
    with md.transaction() as session:
        issued = create_token(session, "old script", "manager")
    client = TestClient(web, headers={"Authorization": f"Bearer {issued.token}"})
    assert client.get("/api/v1/program").status_code == 200
    with md.transaction() as session:
        revoke_token(session, issued.record.id)
    revoked = client.post("/api/v1/creators", json=NEW)
    assert revoked.status_code == 401
    assert revoked.json() == error("not_signed_in", "The API token is unknown or revoked.")


def test_cookie_sessions_need_the_csrf_header_to_change(md: Matchdesk, client_as: Client) -> None:
    fill(md)
    client = client_as("manager")
    assert client.get("/api/v1/creators").json()["total"] == 7
    refused = client.post("/api/v1/creators", json=NEW)
    assert refused.status_code == 403
    assert refused.json() == error(
        "csrf_failed",
        "This form has expired or did not come from matchdesk. Reload the page and try again.",
    )
    forged = client.post("/api/v1/creators", json=NEW, headers={"X-CSRF-Token": "guess"})
    assert forged.status_code == 403
    token = csrf_of(client.get("/creators").text)
    created = client.post("/api/v1/creators", json=NEW, headers={"X-CSRF-Token": token})
    assert created.status_code == 201, created.text
    with md.transaction() as session:
        [entry] = entries_for(session, "creator", "new.comer")
        assert entry.actor == "operator:manager@example.com"
    viewer = client_as("viewer")
    token = csrf_of(viewer.get("/creators").text)
    weak = viewer.delete("/api/v1/creators/new.comer", headers={"X-CSRF-Token": token})
    assert weak.status_code == 403
    assert weak.json()["error"]["code"] == "forbidden"


def test_openapi_describes_every_api_route(web: Any) -> None:
    spec = TestClient(web).get("/openapi.json").json()
    routes = {
        (route.path, method.lower())
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert described == routes
    assert len(routes) == 11  # creators (5), program, rounds (2), results, reports (2)
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, method in routes:
        operation = spec["paths"][path][method]
        responses = operation["responses"]
        assert operation["security"] == [{"HTTPBearer": []}]
        for status in ("401", "403"):
            assert responses[status]["content"]["application/json"]["schema"] == error_ref
        if operation.get("parameters") or "requestBody" in operation:
            assert responses["422"]["content"]["application/json"]["schema"] == error_ref
        if method in ("post", "patch"):
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body["$ref"] in {
                "#/components/schemas/CreatorCreate",
                "#/components/schemas/CreatorUpdate",
                "#/components/schemas/ResultsIn",
            }
        success = next(s for s in responses if s.startswith("2"))
        if success != "204":
            assert responses[success]["content"]["application/json"]["schema"]["$ref"]
    assert set(spec["components"]["schemas"]["ErrorBody"]["properties"]) == {"error"}
