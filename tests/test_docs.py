"""The documentation's samples work, and nothing in the repository sends a reader to a
file outside it (issue 13, defect 12: the README's sample roster did not import)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CSV_BLOCK = re.compile(r"```csv\n(.*?)```", re.S)


def csv_blocks(text: str, header: str) -> list[str]:
    return [b for b in CSV_BLOCK.findall(text) if b.startswith(header)]


@pytest.mark.parametrize("document", ["README.md", "docs/formats.md"])
def test_the_sample_roster_and_results_import(run, tmp_path: Path, document: str) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / document).read_text()
    (roster,) = csv_blocks(text, "handle,display_name,")
    (results,) = csv_blocks(text, "handle,started_at,")
    (tmp_path / "roster.csv").write_text(roster)
    (tmp_path / "results.csv").write_text(results)
    assert run("init").code == 0
    imported = run("creators", "import", "roster.csv")
    assert (imported.code, imported.stdout.strip()) == (
        0,
        "Imported 2 creators from roster.csv: 2 new, 0 updated, 0 unchanged.",
    ), imported.stderr
    shown = run("creators", "export", "back.csv")
    assert shown.code == 0
    rows = (tmp_path / "back.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["luna.star", "zed_99"]
    sessions = run("results", "import", "results.csv")
    assert (sessions.code, sessions.stdout.strip()) == (
        0,
        "Imported 2 sessions from results.csv: 2 new, 0 updated, 0 unchanged; "
        "0 linked to a match; 0 matches completed.",
    ), sessions.stderr


def test_links_in_the_docs_lead_to_files_in_the_repository() -> None:
    for document in ("README.md", "docs/formats.md"):
        for target in re.findall(r"\]\(([^)#]+)\)", (ROOT / document).read_text()):
            if "://" not in target:
                assert (ROOT / document).parent.joinpath(target).exists(), (document, target)


def test_nothing_sends_a_reader_outside_the_repository() -> None:
    files = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    for name in files:
        path = ROOT / name
        if name == "tests/test_docs.py" or not path.is_file() or path.suffix in {".js", ".png"}:
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if "../shared" in text or "/work/shared" in text:
            offenders.append(name)
    assert offenders == []
