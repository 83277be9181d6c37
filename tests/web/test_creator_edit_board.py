"""Faster editing (SQLite and PostgreSQL): a bye's possible partners and why not each
other, paired from there; handle suggestions for the handle boxes (also in Chromium at
1366 and 390 px)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from matchdesk.context import Matchdesk
from matchdesk.rounds.board import Edit, unpair
from tests.web.conftest import csrf_of, screenshot
from tests.web.test_rounds_pages import add_creators, build, byes, monday, standing

Client = Callable[[str | None], TestClient]
FLASH_RE = re.compile(r'id="flash">([^<]*)<')


def _round_with_three_byes(md: Matchdesk, manager: TestClient) -> tuple[int, str, str]:
    """ann..fay paired, zoe (French only) has a bye; one pair is then unpaired. Returns the
    round and the two unpaired handles."""
    add_creators(md)
    response = build(manager, monday())
    round_id = int(response.headers["location"].rsplit("/", 1)[1])
    match_id, a, b = standing(md, round_id)[0]
    with md.transaction() as session:
        unpair(session, md.settings, md.program, round_id, match_id, Edit("test", None))
    return round_id, a, b


def _rows(html: str) -> list[tuple[str, str]]:
    body = html.split('<table class="bye-options">', 1)[1].split("</table>", 1)[0]
    out = []
    for handle, row in re.findall(r'<tr data-handle="([^"]+)"[^>]*>(.*?)</tr>', body, re.S):
        why = re.search(r'<td class="why">(.*?)</td>', row, re.S)
        assert why is not None
        out.append((handle, " ".join(unescape(re.sub(r"<[^>]+>", "", why.group(1))).split())))
    return out


def test_a_byes_options_and_pairing_from_there(md: Matchdesk, client_as: Client) -> None:
    manager = client_as("manager")
    round_id, a, b = _round_with_three_byes(md, manager)
    assert byes(md, round_id) == {
        a: "unpaired by the manager",
        b: "unpaired by the manager",
        "zoe": "no feasible partner",
    }
    board = manager.get(f"/rounds/{round_id}").text
    assert f'href="/rounds/{round_id}/byes/zoe"' in board
    zoe = manager.get(f"/rounds/{round_id}/byes/zoe")
    assert zoe.status_code == 200
    assert "0 possible partners of 2 without a match" in zoe.text
    assert _rows(zoe.text) == [
        (a, "the pair shares no language"),
        (b, "the pair shares no language"),
    ]
    page = manager.get(f"/rounds/{round_id}/byes/{a}")
    assert "1 possible partner of 2 without a match" in page.text
    assert _rows(page.text) == [(b, "can pair"), ("zoe", "the pair shares no language")]
    assert "no answers yet" in page.text
    # Pair from the options page: the board's pair edit (locked, by hand).
    done = manager.post(
        f"/rounds/{round_id}/pair",
        data={
            "csrf_token": csrf_of(page.text),
            "version": re.findall(r'name="version" value="(\d+)"', page.text)[0],
            "first": a,
            "second": b,
        },
    )
    assert done.status_code == 200
    assert FLASH_RE.findall(done.text)[0].startswith("Paired by hand: match ")
    assert byes(md, round_id) == {"zoe": "no feasible partner"}
    assert (
        'type="submit" class="primary">Pair<'
        not in client_as("viewer").get(f"/rounds/{round_id}/byes/zoe").text
    )
    matched = manager.get(f"/rounds/{round_id}/byes/{a}")
    assert matched.status_code == 422
    assert f"@{a} has no bye in round {round_id}" in unescape(matched.text)
    assert manager.get(f"/rounds/{round_id}/byes/nobody").status_code == 404


def test_handle_suggestions(md: Matchdesk, client_as: Client) -> None:
    add_creators(md)
    viewer = client_as("viewer")
    assert viewer.get("/creators/suggest?q=a").json() == []  # two characters at least
    # Inside handles and names, as the roster's search.
    assert viewer.get("/creators/suggest?q=@an").json() == [
        {"handle": "ann", "name": ""},
        {"handle": "dan", "name": ""},
    ]
    assert client_as(None).get("/creators/suggest?q=an", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("width", [1366, 390])
def test_suggestions_and_bye_options_in_chromium(
    browser: Any, live_server: str, md: Matchdesk, operators: dict[str, str], width: int
) -> None:
    add_creators(md)
    context = browser.new_context(viewport={"width": width, "height": 860})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{live_server}/login")
        page.fill("input[name=email]", operators["manager"])
        page.fill("input[name=password]", "correct horse battery")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server}/")
        page.goto(f"{live_server}/rounds")
        page.fill("input[name=start]", monday().isoformat())
        page.click("form.build-form button[type=submit]")
        page.wait_for_url(re.compile(r"/rounds/\d+$"))
        box = page.locator("[aria-label='Pair: first creator']")
        box.fill("zo")
        page.wait_for_selector(
            "[aria-label='Pair: first creator'][data-suggested='1']", state="attached"
        )
        list_id = box.get_attribute("list")
        assert page.locator(f"#{list_id} option").evaluate_all("os => os.map(o => o.value)") == [
            "zoe"
        ]
        page.click("a.bye-options")
        page.wait_for_selector("#options")
        assert "Who could pair with @zoe?" in page.inner_text("h1")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"bye-options-{width}")
    finally:
        context.close()
