"""Fixtures shared by the whole suite.

Every test that asks for `md` runs twice: on a SQLite file and on PostgreSQL (the server
`make test` makes sure of; `MATCHDESK_TEST_POSTGRES_URL` points elsewhere). Each test gets
an empty, fully migrated database: a copy of a migrated SQLite template, or a PostgreSQL
schema of its own run truncated between tests.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import matchdesk.clock
from matchdesk import cli
from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.db import make_engine
from matchdesk.migrate import upgrade
from matchdesk.models import Base

# Property tests must not fail on a slow or busy machine (no deadline), and in CI they run
# the same examples every time (derandomize), so a red run is always reproducible.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

POSTGRES_URL = os.environ.get(
    "MATCHDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A migrated schema of this test run's own, dropped at the end."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}); run `make test`")
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _truncate_postgres(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    # TRUNCATE takes every table's exclusive lock one after another; autovacuum (or a
    # previous test's connection still closing) can take one of them in between, and
    # PostgreSQL then ends one side as a deadlock. Taken again, the locks are free.
    for attempt in range(5):
        try:
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            break
        except OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database on each backend in turn."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "matchdesk.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_schema_url")
    _truncate_postgres(url)
    return url


@pytest.fixture
def md(database_url: str, tmp_path: Path) -> Iterator[Matchdesk]:
    """The application object on an empty database, with the built-in program."""
    app = Matchdesk.build(Settings(database_url=database_url, program=tmp_path / "none.toml"))
    yield app
    app.close()


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def run(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):  # type: ignore[no-untyped-def]
    """Runs `matchdesk ARGS` in-process against the test database; returns code and output."""
    monkeypatch.setenv("MATCHDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("MATCHDESK_PROGRAM", str(tmp_path / "matchdesk.toml"))
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> Outcome:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["matchdesk", *args])
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def hold_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], datetime]:
    """`hold_clock(moment)` holds the program's clock (`matchdesk.clock.now`, which every
    route, service, `utcnow` and `program_today` reads) at `moment` until the test ends,
    and returns it; called again, it moves the clock there. The test then reads that same
    moment instead of the real clock, so no second, hour, midnight or Monday can fall
    between the program's reading and the test's."""

    def hold(moment: datetime) -> datetime:
        assert moment.utcoffset() is not None, "hold an aware moment"
        monkeypatch.setattr(matchdesk.clock, "now", lambda: moment)
        return moment

    return hold
