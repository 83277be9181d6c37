from fastapi.testclient import TestClient

from matchdesk.context import Matchdesk
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.service import save_records
from matchdesk.web.app import create_app


def test_empty_roster_says_how_to_fill_it(md: Matchdesk) -> None:
    response = TestClient(create_app(md)).get("/")
    assert response.status_code == 200
    assert "No creators yet." in response.text
    assert "matchdesk creators import roster.csv" in response.text


def test_roster_pages_through_creators_by_handle(md: Matchdesk) -> None:
    records = sorted(generate_creators(120, seed=2), key=lambda r: r.handle)
    with md.transaction() as session:
        save_records(session, md.program, records)
    client = TestClient(create_app(md))
    first = client.get("/")
    assert first.status_code == 200
    assert "Page 1 of 3" in first.text
    assert f"@{records[0].handle}<" in first.text
    assert f"@{records[50].handle}<" not in first.text
    last = client.get("/?page=3")
    assert f"@{records[119].handle}<" in last.text
    assert client.get("/static/matchdesk.css").status_code == 200
    assert client.get("/?page=0").status_code == 422
