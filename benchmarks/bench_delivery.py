"""Outbox delivery speed: N messages into an SMTP sink on loopback by worker processes,
on SQLite and PostgreSQL, and a check that each arrived exactly once.

Target (issue 12): at least 1,500 messages a second with several workers into Postfix's
`smtp-sink` (a sink that is not itself the limit; `scripts/ensure-smtp-sink.sh` installs
it), exactly once: every message's Message-ID is read back from the sink's dump file
(`smtp-sink -D`) and must be there once. Beside it, in the same run, aiosmtpd (a Python
sink in this process, which offers no PIPELINING and costs about as much CPU per
message as a worker does) and listmonk's default rate, 100 a second. Each worker is a
fresh process running `run_worker(once=True)`, exactly as `matchdesk worker --once`
would, with the rate limit off; the rate is timed from "go" (the workers started and
ready) to the last one's end of delivery, and also from their launch to their exit.
The CPU a message costs: the workers' own (each measures its getrusage from "go" to the
end of its delivery, all threads: no start-up), the same with start-up, and on
PostgreSQL its backends' (psutil, the workers' backends found by application name while
they are still open).

    python benchmarks/bench_delivery.py [--messages 30000] [--workers 4]
        [--backends sqlite postgresql] [--sinks smtp-sink aiosmtpd]
        [--batch-size 400] [--commit-every 50] [--connections 8] [--reference SRC]
        [--kinds newsletter transactional]

Newsletter messages go out at most once (a commit marks each before its content: a
worker killed mid-send leaves at most one per connection uncertain, never sent twice);
transactional ones are recorded every `--commit-every`. Both are measured, side by side.

`--reference SRC` runs every case first with the workers on another checkout's code
(`git archive REV src | tar -x -C DIR`, then `--reference DIR/src`): before and after
in one run.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text

from databases import drop_schema, free_port, fresh_database
from matchdesk.db import make_engine, make_session_factory
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many, message_id_for

# A worker as `matchdesk worker --once` runs, that says when it is ready (imports done,
# settings read) and starts on a line from its standard input: the delivery is timed
# apart from the start-up, which takes seconds on a busy machine.
WORKER = (
    "import sys\n"
    "from matchdesk.context import Matchdesk\n"
    "from matchdesk.worker import run_worker\n"
    "md = Matchdesk.build()\n"
    # What the worker's first pass imports (the check-in reminders' module, which brings
    # the rounds' queries and with them the matching engine and numba: about 2 s): a
    # long-running worker pays it once at start, so it is start-up, not delivery.
    "import matchdesk.checkins.messages\n"
    "import resource\n"
    "print('ready', flush=True)\n"
    "sys.stdin.readline()\n"
    "before = resource.getrusage(resource.RUSAGE_SELF)\n"
    "run_worker(md, once=True, worker_id=sys.argv[1])\n"
    "after = resource.getrusage(resource.RUSAGE_SELF)\n"
    # The delivery's own CPU (every thread's), without the start-up; then the worker
    # waits, its database connections open, until the bench has read their backends'.
    "cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime\n"
    "print('cpu', cpu, flush=True)\n"
    "sys.stdin.readline()\n"
)
# The workers' PostgreSQL connections are named so their backends can be found.
APPLICATION = "matchdesk-bench-worker"
MESSAGE_ID = re.compile(rb"^Message-ID: (\S+)\r?$", re.MULTILINE | re.IGNORECASE)


class Sink:
    """aiosmtpd's handler: accepts every message and keeps its Message-ID."""

    def __init__(self) -> None:
        self.ids: list[bytes] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        found = MESSAGE_ID.search(envelope.content)
        with self.lock:
            self.ids.append(found.group(1) if found else b"")
        return "250 OK"


@contextmanager
def aiosmtpd_sink(workdir: Path) -> Iterator[tuple[int, Any]]:
    """aiosmtpd in this process; yields its port and what reads the IDs it received."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, lambda expected: list(sink.ids)
    finally:
        controller.stop()


def smtp_sink_program() -> str:
    found = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not os.path.exists(found):
        raise SystemExit("smtp-sink is missing: run bash scripts/ensure-smtp-sink.sh")
    return found


@contextmanager
def postfix_sink(workdir: Path) -> Iterator[tuple[int, Any]]:
    """Postfix's smtp-sink, appending every message it accepts to one dump file (-D);
    yields its port and what reads the Message-IDs from that file."""
    folder = Path(tempfile.mkdtemp(dir=workdir))
    dump = folder / "received"
    command = [smtp_sink_program(), "-D", str(dump)]
    if os.geteuid() == 0:
        # It must drop root; the dump folder is then written as that user.
        command += ["-u", "postfix"]
        shutil.chown(folder, "postfix")
    port = free_port()
    process = subprocess.Popen([*command, f"127.0.0.1:{port}", "1024"])
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)

        def read(expected: int) -> list[bytes]:
            # Its last writes may land after the workers' QUIT: wait for them (10 s at
            # most, then what is there counts).
            found: list[bytes] = []
            for _ in range(50):
                found = MESSAGE_ID.findall(dump.read_bytes()) if dump.exists() else []
                if len(found) >= expected:
                    break
                time.sleep(0.2)
            return found

        yield port, read
    finally:
        process.terminate()
        process.wait()


SINKS = {"smtp-sink": postfix_sink, "aiosmtpd": aiosmtpd_sink}
# The outbox kinds measured: newsletter messages, which a worker sends at most once (each
# marked handed-over, and that mark committed, before its content: a commit a message),
# and transactional ones (accepted messages recorded every `--commit-every`).
KINDS = {"newsletter": "newsletter", "transactional": "bench"}


def run(
    backend: str,
    sink_name: str,
    messages: int,
    workers: int,
    batch_size: int,
    commit_every: int,
    connections: int,
    workdir: Path,
    source: str | None = None,
    kind: str = "newsletter",
) -> float:
    url, schema = fresh_database(backend, workdir)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        enqueue_many(
            session,
            [
                NewMessage(
                    KINDS[kind],
                    f"creator{i}@example.com",
                    f"Your match #{i}",
                    "Hello " * 40,
                    idempotency_key=f"bench:{i}",
                    html="<p>" + "Hello " * 40 + "</p>",
                    headers={
                        "List-Unsubscribe": f"<https://desk.example.org/unsubscribe/{i}.1.x>",
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                    },
                )
                for i in range(messages)
            ],
        )
    with SINKS[sink_name](workdir) as (port, received):
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
            "MATCHDESK_MAIL_COMMIT_EVERY": str(commit_every),
            "MATCHDESK_MAIL_CONNECTIONS": str(connections),
        }
        if backend == "postgresql":
            env["PGAPPNAME"] = APPLICATION
        if source is not None:
            # The workers run another checkout's code (the reference, side by side).
            env["PYTHONPATH"] = source
        launched, cpu_before = time.perf_counter(), children_cpu()
        exited_before = postgres_exited_cpu()
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, f"bench-{i}"],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(workers)
        ]
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
        started = time.perf_counter()
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        # The delivery's CPU, as each worker measured it (getrusage from its start on
        # "go" to the end of `run_worker`, all its threads): what the messages cost the
        # workers whatever else the machine is doing.
        own_cpu = 0.0
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.startswith("cpu "):
                own_cpu += float(line.split()[1])
        ended = time.perf_counter()
        database_cpu = postgres_backends_cpu(url) if backend == "postgresql" else None
        exited = postgres_exited_cpu() - exited_before if backend == "postgresql" else None
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()
        codes = [process.wait() for process in processes]
        seconds, with_start = ended - started, time.perf_counter() - launched
        # The same, start-up and exit included.
        cpu = children_cpu() - cpu_before
        ids = received(messages)
    with sessions() as session:
        statuses = dict(
            session.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )
    engine.dispose()
    drop_schema(schema)

    expected = {message_id_for(f"bench:{i}", "example.org").encode() for i in range(messages)}
    arrivals = Counter(ids)
    exactly_once = set(arrivals) == expected and max(arrivals.values()) == 1
    rate = messages / seconds
    print(
        f"{'reference' if source else 'this tree':<9} "
        f"{kind:<13} {backend:<10} {sink_name:<9} {messages:>6} msgs  {workers} workers x "
        f"{connections} connections  "
        f"{seconds:6.2f} s  {rate:6.0f} msg/s  (with start-up {with_start:5.1f} s: "
        f"{messages / with_start:5.0f} msg/s)  CPU a message: workers "
        f"{own_cpu / messages * 1e6:4.0f} us ({cpu / messages * 1e6:4.0f} with start-up)"
        f"{postgres_figure(database_cpu, exited, messages)}  "
        f"received {len(ids)}, each once: {'yes' if exactly_once else 'NO'}  "
        f"rows: {statuses}  exit codes: {codes}  load: {load()}",
        flush=True,
    )
    if not exactly_once or statuses != {"sent": messages} or any(codes):
        twice = sum(1 for n in arrivals.values() if n > 1)
        raise SystemExit(
            f"{backend}/{sink_name}: delivery was not exactly once: "
            f"{len(expected - set(arrivals))} missing, {twice} received more than once"
        )
    return rate


def children_cpu() -> float:
    """The CPU seconds (user and system) of the child processes waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def postgres_backends_cpu(url: str) -> float:
    """The CPU seconds of the workers' PostgreSQL backends (found by their application
    name; read while the workers still hold their connections)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        pids = connection.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :name"),
            {"name": APPLICATION},
        ).all()
    engine.dispose()
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def postgres_exited_cpu() -> float:
    """The CPU seconds of every PostgreSQL backend that has exited since the server
    started (the postmaster's reaped children): anyone's, the workers' closed
    connections among them."""
    for process in psutil.process_iter(["name", "ppid"]):
        if process.info["name"] == "postgres" and process.info["ppid"] == 1:
            times = process.cpu_times()
            return float(times.children_user + times.children_system)
    return 0.0


def postgres_figure(backends: float | None, exited: float | None, messages: int) -> str:
    if backends is None or exited is None:
        return ""
    return (
        f", PostgreSQL {backends / messages * 1e6:4.0f} us (the workers' open backends;"
        f" backends that exited meanwhile, anyone's: {exited / messages * 1e6:.0f} us)"
    )


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 30,000 so the workers' start-up (1-2 s of imports each) does not dominate.
    parser.add_argument("--messages", type=int, default=30_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=400)
    parser.add_argument("--commit-every", type=int, default=50)
    parser.add_argument("--connections", type=int, default=8, help="per worker")
    parser.add_argument(
        "--backends", nargs="+", default=["postgresql", "sqlite"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--sinks", nargs="+", default=list(SINKS), choices=list(SINKS))
    parser.add_argument(
        "--kinds",
        nargs="+",
        default=list(KINDS),
        choices=list(KINDS),
        help="newsletter messages (never sent twice: a commit before each) and "
        "transactional ones (a commit every --commit-every), side by side",
    )
    parser.add_argument(
        "--reference",
        metavar="SRC",
        help="another checkout's src folder (e.g. from `git archive`): each case runs "
        "with its workers on that code first, then on this tree's, side by side",
    )
    args = parser.parse_args()
    print(
        f"listmonk's default: 100 msg/s; target: 1500 msg/s into smtp-sink. "
        f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as workdir:
        os.chmod(workdir, 0o755)
        for backend in args.backends:
            for sink in args.sinks:
                for kind in args.kinds:
                    for source in [args.reference, None] if args.reference else [None]:
                        run(
                            backend,
                            sink,
                            args.messages,
                            args.workers,
                            args.batch_size,
                            args.commit_every,
                            args.connections,
                            Path(workdir),
                            source,
                            kind,
                        )


if __name__ == "__main__":
    main()
