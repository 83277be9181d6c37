"""Newsletters end to end on both backends: a real SMTP server on loopback receives them
with the exact headers; suppression, one-click unsubscribe, pause and resume, local
times, a crash mid-queue, two queuers at once."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, InvalidInput
from matchdesk.mail import claims
from matchdesk.mail.delivery import Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from matchdesk.outreach import newsletters as nl
from matchdesk.outreach import personal
from matchdesk.outreach.consent import BULK_KINDS, read_unsubscribe_token, unsubscribe
from matchdesk.outreach.models import Delivery
from matchdesk.roster.models import Creator
from tests.mail.conftest import T0, Clock, SmtpServer
from tests.outreach.conftest import BASE_URL, SECRET
from tests.outreach.samples import TODAY, add_roster

EVERYONE = {"match": "all", "rules": []}
BODY = "Hi {{ display_name }}, tier {{ tier }}: {{ diamonds_30d | thousands }} diamonds."


def create(md: Matchdesk, segment: Any = EVERYONE, schedule: nl.Schedule | None = None) -> int:
    with md.transaction() as session:
        newsletter = nl.create_newsletter(
            session,
            name="March news",
            segment=segment,
            subject="News for {{ display_name }}",
            body=BODY,
            schedule=schedule or nl.Schedule(),
            actor="op@x.org",
        )
        return newsletter.id


def start(md: Matchdesk, newsletter_id: int, now: datetime = T0) -> int:
    with md.transaction() as session:
        return nl.start_send(session, newsletter_id, today=TODAY, now=now, actor="op@x.org")


def queue_all(md: Matchdesk, newsletter_id: int, now: datetime = T0, chunk: int = 2) -> int:
    return nl.run_send(md, newsletter_id, today=TODAY, now=lambda: now, chunk=chunk)


def courier(md: Matchdesk, settings: DeliverySettings, clock: Clock, worker: str = "w1") -> Courier:
    # As the worker makes it: newsletter messages at most once.
    return Courier(md, settings, worker, clock=clock, at_most_once=BULK_KINDS)


def show(md: Matchdesk, newsletter_id: int) -> dict[str, Any]:
    with md.transaction() as session:
        return nl.figures(session, newsletter_id).as_json()


def arrivals(server: SmtpServer) -> Counter[str]:
    return Counter(r.rcpt_tos[0] for r in server.recorder.received)


def test_a_newsletter_reaches_its_segment_once_with_the_headers(
    omd: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    ids = add_roster(omd)
    newsletter_id = create(omd)
    assert start(omd, newsletter_id) == 5
    with pytest.raises(Conflict, match="started already"):
        start(omd, newsletter_id)
    assert queue_all(omd, newsletter_id) == 3  # ben suppressed, cai opted out
    assert queue_all(omd, newsletter_id) == 0
    assert show(omd, newsletter_id)["status"] == "sending"
    report = courier(omd, smtp_settings, clock).deliver_due()
    assert report.sent == 3
    assert arrivals(smtp_server) == Counter({"ana@x.org": 1, "dee@x.org": 1, "eli@x.org": 1})
    assert show(omd, newsletter_id) == {
        "id": newsletter_id,
        "status": "sent",
        "recipients": 5,
        "sent": 3,
        "failed": 0,
        "suppressed": 2,
        "unsubscribed": 0,
    }
    ana = next(r.email for r in smtp_server.recorder.received if r.rcpt_tos == ["ana@x.org"])
    assert str(ana["Subject"]) == "News for Ana"
    assert str(ana["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    header = str(ana["List-Unsubscribe"]).strip()  # folded onto its own line when long
    assert header.startswith(f"<{BASE_URL}/unsubscribe/")
    assert header.endswith(">")
    token = header[len(f"<{BASE_URL}/unsubscribe/") : -1]
    assert read_unsubscribe_token(SECRET, token) == (ids["ana"], newsletter_id)
    text = ana.get_body(("plain",))
    html = ana.get_body(("html",))
    assert text is not None
    assert html is not None
    assert text.get_content().replace("\r\n", "\n") == (
        f"Hi Ana, tier A: 16,000 diamonds.\n\n-- \nUnsubscribe: {header[1:-1]}\n"
    )
    assert (
        html.get_content()
        .replace("\r\n", "\n")
        .startswith("<p>Hi Ana, tier A: 16,000 diamonds.</p>\n<hr>")
    )

    # The one-click unsubscribe: the next newsletter skips ana; the first counts her.
    with omd.transaction() as session:
        unsubscribe(session, SECRET, token)
    second = create(omd)
    assert start(omd, second) == 5
    assert queue_all(omd, second) == 2
    courier(omd, smtp_settings, clock).deliver_due()
    assert arrivals(smtp_server) == Counter({"ana@x.org": 1, "dee@x.org": 2, "eli@x.org": 2})
    assert show(omd, newsletter_id)["unsubscribed"] == 1
    assert show(omd, second)["suppressed"] == 3


def test_transactional_mail_still_reaches_a_suppressed_address(
    omd: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    from matchdesk.mail.outbox import enqueue

    add_roster(omd)  # ben@x.org is suppressed (a hard bounce)
    with omd.transaction() as session:
        enqueue(
            session,
            kind="match_published",
            recipient="Ben@X.org",
            subject="Your match",
            text="See you",
            idempotency_key="match:1:published:ben",
        )
    courier(omd, smtp_settings, clock).deliver_due()
    assert arrivals(smtp_server) == Counter({"Ben@X.org": 1})


def test_pause_takes_back_what_is_not_sent_and_resume_sends_it_once(
    omd: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    add_roster(omd)
    newsletter_id = create(omd)
    start(omd, newsletter_id)
    queue_all(omd, newsletter_id)
    one = smtp_settings.model_copy(update={"mail_batch_size": 1})
    assert courier(omd, one, clock).deliver_batch().sent == 1  # ana, the first
    with omd.transaction() as session:
        assert nl.pause(session, newsletter_id, actor="op") == 2
    assert courier(omd, smtp_settings, clock).deliver_due().sent == 0
    assert queue_all(omd, newsletter_id) == 0  # paused: nothing is queued
    figures = show(omd, newsletter_id)
    assert (figures["status"], figures["sent"]) == ("paused", 1)
    with omd.transaction() as session, pytest.raises(Conflict, match="only a sending one"):
        nl.pause(session, newsletter_id, actor="op")
    with omd.transaction() as session:
        nl.resume(session, newsletter_id, actor="op")
    assert queue_all(omd, newsletter_id) == 2
    # Resume twice over (a second worker): nothing more is queued.
    assert queue_all(omd, newsletter_id) == 0
    courier(omd, smtp_settings, clock).deliver_due()
    assert arrivals(smtp_server) == Counter({"ana@x.org": 1, "dee@x.org": 1, "eli@x.org": 1})
    assert show(omd, newsletter_id)["status"] == "sent"
    with omd.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


def test_local_time_in_each_recipients_zone(
    omd: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    add_roster(omd)
    schedule = nl.parse_schedule(None, "09:00", "2030-01-08")
    newsletter_id = create(omd, schedule=schedule)
    start(omd, newsletter_id)
    with omd.transaction() as session:
        due = dict(
            session.execute(
                select(Creator.handle, Delivery.due_at).join(
                    Creator, Creator.id == Delivery.creator_id
                )
            ).all()
        )
    utc = {h: (d if d.tzinfo else d.replace(tzinfo=UTC)) for h, d in due.items()}
    assert utc == {
        "ana": datetime(2030, 1, 8, 12, 0, tzinfo=UTC),  # São Paulo, UTC-3
        "ben": datetime(2030, 1, 8, 14, 0, tzinfo=UTC),  # New York, UTC-5
        "cai": datetime(2030, 1, 8, 2, 0, tzinfo=UTC),  # Jakarta, UTC+7
        "dee": datetime(2030, 1, 8, 8, 0, tzinfo=UTC),  # Madrid, UTC+1
        "eli": datetime(2030, 1, 8, 9, 0, tzinfo=UTC),
    }
    queue_all(omd, newsletter_id)
    clock.now = datetime(2030, 1, 8, 8, 30, tzinfo=UTC)
    courier(omd, smtp_settings, clock).deliver_due()
    assert arrivals(smtp_server) == Counter({"dee@x.org": 1})
    clock.now = datetime(2030, 1, 8, 12, 0, tzinfo=UTC)
    courier(omd, smtp_settings, clock).deliver_due()
    assert arrivals(smtp_server) == Counter({"dee@x.org": 1, "ana@x.org": 1, "eli@x.org": 1})


def test_a_crash_mid_queue_loses_and_repeats_nothing(
    omd: Matchdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_roster(omd)
    newsletter_id = create(omd)
    start(omd, newsletter_id)
    real = personal.personal_values
    calls = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:  # the second chunk's transaction dies after rendering began
            raise RuntimeError("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(nl, "personal_values", failing)
    with pytest.raises(RuntimeError, match="killed"):
        nl.run_send(omd, newsletter_id, today=TODAY, now=lambda: T0, chunk=2)
    with omd.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    assert nl.run_send(omd, newsletter_id, today=TODAY, now=lambda: T0, chunk=2) == 1
    with omd.transaction() as session:
        keys = sorted(session.scalars(select(OutboxMessage.idempotency_key)))
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
    assert keys == sorted(f"newsletter:{newsletter_id}:{ids[h]}" for h in ("ana", "dee", "eli"))


def test_two_queuers_at_once_write_each_message_once(omd: Matchdesk) -> None:
    add_roster(omd)
    newsletter_id = create(omd)
    start(omd, newsletter_id)
    # Both read the same pending deliveries; the second commits after the first.
    with omd.transaction() as first:
        assert nl.queue_chunk(first, omd.settings, newsletter_id, today=TODAY, now=T0) == 3
    with omd.transaction() as session:
        session.execute(
            Delivery.__table__.update()
            .values(status="pending")
            .where(  # type: ignore[attr-defined]
                Delivery.status == "queued"
            )
        )
    with omd.transaction() as second:
        assert nl.queue_chunk(second, omd.settings, newsletter_id, today=TODAY, now=T0) == 3
    with omd.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


def test_bad_drafts_are_refused(omd: Matchdesk) -> None:
    with omd.transaction() as session, pytest.raises(InvalidInput) as refused:
        nl.create_newsletter(
            session,
            name="x",
            segment={"match": "all", "rules": [{"field": "tier", "op": "=", "value": 1}]},
            subject="Hi",
            body="Hi",
            schedule=nl.Schedule(),
            actor="op",
        )
    assert "value 1 is not text" in refused.value.details[0]
    with omd.transaction() as session, pytest.raises(InvalidInput) as refused:
        nl.create_newsletter(
            session,
            name="x",
            segment=EVERYONE,
            subject="Hi",
            body="{{ partner }}",
            schedule=nl.Schedule(),
            actor="op",
        )
    assert refused.value.details[0].startswith("body: unknown field 'partner'")
    with pytest.raises(InvalidInput, match="needs an offset"):
        nl.parse_schedule("2030-01-08T09:00", None, None)
    assert nl.parse_schedule("2030-01-08T09:00+02:00", None, None) == nl.Schedule(
        send_at=datetime(2030, 1, 8, 7, tzinfo=UTC)
    )
    assert nl.Schedule(local_date=date(2030, 3, 31), local_time="02:30").due(
        T0, "Europe/Madrid"
    ) == datetime(2030, 3, 31, 1, 30, tzinfo=UTC)  # 02:30 does not exist: 03:30 CEST


def test_an_uncertain_message_is_counted_apart_on_the_page_and_in_show(
    md: Matchdesk, client_as: Callable[[str | None], TestClient], run: Any
) -> None:
    add_roster(md)
    newsletter_id = create(md)
    start(md, newsletter_id)
    assert queue_all(md, newsletter_id) == 3
    with md.transaction() as session:
        first, second, third = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        first.status, first.message_id = "failed", "<x@example.org>"
        first.last_error = claims.UNCERTAIN + "handed to the server, but the worker stopped"
        second.status, second.last_error = "failed", "refused: 554 5.7.1 Rejected"
        third.status = "sent"
    figures = client_as("viewer").get(f"/outreach/newsletters/{newsletter_id}/figures").text
    shown = dict(re.findall(r'data-figure="(\w+)">([^<]*)<', figures))
    assert shown == {
        "recipients": "5", "sent": "1", "failed": "1", "uncertain": "1", "suppressed": "2",
        "unsubscribed": "0", "bounces": "0",
    }  # fmt: skip
    assert "Outcome unknown" in figures
    assert show(md, newsletter_id)["status"] == "sent"  # everyone tried
    outcome = run("newsletters", "show", str(newsletter_id))
    assert outcome.code == 0, outcome.stderr
    assert "outcome unknown (never sent again): 1" in outcome.stdout.splitlines()
    assert "failed: 1" in outcome.stdout.splitlines()
