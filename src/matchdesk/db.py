"""Engine and session factory, built by the app or the CLI at start (never at import)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

# Stable constraint names so Alembic migrations can alter them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets the web app read while the
    # worker writes; the busy timeout turns lock contention into waiting, not errors.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with SQLite tuned for a laptop and PostgreSQL via psycopg 3."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        database = url.split("///", 1)[1] if "///" in url else ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction as fast as the backend allows:
    PostgreSQL's COPY (an order of magnitude faster than multi-row INSERTs through
    psycopg), the driver's own executemany on SQLite (SQLAlchemy's per-row parameter
    processing costs more than the insert). Every row must have the same keys, and the
    values must be plain Python values the driver adapts itself."""
    if not rows:
        return
    columns = list(rows[0])
    names = ", ".join(f'"{c}"' for c in columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    values = ([row[c] for c in columns] for row in rows)
    if session.get_bind().dialect.name == "postgresql":
        copy_sql = f'COPY "{table.name}" ({names}) FROM STDIN'
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in values:
                copy.write_row(row)
        return
    sqlite_insert_many(session, table, columns, values)


def sqlite_insert_many(
    session: Session,
    table: Table,
    columns: Sequence[str],
    values: Iterable[list[Any]],
    suffix: str = "",
) -> None:
    """SQLite: one prepared `INSERT INTO table (columns) VALUES (...) suffix` run by the
    driver's own executemany over `values` (lists in the order of `columns`), each value
    converted by its column type's own bind processor first (dates and times become
    SQLAlchemy's SQLite text form, JSON its text), so the rows are those SQLAlchemy writes."""
    dialect = session.get_bind().dialect
    processors = [
        (i, table.c[c].type.dialect_impl(dialect).bind_processor(dialect))
        for i, c in enumerate(columns)
    ]
    convert = [(i, p) for i, p in processors if p is not None]
    if convert:
        values = (_converted(row, convert) for row in values)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    raw.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks}) {suffix}', values)


def _converted(row: list[Any], convert: list[tuple[int, Any]]) -> list[Any]:
    for i, process in convert:
        row[i] = process(row[i])
    return row
