"""The round board's edits: each checked, versioned and audited; hard rules always hold."""

from __future__ import annotations

import pytest

from matchdesk import audit
from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, InvalidInput, MatchdeskError
from matchdesk.rounds import board
from matchdesk.rounds.board import Edit
from tests.rounds.conftest import MANAGER, add_roster, build, byes, creator, pairs, version
from tests.rounds.rules import assert_hard_rules_hold

MON = "2026-11-30T18:00:00Z"


def four(md: Matchdesk) -> int:
    """ali and bob are close in strength, so are cyd and dee; all can meet Monday 18:00 UTC."""
    add_roster(
        md,
        creator("ali", followers=1_000),
        creator("bob", followers=1_200),
        creator("cyd", followers=100_000),
        creator("dee", followers=120_000),
        creator("eve", languages="fr"),
        creator("fox", followers=10, blocked=("ali",)),
    )
    round_id = build(md)
    assert pairs(md, round_id) == [
        ("ali", "bob", MON, "proposed"),
        ("cyd", "dee", MON, "proposed"),
    ]
    assert byes(md, round_id) == {"eve": "no feasible partner", "fox": "odd one out"}
    return round_id


def match_id(md: Matchdesk, round_id: int, a: str) -> int:
    from tests.rounds.conftest import document

    return next(
        m["match_id"]
        for m in document(md, round_id)["matches"]
        if a in (m["creator_a"], m["creator_b"])
    )


def actions(md: Matchdesk, round_id: int) -> list[str]:
    with md.transaction() as session:
        return [e.action for e in reversed(audit.entries_for(session, "round", round_id))]


def test_swap_exchanges_partners_and_is_audited(md: Matchdesk) -> None:
    round_id = four(md)
    with md.transaction() as session:
        board.swap(
            session, md.settings, md.program, round_id, "ali", "@CYD", Edit("operator:m@x", 1)
        )
    assert pairs(md, round_id) == [
        ("bob", "cyd", MON, "proposed"),
        ("ali", "dee", MON, "proposed"),
    ]
    assert version(md, round_id) == 2
    with md.transaction() as session:
        entry = audit.entries_for(session, "round", round_id)[0]
        assert (entry.actor, entry.action) == ("operator:m@x", "match.swapped")
        assert [(m["creator_a"], m["creator_b"]) for m in entry.before["matches"]] == [
            ("ali", "bob"),
            ("cyd", "dee"),
        ]
        assert [(m["creator_a"], m["creator_b"]) for m in entry.after["matches"]] == [
            ("bob", "cyd"),
            ("ali", "dee"),
        ]
    assert_hard_rules_hold(md, round_id)


def test_lock_unpair_and_pair_by_hand(md: Matchdesk) -> None:
    round_id = four(md)
    ab = match_id(md, round_id, "ali")
    with md.transaction() as session:
        board.set_locked(session, round_id, ab, True, MANAGER)
    with pytest.raises(Conflict) as refused, md.transaction() as session:
        board.swap(session, md.settings, md.program, round_id, "ali", "cyd", MANAGER)
    assert refused.value.message == f"Match {ab} is locked; unlock it before swapping."
    with md.transaction() as session:
        board.set_locked(session, round_id, ab, False, MANAGER)
        board.unpair(session, md.settings, md.program, round_id, ab, MANAGER)
    assert pairs(md, round_id) == [("cyd", "dee", MON, "proposed")]
    assert byes(md, round_id) == {
        "ali": "unpaired by the manager",
        "bob": "unpaired by the manager",
        "eve": "no feasible partner",
        "fox": "odd one out",
    }
    with md.transaction() as session:
        made = board.pair(session, md.settings, md.program, round_id, "fox", "bob", MANAGER)
        assert (made.locked, made.manual, made.status) == (True, True, "proposed")
    assert pairs(md, round_id) == [("cyd", "dee", MON, "proposed"), ("bob", "fox", MON, "proposed")]
    assert byes(md, round_id)["ali"] == "unpaired by the manager"
    assert actions(md, round_id) == [
        "round.built",
        "match.locked",
        "match.unlocked",
        "match.unpaired",
        "match.paired",
    ]
    assert version(md, round_id) == 5  # the refused swap changed nothing
    assert_hard_rules_hold(md, round_id)


@pytest.mark.parametrize(
    ("first", "second", "message", "details"),
    [
        (
            "ali",
            "eve",
            "@ali and @eve cannot be paired",
            ["require_shared_language: the pair shares no language"],
        ),
        ("ali", "fox", "@ali and @fox cannot be paired", ["blocks: the pair is blocked"]),
        (
            "cyd",
            "bob",
            "the pair cannot be made",
            ["@cyd is already matched; unpair or swap instead"],
        ),
        ("ali", "zed", "No creator with handle @zed.", []),
    ],
)
def test_a_pair_that_breaks_a_hard_rule_is_refused_with_the_rule_named(
    md: Matchdesk, first: str, second: str, message: str, details: list[str]
) -> None:
    round_id = four(md)
    with md.transaction() as session:
        board.unpair(
            session, md.settings, md.program, round_id, match_id(md, round_id, "ali"), MANAGER
        )
    with pytest.raises(MatchdeskError) as refused, md.transaction() as session:
        board.pair(session, md.settings, md.program, round_id, first, second, MANAGER)
    assert (refused.value.message, refused.value.details) == (message, details)
    assert version(md, round_id) == 2  # refused: the version bump rolled back too
    assert_hard_rules_hold(md, round_id)


def test_exclude_include_and_reoptimise_keep_locked_pairs(md: Matchdesk) -> None:
    round_id = four(md)
    with md.transaction() as session:
        board.swap(session, md.settings, md.program, round_id, "ali", "cyd", MANAGER)
    ad, bc = match_id(md, round_id, "ali"), match_id(md, round_id, "bob")
    with md.transaction() as session:
        board.set_locked(session, round_id, bc, False, MANAGER)  # swapped pairs are locked
        board.exclude(session, md.settings, md.program, round_id, "bob", MANAGER)
    assert ad == match_id(md, round_id, "ali")
    assert byes(md, round_id) == {
        "bob": "excluded",
        "cyd": "partner excluded",
        "eve": "no feasible partner",
        "fox": "odd one out",
    }
    with md.transaction() as session:
        board.reoptimise(session, md.program, round_id, MANAGER)
    # ali-dee stay locked; bob stays out; cyd and fox are the best of the rest.
    assert sorted(p[:2] for p in pairs(md, round_id)) == [("ali", "dee"), ("cyd", "fox")]
    assert byes(md, round_id) == {"bob": "excluded", "eve": "no feasible partner"}
    with md.transaction() as session:
        board.include(session, round_id, "bob", MANAGER)
    assert byes(md, round_id)["bob"] == "waiting for re-optimise"
    with pytest.raises(InvalidInput) as refused, md.transaction() as session:
        board.include(session, round_id, "bob", MANAGER)
    assert refused.value.details == ["@bob is not excluded from the round"]
    assert_hard_rules_hold(md, round_id)


def test_a_stale_edit_is_refused_and_nothing_is_lost(md: Matchdesk) -> None:
    round_id = four(md)
    seen_by_anna = seen_by_omar = version(md, round_id)  # both open the board
    with md.transaction() as session:
        board.swap(
            session,
            md.settings,
            md.program,
            round_id,
            "ali",
            "cyd",
            Edit("operator:anna@x.com", seen_by_anna),
        )
    with pytest.raises(Conflict) as refused, md.transaction() as session:
        board.unpair(
            session,
            md.settings,
            md.program,
            round_id,
            match_id(md, round_id, "ali"),
            Edit("operator:omar@x.com", seen_by_omar),
        )
    assert refused.value.message == (
        f"Round {round_id} was changed by anna@x.com since you opened it (your version 1, now 2). "
        "Reload the board to see the change, then try again; nothing was saved."
    )
    assert refused.value.status == 409
    # Anna's swap stands, Omar's unpair did not happen.
    assert pairs(md, round_id) == [("bob", "cyd", MON, "proposed"), ("ali", "dee", MON, "proposed")]
    assert version(md, round_id) == 2


def test_two_managers_editing_at_the_same_moment_one_wins_one_is_refused(md: Matchdesk) -> None:
    import threading

    round_id = four(md)
    seen = version(md, round_id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def edit(who: str, action: str) -> None:
        try:
            with md.transaction() as session:
                barrier.wait(timeout=10)  # both transactions open, both read version 1
                if action == "swap":
                    board.swap(
                        session, md.settings, md.program, round_id, "ali", "cyd", Edit(who, seen)
                    )
                else:
                    board.exclude(
                        session, md.settings, md.program, round_id, "bob", Edit(who, seen)
                    )
            outcomes[who] = "saved"
        except Conflict as exc:
            outcomes[who] = exc.message

    threads = [
        threading.Thread(target=edit, args=("operator:anna@x.com", "swap")),
        threading.Thread(target=edit, args=("operator:omar@x.com", "exclude")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values())[1] == "saved"
    refused = sorted(outcomes.values())[0]
    assert refused.startswith(f"Round {round_id} was changed by ")
    assert refused.endswith(
        "(your version 1, now 2). Reload the board to see the change, then try again; "
        "nothing was saved."
    )
    assert version(md, round_id) == 2  # exactly one edit landed
    if outcomes["operator:anna@x.com"] == "saved":
        assert [p[:2] for p in pairs(md, round_id)] == [("bob", "cyd"), ("ali", "dee")]
    else:
        assert byes(md, round_id)["bob"] == "excluded"
    assert_hard_rules_hold(md, round_id)


def locked_pairs(md: Matchdesk, round_id: int) -> dict[tuple[str, str], bool]:
    from sqlalchemy import select

    from matchdesk.rounds.models import Match

    with md.transaction() as session:
        locks = dict(
            session.execute(select(Match.id, Match.locked).where(Match.round_id == round_id)).all()
        )
    from tests.rounds.conftest import document

    return {
        (m["creator_a"], m["creator_b"]): locks[m["match_id"]]
        for m in document(md, round_id)["matches"]
    }


def test_a_swap_locks_both_new_pairs_so_reoptimise_keeps_them(md: Matchdesk) -> None:
    """Issue 13, defect 2: a swap made two unlocked pairs and Re-optimise undid it."""
    round_id = four(md)
    with md.transaction() as session:
        made = board.swap(session, md.settings, md.program, round_id, "ali", "cyd", MANAGER)
        assert [(m.locked, m.manual) for m in made] == [(True, True), (True, True)]
    assert locked_pairs(md, round_id) == {("bob", "cyd"): True, ("ali", "dee"): True}
    with md.transaction() as session:
        board.reoptimise(session, md.program, round_id, MANAGER)
    assert locked_pairs(md, round_id) == {("bob", "cyd"): True, ("ali", "dee"): True}
    assert_hard_rules_hold(md, round_id)


def test_reoptimise_keeps_the_number_of_every_pair_it_makes_again(md: Matchdesk) -> None:
    """Issue 13, defect 15: re-optimising renumbered every unlocked match."""
    round_id = four(md)
    before = {(m["creator_a"], m["creator_b"]): m["match_id"] for m in _matches(md, round_id)}
    with md.transaction() as session:
        assert board.reoptimise(session, md.program, round_id, MANAGER) == 2
    after = {(m["creator_a"], m["creator_b"]): m["match_id"] for m in _matches(md, round_id)}
    assert after == before  # the same pairs, the same numbers
    # A pair that changes gets a new number; the one that stays keeps its own.
    with md.transaction() as session:
        board.exclude(session, md.settings, md.program, round_id, "dee", MANAGER)
        board.reoptimise(session, md.program, round_id, MANAGER)
    now = {(m["creator_a"], m["creator_b"]): m["match_id"] for m in _matches(md, round_id)}
    assert set(now) == {("ali", "bob"), ("cyd", "fox")}
    assert now[("ali", "bob")] == before[("ali", "bob")]
    assert_hard_rules_hold(md, round_id)


def _matches(md: Matchdesk, round_id: int) -> list[dict[str, object]]:
    from tests.rounds.conftest import document

    return list(document(md, round_id)["matches"])
