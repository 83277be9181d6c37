"""Undo of the last board edit (SQLite and PostgreSQL): each edit's opposite through the
board's own rules, one step further back each time, never past a whole-round change."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from fastapi.testclient import TestClient

from matchdesk.audit import entries_for
from matchdesk.context import Matchdesk
from tests.web.test_rounds_pages import Board, add_creators, build, byes, monday, pairs, standing

Client = Callable[[str | None], TestClient]
FLASH_RE = re.compile(r'id="flash">([^<]*)<')


def test_undo_steps_back_through_the_edits(md: Matchdesk, client_as: Client) -> None:
    add_creators(md)
    manager = client_as("manager")
    response = build(manager, monday())
    board = Board(manager, int(response.headers["location"].rsplit("/", 1)[1]))
    rid = board.round_id
    original = {frozenset((a, b)) for _, a, b in standing(md, rid)}
    (_, a1, _), (_, a2, _), (m3, a3, b3) = standing(md, rid)[:3]
    assert "Undone" not in board.edit("undo")  # nothing yet: the build is not undone
    assert unescape(FLASH_RE.findall(board.html)[0]).startswith("Nothing to undo")
    board.edit(f"matches/{m3}/lock", locked="true")
    board.edit("swap", first=a1, second=a2)
    board.edit("exclude", handle="zoe")
    assert (
        board.edit("undo")
        == "Undone: @zoe is back in the round (pair them again if they had a match)."
    )
    assert byes(md, rid)["zoe"] != "excluded"
    assert board.edit("undo") == f"Undone: @{a1} and @{a2} swapped back."
    assert {frozenset((a, b)) for _, a, b in standing(md, rid)} == original
    assert board.edit("undo") == f"Undone: match {m3} unlocked again."
    assert pairs(md, rid)[m3][3] is False
    assert unescape(board.edit("undo")).startswith("Nothing to undo")
    # Unpair, then undo: the pair is made again, unlocked as it was.
    board.edit(f"matches/{m3}/unpair")
    note = board.edit("undo")
    assert note.startswith(f"Undone: @{min(a3, b3)} and @{max(a3, b3)} paired again (match ")
    assert frozenset((a3, b3)) in {frozenset((a, b)) for _, a, b in standing(md, rid)}
    restored = [
        v for v in pairs(md, rid).values() if {v[0], v[1]} == {a3, b3} and v[2] == "proposed"
    ]
    assert [v[3] for v in restored] == [False]
    with md.transaction() as session:
        undone = [e for e in entries_for(session, "round", rid) if e.action == "round.undone"]
        assert [e.before for e in undone] == [
            {"action": "match.unpaired"},
            {"action": "match.locked"},
            {"action": "match.swapped"},
            {"action": "creator.excluded"},
        ]
    # A stale version is refused, as for every edit (nothing is undone).
    board.edit("exclude", handle="zoe")
    stale = board.post("undo", version="1")
    assert stale.status_code == 303
    assert "changed" in unescape(FLASH_RE.findall(board.refresh())[0])
    assert byes(md, rid)["zoe"] == "excluded"
    assert client_as("viewer").post(f"/rounds/{rid}/undo").status_code == 403
