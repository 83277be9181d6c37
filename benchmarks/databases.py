"""What every benchmark needs from its databases: an empty, migrated one on each backend
(a SQLite file, or a PostgreSQL schema of its own), dropped afterwards, and a free port."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

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
