"""Publish, answers, rematch, outcomes: the messages each step writes, exactly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import delete, select

from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, NotFound
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment
from matchdesk.roster.models import AvailabilityWindow, Creator
from matchdesk.rounds import board, lifecycle
from matchdesk.rounds.lifecycle import mark_no_show, publish, reliability, rematch, respond
from tests.rounds.conftest import (
    MANAGER,
    add_roster,
    build,
    byes,
    creator,
    document,
    outbox,
    pairs,
    version,
)
from tests.rounds.rules import assert_hard_rules_hold

MON = "2026-11-30T18:00:00Z"
BEFORE = datetime(2026, 11, 28, tzinfo=UTC)
AFTER = datetime(2026, 12, 1, tzinfo=UTC)


def ids(md: Matchdesk) -> dict[str, int]:
    with md.transaction() as session:
        return {c.handle: c.id for c in session.scalars(select(Creator))}


def three(md: Matchdesk) -> int:
    add_roster(
        md,
        creator("ali", followers=1_000),
        creator("bob", followers=1_200),
        creator("cyd", followers=10, timezone="Asia/Tokyo", availability="Tue 03:00-04:00"),
    )
    round_id = build(md)
    assert pairs(md, round_id) == [("ali", "bob", MON, "proposed")]
    return round_id


def answer(md: Matchdesk, handle: str, match_id: int, what: str, at: datetime = BEFORE) -> str:
    with md.transaction() as session:
        who = session.scalars(select(Creator).where(Creator.handle == handle)).one()
        return respond(
            session, md.settings, md.program, who, match_id, what, clock=lambda: at
        ).status


def ics(md: Matchdesk, key: str) -> Calendar:
    with md.transaction() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
        ).one()
        (data,) = message.attachments
    return Calendar.from_ical(Attachment.from_json(data).content)


def test_publish_invites_both_creators_once(md: Matchdesk) -> None:
    round_id = three(md)
    c = ids(md)
    with md.transaction() as session:
        assert publish(session, md.settings, md.program, round_id, MANAGER) == 2
    assert outbox(md) == [
        ("match_invitation", "ali@example.com", f"round:{round_id}:creator:{c['ali']}:seq:0"),
        ("match_invitation", "bob@example.com", f"round:{round_id}:creator:{c['bob']}:seq:0"),
    ]
    assert pairs(md, round_id) == [("ali", "bob", MON, "published")]
    with pytest.raises(Conflict) as again, md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    assert again.value.message == f"Round {round_id} is published; only a draft can be published."
    calendar = ics(md, f"round:{round_id}:creator:{c['ali']}:seq:0")
    (event,) = calendar.walk("VEVENT")
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"round-{round_id}-creator-{c['ali']}@localhost"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == datetime(2026, 11, 30, 18, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 11, 30, 19, tzinfo=UTC)
    assert str(event["SUMMARY"]) == "LIVE match with @bob"
    assert str(event["ATTENDEE"]) == "mailto:ali@example.com"


def test_decline_then_rematch_updates_the_partner_and_invites_the_bye(md: Matchdesk) -> None:
    round_id = three(md)
    c = ids(md)
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    (match,) = document(md, round_id)["matches"]
    assert answer(md, "ali", match["match_id"], "decline") == "declined"
    assert byes(md, round_id) == {
        "ali": "declined",
        "bob": "partner declined",
        "cyd": "odd one out",
    }
    # cyd (Tokyo, Tuesday 03:00 = Monday 18:00 UTC) was the odd one out; now bob is free
    # and cyd is the one left to pair him with.
    with md.transaction() as session:
        assert rematch(session, md.settings, md.program, round_id, MANAGER) == 1
    assert pairs(md, round_id) == [
        ("ali", "bob", MON, "declined"),
        ("bob", "cyd", MON, "published"),
    ]
    assert byes(md, round_id) == {"ali": "declined"}
    assert outbox(md)[2:] == [
        ("match_cancellation", "ali@example.com", f"round:{round_id}:creator:{c['ali']}:seq:1"),
        ("match_invitation", "bob@example.com", f"round:{round_id}:creator:{c['bob']}:seq:1"),
        ("match_invitation", "cyd@example.com", f"round:{round_id}:creator:{c['cyd']}:seq:0"),
    ]
    cancel = ics(md, f"round:{round_id}:creator:{c['ali']}:seq:1")
    (event,) = cancel.walk("VEVENT")
    assert (str(cancel["METHOD"]), int(event["SEQUENCE"]), str(event["STATUS"])) == (
        "CANCEL",
        1,
        "CANCELLED",
    )
    assert str(event["UID"]) == f"round-{round_id}-creator-{c['ali']}@localhost"
    update = ics(md, f"round:{round_id}:creator:{c['bob']}:seq:1")
    (event,) = update.walk("VEVENT")
    assert (str(update["METHOD"]), int(event["SEQUENCE"]), str(event["SUMMARY"])) == (
        "REQUEST",
        1,
        "LIVE match with @cyd",
    )
    assert (
        str(event["UID"]) == f"round-{round_id}-creator-{c['bob']}@localhost"
    )  # same event, updated
    with md.transaction() as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "cyd@example.com")
        ).one()
        assert message.subject == "Your LIVE match with @bob, Tue 1 Dec 2026, 03:00 (Asia/Tokyo)"
    assert_hard_rules_hold(md, round_id)


def test_a_freed_creator_nobody_can_meet_gets_a_cancellation(md: Matchdesk) -> None:
    add_roster(md, creator("ali"), creator("bob"))
    round_id = build(md)
    c = ids(md)
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    (match,) = document(md, round_id)["matches"]
    answer(md, "bob", match["match_id"], "decline")
    with md.transaction() as session:
        assert rematch(session, md.settings, md.program, round_id, MANAGER) == 0
    assert outbox(md)[2:] == [
        ("match_cancellation", "bob@example.com", f"round:{round_id}:creator:{c['bob']}:seq:1"),
        ("match_cancellation", "ali@example.com", f"round:{round_id}:creator:{c['ali']}:seq:1"),
    ]
    assert byes(md, round_id) == {"ali": "partner declined", "bob": "declined"}  # the true reason


def test_confirmations_no_shows_and_reliability(md: Matchdesk) -> None:
    round_id = three(md)
    c = ids(md)
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    (match,) = document(md, round_id)["matches"]
    m = match["match_id"]
    assert answer(md, "ali", m, "confirm") == "published"
    assert answer(md, "ali", m, "confirm") == "published"  # twice is once
    assert answer(md, "bob", m, "confirm") == "confirmed"
    assert version(md, round_id) == 2  # published once; answers leave the version alone
    with pytest.raises(NotFound) as foreign:
        answer(md, "cyd", m, "decline")
    assert foreign.value.message == "This match is not yours."
    with pytest.raises(Conflict) as late:
        answer(md, "ali", m, "decline", at=AFTER)
    assert late.value.message == "This match has started; it can no longer be answered."
    with pytest.raises(Conflict) as early, md.transaction() as session:
        mark_no_show(session, round_id, m, ["bob"], MANAGER, clock=lambda: BEFORE)
    assert early.value.message == f"Match {m} has not ended yet; mark a no-show after its slot."
    with md.transaction() as session:
        mark_no_show(session, round_id, m, ["@bob"], MANAGER, clock=lambda: AFTER)
    assert pairs(md, round_id) == [("ali", "bob", MON, "no_show")]
    with md.transaction() as session:
        got = reliability(session, [c["ali"], c["bob"], c["cyd"]])
    assert [(r.invited, r.confirmed, r.declined, r.no_shows) for r in got.values()] == [
        (1, 1, 0, 0),
        (1, 1, 0, 1),
        (0, 0, 0, 0),
    ]
    assert (got[c["ali"]].confirm_rate, got[c["cyd"]].confirm_rate) == (1.0, None)


def test_unpairing_a_published_match_cancels_both_invitations(md: Matchdesk) -> None:
    round_id = three(md)
    c = ids(md)
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    (match,) = document(md, round_id)["matches"]
    with md.transaction() as session:
        board.unpair(session, md.settings, md.program, round_id, match["match_id"], MANAGER)
    assert pairs(md, round_id) == [("ali", "bob", MON, "cancelled")]
    assert outbox(md)[2:] == [
        ("match_cancellation", "ali@example.com", f"round:{round_id}:creator:{c['ali']}:seq:1"),
        ("match_cancellation", "bob@example.com", f"round:{round_id}:creator:{c['bob']}:seq:1"),
    ]
    with pytest.raises(Conflict) as refused, md.transaction() as session:
        board.reoptimise(session, md.program, round_id, MANAGER)
    assert refused.value.message.startswith(
        f"Round {round_id} is published; re-optimising would move"
    )
    assert_hard_rules_hold(md, round_id)


def test_declines_and_no_shows_feed_next_rounds_fairness(md: Matchdesk) -> None:
    from tests.rounds.conftest import fairness_credit, weekly_pool

    add_roster(
        md,
        creator("ali", followers=1_000),
        creator("bob", followers=1_200),
        creator("cyd", followers=100_000, availability="Tue 18:00-19:00"),
        creator("dee", followers=120_000, availability="Tue 18:00-19:00"),
    )
    round_id = build(md)
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    ab, cd = (m["match_id"] for m in document(md, round_id)["matches"])
    answer(md, "ali", ab, "decline")  # bob is left without a match (no rematch)
    with md.transaction() as session:
        mark_no_show(
            session, round_id, cd, ["dee"], MANAGER, clock=lambda: datetime(2026, 12, 3, tzinfo=UTC)
        )
    credit = fairness_credit(weekly_pool(md))
    # ali declined (-1, floored at 0); bob ended with a bye (+1); cyd's partner did not
    # turn up (+1); dee did not turn up (-1, floored).
    assert credit == {"ali": 0, "bob": 1, "cyd": 1, "dee": 0}


def test_a_result_completes_a_published_match_once(md: Matchdesk) -> None:
    from matchdesk.rounds.lifecycle import complete
    from matchdesk.rounds.models import Match

    round_id = three(md)
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    (match,) = document(md, round_id)["matches"]
    for _ in range(2):
        with md.transaction() as session:
            row = session.get(Match, match["match_id"])
            assert row is not None
            complete(session, row, actor="results:import")
    assert pairs(md, round_id) == [("ali", "bob", MON, "completed")]
    with md.transaction() as session:
        from matchdesk import audit

        assert [e.action for e in audit.entries_for(session, "round", round_id)][:2] == [
            "match.completed",
            "round.published",
        ]


def test_rematch_keeps_each_bye_its_true_reason(md: Matchdesk) -> None:
    """Issue 13, defect 10: a rematch rewrote every bye reason to "no feasible partner"."""
    add_roster(
        md,
        creator("ali", followers=1_000),
        creator("bob", followers=1_200),
        creator("cyd", languages="fr"),  # nobody else speaks French
        creator("dee", availability=""),  # no availability at all
    )
    round_id = build(md)
    assert byes(md, round_id) == {"cyd": "no feasible partner", "dee": "no availability"}
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
    (match,) = document(md, round_id)["matches"]
    assert answer(md, "ali", match["match_id"], "decline") == "declined"
    with md.transaction() as session:
        assert rematch(session, md.settings, md.program, round_id, MANAGER) == 0
    assert byes(md, round_id) == {
        "ali": "declined",
        "bob": "partner declined",
        "cyd": "no feasible partner",
        "dee": "no availability",
    }


def test_rematch_gives_the_engine_only_the_free_creators_who_have_time(
    md: Matchdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A free creator without a weekly window cannot be paired: the rematch leaves them
    out of the engine's pool (a big round's byes are mostly such creators), keeps their
    bye's reason, and still cancels the invitation of one whose partner declined."""
    add_roster(
        md,
        creator("ali", followers=1_000),
        creator("bob", followers=1_200),
        creator("cyd", availability=""),
        creator("eve", availability=""),
    )
    round_id = build(md)
    c = ids(md)
    with md.transaction() as session:
        publish(session, md.settings, md.program, round_id, MANAGER)
        board.exclude(session, md.settings, md.program, round_id, "eve", MANAGER)
        board.include(session, round_id, "eve", MANAGER)  # waiting: takes the engine's reason
        session.execute(delete(AvailabilityWindow).where(AvailabilityWindow.creator_id == c["ali"]))
    (match,) = document(md, round_id)["matches"]
    assert answer(md, "bob", match["match_id"], "decline") == "declined"
    given: list[list[int]] = []
    real_load_pool = lifecycle.load_pool

    def recording(*args: Any, **kwargs: Any) -> Any:
        given.append(sorted(kwargs["creator_ids"]))
        return real_load_pool(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "load_pool", recording)
    with md.transaction() as session:
        assert rematch(session, md.settings, md.program, round_id, MANAGER) == 0
    assert given == [[c["eve"]]]
    assert byes(md, round_id) == {
        "ali": "partner declined",
        "bob": "declined",
        "cyd": "no availability",
        "eve": "no availability",
    }
    assert outbox(md)[2:] == [
        ("match_cancellation", "bob@example.com", f"round:{round_id}:creator:{c['bob']}:seq:1"),
        ("match_cancellation", "ali@example.com", f"round:{round_id}:creator:{c['ali']}:seq:1"),
    ]
