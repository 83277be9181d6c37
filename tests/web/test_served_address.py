"""Creators' links follow the address the app is served on (issue 13, defect 1): a server
on a random port, no MATCHDESK_BASE_URL, and every link in the invitations and on the
creator page points to that port and opens the portal; MATCHDESK_BASE_URL wins when set."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.mail.models import OutboxMessage
from tests.web.conftest import csrf_of, sign_in
from tests.web.test_rounds_pages import VERSION_RE, add_creators, monday

LINK_RE = re.compile(r"(https?://\S+/portal/\S+)")


def _published_links(md: Matchdesk, live_server: str, manager: str) -> list[str]:
    with httpx.Client(base_url=live_server, timeout=60) as client:
        sign_in(client, manager)  # type: ignore[arg-type]
        form = client.get("/rounds").text
        built = client.post(
            "/rounds",
            data={"csrf_token": csrf_of(form), "cadence": "weekly", "start": str(monday())},
        )
        assert built.status_code == 303, built.text
        board = client.get(built.headers["location"]).text
        version = VERSION_RE.search(board).group(1)  # type: ignore[union-attr]
        published = client.post(
            built.headers["location"] + "/publish",
            data={"csrf_token": csrf_of(board), "version": version},
        )
        assert published.status_code == 303, published.text
    with md.transaction() as session:
        texts = session.scalars(select(OutboxMessage.body_text)).all()
    assert len(texts) == 6  # zoe has no partner; six invitations
    return [LINK_RE.search(text).group(1) for text in texts]  # type: ignore[union-attr]


def test_invitation_links_follow_the_served_port(
    md: Matchdesk, live_server: str, operators: dict[str, str]
) -> None:
    assert md.settings.base_url == ""  # the default: follow the served address
    add_creators(md)
    links = _published_links(md, live_server, operators["manager"])
    assert all(link.startswith(f"{live_server}/portal/") for link in links)
    with httpx.Client(timeout=60) as anonymous:
        for link in links:
            page = anonymous.get(link)
            assert page.status_code == 200, link
            assert "Your matches" in page.text or "match" in page.text


def test_the_creator_page_link_follows_the_served_port(
    md: Matchdesk, live_server: str, operators: dict[str, str]
) -> None:
    add_creators(md)
    with httpx.Client(base_url=live_server, timeout=60) as client:
        sign_in(client, operators["manager"])  # type: ignore[arg-type]
        token = csrf_of(client.get("/creators/ann").text)
        page = client.post("/creators/ann/portal-link", data={"csrf_token": token}).text
        url = re.search(r'<code id="portal-link">([^<]+)</code>', page).group(1)  # type: ignore[union-attr]
        assert url.startswith(f"{live_server}/portal/")
        portal = client.get(url)
        assert portal.status_code == 200
        assert "@ann" in portal.text


def test_the_base_url_setting_wins_when_set(
    md: Matchdesk, live_server: str, operators: dict[str, str]
) -> None:
    md.settings.base_url = "https://matchdesk.example.com/"
    add_creators(md)
    links = _published_links(md, live_server, operators["manager"])
    assert all(link.startswith("https://matchdesk.example.com/portal/") for link in links)


def test_a_publish_job_keeps_the_address_it_was_asked_from(
    md: Matchdesk, live_server: str, operators: dict[str, str]
) -> None:
    add_creators(md)
    with httpx.Client(base_url=live_server, timeout=60) as client:
        sign_in(client, operators["manager"])  # type: ignore[arg-type]
        form = client.get("/rounds").text
        built = client.post(
            "/rounds",
            data={"csrf_token": csrf_of(form), "cadence": "weekly", "start": str(monday())},
        )
        board = client.get(built.headers["location"]).text
        md.settings.round_inline_limit = 2  # six invitations: the worker publishes
        version = VERSION_RE.search(board).group(1)  # type: ignore[union-attr]
        queued = client.post(
            built.headers["location"] + "/publish",
            data={"csrf_token": csrf_of(board), "version": version},
        )
        job_id = int(queued.headers["location"].removeprefix("/jobs/"))
    finished = jobs.run_inline(md, job_id, default_registry())
    assert finished.status == "done", finished.error
    with md.transaction() as session:
        texts = session.scalars(select(OutboxMessage.body_text)).all()
    assert len(texts) == 6
    assert all(f"{live_server}/portal/" in text for text in texts)


def test_the_command_line_address_is_host_and_port() -> None:
    assert Settings(port=8101).public_url() == "http://127.0.0.1:8101"
    assert Settings(host="0.0.0.0", port=9000).public_url() == "http://127.0.0.1:9000"
    assert Settings(host="::", port=9000).public_url() == "http://127.0.0.1:9000"
    assert Settings(host="::1", port=9000).public_url() == "http://[::1]:9000"
    assert Settings(base_url="https://x.example/", port=9).public_url() == "https://x.example"


def test_make_run_serves_on_the_port_the_readme_sets() -> None:
    """`MATCHDESK_PORT=8222 make run` and `make run PORT=8101` both serve on that port."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).parents[2]

    def dry_run(*args: str, **env: str) -> str:
        return subprocess.run(
            ["make", "-n", "-C", str(root), "run", *args],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **env},
        ).stdout

    assert "matchdesk serve --host 127.0.0.1 --port 8222" in dry_run(MATCHDESK_PORT="8222")
    assert "matchdesk serve --host 127.0.0.1 --port 8101" in dry_run("PORT=8101")
    assert "matchdesk serve --host 127.0.0.1 --port 8000" in dry_run()
