"""With no SMTP host, messages become `.eml` files a new user can open."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import update

from matchdesk.context import Matchdesk
from matchdesk.mail.delivery import BatchReport, Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import enqueue, key_digest
from tests.mail.conftest import Clock


def test_messages_are_written_once_each_as_eml_files(
    md: Matchdesk, tmp_path: Path, clock: Clock
) -> None:
    folder = tmp_path / "outbox"
    settings = DeliverySettings(
        smtp_host="", outbox_dir=folder, mail_from="noreply@example.org", mail_rate=0
    )
    with md.transaction() as session:
        for i in range(3):
            enqueue(
                session,
                kind="k",
                recipient=f"c{i}@example.com",
                subject=f"Hello {i}",
                text="t",
                idempotency_key=f"key{i}",
            )
    courier = Courier(md, settings, "w1", clock=clock)
    assert courier.deliver_due() == BatchReport(claimed=3, sent=3)

    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(f"{key_digest(f'key{i}')}.eml" for i in range(3))
    email = message_from_bytes(
        (folder / f"{key_digest('key1')}.eml").read_bytes(), policy=policy.default
    )
    assert (email["To"], email["Subject"]) == ("c1@example.com", "Hello 1")
    assert email["Message-ID"] == f"<{key_digest('key1')}@example.org>"

    # A re-delivery (as after a crash before the row was marked sent) replaces the files.
    with md.transaction() as session:
        session.execute(update(OutboxMessage).values(status="queued"))
    assert courier.deliver_due() == BatchReport(claimed=3, sent=3)
    assert sorted(p.name for p in folder.iterdir()) == names
