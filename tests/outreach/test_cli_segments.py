"""`matchdesk segments preview` (SPEC section 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matchdesk.context import Matchdesk
from matchdesk.outreach.service import save_segment
from tests.outreach.samples import add_roster


def test_preview_a_file_and_a_saved_segment(md: Matchdesk, run: Any, tmp_path: Path) -> None:
    add_roster(md)
    document = {
        "match": "all",
        "rules": [
            {"field": "language", "op": "has", "value": "en"},
            {"field": "diamonds_30d", "op": ">", "value": 0},
        ],
    }
    path = tmp_path / "english.json"
    path.write_text(json.dumps(document))
    outcome = run("segments", "preview", str(path), "--json", "--as-of", "2026-03-20")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == {"count": 2, "handles": ["ana", "ben"]}

    with md.transaction() as session:
        save_segment(
            session,
            "Paused",
            {"match": "all", "rules": [{"field": "status", "op": "=", "value": "paused"}]},
            actor="test",
        )
    outcome = run("segments", "preview", "Paused", "--json")
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout) == {"count": 1, "handles": ["cai"]}
    outcome = run("segments", "preview", "Paused")
    assert outcome.stdout.splitlines() == ["all of:", "  status = 'paused'", "1 creator", "  cai"]


def test_a_bad_segment_file_exits_2_naming_the_rule(
    md: Matchdesk, run: Any, tmp_path: Path
) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"match": "all", "rules": [{"field": "tier", "op": "has", "value": "A"}]}')
    outcome = run("segments", "preview", str(path))
    assert outcome.code == 2
    assert "the segment is invalid" in outcome.stderr
    assert "rules[0]" in outcome.stderr
    assert "op 'has' does not apply to tier" in outcome.stderr
    outcome = run("segments", "preview", "Nope")
    assert outcome.code == 2
    assert "there is no saved segment 'Nope'" in outcome.stderr
