"""A creator books, reschedules and cancels their check-in; two bookings of one slot at
the same moment: the database constraint decides (threads, both transactions open)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from matchdesk.checkins.booking import (
    SlotTaken,
    book,
    cancel,
    free_slots,
    next_free,
    open_checkin,
)
from matchdesk.checkins.models import Checkin
from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, InvalidInput
from matchdesk.roster.models import Creator
from tests.checkins.samples import add_creators, add_manager

NOW = datetime(2026, 2, 27, 12, tzinfo=UTC)  # a Friday
TUE_15 = datetime(2026, 3, 3, 15, tzinfo=UTC)


def _creator(session: Any, handle: str) -> Creator:
    return session.scalars(select(Creator).where(Creator.handle == handle)).one()


def _world(
    md: Matchdesk, creators: tuple[str, ...] = ("anna",), hours: str = "Tue 10:00-11:00"
) -> None:
    # Berlin 16:00-18:00 is 15:00-17:00 UTC all March (the EU changes on the 29th).
    add_manager(md, "mia@example.com", "Europe/Berlin", "Tue 16:00-18:00")
    # New York's Tue 10:00-11:00 is 15:00-16:00 UTC on 3 March, and 14:00-15:00 UTC on
    # 10 March (the US changed on the 8th): only the first Tuesday meets Mia's hours.
    add_creators(
        md, list(creators), manager="mia@example.com", timezone="America/New_York",
        checkin_hours=hours,
    )  # fmt: skip


def test_free_slots_across_the_us_change(md: Matchdesk) -> None:
    _world(md)
    with md.transaction() as session:
        slots = free_slots(session, md.program, _creator(session, "anna"), NOW)
    assert [s.start for s in slots] == [TUE_15, TUE_15 + timedelta(minutes=30)]


def test_book_reschedule_cancel(md: Matchdesk) -> None:
    _world(md)
    with md.transaction() as session:
        checkin = book(
            session,
            md.program,
            _creator(session, "anna"),
            TUE_15,
            now=NOW,
            actor="c",
            settings=md.settings,
        )
        uid = checkin.uid
        assert (checkin.sequence, checkin.version, checkin.status) == (0, 1, "booked")
    later = TUE_15 + timedelta(minutes=30)
    with md.transaction() as session:
        moved = book(
            session,
            md.program,
            _creator(session, "anna"),
            later,
            now=NOW,
            actor="c",
            settings=md.settings,
        )
        assert (moved.uid, moved.sequence, moved.version) == (uid, 1, 2)
        assert moved.starts_at.replace(tzinfo=UTC) == later
    with md.transaction() as session:
        # The old time is free again, the new one is the creator's own.
        slots = free_slots(session, md.program, _creator(session, "anna"), NOW)
        assert [s.start for s in slots] == [TUE_15, later]
        with pytest.raises(SlotTaken):
            book(session, md.program, _creator(session, "anna"), TUE_15 + timedelta(minutes=10),
                 now=NOW, actor="c", settings=md.settings)  # fmt: skip
    # Inside the notice (24 h): neither moving nor cancelling.
    late = later - timedelta(hours=23)
    with md.transaction() as session, pytest.raises(Conflict) as caught:
        cancel(
            session,
            md.program,
            _creator(session, "anna"),
            now=late,
            actor="c",
            settings=md.settings,
        )
    assert caught.value.message == (
        "your check-in is less than 24 hours away and can no longer be cancelled here; "
        "ask your manager"
    )
    with md.transaction() as session:
        gone = cancel(
            session, md.program, _creator(session, "anna"), now=NOW, actor="c", settings=md.settings
        )
        assert (gone.status, gone.sequence, gone.version) == ("cancelled", 2, 3)
        assert open_checkin(session, gone.creator_id) is None


def test_no_manager_hours_is_a_clear_refusal(md: Matchdesk) -> None:
    add_creators(md, ["solo"])
    with md.transaction() as session, pytest.raises(InvalidInput) as caught:
        free_slots(session, md.program, _creator(session, "solo"), NOW)
    assert caught.value.details == [
        "your program manager has not set up check-in times yet; they will contact you"
    ]


def _race(md: Matchdesk, first_at: datetime, second_at: datetime) -> Any:
    """anna books `first_at` in an open transaction; meanwhile bob books `second_at` in
    another thread; anna commits once bob's INSERT or UPDATE of check-ins is under way.
    Returns what bob's booking raised or returned."""
    bob_writing = threading.Event()
    outcome: dict[str, Any] = {}

    def bob() -> None:
        with md.sessions() as session:
            connection = session.connection()

            @event.listens_for(connection, "before_cursor_execute")
            def _seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
                if (
                    statement.lstrip()
                    .upper()
                    .startswith(("INSERT INTO CHECKINS", "UPDATE CHECKINS"))
                ):
                    outcome["wrote"] = True
                    bob_writing.set()

            try:
                outcome["result"] = book(
                    session,
                    md.program,
                    _creator(session, "bob"),
                    second_at,
                    now=NOW,
                    actor="b",
                    settings=md.settings,
                )
                session.commit()
            except Exception as exc:
                outcome["error"] = exc
                session.rollback()
            finally:
                bob_writing.set()

    with md.sessions() as session:
        book(
            session,
            md.program,
            _creator(session, "anna"),
            first_at,
            now=NOW,
            actor="a",
            settings=md.settings,
        )
        thread = threading.Thread(target=bob)
        thread.start()
        assert bob_writing.wait(60)  # a failure timeout only
        session.commit()
    thread.join(60)
    assert not thread.is_alive()
    return outcome


def test_two_bookings_of_one_slot_at_once_one_wins(md: Matchdesk) -> None:
    _world(md, ("anna", "bob"), "Tue 10:00-12:00")
    outcome = _race(md, TUE_15, TUE_15)
    assert outcome.get("wrote")  # bob's INSERT was sent: the unique index refused it
    error = outcome.get("error")
    assert isinstance(error, SlotTaken), outcome
    assert error.message == "Someone else just took that time. Here are the next free ones."
    # 15:30 lies within duration + buffer of anna's 15:00; on 10 March New York's
    # 10:00-12:00 is 14:00-16:00 UTC.
    tue_10 = TUE_15 + timedelta(days=7)
    with md.transaction() as session:
        offered = next_free(session, md.program, _creator(session, "bob"), NOW)
    assert [s.start for s in offered] == [
        TUE_15 + timedelta(hours=1),
        TUE_15 + timedelta(hours=1, minutes=30),
        tue_10,
        tue_10 + timedelta(minutes=30),
    ]
    with md.transaction() as session:
        rows = session.execute(select(Checkin.creator_id, Checkin.starts_at)).all()
        anna = _creator(session, "anna").id
    assert [(c, s.replace(tzinfo=UTC)) for c, s in rows] == [(anna, TUE_15)]


def test_two_bookings_of_neighbouring_slots_at_once_one_wins(md: Matchdesk) -> None:
    _world(md, ("anna", "bob"))
    outcome = _race(md, TUE_15, TUE_15 + timedelta(minutes=30))
    assert outcome.get("wrote")  # bob's row was written, then undone by the neighbour check
    assert isinstance(outcome.get("error"), SlotTaken), outcome
    with md.transaction() as session:
        assert len(session.scalars(select(Checkin)).all()) == 1


def test_a_booking_is_undone_with_its_transaction(md: Matchdesk) -> None:
    """Nothing of a booking outlives a rollback (on SQLite a savepoint's release would
    have committed it early)."""
    from matchdesk.mail.models import OutboxMessage

    _world(md)

    def failing_request() -> None:
        with md.transaction() as session:
            book(session, md.program, _creator(session, "anna"), TUE_15, now=NOW, actor="c",
                 settings=md.settings)  # fmt: skip
            raise RuntimeError("the request failed after booking")

    with pytest.raises(RuntimeError):
        failing_request()
    with md.transaction() as session:
        assert session.scalars(select(Checkin)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []
