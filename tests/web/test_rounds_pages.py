"""The rounds pages through the app (SQLite and PostgreSQL): build, the board and each of
its edits, stale edits, refusals, exports, and the API's round documents."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from matchdesk.audit import entries_for
from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.jobs.catalog import default_registry
from matchdesk.mail.models import OutboxMessage
from matchdesk.program import Program
from matchdesk.roster.editing import create_creator, update_creator
from matchdesk.roster.service import get_creator
from matchdesk.rounds.lifecycle import respond
from matchdesk.rounds.models import Match, Round
from matchdesk.rounds.period import next_start, program_today
from matchdesk.rounds.service import build_round, round_document
from tests.web.conftest import csrf_of

Client = Callable[[str | None], TestClient]
EVENING = "Mon 18:00-22:00"
ENGLISH = ("ann", "ben", "cat", "dan", "eve", "fay")  # six who can all meet each other
VERSION_RE = re.compile(r'name="version" value="(\d+)"')
FLASH_RE = re.compile(r'id="flash">([^<]*)<')


def add_creators(md: Matchdesk) -> None:
    """Six English speakers free on Monday evening (UTC), and zoe, who speaks only French."""
    with md.transaction() as session:
        for handle, language in [*((h, "en") for h in ENGLISH), ("zoe", "fr")]:
            fields = {
                "handle": handle,
                "email": f"{handle}@example.com",
                "timezone": "UTC",
                "languages": language,
                "followers": "1000",
                "revenue_30d": "100",
                "availability": EVENING,
            }
            create_creator(session, md.program, fields, "test")


# The program's clock, held for every test here (the `_held_clock` fixture): Wednesday 9
# December 2026, 12:10 in Los Angeles. On the real clock a test's own reading and the
# page's could fall either side of Monday 00:00 in Los Angeles (08:00 UTC), and then the
# week the test asked for had begun on the page's clock (a round built "late", a second
# build of "the same week" accepted) or the form offered another Monday.
NOW = datetime(2026, 12, 9, 20, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _held_clock(hold_clock: Callable[[datetime], datetime]) -> None:
    hold_clock(NOW)


def monday() -> date:
    """Next Monday on the built-in program's clock (the app's "today", held; the machine's
    date is a day ahead of it in Los Angeles' evening, when last week has not ended there)."""
    return next_start("weekly", program_today(Program().program.timezone))


class Board:
    """A signed-in manager on one round's board."""

    def __init__(self, client: TestClient, round_id: int) -> None:
        self.client, self.round_id = client, round_id
        self.html = ""
        self.refresh()

    def refresh(self, query: str = "") -> str:
        response = self.client.get(f"/rounds/{self.round_id}{query}")
        assert response.status_code == 200, response.text
        self.html = response.text
        return self.html

    @property
    def version(self) -> str:
        found = VERSION_RE.search(self.html)
        assert found, "the board has no version field"
        return found.group(1)

    def post(self, action: str, version: str | None = None, **fields: Any) -> Any:
        """POST an edit form with the version the page showed (or `version`)."""
        data = {"csrf_token": csrf_of(self.html), "version": version or self.version, **fields}
        return self.client.post(
            f"/rounds/{self.round_id}/{action}", data=data, follow_redirects=False
        )

    def edit(self, action: str, **fields: Any) -> str:
        """An edit that must work: 303 back to the board; returns the board's note."""
        response = self.post(action, **fields)
        assert response.status_code == 303, response.text
        assert response.headers["location"] == f"/rounds/{self.round_id}"
        flash = FLASH_RE.search(self.refresh())
        assert flash, "the board shows no note after the edit"
        return flash.group(1)


def build(client: TestClient, start: date, **fields: str) -> Any:
    page = client.get("/rounds").text
    data = {"csrf_token": csrf_of(page), "cadence": "weekly", "start": start.isoformat(), **fields}
    return client.post("/rounds", data=data, follow_redirects=False)


@pytest.fixture
def manager(md: Matchdesk, client_as: Client) -> TestClient:
    add_creators(md)
    return client_as("manager")


@pytest.fixture
def board(manager: TestClient) -> Board:
    response = build(manager, monday())
    assert response.status_code == 303
    return Board(manager, int(response.headers["location"].rsplit("/", 1)[1]))


def pairs(md: Matchdesk, round_id: int) -> dict[int, tuple[str, str, str, bool]]:
    """{match id: (a, b, status, locked)} of every match in the round."""
    document = {m["match_id"]: m for m in _document(md, round_id)["matches"]}
    with md.transaction() as session:
        locked = dict(
            session.execute(select(Match.id, Match.locked).where(Match.round_id == round_id)).all()
        )
    return {
        i: (m["creator_a"], m["creator_b"], m["status"], locked[i]) for i, m in document.items()
    }


def byes(md: Matchdesk, round_id: int) -> dict[str, str]:
    return {b["creator"]: b["reason"] for b in _document(md, round_id)["byes"]}


def _document(md: Matchdesk, round_id: int) -> dict[str, Any]:
    with md.transaction() as session:
        return round_document(session, round_id)


def standing(md: Matchdesk, round_id: int) -> list[tuple[int, str, str]]:
    return [
        (i, a, b)
        for i, (a, b, status, _) in sorted(pairs(md, round_id).items())
        if status in ("proposed", "published", "confirmed")
    ]


def test_rounds_page_offers_the_build_form_to_managers_only(
    md: Matchdesk, client_as: Client
) -> None:
    viewer = client_as("viewer").get("/rounds").text
    assert "No rounds yet" in viewer
    assert 'action="/rounds"' not in viewer
    page = client_as("manager").get("/rounds").text
    assert 'action="/rounds"' in page
    assert monday() == date(2026, 12, 14)
    assert 'id="start" value="2026-12-14"' in page  # next Monday in Los Angeles
    # The tier select lists every tier; only the weekly ones are offered at first.
    assert '<option value="S" data-cadence="monthly" hidden disabled>tier S only</option>' in page
    assert '<option value="A" data-cadence="weekly">tier A only</option>' in page


def test_build_inline_opens_the_draft_on_its_board(md: Matchdesk, manager: TestClient) -> None:
    response = build(manager, monday())
    assert response.status_code == 303
    round_id = int(response.headers["location"].removeprefix("/rounds/"))
    with md.transaction() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        assert (round_.status, round_.cadence, round_.tier) == ("draft", "weekly", None)
        assert round_.created_by == "operator:manager@example.com"
    assert len(standing(md, round_id)) == 3
    assert byes(md, round_id) == {"zoe": "no feasible partner"}
    html = manager.get(f"/rounds/{round_id}").text
    assert FLASH_RE.search(html).group(1) == "Round built: 3 matches from 7 creators."  # type: ignore[union-attr]
    assert '<span id="match-total">3</span> matches' in html
    assert "7 creators, 6 with a feasible partner" in html
    assert "6 creators in 3 matches" in html
    # The list shows it; a second build of the same period is refused with the reason.
    listing = manager.get("/rounds").text
    assert f'<a href="/rounds/{round_id}">Round {round_id}</a>' in listing
    again = build(manager, monday())
    assert again.status_code == 409
    assert f"Round {round_id} (weekly, every tier) already covers the period" in again.text
    # "Open it" is a link to that round (issue 13, defect 7).
    assert (
        f'<p class="error-links"><a href="/rounds/{round_id}">Open round {round_id}</a></p>'
        in again.text
    )


def test_build_refuses_a_start_that_is_not_a_monday(manager: TestClient) -> None:
    tuesday = monday() + timedelta(days=1)
    response = build(manager, tuesday)
    assert response.status_code == 422
    assert f"start: {tuesday.isoformat()} is a Tuesday; a weekly round starts on a Monday" in (
        response.text
    )


def test_a_week_that_has_ended_is_refused_and_one_begun_has_no_match_in_the_past(
    md: Matchdesk, manager: TestClient, hold_clock: Callable[[datetime], datetime]
) -> None:
    """Issue 13, defect 5 (the page; the command line's test fixes the clock)."""
    # Monday 7 December, 09:10 in Los Angeles (17:10 UTC): the week has begun, its
    # Monday evening (18:00-22:00 UTC) is still ahead.
    asked_at = hold_clock(datetime(2026, 12, 7, 17, 10, tzinfo=UTC))
    last_week = date(2026, 11, 30)
    response = build(manager, last_week)
    assert response.status_code == 422
    assert (
        "start: the week starting 2026-11-30 has ended, or has no time left "
        "for a match; build a round for a later week"
    ) in response.text
    this_week = date(2026, 12, 7)
    response = build(manager, this_week)
    assert response.status_code == 303
    round_id = int(response.headers["location"].removeprefix("/rounds/"))
    with md.transaction() as session:
        starts = session.scalars(select(Match.starts_at).where(Match.round_id == round_id)).all()
        round_ = session.get(Round, round_id)
        assert round_ is not None
    assert len(starts) == 3
    assert all(aware_utc(s) >= asked_at for s in starts)
    assert round_.statistics["not_before"] == "2026-12-07T17:30:00Z"  # the next half hour
    flash = FLASH_RE.search(manager.get(f"/rounds/{round_id}").text)
    assert flash
    assert flash.group(1) == (
        "Round built: 3 matches from 7 creators. The period had already begun: matches "
        "start from Mon 7 Dec 09:30 (America/Los_Angeles); earlier times are left out."
    )


def test_a_week_with_no_hour_left_is_refused(
    md: Matchdesk, client_as: Client, hold_clock: Callable[[datetime], datetime]
) -> None:
    # Sunday 13 December, 23:10 in Los Angeles: 23:30 + an hour is past the week's end.
    hold_clock(datetime(2026, 12, 14, 7, 10, tzinfo=UTC))
    add_creators(md)
    response = build(client_as("manager"), date(2026, 12, 7))
    assert response.status_code == 422
    assert (
        "start: the week starting 2026-12-07 has ended, or has no time left "
        "for a match; build a round for a later week"
    ) in response.text


def aware_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_a_big_pool_is_built_by_a_job_with_a_progress_page(
    md: Matchdesk, manager: TestClient
) -> None:
    md.settings.round_inline_limit = 6  # the pool has 7
    response = build(manager, monday(), tier="B")
    assert response.status_code == 303
    job_id = int(response.headers["location"].removeprefix("/jobs/"))
    with md.transaction() as session:
        job = jobs.get_job(session, job_id)
        assert (job.kind, job.status) == ("round.build", "queued")
        built_at = datetime.fromisoformat(job.payload.pop("not_before"))
        assert built_at == NOW  # the request's moment
        assert job.payload == {
            "cadence": "weekly",
            "start": monday().isoformat(),
            "tier": "B",
            "actor": "operator:manager@example.com",
            "seed": 0,
        }
        assert session.scalars(select(Round)).all() == []
    page = manager.get(f"/jobs/{job_id}").text
    assert 'hx-trigger="every 1s"' in page
    assert '<span class="badge queued" id="job-status">queued</span>' in page
    assert '<progress id="job-bar" max="3" value="0">' in page

    jobs.run_inline(md, job_id, default_registry())
    with md.transaction() as session:
        round_id = session.scalars(select(Round.id)).one()
    fragment = manager.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Redirect"] == f"/rounds/{round_id}"
    assert "every 1s" not in fragment.text  # polling stops
    assert '<progress id="job-bar" max="3" value="3">' in fragment.text
    full = manager.get(f"/jobs/{job_id}").text
    assert f'<a href="/rounds/{round_id}" id="job-result">Open round {round_id}</a>' in full
    assert len(standing(md, round_id)) == 3


def test_a_failed_job_shows_its_error(md: Matchdesk, client_as: Client) -> None:
    with md.transaction() as session:
        job_id = jobs.submit(
            session, "round.build", {"cadence": "weekly", "start": "2026-03-10", "actor": "t"}
        ).id
    jobs.run_inline(md, job_id, default_registry())
    page = client_as("viewer").get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert "HX-Redirect" not in page.headers
    assert '<span class="badge failed" id="job-status">failed</span>' in page.text
    assert "start: 2026-03-10 is a Tuesday; a weekly round starts on a Monday" in page.text
    assert client_as("viewer").get("/jobs/999").status_code == 404


def test_board_filters_and_pages(md: Matchdesk, board: Board) -> None:
    matches = standing(md, board.round_id)
    first = matches[0]
    html = board.refresh(f"?q={first[1]}")
    assert '<span id="match-total">1</span> match with these filters' in html
    assert f'id="match-{first[0]}"' in html
    fragment = board.client.get(f"/rounds/{board.round_id}?q=@zz", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<p class="count">')  # the table only
    assert '<span id="match-total">0</span>' in fragment.text
    assert "No match passes these filters." in fragment.text
    assert '<span id="match-total">3</span>' in board.refresh("?status=proposed&tier=B")
    assert '<span id="match-total">0</span>' in board.refresh("?locked=yes")
    # Each match shows both creators' local times and the score's parts.
    board.refresh()
    day = monday()
    local = f"Mon {day.day} {day:%b} 18:00"
    assert f'<span class="local">{local}</span> <span class="tz">UTC</span>' in board.html
    with md.transaction() as session:
        match = session.get(Match, first[0])
        assert match is not None
        parts = (match.revenue, match.audience, match.slot, match.novelty, match.fairness)
    # The parts as bars and words (issue 13: readable scores).
    for value, words in zip(
        parts,
        ("revenue fit 1.00", "audience fit 1.00", "both evenings", "never met", "no recent byes"),
        strict=True,
    ):
        assert f'value="{value:.2f}"' in board.html
        assert f"</meter> {words}</span>" in board.html
    assert "bye: " in board.html
    assert '<a href="/creators/zoe">@zoe</a>' in board.html


def test_board_search_finds_inside_handles_whatever_the_case_and_accents(
    md: Matchdesk, board: Board
) -> None:
    """Issue 13, defect 3: the board's search matched only the start of a handle."""
    matches = standing(md, board.round_id)
    ann = next(m for m in matches if "ann" in m[1:])
    for q in ("nn", "NN", "@Ánn"):
        html = board.refresh(f"?q={q}")
        assert '<span id="match-total">1</span> match with these filters' in html, q
        assert f'id="match-{ann[0]}"' in html
    # The byes' search too: zoe is the only bye.
    assert '<a href="/creators/zoe">@zoe</a>' in board.refresh("?q=OÉ")
    assert '<a href="/creators/zoe">@zoe</a>' not in board.refresh("?q=ze")


def test_board_search_finds_display_names_whatever_the_case_and_accents(
    md: Matchdesk, board: Board
) -> None:
    """Issue 13, defect 3: the board's search finds names too, not only handles."""
    matches = standing(md, board.round_id)
    ann = next(m for m in matches if "ann" in m[1:])
    with md.transaction() as session:
        update_creator(session, md.program, "ann", {"display_name": "Señora Núñez"}, "test")
        update_creator(session, md.program, "zoe", {"display_name": "Zoë Quíntero"}, "test")
    for q in ("nunez", "NÚÑ", "señora n"):
        html = board.refresh(f"?q={q}")
        assert '<span id="match-total">1</span> match with these filters' in html, q
        assert f'id="match-{ann[0]}"' in html
    # The byes' search too (zoe is the only bye), and a handle still found by SQL's rule.
    html = board.refresh("?q=quin")
    assert '<a href="/creators/zoe">@zoe</a>' in html
    assert '<span id="match-total">0</span>' in html
    assert '<a href="/creators/zoe">@zoe</a>' in board.refresh("?q=oe")
    assert '<a href="/creators/zoe">@zoe</a>' not in board.refresh("?q=nunez")
    # An HTMX fragment (the matches' table alone) searches the same way.
    fragment = board.client.get(f"/rounds/{board.round_id}?q=NUNEZ", headers={"HX-Request": "true"})
    assert '<span id="match-total">1</span>' in fragment.text
    assert f'id="match-{ann[0]}"' in fragment.text


def test_lock_unlock_and_unpair(md: Matchdesk, board: Board) -> None:
    (mid, a, b), *_ = standing(md, board.round_id)
    assert board.edit(f"matches/{mid}/lock", locked="true") == f"Match {mid} locked."
    assert pairs(md, board.round_id)[mid][3] is True
    assert '<span id="match-total">1</span>' in board.refresh("?locked=yes")
    board.refresh()
    assert board.edit(f"matches/{mid}/lock", locked="false") == f"Match {mid} unlocked."
    assert pairs(md, board.round_id)[mid][3] is False
    note = board.edit(f"matches/{mid}/unpair")
    assert note == f"Match {mid} unpaired; both creators have a bye."
    assert mid not in pairs(md, board.round_id)
    assert byes(md, board.round_id)[a] == byes(md, board.round_id)[b] == "unpaired by the manager"
    with md.transaction() as session:
        actions = [e.action for e in entries_for(session, "round", board.round_id)]
    assert actions == ["match.unpaired", "match.unlocked", "match.locked", "round.built"]
    assert "<strong>match unpaired</strong>" in board.html


def test_swap_exchanges_partners(md: Matchdesk, board: Board) -> None:
    (_, x, px), (_, y, py), third = standing(md, board.round_id)
    assert board.edit("swap", first=x, second="@" + y) == (
        f"Swapped: @{x} and @{y} exchanged partners."
    )
    now = {frozenset((a, b)) for _, a, b in standing(md, board.round_id)}
    assert now == {frozenset((x, py)), frozenset((y, px)), frozenset(third[1:])}


def test_pair_by_hand_and_its_refusal_naming_the_rule(md: Matchdesk, board: Board) -> None:
    (mid, a, b), *_ = standing(md, board.round_id)
    board.edit(f"matches/{mid}/unpair")
    refused = board.post("pair", first=a, second="zoe")
    assert refused.status_code == 422
    # Without JavaScript too, the rule in plain words (not its settings key), and the
    # way back to the board (issue 13, defect 6).
    plain = f"<p>@{a} and @zoe cannot be paired: these two share no language.</p>"
    assert plain in refused.text
    assert "require_shared_language" not in refused.text
    assert f'<a href="/rounds/{board.round_id}">Back to the board</a>' in refused.text
    board.refresh()
    note = board.edit("pair", first=b, second=a)
    new = [m for m in pairs(md, board.round_id).items() if {m[1][0], m[1][1]} == {a, b}]
    assert len(new) == 1
    new_id, (_, _, status, locked) = new[0]
    assert note == f"Paired by hand: match {new_id}, locked."
    assert (status, locked) == ("proposed", True)


def test_exclude_include_and_reoptimise(md: Matchdesk, board: Board) -> None:
    (_, a, b), *_ = standing(md, board.round_id)
    assert board.edit("exclude", handle=a) == f"@{a} excluded from the round."
    assert byes(md, board.round_id)[a] == "excluded"
    assert byes(md, board.round_id)[b] == "partner excluded"
    assert board.edit("reoptimise") == "Re-optimised: 2 matches."
    assert byes(md, board.round_id)[a] == "excluded"
    assert board.edit("include", handle="@" + a) == f"@{a} is back in the round."
    assert byes(md, board.round_id)[a] == "waiting for re-optimise"
    assert board.edit("reoptimise") == "Re-optimised: 3 matches."
    assert a not in byes(md, board.round_id)


def test_a_stale_edit_is_refused_with_who_changed_the_round(md: Matchdesk, board: Board) -> None:
    (mid, _, _), (other, _, _), _ = standing(md, board.round_id)
    shown = board.version
    board.edit(f"matches/{mid}/lock", locked="true")
    stale = board.post(f"matches/{other}/unpair", version=shown)
    assert stale.status_code == 409
    now = int(shown) + 1
    assert (
        f"Round {board.round_id} was changed by manager@example.com since you opened it "
        f"(your version {shown}, now {now}). Reload the board to see the change, then try "
        "again; nothing was saved."
    ) in stale.text
    assert other in pairs(md, board.round_id)


def test_publish_rematch_after_a_decline_and_discard(
    md: Matchdesk, board: Board, client_as: Client
) -> None:
    assert board.edit("publish") == "Published: 6 invitations queued."
    assert {s for _, _, s, _ in pairs(md, board.round_id).values()} == {"published"}
    assert 'id="rematch"' in board.html
    assert 'id="publish"' not in board.html
    # One creator declines (through the portal in the portal's tests): both are freed.
    (mid, a, b), *_ = standing(md, board.round_id)
    with md.transaction() as session:
        decliner = get_creator(session, a)
        assert decliner is not None
        respond(session, md.settings, md.program, decliner, mid, "decline")
    board.refresh()  # the answer changed the round: the page shown before is stale
    assert board.edit("rematch") == "Rematched: 0 new matches."  # b has nobody free to meet
    with md.transaction() as session:
        kinds = session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.recipient == f"{b}@example.com")
        ).all()
    assert kinds == ["match_invitation", "match_cancellation"]
    refused = board.post("discard")
    assert refused.status_code == 409
    assert f"Round {board.round_id} is published; only a draft can be discarded." in refused.text

    draft = build(board.client, monday() + timedelta(days=7))
    draft_board = Board(board.client, int(draft.headers["location"].rsplit("/", 1)[1]))
    gone = draft_board.post("discard")
    assert (gone.status_code, gone.headers["location"]) == (303, "/rounds")
    with md.transaction() as session:
        assert session.get(Round, draft_board.round_id).status == "discarded"  # type: ignore[union-attr]


def test_no_show_after_the_slot(md: Matchdesk, manager: TestClient) -> None:
    # A round of a past week (the page refuses to build one now: made as history is).
    with md.transaction() as session:
        past = build_round(
            session, md.program, cadence="weekly", start=monday() - timedelta(days=14), actor="t"
        )
        session.flush()
        past_id = past.id
    board = Board(manager, past_id)
    assert 'class="no-show"' not in board.html  # a draft's matches are not played
    board.edit("publish")
    (mid, a, b), *_ = standing(md, board.round_id)
    assert f'action="/rounds/{board.round_id}/matches/{mid}/no-show"' in board.html
    assert board.edit(f"matches/{mid}/no-show", handles=[b]) == f"Match {mid} marked a no-show."
    with md.transaction() as session:
        match = session.get(Match, mid)
        assert match is not None
        assert (match.status, match.a_no_show, match.b_no_show) == ("no_show", False, True)
    board.refresh()
    assert board.post(f"matches/{mid}/no-show", handles=[a]).status_code == 409


def test_future_matches_cannot_be_marked_no_show(md: Matchdesk, board: Board) -> None:
    board.edit("publish")
    (mid, a, _), *_ = standing(md, board.round_id)
    refused = board.post(f"matches/{mid}/no-show", handles=[a])
    assert refused.status_code == 409
    assert f"Match {mid} has not ended yet; mark a no-show after its slot." in refused.text


def test_exports(md: Matchdesk, board: Board, client_as: Client) -> None:
    viewer = client_as("viewer")
    document = _document(md, board.round_id)
    first = document["matches"][0]
    response = viewer.get(f"/rounds/{board.round_id}/export.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="round-{board.round_id}.csv"'
    )
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "match_id",
        "creator_a",
        "creator_b",
        "starts_at",
        "ends_at",
        "score",
        "status",
    ]
    assert rows[1] == [str(first[k]) for k in rows[0]]
    assert len(rows) == 4

    xlsx = viewer.get(f"/rounds/{board.round_id}/export.xlsx")
    assert xlsx.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["matches", "byes"]
    values = list(book["matches"].iter_rows(values_only=True))
    assert values[0] == (
        *rows[0],
        "creator_a_timezone",
        "creator_a_local_start",
        "creator_b_timezone",
        "creator_b_local_start",
    )
    # Issue 13, defect 14: real dates and numbers, local times beside UTC, and the byes.
    starts = datetime.fromisoformat(first["starts_at"].replace("Z", "+00:00"))
    assert values[1] == (
        first["match_id"],
        first["creator_a"],
        first["creator_b"],
        starts.replace(tzinfo=None),
        datetime.fromisoformat(first["ends_at"].replace("Z", "+00:00")).replace(tzinfo=None),
        first["score"],
        first["status"],
        "UTC",
        starts.replace(tzinfo=None),  # these creators live on UTC
        "UTC",
        starts.replace(tzinfo=None),
    )
    assert isinstance(values[1][5], float)
    assert book["matches"]["D2"].number_format == "yyyy-mm-dd hh:mm"
    assert list(book["byes"].iter_rows(values_only=True)) == [
        ("creator", "reason", "timezone"),
        ("zoe", "no feasible partner", "UTC"),
    ]

    ics = viewer.get(f"/rounds/{board.round_id}/export.ics")
    assert ics.headers["content-type"] == "text/calendar; charset=utf-8"
    assert ics.text.splitlines()[0] == "BEGIN:VCALENDAR"
    assert ics.text.count("BEGIN:VEVENT") == 3

    unknown = viewer.get(f"/rounds/{board.round_id}/export.pdf")
    assert unknown.status_code == 422
    assert "format: &#39;pdf&#39; is not one of csv, xlsx, ics" in unknown.text


def test_api_lists_and_reads_rounds(md: Matchdesk, board: Board, client_as: Client) -> None:
    viewer = client_as("viewer")
    listing = viewer.get("/api/v1/rounds").json()
    [item] = listing["items"]
    document = _document(md, board.round_id)
    assert item == {
        "round_id": board.round_id,
        "cadence": "weekly",
        "tier": None,
        "status": "draft",
        "period_start": document["period_start"],
        "period_end": document["period_end"],
        "matches": 3,
        "byes": 1,
        "version": 1,
    }
    assert viewer.get(f"/api/v1/rounds/{board.round_id}").json() == document
    missing = viewer.get("/api/v1/rounds/999")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "No round 999."


def test_a_big_round_is_published_by_a_job(md: Matchdesk, board: Board) -> None:
    md.settings.round_inline_limit = 5  # 6 creators to invite
    response = board.post("publish")
    assert response.status_code == 303
    job_id = int(response.headers["location"].removeprefix("/jobs/"))
    with md.transaction() as session:
        job = jobs.get_job(session, job_id)
        assert (job.kind, job.payload) == (
            "round.publish",
            {
                "round_id": board.round_id,
                "actor": "operator:manager@example.com",
                "expected_version": int(board.version),
                "base_url": "http://testserver",  # the links follow the page's address
            },
        )
        assert session.scalars(select(OutboxMessage)).all() == []
    done = jobs.run_inline(md, job_id, default_registry())
    assert (done.status, done.result) == ("done", {"round_id": board.round_id, "messages": 6})
    assert {s for _, _, s, _ in pairs(md, board.round_id).values()} == {"published"}
    fragment = board.client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Redirect"] == f"/rounds/{board.round_id}"


def test_a_creators_page_shows_their_matches_and_reliability(md: Matchdesk, board: Board) -> None:
    assert board.edit("publish") == "Published: 6 invitations queued."
    (mid, a, b), *_ = standing(md, board.round_id)
    with md.transaction() as session:
        decliner = get_creator(session, a)
        assert decliner is not None
        respond(session, md.settings, md.program, decliner, mid, "decline")
    page = board.client.get(f"/creators/{a}").text
    assert '<dd id="invited">1</dd>' in page
    assert '<dd id="confirm-rate">0 of 1 answered (0%)</dd>' in page
    assert '<dd id="decline-rate">1 of 1 answered (100%)</dd>' in page
    assert '<dd id="no-shows">0</dd>' in page
    assert f'<td><a href="/creators/{b}">@{b}</a></td>' in page
    assert '<span class="badge declined">declined</span>' in page
    # Issue 13, defect 8: no "Confirmed 0%" for a creator who has not answered.
    fresh = board.client.get(f"/creators/{b}").text
    assert '<dd id="confirm-rate">no answer yet</dd>' in fresh
    assert '<dd id="decline-rate">no answer yet</dd>' in fresh
    (_, c, _), *_ = standing(md, board.round_id)[1:]
    waiting = board.client.get(f"/creators/{c}").text
    assert '<dd id="pending">1</dd>' in waiting
    assert '<dd id="confirm-rate">no answer yet</dd>' in waiting
    # The timeline shows the messages sent to the creator, with their status.
    assert '<li class="message">' in waiting
    assert "matchdesk: match invitation “Your LIVE match with @" in waiting
    assert "(queued)</li>" in waiting


def test_a_creators_page_shows_the_block_list_both_ways(md: Matchdesk, client_as: Client) -> None:
    """Issue 13, defect 8: the creator page did not show the block list."""
    add_creators(md)
    with md.transaction() as session:
        update_creator(session, md.program, "ann", {"blocked": "ben;cat"}, "test")
    viewer = client_as("viewer")
    ann = viewer.get("/creators/ann").text
    assert (
        '<dd id="blocks"><a href="/creators/ben">@ben</a>, <a href="/creators/cat">@cat</a></dd>'
        in ann
    )
    assert '<dd id="blocked-by">nobody</dd>' in ann
    ben = viewer.get("/creators/ben").text
    assert '<dd id="blocks">nobody</dd>' in ben
    assert '<dd id="blocked-by"><a href="/creators/ann">@ann</a></dd>' in ben


def test_matched_creators_without_e_mail_are_listed_before_and_after_publishing(
    md: Matchdesk, client_as: Client
) -> None:
    """Issue 13, defect 11: publishing said every matched creator is invited, while those
    without an e-mail address get nothing."""
    add_creators(md)
    with md.transaction() as session:
        update_creator(session, md.program, "ann", {"email": ""}, "test")
    manager = client_as("manager")
    response = build(manager, monday())
    board = Board(manager, int(response.headers["location"].rsplit("/", 1)[1]))
    assert (
        "Every matched creator with an e-mail address gets an invitation; 1 matched creator "
        "has none (listed on the board)." in board.html
    )
    assert '<section class="card warn-card" id="no-email">' in board.html
    assert "No e-mail address: 1 matched creator</h2>" in board.html
    assert '<p class="handles"><a href="/creators/ann">@ann</a></p>' in board.html
    assert board.edit("publish") == (
        "Published: 5 invitations queued. 1 matched creator has no e-mail address and got no "
        "invitation: @ann. Send them their portal link."
    )
    assert "No e-mail address: 1 matched creator</h2>" in board.html


def test_edits_through_htmx_answer_the_row_and_a_plain_refusal(md: Matchdesk, board: Board) -> None:
    """Issue 13, defect 6: a refused edit replaced the board with an error page naming a
    settings key; every row action reloaded the page."""
    (mid, a, b), *_ = standing(md, board.round_id)
    htmx = {"HX-Request": "true"}
    data = {"csrf_token": csrf_of(board.html), "version": board.version, "locked": "true"}
    locked = board.client.post(
        f"/rounds/{board.round_id}/matches/{mid}/lock", data=data, headers=htmx
    )
    assert locked.status_code == 200
    assert locked.text.lstrip().startswith(
        f'<tr id="match-{mid}" data-a="{a}" data-b="{b}" class="locked">'
    )
    assert '<td class="lock-state">🔒 locked</td>' in locked.text
    assert (
        '<p id="board-note" class="flash success" role="status" hx-swap-oob="true">'
        f"Match {mid} locked.</p>"
    ) in locked.text
    new_version = int(board.version) + 1
    assert json.loads(locked.headers["HX-Trigger"]) == {"round-version": {"version": new_version}}
    assert f'name="version" value="{new_version}"' in locked.text  # the row's own forms
    # A refusal: the page keeps everything but the note, which says it in plain words.
    board.refresh()
    board.edit(f"matches/{standing(md, board.round_id)[1][0]}/unpair")
    freed = [
        h for h, reason in byes(md, board.round_id).items() if reason == "unpaired by the manager"
    ]
    refused = board.client.post(
        f"/rounds/{board.round_id}/pair",
        data={
            "csrf_token": csrf_of(board.html),
            "version": board.version,
            "first": freed[0],
            "second": "zoe",
        },
        headers=htmx,
    )
    assert refused.status_code == 200
    assert refused.headers["HX-Reswap"] == "none"
    assert refused.text.strip() == (
        '<p id="board-note" class="flash error" role="alert" hx-swap-oob="true">'
        f"@{freed[0]} and @zoe cannot be paired: these two share no language.</p>"
    )
    assert "require_shared_language" not in refused.text
    # A pair made through HTMX answers the matches' table with the filters it was sent.
    made = board.client.post(
        f"/rounds/{board.round_id}/pair",
        data={
            "csrf_token": csrf_of(board.html),
            "version": board.version,
            "first": freed[0],
            "second": freed[1],
            "q": freed[0],
        },
        headers=htmx,
    )
    assert made.status_code == 200
    assert made.text.lstrip().startswith('<p class="count"><span id="match-total">1</span> match')
    assert "Paired by hand: match " in made.text


def test_exclude_and_include_through_htmx_keep_the_board(md: Matchdesk, board: Board) -> None:
    """Issue 13, defect 6: Exclude and Include were plain posts, so a refused one (a
    creator who is not excluded) replaced the board with an error page."""
    (_, a, b), *_ = standing(md, board.round_id)
    htmx = {"HX-Request": "true"}

    def post(action: str, handle: str) -> Any:
        data = {"csrf_token": csrf_of(board.html), "version": board.version, "handle": handle}
        return board.client.post(f"/rounds/{board.round_id}/{action}", data=data, headers=htmx)

    excluded = post("exclude", a)
    assert excluded.status_code == 200
    assert excluded.text.lstrip().startswith('<p class="count"><span id="match-total">2</span>')
    assert f'<a href="/creators/{a}">@{a}</a></td>' in excluded.text  # among the byes at once
    assert (
        '<p id="board-note" class="flash success" role="status" hx-swap-oob="true">'
        f"@{a} excluded from the round.</p>"
    ) in excluded.text
    assert json.loads(excluded.headers["HX-Trigger"]) == {
        "round-version": {"version": int(board.version) + 1}
    }
    assert byes(md, board.round_id)[a] == "excluded"
    assert byes(md, board.round_id)[b] == "partner excluded"
    board.refresh()
    refused = post("include", b)
    assert refused.status_code == 200
    assert refused.headers["HX-Reswap"] == "none"
    assert refused.text.strip() == (
        '<p id="board-note" class="flash error" role="alert" hx-swap-oob="true">'
        f"Cannot include: @{b} is not excluded from the round.</p>"
    )
    included = post("include", "@" + a)
    assert (
        '<p id="board-note" class="flash success" role="status" hx-swap-oob="true">'
        f"@{a} is back in the round.</p>"
    ) in included.text
    assert byes(md, board.round_id)[a] == "waiting for re-optimise"
