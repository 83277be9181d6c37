"""Outbox delivery speed: N messages to an SMTP sink on loopback (aiosmtpd) by worker
processes, on SQLite and PostgreSQL, and a check that each arrived exactly once.

Target (issue 5): at least 500 messages a second with two workers (listmonk's default
rate is 100/s). Each worker is a fresh process running `run_worker(once=True)`, exactly
as `matchdesk worker --once` would; the time runs from the workers' start to the last
one's exit (process start-up included), with the rate limit off. The sink runs in this
process and costs about as much CPU per message as a worker does.

    python benchmarks/bench_delivery.py [--messages 20000] [--workers 2]
        [--backends sqlite postgresql] [--batch-size 50] [--commit-every 10]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from databases import drop_schema, free_port, fresh_database
from matchdesk.db import make_engine, make_session_factory
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many, message_id_for

WORKER = (
    "import sys\n"
    "from matchdesk.context import Matchdesk\n"
    "from matchdesk.worker import run_worker\n"
    "run_worker(Matchdesk.build(), once=True, worker_id=sys.argv[1])\n"
)
MESSAGE_ID = re.compile(rb"^Message-ID: (\S+)\r?$", re.MULTILINE | re.IGNORECASE)


class Sink:
    """Accepts every message and keeps its Message-ID and arrival time."""

    def __init__(self) -> None:
        self.ids: list[bytes] = []
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids.append(found.group(1) if found else b"")
            self.times.append(time.perf_counter())
        return "250 OK"


def run(
    backend: str,
    messages: int,
    workers: int,
    batch_size: int,
    commit_every: int | None,
    workdir: Path,
) -> None:
    url, schema = fresh_database(backend, workdir)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        enqueue_many(
            session,
            [
                NewMessage(
                    "bench",
                    f"creator{i}@example.com",
                    f"Your match #{i}",
                    "Hello " * 40,
                    idempotency_key=f"bench:{i}",
                )
                for i in range(messages)
            ],
        )
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    env = {
        **os.environ,
        "MATCHDESK_DATABASE_URL": url,
        "MATCHDESK_PROGRAM": str(workdir / "none.toml"),
        "MATCHDESK_SMTP_HOST": "127.0.0.1",
        "MATCHDESK_SMTP_PORT": str(port),
        "MATCHDESK_SMTP_SECURITY": "none",
        "MATCHDESK_MAIL_FROM": "noreply@example.org",
        "MATCHDESK_MAIL_RATE": "0",
        "MATCHDESK_MAIL_BATCH_SIZE": str(batch_size),
    }
    if commit_every is not None:
        env["MATCHDESK_MAIL_COMMIT_EVERY"] = str(commit_every)
    try:
        started = time.perf_counter()
        processes = [
            subprocess.Popen([sys.executable, "-c", WORKER, f"bench-{i}"], env=env)
            for i in range(workers)
        ]
        codes = [process.wait() for process in processes]
        seconds = time.perf_counter() - started
    finally:
        controller.stop()
    with sessions() as session:
        statuses = dict(
            session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    engine.dispose()
    drop_schema(schema)

    expected = {message_id_for(f"bench:{i}", "example.org").encode() for i in range(messages)}
    arrivals = Counter(sink.ids)
    exactly_once = set(arrivals) == expected and max(arrivals.values()) == 1
    receiving = sink.times[-1] - sink.times[0] if len(sink.times) > 1 else 0.0
    print(
        f"{backend:<10} {messages:>6} msgs  {workers} workers  {seconds:6.2f} s  "
        f"{messages / seconds:7.0f} msg/s overall  "
        f"{len(sink.times) / receiving if receiving else 0:7.0f} msg/s first-to-last  "
        f"exactly once by Message-ID: {'yes' if exactly_once else 'NO'}  "
        f"rows: {statuses}  exit codes: {codes}"
    )
    if not exactly_once or statuses != {"sent": messages} or any(codes):
        raise SystemExit(f"{backend}: delivery was not exactly once")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 20,000 so the two workers' start-up (1-2 s of imports each) does not dominate.
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument(
        "--commit-every", type=int, default=None, help="default: the setting's default"
    )
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        for backend in args.backends:
            run(
                backend,
                args.messages,
                args.workers,
                args.batch_size,
                args.commit_every,
                Path(workdir),
            )


if __name__ == "__main__":
    main()
