"""Never twice, even under SIGKILL: a worker sending a newsletter is killed at a known
point, then two workers take over at once. Two points: while the SMTP server holds its
reply to the 40th message (its content sent, the outcome unknown to the worker), with
and without PIPELINING; and right after the worker committed the 40th message's "being
handed over" mark, before its content (the worker kills itself there, through the
courier's fault-injection hook). Either way nobody gets the newsletter twice: the one
message whose outcome the kill left unknown is failed as uncertain, never sent again
(received once when the server had it, not at all when the kill came before its
content), everyone else gets it exactly once, under one Message-ID each; the outbox holds
one message per recipient; the newsletter is `sent` only once every recipient has been
tried, with its figures: N - 1 sent, 1 uncertain."""

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
from matchdesk.mail import claims
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import message_id_for
from matchdesk.outreach import newsletters as nl
from matchdesk.outreach.consent import delivery_key
from matchdesk.outreach.jobs import SEND
from matchdesk.outreach.models import Delivery
from matchdesk.roster.models import Creator, CreatorLanguage, utcnow
from tests.mail.conftest import SmtpServer
from tests.mail.test_crash import statuses, wait_for
from tests.outreach.conftest import BASE_URL, SECRET
from tests.outreach.samples import TODAY

N = 120
COMMIT_EVERY = 5
HOLD_AT = 40
WORKER = (
    "import os, signal, sys\n"
    "from matchdesk.context import Matchdesk\n"
    "from matchdesk.jobs.catalog import default_registry\n"
    "from matchdesk.mail import delivery\n"
    "from matchdesk import worker\n"
    # "ready" once the worker's signal handlers are in place (a SIGTERM before would
    # kill it instead of stopping it).
    "take_back = worker._take_back_claims\n"
    "def ready(md, worker_id):\n"
    "    take_back(md, worker_id)\n"
    "    print('ready', flush=True)\n"
    "worker._take_back_claims = ready\n"
    # The fault: with a number as second argument, the worker kills itself with SIGKILL
    # right after committing that message's mark, before writing its content.
    "if len(sys.argv) > 2:\n"
    "    kill_at, seen = int(sys.argv[2]), []\n"
    "    def hook(row_id):\n"
    "        seen.append(row_id)\n"
    "        if len(seen) == kill_at:\n"
    "            print(row_id, flush=True)\n"
    "            os.kill(os.getpid(), signal.SIGKILL)\n"
    "    setup = delivery.Courier.__post_init__\n"
    "    def post_init(self):\n"
    "        setup(self)\n"
    "        self.before_content = hook\n"
    "    delivery.Courier.__post_init__ = post_init\n"
    "worker.run_worker(Matchdesk.build(), worker_id=sys.argv[1],\n"
    "                  registry=default_registry(), poll_seconds=0.1)\n"
)


def start_worker(
    env: dict[str, str], worker_id: str, kill_at: int | None = None
) -> subprocess.Popen[bytes]:
    extra = [] if kill_at is None else [str(kill_at)]
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, worker_id, *extra], env=env, stdout=subprocess.PIPE
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kill_point", "pipelining"),
    [("reply-held", True), ("reply-held", False), ("before-content", True)],
)
def test_sigkill_mid_send_then_two_workers_nobody_twice(
    omd: Matchdesk, smtp_server: SmtpServer, tmp_path: Path, kill_point: str, pipelining: bool
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
        assert nl.start_send(session, newsletter_id, today=TODAY, now=utcnow(), actor="t") == N
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
    recorder.pipelining = pipelining
    successors: list[subprocess.Popen[bytes]] = []
    if kill_point == "reply-held":
        recorder.hold_at = HOLD_AT
        first = start_worker(env, "news-a")
    else:
        first = start_worker(env, "news-a", kill_at=HOLD_AT)
    try:
        if kill_point == "reply-held":
            assert recorder.held.wait(timeout=120), "the worker never reached the held message"
            first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=120) == -signal.SIGKILL
        recorder.release.set()
        at_kill = statuses(md)
        # Every message the server took before the 40th was recorded with its mark.
        assert at_kill["sent"] == HOLD_AT - 1
        assert at_kill["sent"] + at_kill["sending"] + at_kill["queued"] == N
        with md.transaction() as session:
            assert nl.figures(session, newsletter_id).status == "sending"  # not finished early
            (handed_over,) = session.scalars(
                select(OutboxMessage.message_id).where(
                    OutboxMessage.status == "sending", OutboxMessage.message_id.is_not(None)
                )
            )
        received_at_kill = Counter(recorder.message_ids())
        assert sum(received_at_kill.values()) == (
            HOLD_AT if kill_point == "reply-held" else HOLD_AT - 1
        )
        assert (handed_over in received_at_kill) == (kill_point == "reply-held")

        # Two workers at once take over once the dead one's leases run out.
        successors = [start_worker(env, "news-b"), start_worker(env, "news-c")]
        wait_for(lambda: statuses(md)["sent"] == N - 1 and statuses(md)["failed"] == 1, 90)
        wait_for(lambda: _finished(md, newsletter_id), 90)
        for process in successors:
            assert process.stdout is not None
            assert process.stdout.readline() == b"ready\n"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0
    finally:
        for process in (first, *successors):
            if process.poll() is None:
                process.kill()
                process.wait()

    expected = {
        message_id_for(delivery_key(newsletter_id, ids[f"c{i:03}"]), "example.org")
        for i in range(N)
    }
    arrivals = Counter(recorder.message_ids())
    assert max(arrivals.values()) == 1  # nobody twice
    if kill_point == "reply-held":
        assert set(arrivals) == expected  # the server had the uncertain one: everyone once
    else:
        assert set(arrivals) == expected - {handed_over}  # it never left the worker
    recipients = Counter(r.rcpt_tos[0] for r in recorder.received)
    assert max(recipients.values()) == 1
    with md.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == N
        assert session.scalar(select(func.count()).select_from(Delivery)) == N
        uncertain = session.execute(
            select(OutboxMessage.message_id, OutboxMessage.status, OutboxMessage.last_error).where(
                OutboxMessage.status != "sent"
            )
        ).all()
        assert [(m, s) for m, s, _ in uncertain] == [(handed_over, "failed")]
        assert str(uncertain[0][2]).startswith(claims.UNCERTAIN)
        found = nl.figures(session, newsletter_id)
        assert found.as_json() == {
            "id": newsletter_id, "status": "sent", "recipients": N, "sent": N - 1, "failed": 0,
            "suppressed": 0, "unsubscribed": 0,
        }  # fmt: skip
        assert (found.uncertain, found.pending, found.queued) == (1, 0, 0)


def _finished(md: Matchdesk, newsletter_id: int) -> bool:
    with md.transaction() as session:
        return nl.figures(session, newsletter_id).status == "sent"
