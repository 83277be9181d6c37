"""Exactly once under a crash: a worker sending a newsletter is killed with SIGKILL at a
known point (the SMTP server holds its reply to the 40th message, so the worker is
inside a batch, waiting), then another worker takes over. Everyone gets the newsletter,
under one Message-ID each; the outbox holds one message per recipient; the newsletter
is `sent` only once everyone has been tried. A message can reach the server twice only
if the kill fell between the server's acceptance and the commit recording it (at most
`COMMIT_EVERY`, never a recorded one), with the same Message-ID, by which receiving
systems drop the copy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from matchdesk.context import Matchdesk
from matchdesk.jobs import service as jobs
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import message_id_for
from matchdesk.outreach import newsletters as nl
from matchdesk.outreach.consent import delivery_key
from matchdesk.outreach.jobs import SEND
from matchdesk.outreach.models import Delivery
from matchdesk.roster.models import Creator, CreatorLanguage
from tests.mail.conftest import SmtpServer
from tests.mail.test_crash import statuses, wait_for
from tests.outreach.conftest import BASE_URL, SECRET
from tests.outreach.samples import TODAY

N = 120
COMMIT_EVERY = 5
HOLD_AT = 40
WORKER = (
    "from matchdesk.context import Matchdesk\n"
    "from matchdesk.jobs.catalog import default_registry\n"
    "from matchdesk.worker import run_worker\n"
    "import sys\n"
    "run_worker(Matchdesk.build(), worker_id=sys.argv[1], registry=default_registry(),\n"
    "           poll_seconds=0.1)\n"
)


def start_worker(env: dict[str, str], worker_id: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER, worker_id], env=env)


@pytest.mark.slow
def test_sigkill_mid_send_then_resume_everyone_once(
    omd: Matchdesk, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    md = omd
    with md.transaction() as session:
        for i in range(N):
            session.add(
                Creator(
                    handle=f"c{i:03}",
                    email=f"c{i:03}@x.org",
                    timezone="UTC",
                    languages="en",
                    followers=10,
                    revenue_30d=10,
                    tier="A",
                )
            )
        session.flush()
        for cid in session.scalars(select(Creator.id)):
            session.add(CreatorLanguage(creator_id=cid, language="en"))
        newsletter = nl.create_newsletter(
            session, name="Crash", segment={"match": "all", "rules": []},
            subject="Hi {{ handle }}", body="Hello {{ display_name }}", schedule=nl.Schedule(),
            actor="test",
        )  # fmt: skip
        newsletter_id = newsletter.id
        assert nl.start_send(session, newsletter_id, today=TODAY, now=nl.utcnow(), actor="t") == N
        jobs.submit(session, SEND, {"newsletter_id": newsletter_id})
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
    env = {
        **os.environ,
        "MATCHDESK_DATABASE_URL": md.settings.database_url,
        "MATCHDESK_PROGRAM": str(tmp_path / "none.toml"),
        "MATCHDESK_SECRET_KEY": SECRET,
        "MATCHDESK_BASE_URL": BASE_URL,
        "MATCHDESK_SMTP_HOST": "127.0.0.1",
        "MATCHDESK_SMTP_PORT": str(smtp_server.port),
        "MATCHDESK_SMTP_SECURITY": "none",
        "MATCHDESK_MAIL_FROM": "noreply@example.org",
        "MATCHDESK_MAIL_RATE": "0",
        "MATCHDESK_MAIL_BATCH_SIZE": "25",
        "MATCHDESK_MAIL_COMMIT_EVERY": str(COMMIT_EVERY),
        "MATCHDESK_MAIL_CLAIM_SECONDS": "2",
        "MATCHDESK_SMTP_TIMEOUT": "120",
    }
    recorder = smtp_server.recorder
    recorder.hold_at = HOLD_AT
    first = start_worker(env, "news-a")
    second: subprocess.Popen[bytes] | None = None
    try:
        assert recorder.held.wait(timeout=120), "the worker never reached the held message"
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
        recorder.release.set()
        at_kill = statuses(md)
        assert at_kill["sent"] < N
        assert at_kill["sent"] + at_kill["sending"] + at_kill["queued"] == N
        with md.transaction() as session:
            assert nl.figures(session, newsletter_id).status == "sending"  # not finished early
            recorded = set(
                session.scalars(
                    select(OutboxMessage.message_id).where(OutboxMessage.status == "sent")
                )
            )
        received_at_kill = set(recorder.message_ids())

        second = start_worker(env, "news-b")
        wait_for(lambda: statuses(md)["sent"] == N, timeout=90)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    expected = {
        message_id_for(delivery_key(newsletter_id, ids[f"c{i:03}"]), "example.org")
        for i in range(N)
    }
    arrivals = Counter(recorder.message_ids())
    assert set(arrivals) == expected  # everyone, each under one Message-ID
    twice = {m for m, count in arrivals.items() if count > 1}
    assert twice <= received_at_kill - recorded  # only what the dead worker had not recorded
    assert len(twice) <= COMMIT_EVERY
    recipients = Counter(r.rcpt_tos[0] for r in recorder.received)
    assert set(recipients) == {f"c{i:03}@x.org" for i in range(N)}
    with md.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == N
        assert session.scalar(select(func.count()).select_from(Delivery)) == N
        assert nl.figures(session, newsletter_id).as_json() == {
            "id": newsletter_id, "status": "sent", "recipients": N, "sent": N, "failed": 0,
            "suppressed": 0, "unsubscribed": 0,
        }  # fmt: skip
