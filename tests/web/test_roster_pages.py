"""The roster pages through the app (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from matchdesk.context import Matchdesk
from matchdesk.roster.demo import generate_creators
from matchdesk.roster.search import fold
from matchdesk.roster.service import save_records
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]
HANDLE_RE = re.compile(r'<a href="/creators/([a-z0-9_.]+)">@')


def fill(md: Matchdesk, n: int = 120, seed: int = 2) -> None:
    with md.transaction() as session:
        save_records(session, md.program, generate_creators(n, seed=seed))


def handles(html: str) -> list[str]:
    return HANDLE_RE.findall(html)


def test_empty_roster_says_how_to_fill_it(client_as: Client) -> None:
    response = client_as("viewer").get("/creators")
    assert response.status_code == 200
    assert "No creators yet." in response.text


def test_pages_sort_and_filters(md: Matchdesk, client_as: Client) -> None:
    records = generate_creators(120, seed=2)
    fill(md)
    client = client_as("viewer")
    by_handle = sorted(r.handle for r in records)
    first = client.get("/creators")
    assert "Page 1 of 3" in first.text
    assert handles(first.text) == by_handle[:50]
    assert handles(client.get("/creators?page=3").text) == by_handle[100:]

    richest = sorted(records, key=lambda r: (-r.followers, r.handle))
    assert handles(client.get("/creators?sort=-followers").text) == [r.handle for r in richest[:50]]

    in_br = sorted(r.handle for r in records if r.region == "BR")
    page = client.get("/creators?region=BR")
    assert handles(page.text) == in_br
    assert f'<span id="total">{len(in_br)}</span>' in page.text

    speaks_en = sorted(r.handle for r in records if "en" in r.languages and r.status == "paused")
    assert handles(client.get("/creators?language=en&status=paused").text) == speaks_en

    tier_a = sorted(
        r.handle for r in records if md.program.tier_for(r.revenue_30d, r.followers) == "A"
    )
    assert handles(client.get("/creators?tier=A").text) == tier_a[:50]

    part = by_handle[7][1:4]  # inside a handle (or a display name, folded)
    names = {r.handle: fold(r.display_name) for r in records}
    assert (
        handles(client.get(f"/creators?q=@{part.upper()}").text)
        == [h for h in by_handle if part in h or part in names[h]][:50]
    )
    assert "No creator matches these filters." in client.get("/creators?q=zzzz_nobody").text


def test_a_page_past_the_end_says_so_and_links_the_last_page(
    md: Matchdesk, client_as: Client
) -> None:
    """Issue 13, defect 4: page 9 of a 3-page roster said "No creators yet"."""
    fill(md)
    client = client_as("viewer")
    page = client.get("/creators?page=9").text
    assert "No creators yet" not in page
    assert '<span id="total">120</span>' in page
    assert (
        '<p id="past-the-end">Page 9 is past the end: there are 3 pages. '
        '<a href="/creators?q=&tier=&region=&language=&status=&sort=handle&page=3">'
        "Go to the last page</a></p>"
    ) in page
    filtered = client.get("/creators?region=BR&page=5").text
    assert "Page 5 is past the end: there is 1 page." in filtered
    assert "No creator matches these filters" not in filtered


def test_htmx_requests_get_only_the_rows(md: Matchdesk, client_as: Client) -> None:
    fill(md, 10)
    partial = client_as("viewer").get("/creators?q=", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert len(handles(partial.text)) == 10


def test_creator_page_and_missing_creator(md: Matchdesk, client_as: Client) -> None:
    records = generate_creators(5, seed=3)
    fill(md, 5, seed=3)
    client = client_as("viewer")
    record = records[0]
    page = client.get(f"/creators/{record.handle}")
    assert page.status_code == 200
    assert f"@{record.handle}" in page.text
    assert f"{record.followers:,}" in page.text
    missing = client.get("/creators/nobody_here")
    assert missing.status_code == 404
    assert "No creator with handle @nobody_here." in missing.text


def test_export_is_the_roster_file(md: Matchdesk, client_as: Client) -> None:
    fill(md, 3, seed=4)
    response = client_as("viewer").get("/creators/export.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="roster.csv"'
    lines = response.text.splitlines()
    assert lines[0].startswith("handle,display_name,email,timezone,languages")
    assert len(lines) == 4
    assert client_as("viewer").get("/creators/export.json").status_code == 404


def test_import_checks_then_confirms(md: Matchdesk, client_as: Client) -> None:
    client = client_as("manager")
    token = csrf_of(client.get("/creators/import").text)
    bad = b"handle,timezone,languages,followers,revenue_30d,availability\nx,UTC,en,1,1,\n"
    checked = client.post(
        "/creators/import", data={"csrf_token": token}, files={"file": ("r.csv", bad, "text/csv")}
    )
    assert checked.status_code == 422
    assert "r.csv: 1 problem found; nothing was imported" in checked.text
    assert "&#39;x&#39; is not a valid handle" in checked.text
    good = bad.replace(b"\nx,", b"\nxavier,")
    checked = client.post(
        "/creators/import", data={"csrf_token": token}, files={"file": ("r.csv", good, "text/csv")}
    )
    assert checked.status_code == 200
    upload_id = re.search(r'name="upload_id" value="([^"]+)"', checked.text).group(1)  # type: ignore[union-attr]
    done = client.post(
        "/creators/import/confirm", data={"csrf_token": token, "upload_id": upload_id}
    )
    assert done.status_code == 200
    assert "Imported 1 creator from r.csv" in done.text
    again = client.post(
        "/creators/import/confirm", data={"csrf_token": token, "upload_id": upload_id}
    )
    # Issue 13, defect 15: "already imported", not "no longer available".
    assert again.status_code == 409
    assert re.search(
        r"r\.csv was already imported, on \d{4}-\d\d-\d\d at \d\d:\d\d UTC by "
        r"manager@example\.com; nothing was imported again\.",
        again.text,
    )


def test_manager_issues_a_portal_link_that_opens_the_portal(
    md: Matchdesk, client_as: Client
) -> None:
    fill(md, 3, seed=5)
    handle = generate_creators(3, seed=5)[0].handle
    manager = client_as("manager")
    token = csrf_of(manager.get(f"/creators/{handle}").text)
    page = manager.post(f"/creators/{handle}/portal-link", data={"csrf_token": token})
    assert page.status_code == 200
    url = re.search(r'<code id="portal-link">([^<]+)</code>', page.text).group(1)  # type: ignore[union-attr]
    # No MATCHDESK_BASE_URL: the link follows the address the page was served on.
    assert url.startswith("http://testserver/portal/")
    portal = client_as(None).get(url.removeprefix("http://testserver"))
    assert portal.status_code == 200
    assert f"@{handle}" in portal.text
    assert "portal link issued" in manager.get(f"/creators/{handle}").text
    viewer = client_as("viewer")
    token = csrf_of(viewer.get(f"/creators/{handle}").text)
    assert (
        viewer.post(f"/creators/{handle}/portal-link", data={"csrf_token": token}).status_code
        == 403
    )
