"""Crash safety: a worker killed with SIGKILL mid-batch loses no message.

The worker runs in a subprocess delivering 300 messages to a real SMTP server on
loopback. The server holds back its reply to the 110th message (the 10th of the fifth
batch of 25), so the worker is known to be inside a batch, waiting, when it is killed;
then it is restarted. Every message must have
arrived, and every row be `sent`. A message can arrive twice only if the kill fell
between the server's acceptance and the commit recording it as sent: the worker commits
every `COMMIT_EVERY` accepted messages, so at most that many, and never one that was
recorded. The receiving side deduplicates by Message-ID, as real mail systems do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many, message_id_for
from tests.mail.conftest import SmtpServer

N = 300
COMMIT_EVERY = 10
HOLD_AT = 110  # not a multiple of the batch size: the kill falls inside a batch
WORKER = (
    "from matchdesk.context import Matchdesk\n"
    "from matchdesk.worker import run_worker\n"
    "import sys\n"
    "run_worker(Matchdesk.build(), worker_id=sys.argv[1], poll_seconds=0.1)\n"
)


def start_worker(env: dict[str, str], worker_id: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER, worker_id], env=env)


def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def statuses(md: Matchdesk) -> Counter[str]:
    with md.transaction() as session:
        return Counter(session.scalars(select(OutboxMessage.status)))


def sent_message_ids(md: Matchdesk) -> set[str]:
    with md.transaction() as session:
        return set(
            session.scalars(select(OutboxMessage.message_id).where(OutboxMessage.status == "sent"))
        )


@pytest.mark.slow
@pytest.mark.parametrize("restart_as", ["same-worker", "other-worker"])
def test_a_killed_worker_loses_nothing(
    md: Matchdesk, smtp_server: SmtpServer, tmp_path: Path, restart_as: str
) -> None:
    with md.transaction() as session:
        enqueue_many(
            session,
            [
                NewMessage("k", f"c{i}@x.org", "s", f"m{i}", idempotency_key=f"crash:{i}")
                for i in range(N)
            ],
        )
    env = {
        **os.environ,
        "MATCHDESK_DATABASE_URL": md.settings.database_url,
        "MATCHDESK_PROGRAM": str(tmp_path / "none.toml"),
        "MATCHDESK_SMTP_HOST": "127.0.0.1",
        "MATCHDESK_SMTP_PORT": str(smtp_server.port),
        "MATCHDESK_SMTP_SECURITY": "none",
        "MATCHDESK_MAIL_FROM": "noreply@example.org",
        "MATCHDESK_MAIL_RATE": "200",
        "MATCHDESK_MAIL_BATCH_SIZE": "25",
        "MATCHDESK_MAIL_COMMIT_EVERY": str(COMMIT_EVERY),
        # A short lease, so another worker takes the dead one's rows over quickly.
        "MATCHDESK_MAIL_CLAIM_SECONDS": "2",
        # Longer than any wait for the held reply: the worker must still be waiting
        # for it when it is killed.
        "MATCHDESK_SMTP_TIMEOUT": "120",
    }
    recorder = smtp_server.recorder
    recorder.hold_at = HOLD_AT

    first = start_worker(env, "crash-a")
    second: subprocess.Popen[bytes] | None = None
    try:
        # The worker waits for the reply to the held message, inside its fifth batch;
        # every commit it made before sending it has returned.
        assert recorder.held.wait(timeout=120), "the worker never reached the held message"
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=30) == -signal.SIGKILL
        recorder.release.set()
        at_kill = statuses(md)
        assert at_kill["sent"] < N  # killed mid-way
        assert at_kill["sending"] > 0  # with a batch in hand
        assert at_kill["sent"] + at_kill["sending"] + at_kill["queued"] == N
        recorded_at_kill = sent_message_ids(md)
        received_at_kill = set(recorder.message_ids())
        assert len(received_at_kill) == HOLD_AT

        second = start_worker(env, "crash-a" if restart_as == "same-worker" else "crash-b")
        wait_for(lambda: statuses(md)["sent"] == N, timeout=90)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0  # a graceful stop
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()

    expected = {message_id_for(f"crash:{i}", "example.org") for i in range(N)}
    arrivals = Counter(recorder.message_ids())
    assert set(arrivals) == expected  # every message arrived (deduplicated by Message-ID)
    twice = {header_id for header_id, count in arrivals.items() if count > 1}
    assert max(arrivals.values()) <= 2
    # Sent again: exactly the messages the server had accepted and the database not yet
    # recorded when the worker died (never a recorded one), at most one commit's worth.
    assert twice == received_at_kill - recorded_at_kill
    assert len(twice) <= COMMIT_EVERY
    with md.transaction() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert sorted(r.message_id or "" for r in rows) == sorted(expected)
