"""What every benchmark needs from its databases: an empty, migrated one on each backend
(a SQLite file, or a PostgreSQL schema of its own), dropped afterwards, and a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text

from matchdesk.db import make_engine
from matchdesk.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "MATCHDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def fresh_database(backend: str, workdir: Path) -> tuple[str, str | None]:
    """The URL of an empty, migrated database, and the PostgreSQL schema to drop (or None)."""
    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        schema = None
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        admin.dispose()
        separator = "&" if "?" in POSTGRES_URL else "?"
        url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url, schema


def drop_schema(schema: str | None) -> None:
    if schema is None:
        return
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(url: str, workdir: Path, *args: str) -> Iterator[str]:
    """`matchdesk serve` on a free port against `url` (extra `args` passed on), once it
    answers: yields its base address, stops it on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "MATCHDESK_DATABASE_URL": url,
        "MATCHDESK_SECRET_KEY_FILE": str(workdir / "secret"),
    }
    command = [str(Path(sys.executable).parent / "matchdesk"), "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            httpx.get(base + "/login", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
