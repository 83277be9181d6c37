"""Sessions and matches: by match_id (refused when not the creator's), by overlap with a
published or confirmed match, completion when both sides have a session."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from matchdesk.audit import AuditEntry
from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.results.models import LiveSession
from matchdesk.rounds.models import Match
from tests.results.samples import add_creators, add_match, count, csv, ledger, load, sessions

EIGHT_PM = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def status(md: Matchdesk, match_id: int) -> str:
    with md.transaction() as session:
        return str(session.scalar(select(Match.status).where(Match.id == match_id)))


def test_a_session_naming_another_creators_match_is_refused(md: Matchdesk) -> None:
    add_creators(md, "ana", "bo", "luna")
    match_id = add_match(md, "ana", "bo", EIGHT_PM)
    with pytest.raises(InvalidInput) as caught:
        load(
            md,
            csv(
                f"ana,2026-03-04T20:00:00Z,60,100,,,{match_id},win",
                f"luna,2026-03-04T20:00:00Z,60,100,,,{match_id},loss",
            ),
        )
    assert caught.value.details == [f"row 3, column match_id: 'luna' is not in match {match_id}"]
    assert count(md, LiveSession) == 0
    assert status(md, match_id) == "published"


def test_both_sides_complete_the_match_with_their_outcomes(md: Matchdesk) -> None:
    add_creators(md, "ana", "bo")
    match_id = add_match(md, "ana", "bo", EIGHT_PM)
    first = load(md, csv(f"ana,2026-03-04T20:00:00Z,60,900,,,{match_id},win"))
    assert (first.linked, first.matches_completed) == (1, 0)
    assert status(md, match_id) == "published"
    second = load(md, csv("bo,2026-03-04T19:50:00Z,75,300,,,,loss"))  # linked by overlap
    assert (second.linked, second.matches_completed) == (1, 1)
    assert status(md, match_id) == "completed"
    assert sessions(md) == [
        ("ana", "2026-03-04T20:00Z", 60, 900, match_id, "win"),
        ("bo", "2026-03-04T19:50Z", 75, 300, match_id, "loss"),
    ]
    assert ledger(md, "bo") == [("2026-03-04", 1, 75, 300, 0, 1)]
    with md.transaction() as session:
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.subject_type, AuditEntry.after)
        ).all()
    assert [tuple(e) for e in entries] == [("match.completed", "round", {"match_id": match_id})]
    # Importing both files again changes nothing: the overlap still finds the match.
    again = load(
        md,
        csv(
            f"ana,2026-03-04T20:00:00Z,60,900,,,{match_id},win",
            "bo,2026-03-04T19:50:00Z,75,300,,,,loss",
        ),
    )
    assert (again.created, again.updated, again.unchanged, again.matches_completed) == (0, 0, 2, 0)


def test_overlap_links_only_published_or_confirmed_matches_of_the_creator(md: Matchdesk) -> None:
    add_creators(md, "ana", "bo", "cy", "dee")
    confirmed = add_match(md, "ana", "bo", EIGHT_PM, status="confirmed")
    declined = add_match(md, "cy", "dee", EIGHT_PM, status="declined")
    report = load(
        md,
        csv(
            "ana,2026-03-04T19:00:00Z,60,1,,,,",  # ends as the match starts: no overlap
            "ana,2026-03-04T20:59:00Z,30,2,,,,",  # its last minute overlaps
            "cy,2026-03-04T20:00:00Z,60,3,,,,",  # a declined match is not linked
            "dee,2026-03-04T20:30:00Z,60,4,,,,",
        ),
    )
    assert (report.created, report.linked, report.matches_completed) == (4, 1, 0)
    assert sessions(md) == [
        ("ana", "2026-03-04T19:00Z", 60, 1, None, None),
        ("ana", "2026-03-04T20:59Z", 30, 2, confirmed, None),
        ("cy", "2026-03-04T20:00Z", 60, 3, None, None),
        ("dee", "2026-03-04T20:30Z", 60, 4, None, None),
    ]
    assert status(md, confirmed) == "confirmed"
    assert status(md, declined) == "declined"


def test_a_session_overlapping_two_matches_takes_the_one_it_overlaps_most(
    md: Matchdesk,
) -> None:
    add_creators(md, "ana", "bo", "cy")
    early = add_match(md, "ana", "bo", EIGHT_PM)
    late = add_match(md, "ana", "cy", datetime(2026, 3, 4, 21, 0, tzinfo=UTC))
    load(md, csv("ana,2026-03-04T20:40:00Z,60,10,,,,"))  # 20 minutes of one, 40 of the other
    assert sessions(md) == [("ana", "2026-03-04T20:40Z", 60, 10, late, None)]
    assert (status(md, early), status(md, late)) == ("published", "published")
