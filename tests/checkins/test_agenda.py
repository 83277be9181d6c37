"""A check-in's agenda: figures since the last held check-in from the ledger, open
action items; notes (optimistic), action items, held/no-show with the creator's summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from matchdesk.checkins.agenda import add_action_item, agenda, close, save_notes, set_item_done
from matchdesk.checkins.models import Checkin
from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, InvalidInput
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.models import Creator
from tests.checkins.samples import add_creators, add_manager, operator_id
from tests.results.samples import csv, load

HELD_AT = datetime(2026, 2, 17, 15, tzinfo=UTC)
NEXT_AT = datetime(2026, 3, 3, 15, tzinfo=UTC)
TODAY = date(2026, 3, 3)


def _world(md: Matchdesk) -> tuple[int, int]:
    add_manager(md, "mia@example.com", "Europe/Berlin", "Tue 16:00-18:00")
    add_creators(md, ["anna"], manager="mia@example.com", timezone="America/New_York")
    ids = []
    with md.transaction() as session:
        anna = session.scalar(select(Creator.id))
        for n, (at, status) in enumerate(((HELD_AT, "held"), (NEXT_AT, "booked"))):
            checkin = Checkin(
                creator_id=anna,
                manager_id=operator_id(md, "mia@example.com"),
                starts_at=at,
                ends_at=at + timedelta(minutes=30),
                status=status,
                uid=f"c{n}@example.org",
            )
            session.add(checkin)
            session.flush()
            ids.append(checkin.id)
    load(
        md,
        csv(
            "anna,2026-02-16T18:00:00Z,45,700,,,,",  # before the last check-in's day
            "anna,2026-02-20T18:00:00Z,60,1000,,,,",
            "anna,2026-02-25T18:00:00Z,90,500,,,,",
        ),
    )
    return ids[0], ids[1]


def test_the_agenda_since_the_last_checkin(md: Matchdesk) -> None:
    held, current = _world(md)
    with md.transaction() as session:
        add_action_item(
            session, held, text="Go LIVE on Fridays", owner="anna", due_on="", actor="t"
        )
        done = add_action_item(session, held, text="New banner", owner="", due_on="", actor="t")
        set_item_done(session, done.id, True, actor="t")
    with md.transaction() as session:
        seen = agenda(session, md.program, current, TODAY)
        assert seen.period == (date(2026, 2, 17), date(2026, 3, 2))
        assert {
            k: seen.figures[k] for k in ("sessions", "live_minutes", "diamonds", "days_live")
        } == {
            "sessions": 2,
            "live_minutes": 150,
            "diamonds": 1500,
            "days_live": 2,
        }
        assert [i.text for i in seen.open_items] == ["Go LIVE on Fridays"]
        assert seen.items == []
        assert seen.tier == {
            "tier": "A",
            "next": "S",
            "revenue_short": 198_500,
            "followers_short": 0,
        }


def test_notes_items_and_held_send_the_summary_once(md: Matchdesk) -> None:
    held, current = _world(md)
    with md.transaction() as session:
        add_action_item(
            session, held, text="Go LIVE on Fridays", owner="anna", due_on="", actor="t"
        )
        save_notes(session, current, "Talked about Fridays.", version=1, actor="t")
        add_action_item(
            session,
            current,
            text="Try a co-host match",
            owner="Mia",
            due_on="2026-03-10",
            actor="t",
        )
        with pytest.raises(InvalidInput) as caught:
            add_action_item(session, current, text=" ", owner="", due_on="10 March", actor="t")
        assert caught.value.details == [
            "text: say what is to be done",
            "due: '10 March' is not a date (YYYY-MM-DD)",
        ]
    with md.transaction() as session, pytest.raises(Conflict):
        save_notes(session, current, "stale", version=1, actor="t")
    with md.transaction() as session, pytest.raises(Conflict) as early:
        close(
            session,
            md.settings,
            md.program,
            current,
            "held",
            version=2,
            actor="t",
            now=NEXT_AT - timedelta(hours=1),
        )
    assert early.value.message == "this check-in has not started yet"
    with md.transaction() as session:
        checkin = close(
            session, md.settings, md.program, current, "held", version=2, actor="t",
            now=NEXT_AT + timedelta(minutes=40),
        )  # fmt: skip
        assert (checkin.status, checkin.version) == ("held", 3)
    with md.transaction() as session, pytest.raises(Conflict) as twice:
        close(
            session,
            md.settings,
            md.program,
            current,
            "no_show",
            version=None,
            actor="t",
            now=NEXT_AT + timedelta(hours=1),
        )
    assert twice.value.message == "this check-in is held already"
    with md.transaction() as session:
        summary = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "checkin_summary")
        ).one()
    assert summary.recipient == "anna@example.com"
    assert summary.subject == "Your check-in summary (Tue 3 Mar 2026, 10:00 (America/New_York))"
    assert summary.body_text == "\n".join(
        [
            "Hi @anna,",
            "",
            "Thank you for the check-in on Tue 3 Mar 2026, 10:00 (America/New_York). "
            "Here is what we looked at.",
            "",
            "Your figures from 17 Feb to 02 Mar 2026:",
            "- Diamonds: 1,500",
            "- LIVE: 2.5 hours on 2 days (2 sessions)",
            "- Matches completed: 0 (0 diamonds in them)",
            "- Tier A: 198,500 diamonds (30 days) to tier S",
            "",
            "Action items:",
            "- Go LIVE on Fridays (anna)",
            "- Try a co-host match (Mia, by 10 Mar)",
            "",
            "LIVE Match Program",
            "",
        ]
    )  # fmt: skip
