"""The tier review: exact proposals, hysteresis, applying some moves (audit, tier_moves,
outbox), on both backends.

Revenue is planted as one lump of diamonds on each Monday: the 30 program days ending a
Sunday hold exactly the Mondays of the four weeks ending that Sunday, so a test can state
each week's 30-day revenue literally (`plant`). Built-in program: S from 200,000, A from
20,000, B from 0; `tier_review_weeks` = 2; a move down needs revenue below 90% of the
current tier's minimum (A: 18,000).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from matchdesk.audit import AuditEntry
from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.mail.models import OutboxMessage
from matchdesk.results.models import LedgerDay, TierMove
from matchdesk.results.tier_review import apply_moves, count_proposals, review
from matchdesk.roster.availability import parse_availability
from matchdesk.roster.models import Creator
from matchdesk.roster.records import CreatorRecord
from matchdesk.roster.service import save_records

SUNDAYS = {
    "03-01": date(2026, 3, 1),
    "03-08": date(2026, 3, 8),
    "03-15": date(2026, 3, 15),
    "03-22": date(2026, 3, 22),
}


def add(md: Matchdesk, handle: str, tier: str, *, email: str = "", source: str = "results") -> int:
    with md.transaction() as session:
        save_records(
            session,
            md.program,
            [
                CreatorRecord(
                    handle=handle,
                    display_name=handle.title(),
                    email=email,
                    timezone="UTC",
                    languages=("en",),
                    followers=1000,
                    revenue_30d=0,
                    availability=parse_availability("Mon 19:00-23:00"),
                )
            ],
        )
        creator = session.scalars(select(Creator).where(Creator.handle == handle)).one()
        creator.tier = tier
        creator.revenue_source = source
        return creator.id


def plant(md: Matchdesk, creator_id: int, first_sunday: date, revenues: list[int]) -> None:
    """Monday lumps such that the 30-day revenue as of `first_sunday` and each following
    Sunday is `revenues` (the three weeks before the first get a quarter of it each)."""
    lumps = [revenues[0] // 4] * 3
    lumps.append(revenues[0] - sum(lumps))
    for value in revenues[1:]:
        lump = value - sum(lumps[-3:])
        assert lump >= 0, "unplantable sequence"
        lumps.append(lump)
    first_monday = first_sunday - timedelta(days=6) - timedelta(weeks=3)
    with md.transaction() as session:
        for k, lump in enumerate(lumps):
            if lump:
                day = first_monday + timedelta(weeks=k)
                session.add(
                    LedgerDay(
                        creator_id=creator_id,
                        day=day,
                        sessions=1,
                        live_minutes=60,
                        diamonds=lump,
                        new_followers=0,
                        match_sessions=0,
                    )
                )


def moves(md: Matchdesk, today: date) -> list[tuple[str, str | None, str]]:
    with md.transaction() as session:
        return [(p.handle, p.from_tier, p.to_tier) for p in review(session, md.program, today)]


def test_promotion_after_n_weeks_not_before(md: Matchdesk) -> None:
    rise = add(md, "rise", "B")
    plant(md, rise, SUNDAYS["03-01"], [10_000, 20_000, 25_000])
    roster = add(md, "roster_only", "B", source="roster")
    plant(md, roster, SUNDAYS["03-01"], [30_000, 30_000, 30_000])
    # Tuesday 10 March: the weeks ending 1 and 8 March are B then A: one week is not enough.
    assert moves(md, date(2026, 3, 10)) == []
    # The week of 16 March: it has not ended, so Monday 16 reviews the same weeks as Sunday 22.
    with md.transaction() as session:
        proposals = review(session, md.program, date(2026, 3, 16))
        assert count_proposals(session, md.program, date(2026, 3, 16)) == 1
    assert [p.figures() for p in proposals] == [
        {
            "handle": "rise",
            "from_tier": "B",
            "to_tier": "A",
            "direction": "up",
            "followers": 1000,
            "weeks": [
                {"week_end": "2026-03-08", "revenue_30d": 20_000},
                {"week_end": "2026-03-15", "revenue_30d": 25_000},
            ],
            "to_min_revenue_30d": 20_000,
            "to_min_followers": 0,
            "from_min_revenue_30d": 0,
            "down_below": None,
        }
    ]
    assert moves(md, date(2026, 3, 22)) == [("rise", "B", "A")]


def test_a_move_down_needs_the_margin(md: Matchdesk) -> None:
    dip = add(md, "dip", "A")  # just under A's 20,000, above 18,000: stays
    plant(md, dip, SUNDAYS["03-01"], [19_000, 19_000, 18_500])
    drop = add(md, "drop", "A")
    plant(md, drop, SUNDAYS["03-01"], [17_000, 17_900, 17_999])
    assert moves(md, date(2026, 3, 16)) == [("drop", "A", "B")]
    with md.transaction() as session:
        (proposal,) = review(session, md.program, date(2026, 3, 16))
    assert proposal.direction == "down"
    assert proposal.down_below == 18_000
    assert proposal.from_min_revenue_30d == 20_000
    assert [w.revenue_30d for w in proposal.weeks] == [17_900, 17_999]


def test_hovering_around_a_line_is_never_proposed(md: Matchdesk) -> None:
    hover = add(md, "hover", "B")
    plant(md, hover, SUNDAYS["03-01"], [21_000, 19_000, 21_000, 19_000, 21_000])
    for today in (date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23), date(2026, 3, 30)):
        assert moves(md, today) == []
    # Same tier every week: nothing to propose either.
    steady = add(md, "steady", "A")
    plant(md, steady, SUNDAYS["03-01"], [30_000, 30_000, 30_000])
    assert moves(md, date(2026, 3, 16)) == []


def test_no_flip_back_and_a_cool_down_after_a_move(md: Matchdesk) -> None:
    swing = add(md, "swing", "B")
    # 30-day revenue as of 1, 8, 15, 22, 29 March: up past A's line, then well under 18,000.
    plant(md, swing, SUNDAYS["03-01"], [20_000, 21_000, 17_000, 12_000, 7_000])
    assert moves(md, date(2026, 3, 9)) == [("swing", "B", "A")]
    with md.transaction() as session:
        apply_moves(
            session,
            md.program,
            date(2026, 3, 9),
            actor="operator:m@example.com",
            now=datetime(2026, 3, 9, 18, 0, tzinfo=UTC),
        )
    # The week after: 21,000 then 17,000 are two tiers: no flip back.
    assert moves(md, date(2026, 3, 16)) == []
    # 17,000 and 12,000 would take A down, but the week of 9 March began before the move.
    assert moves(md, date(2026, 3, 23)) == []
    # Two full weeks after the move: proposed.
    assert moves(md, date(2026, 3, 30)) == [("swing", "A", "B")]


def test_apply_some_writes_moves_audit_and_outbox_exactly(md: Matchdesk) -> None:
    ids = {}
    for handle, email in (("xena", "xena@example.com"), ("yuri", "yuri@example.com"), ("zoe", "")):
        ids[handle] = add(md, handle, "B", email=email)
        plant(md, ids[handle], SUNDAYS["03-01"], [25_000, 25_000, 25_000])
    today = date(2026, 3, 16)
    now = datetime(2026, 3, 16, 9, 30, tzinfo=UTC)
    assert moves(md, today) == [("xena", "B", "A"), ("yuri", "B", "A"), ("zoe", "B", "A")]

    with md.transaction() as session, pytest.raises(InvalidInput) as refused:
        apply_moves(
            session,
            md.program,
            today,
            actor="operator:m@example.com",
            handles=["xena", "@nobody"],
            now=now,
        )
    assert refused.value.details == ["handle nobody: not proposed"]

    with md.transaction() as session:
        versions = dict(session.execute(select(Creator.handle, Creator.version)).all())
        applied = apply_moves(
            session,
            md.program,
            today,
            actor="operator:m@example.com",
            handles=["@Xena", "zoe"],
            now=now,
        )
    assert [p.handle for p in applied] == ["xena", "zoe"]
    assert moves(md, today) == [("yuri", "B", "A")]
    figures = {
        "from_tier": "B",
        "to_tier": "A",
        "direction": "up",
        "followers": 1000,
        "weeks": [
            {"week_end": "2026-03-08", "revenue_30d": 25_000},
            {"week_end": "2026-03-15", "revenue_30d": 25_000},
        ],
        "to_min_revenue_30d": 20_000,
        "to_min_followers": 0,
        "from_min_revenue_30d": 0,
        "down_below": None,
    }
    with md.transaction() as session:
        tiers = dict(session.execute(select(Creator.handle, Creator.tier)).all())
        assert tiers == {"xena": "A", "yuri": "B", "zoe": "A"}
        after = dict(session.execute(select(Creator.handle, Creator.version)).all())
        assert {h: after[h] - versions[h] for h in after} == {"xena": 1, "yuri": 0, "zoe": 1}
        rows = session.execute(
            select(
                TierMove.creator_id,
                TierMove.from_tier,
                TierMove.to_tier,
                TierMove.figures,
                TierMove.applied_by,
            ).order_by(TierMove.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            (ids["xena"], "B", "A", {"handle": "xena", **figures}, "operator:m@example.com"),
            (ids["zoe"], "B", "A", {"handle": "zoe", **figures}, "operator:m@example.com"),
        ]
        move_ids = list(session.scalars(select(TierMove.id).order_by(TierMove.id)))
        audit = session.execute(
            select(
                AuditEntry.actor,
                AuditEntry.action,
                AuditEntry.subject_type,
                AuditEntry.subject_id,
                AuditEntry.before,
                AuditEntry.after,
            )
            .where(AuditEntry.action == "tier_moved")
            .order_by(AuditEntry.id)
        ).all()
        assert [tuple(a) for a in audit] == [
            (
                "operator:m@example.com",
                "tier_moved",
                "creator",
                str(ids[h]),
                {"tier": "B"},
                {"tier": "A", "figures": {"handle": h, **figures}},
            )
            for h in ("xena", "zoe")
        ]
        outbox = session.execute(
            select(
                OutboxMessage.kind,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.idempotency_key,
                OutboxMessage.body_text,
            )
        ).all()
    # zoe has no e-mail address: no message.
    assert [tuple(m) for m in outbox] == [
        (
            "tier_move",
            "xena@example.com",
            "LIVE Match Program: you are now in tier A",
            f"tier-move-{move_ids[0]}",
            "Hello Xena,\n\n"
            "You have moved up to tier A in LIVE Match Program (from B).\n\n"
            "Your revenue over the last 2 weeks:\n"
            "  30 days to 2026-03-08: 25,000 diamonds\n"
            "  30 days to 2026-03-15: 25,000 diamonds\n\n"
            "Tier A starts at 20,000 diamonds over 30 days and 0 followers."
            " Your next rounds are in this tier.\n",
        )
    ]


def test_apply_all_and_the_weeks_setting(md: Matchdesk) -> None:
    from matchdesk.program import parse_program

    a = add(md, "amy", "B")
    plant(md, a, SUNDAYS["03-01"], [10_000, 20_000, 25_000])
    three = parse_program("[program]\ntier_review_weeks = 3\n")
    with md.transaction() as session:
        assert review(session, three, date(2026, 3, 16)) == []  # 10,000 / 20,000 / 25,000
        assert count_proposals(session, three, date(2026, 3, 16)) == 0
        assert [
            p.handle for p in apply_moves(session, md.program, date(2026, 3, 16), actor="cli")
        ] == ["amy"]
        assert apply_moves(session, md.program, date(2026, 3, 16), actor="cli") == []


def test_cli_review_json_and_apply(md: Matchdesk, run) -> None:  # type: ignore[no-untyped-def]
    for handle in ("amy", "bob"):
        plant(md, add(md, handle, "B"), SUNDAYS["03-01"], [25_000, 25_000, 25_000])
    weeks = [
        {"week_end": "2026-03-08", "revenue_30d": 25000},
        {"week_end": "2026-03-15", "revenue_30d": 25000},
    ]

    def move(handle: str) -> dict[str, object]:
        return {
            "handle": handle,
            "from_tier": "B",
            "to_tier": "A",
            "direction": "up",
            "followers": 1000,
            "weeks": weeks,
            "to_min_revenue_30d": 20000,
            "to_min_followers": 0,
            "from_min_revenue_30d": 0,
            "down_below": None,
        }

    shown = run("tiers", "review", "--json", "--as-of", "2026-03-16")
    assert shown.code == 0, shown.stderr
    assert json.loads(shown.stdout) == {
        "as_of": "2026-03-16",
        "weeks": 2,
        "applied": False,
        "moves": [move("amy"), move("bob")],
    }
    refused = run("tiers", "review", "--handle", "amy", "--as-of", "2026-03-16")
    assert (refused.code, refused.stderr.strip()) == (2, "Error: --handle needs --apply")
    applied = run("tiers", "review", "--apply", "--handle", "bob", "--as-of", "2026-03-16")
    assert applied.code == 0, applied.stderr
    assert applied.stdout == (
        "Applied 1 tier move as of 2026-03-16\n"
        "  bob: B -> A (up; 2026-03-08: 25,000, 2026-03-15: 25,000)\n"
    )
    left = run("tiers", "review", "--as-of", "2026-03-16")
    assert left.stdout == (
        "Proposed 1 tier move as of 2026-03-16\n"
        "  amy: B -> A (up; 2026-03-08: 25,000, 2026-03-15: 25,000)\n"
    )
    with md.transaction() as session:
        assert dict(session.execute(select(Creator.handle, Creator.tier)).all()) == {
            "amy": "B",
            "bob": "A",
        }


def test_followers_below_the_current_tier_need_no_revenue_margin(md: Matchdesk) -> None:
    from matchdesk.program import parse_program

    program = parse_program(
        '[[tiers]]\nname = "A"\nmin_revenue_30d = 20000\nmin_followers = 5000\n'
        '[[tiers]]\nname = "B"\n'
    )
    few = add(md, "few", "A")  # 1,000 followers, revenue well above A's line
    plant(md, few, SUNDAYS["03-01"], [30_000, 30_000, 30_000])
    with md.transaction() as session:
        assert [
            (p.handle, p.to_tier, p.direction) for p in review(session, program, date(2026, 3, 16))
        ] == [("few", "B", "down")]


def test_a_move_applied_meanwhile_is_refused(
    md: Matchdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matchdesk.results import tier_review

    plant(md, add(md, "amy", "B"), SUNDAYS["03-01"], [25_000, 25_000, 25_000])
    real = tier_review.review

    def read_then_moved_elsewhere(session, program, today):  # type: ignore[no-untyped-def]
        proposals = real(session, program, today)
        with md.transaction() as other:  # another manager applies it first
            other.execute(update(Creator).where(Creator.handle == "amy").values(tier="A"))
        return proposals

    monkeypatch.setattr(tier_review, "review", read_then_moved_elsewhere)
    with md.transaction() as session, pytest.raises(InvalidInput) as refused:
        apply_moves(session, md.program, date(2026, 3, 16), actor="cli")
    assert refused.value.details == ["handle amy: tier changed"]
    with md.transaction() as session:
        assert session.scalars(select(TierMove)).all() == []
