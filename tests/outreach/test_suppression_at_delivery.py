"""Suppression at delivery time, on both backends: a newsletter message queued before
its address was suppressed does not go out (the courier withholds it at the claim),
while transactional mail to that address still does."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update

from matchdesk.context import Matchdesk
from matchdesk.mail.delivery import BatchReport, Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many
from matchdesk.outreach import newsletters as nl
from matchdesk.outreach.consent import withhold_suppressed
from matchdesk.outreach.models import Delivery, Suppression
from matchdesk.roster.models import utcnow
from tests.mail.conftest import T0, Clock, SmtpServer
from tests.outreach.samples import TODAY, add_roster

BODY = "Hi {{ display_name }}."


def courier(md: Matchdesk, settings: DeliverySettings, clock: Clock) -> Courier:
    return Courier(md, settings, "w1", clock=clock, withhold=withhold_suppressed)


def outcomes(md: Matchdesk) -> dict[str, tuple[str, str | None]]:
    with md.transaction() as session:
        return {
            r.idempotency_key: (r.status, r.last_error)
            for r in session.scalars(select(OutboxMessage))
        }


def test_bulk_mail_to_a_suppressed_address_is_withheld_and_transactional_goes_out(
    omd: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    add_roster(omd)  # ben@x.org is suppressed (a hard bounce)
    with omd.transaction() as session:
        enqueue_many(
            session,
            [
                NewMessage("newsletter", "Ben@X.org", "News", "Hi", "bulk:ben"),
                NewMessage("match_published", "Ben@X.org", "Your match", "See you", "match:ben"),
                NewMessage("newsletter", "ana@x.org", "News", "Hi", "bulk:ana"),
                NewMessage("newsletter_test", "ben@x.org", "Test send", "Hi", "test:ben"),
            ],
        )
    report = courier(omd, smtp_settings, clock).deliver_due()
    assert report == BatchReport(claimed=4, sent=3, withheld=1)
    assert Counter(r.rcpt_tos[0] for r in smtp_server.recorder.received) == Counter(
        {"Ben@X.org": 1, "ana@x.org": 1, "ben@x.org": 1}
    )
    assert outcomes(omd) == {
        "bulk:ben": (
            "failed",
            "suppressed: ben@x.org is on the suppression list (hard_bounce)",
        ),
        "match:ben": ("sent", None),
        "bulk:ana": ("sent", None),
        "test:ben": ("sent", None),
    }


def test_a_newsletter_message_waiting_for_a_retry_is_withheld_once_suppressed(
    omd: Matchdesk, smtp_server: SmtpServer, smtp_settings: DeliverySettings, clock: Clock
) -> None:
    ids = add_roster(omd)
    with omd.transaction() as session:
        newsletter = nl.create_newsletter(
            session,
            name="News",
            segment={"match": "all", "rules": []},
            subject="News",
            body=BODY,
            schedule=nl.Schedule(),
            actor="op@x.org",
        )
        newsletter_id = newsletter.id
    with omd.transaction() as session:
        nl.start_send(session, newsletter_id, today=TODAY, now=T0, actor="op@x.org")
    assert nl.run_send(omd, newsletter_id, today=TODAY, now=lambda: T0) == 3  # ana, dee, eli
    # dee's message waits for a retry (as after a busy server's 451) ...
    dee_key = f"newsletter:{newsletter_id}:{ids['dee']}"
    with omd.transaction() as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.idempotency_key == dee_key)
            .values(next_attempt_at=T0 + timedelta(minutes=30))
        )
    first = courier(omd, smtp_settings, clock).deliver_due()
    assert first == BatchReport(claimed=2, sent=2)
    # ... and her address is suppressed meanwhile by a path that does not take it back.
    with omd.transaction() as session:
        session.add(Suppression(email="dee@x.org", reason="complaint", created_at=utcnow()))
    clock.advance(hours=1)
    second = courier(omd, smtp_settings, clock).deliver_due()
    assert second == BatchReport(claimed=1, withheld=1)
    assert [r.rcpt_tos[0] for r in smtp_server.recorder.received] == ["ana@x.org", "eli@x.org"]
    with omd.transaction() as session:
        dee = session.scalars(
            select(Delivery.status).where(
                Delivery.newsletter_id == newsletter_id, Delivery.creator_id == ids["dee"]
            )
        ).one()
        figures = nl.figures(session, newsletter_id).as_json()
    assert dee == "suppressed"
    assert (figures["status"], figures["sent"], figures["failed"], figures["suppressed"]) == (
        "sent",
        2,
        0,
        3,
    )
