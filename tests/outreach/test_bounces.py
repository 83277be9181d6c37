"""Bounces from a Maildir: Postfix-format DSNs (a hard bounce, a delay) parsed with
flufl.bounce and an ARF complaint; hard bounces and complaints suppressed, soft ones
counted, each tied to its newsletter; reading twice records once."""

from __future__ import annotations

import mailbox
from pathlib import Path

from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail.delivery import Courier, DeliverySettings
from matchdesk.mail.models import OutboxMessage
from matchdesk.outreach import newsletters as nl
from matchdesk.outreach.bounces import classify, mark_read, read_maildir
from matchdesk.outreach.models import Bounce, Suppression
from tests.mail.conftest import T0, Clock, SmtpServer
from tests.outreach.samples import TODAY, add_roster

SAMPLES = Path(__file__).parent / "bounces"


def sent_newsletter(md: Matchdesk, settings: DeliverySettings, clock: Clock) -> int:
    with md.transaction() as session:
        newsletter = nl.create_newsletter(
            session, name="N", segment={"match": "all", "rules": []}, subject="News",
            body="Hello", schedule=nl.Schedule(), actor="t",
        )  # fmt: skip
        nl.start_send(session, newsletter.id, today=TODAY, now=T0, actor="t")
        newsletter_id = newsletter.id
    nl.run_send(md, newsletter_id, today=TODAY, now=lambda: T0)
    Courier(md, settings, "w1", clock=clock).deliver_due()
    return newsletter_id


def maildir_with_samples(md: Matchdesk, folder: Path) -> mailbox.Maildir:
    with md.transaction() as session:
        ids = dict(session.execute(select(OutboxMessage.recipient, OutboxMessage.message_id)).all())
    box = mailbox.Maildir(str(folder), create=True)
    for name in ("postfix_hard", "postfix_soft", "arf_complaint", "auto_reply"):
        text = (SAMPLES / f"{name}.eml").read_text()
        for handle in ("ana", "dee", "eli"):
            text = text.replace(f"MESSAGE_ID_OF_{handle.upper()}", ids[f"{handle}@x.org"] or "")
        box.add(mailbox.MaildirMessage(text.encode()))
    return box


def test_classify_the_samples() -> None:
    found = {
        name: [(f.email, f.kind) for f in classify((SAMPLES / f"{name}.eml").read_bytes())]
        for name in ("postfix_hard", "postfix_soft", "arf_complaint", "auto_reply")
    }
    assert found == {
        "postfix_hard": [("dee@x.org", "hard")],
        "postfix_soft": [("eli@x.org", "soft")],
        "arf_complaint": [("ana@x.org", "complaint")],
        "auto_reply": [],
    }


def test_a_maildir_fills_the_suppression_list(
    omd: Matchdesk,
    smtp_server: SmtpServer,
    smtp_settings: DeliverySettings,
    clock: Clock,
    tmp_path: Path,
) -> None:
    add_roster(omd)
    newsletter_id = sent_newsletter(omd, smtp_settings, clock)
    folder = tmp_path / "bounces"
    box = maildir_with_samples(omd, folder)
    with omd.transaction() as session:
        report, keys = read_maildir(session, folder)
    mark_read(folder, keys)
    assert (report.messages, report.hard, report.soft, report.complaints) == (4, 1, 1, 1)
    assert (report.not_reports, report.suppressed) == (1, 2)
    with omd.transaction() as session:
        suppressed = dict(session.execute(select(Suppression.email, Suppression.reason)).all())
        bounces = sorted(session.execute(select(Bounce.email, Bounce.kind, Bounce.newsletter_id)))
        figures = nl.figures(session, newsletter_id)
    assert suppressed == {"ben@x.org": "hard_bounce", "dee@x.org": "hard_bounce",
                          "ana@x.org": "complaint"}  # fmt: skip
    assert bounces == [
        ("ana@x.org", "complaint", newsletter_id),
        ("dee@x.org", "hard", newsletter_id),
        ("eli@x.org", "soft", newsletter_id),
    ]
    assert figures.bounces == 3
    assert {m.get_subdir() for m in box} == {"cur"}
    assert all("S" in m.get_flags() for m in box)

    # Read again (as after a crash before the move): nothing is recorded twice.
    for key in box.iterkeys():
        message = box.get_message(key)
        message.set_subdir("new")
        box[key] = message
    with omd.transaction() as session:
        again, _ = read_maildir(session, folder)
        assert (again.hard, again.soft, again.complaints, again.suppressed) == (0, 0, 0, 0)
        assert len(session.scalars(select(Bounce)).all()) == 3

    # The next newsletter reaches only eli (soft bounce) among those who got the first.
    second = sent_newsletter(omd, smtp_settings, clock)
    with omd.transaction() as session:
        assert nl.figures(session, second).sent == 1
    assert [r.rcpt_tos for r in smtp_server.recorder.received][-1] == ["eli@x.org"]
