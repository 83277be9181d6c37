"""Claims: a lease per row, taken over when it runs out, never shared by two workers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.db import make_engine, make_session_factory
from matchdesk.mail import claims
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment, NewMessage, enqueue_many
from tests.mail.conftest import T0, aware

LEASE = timedelta(seconds=60)


@pytest.fixture(autouse=True)
def _held_clock(hold_clock: Callable[[datetime], datetime]) -> None:
    """The program's clock held at T0, the claims' moment: rows are enqueued due at T0
    (on the real clock they were due "now", before T0 only until 2030-01-07 12:00 UTC)."""
    hold_clock(T0)


def fill(md: Matchdesk, n: int) -> list[int]:
    with md.transaction() as session:
        enqueue_many(
            session,
            [NewMessage("k", f"c{i}@x.org", "s", "t", idempotency_key=f"k{i}") for i in range(n)],
        )
        return list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def claim(md: Matchdesk, worker: str, limit: int = 10, at: timedelta = timedelta()) -> list[int]:
    with md.transaction() as session:
        batch = claims.claim_batch(session, worker_id=worker, limit=limit, lease=LEASE, now=T0 + at)
        return [m.id for m in batch]


def test_a_claim_is_taken_over_when_its_lease_runs_out(md: Matchdesk) -> None:
    ids = fill(md, 3)
    assert claim(md, "a") == ids
    assert claim(md, "b", at=timedelta(seconds=59)) == []
    assert claim(md, "b", at=timedelta(seconds=61)) == ids
    with md.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(r.status, r.claimed_by, r.attempts) for r in rows] == [("sending", "b", 2)] * 3


def test_claims_are_oldest_first_and_limited(md: Matchdesk) -> None:
    ids = fill(md, 5)
    assert claim(md, "a", limit=2) == ids[:2]
    assert claim(md, "b", limit=2) == ids[2:4]
    assert claim(md, "c", limit=2) == ids[4:]


def test_two_workers_claiming_at_once_never_get_the_same_row(
    md: Matchdesk, database_url: str
) -> None:
    ids = fill(md, 12)
    engines = [make_engine(database_url), make_engine(database_url)]
    first, second = (make_session_factory(e) for e in engines)
    got: dict[str, list[int]] = {}

    def claim_b() -> None:
        with second() as session, session.begin():
            batch = claims.claim_batch(session, worker_id="b", limit=5, lease=LEASE, now=T0)
            got["b"] = [m.id for m in batch]

    try:
        with first() as session, session.begin():
            batch = claims.claim_batch(session, worker_id="a", limit=5, lease=LEASE, now=T0)
            got["a"] = [m.id for m in batch]
            other = threading.Thread(target=claim_b)
            other.start()
            if database_url.startswith("postgresql"):
                # SKIP LOCKED: b takes other rows while a's claim is still uncommitted.
                other.join(timeout=60)
                assert not other.is_alive()
        # SQLite: b waited for a's write lock, then saw a's claim.
        other.join(timeout=20)
    finally:
        for engine in engines:
            engine.dispose()
    assert got["a"] == ids[:5]
    assert got["b"] == ids[5:10]


def test_many_workers_racing_share_the_rows_without_overlap(
    md: Matchdesk, database_url: str
) -> None:
    ids = fill(md, 200)
    claimed: dict[str, list[int]] = {}

    def work(worker: str) -> None:
        engine = make_engine(database_url)
        sessions = make_session_factory(engine)
        mine: list[int] = []
        try:
            while True:
                with sessions() as session, session.begin():
                    batch = claims.claim_batch(
                        session, worker_id=worker, limit=7, lease=LEASE, now=T0
                    )
                if not batch:
                    break
                mine.extend(m.id for m in batch)
        finally:
            engine.dispose()
        claimed[worker] = mine

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = [i for mine in claimed.values() for i in mine]
    assert len(claimed) == 4
    assert sorted(every) == ids  # each row claimed once, none left


def test_a_restarted_worker_takes_its_own_claims_back(md: Matchdesk) -> None:
    ids = fill(md, 2)
    assert claim(md, "host:1") == ids
    with md.engine.begin() as connection:
        assert claims.release_worker(connection, "host:1", now=T0) == 2
    assert claim(md, "host:1") == ids


def test_mark_sent_records_many_messages_in_one_statement_and_skips_settled_rows(
    md: Matchdesk,
) -> None:
    ids = fill(md, 3)
    assert claim(md, "a") == ids
    with md.engine.begin() as connection:
        claims.mark_failed(connection, ids[2], worker_id="a", error="550 gone")
        claims.mark_sent(
            connection,
            [
                claims.Accepted(ids[0], "<m0@x.org>", T0),
                claims.Accepted(ids[1], "<m1@x.org>", T0 + timedelta(seconds=1)),
                claims.Accepted(ids[2], "<m2@x.org>", T0),  # failed meanwhile: left alone
            ],
        )
    with md.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [
            (r.status, r.message_id, aware(r.sent_at), r.claimed_until, r.last_error) for r in rows
        ] == [
            ("sent", "<m0@x.org>", T0, None, None),
            ("sent", "<m1@x.org>", T0 + timedelta(seconds=1), None, None),
            ("failed", None, None, None, "550 gone"),
        ]


def test_a_claim_returns_each_row_as_plain_values_with_its_json_decoded(md: Matchdesk) -> None:
    with md.transaction() as session:
        enqueue_many(
            session,
            [
                NewMessage(
                    "newsletter",
                    "c@x.org",
                    "Subject",
                    "text",
                    "n:1",
                    html="<p>html</p>",
                    attachments=[Attachment("a.ics", "text/calendar", b"BEGIN")],
                    headers={"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
                ),
                NewMessage("k", "d@x.org", "Other", "plain", "k:1"),
            ],
        )
    with md.transaction() as session:
        batch = claims.claim_batch(session, worker_id="a", limit=5, lease=LEASE, now=T0)
    first, second = batch
    assert isinstance(first, claims.Claimed)
    assert (first.kind, first.recipient, first.subject, first.body_text, first.body_html) == (
        "newsletter",
        "c@x.org",
        "Subject",
        "text",
        "<p>html</p>",
    )
    assert first.attachments == [
        {"filename": "a.ics", "content_type": "text/calendar", "content": "QkVHSU4="}
    ]
    assert first.headers == {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert (first.idempotency_key, first.attempts) == ("n:1", 1)
    assert aware(first.claimed_until) == T0 + LEASE
    assert (second.idempotency_key, second.body_html, second.headers, second.attempts) == (
        "k:1",
        None,
        None,
        1,
    )
    assert second.attachments == []
