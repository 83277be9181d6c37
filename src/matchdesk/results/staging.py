"""The staging table an import goes through, whatever its source (a file, the API's rows,
the demo generator's records).

Validated sessions are written in chunks to a temporary table of the import's own
connection (PostgreSQL's COPY through `db.bulk_insert`), so that a million-row file never
has to be held in memory as objects; everything else is set-based SQL over that table in
the caller's transaction: duplicates within the file, match membership, linking by
overlap, created/updated/unchanged, the ledger's adjustment and the writes. The table is
dropped at the end (PostgreSQL also drops it at commit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    and_,
    case,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from matchdesk.db import bulk_insert
from matchdesk.results.models import LiveSession
from matchdesk.results.records import SessionRecord
from matchdesk.roster.models import Creator, utcnow
from matchdesk.tabular import Problems

CREATED, UPDATED, UNCHANGED = 0, 1, 2
_LOOKUP_CHUNK = 1000  # handles per IN list (well below every backend's parameter limit)

STAGING = Table(
    "results_staging",
    MetaData(),  # not the application's metadata: never part of a migration
    Column("row_number", Integer, primary_key=True),
    Column("creator_id", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=False),
    Column("day", Date, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("diamonds", BigInteger, nullable=False),
    Column("viewers_peak", BigInteger),
    Column("new_followers", BigInteger),
    Column("match_id", Integer),
    Column("outcome", String(4)),
    Column("existing_id", BigInteger),
    Column("state", SmallInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
S = STAGING.c
L = LiveSession.__table__.c
FIGURES = (
    "duration_minutes",
    "diamonds",
    "viewers_peak",
    "new_followers",
    "match_id",
    "outcome",
)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime) -> str:
    """`2026-03-09T01:00:00Z`, the SPEC's form of a time."""
    return aware(moment).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class PreviewRow:
    """One session as the import will write it (the upload page's preview)."""

    row: int
    handle: str
    started_at: datetime
    duration_minutes: int
    diamonds: int
    match_id: int | None
    state: str


class Stage:
    """One import's staging table and what is known about its creators."""

    def __init__(self, session: Session, timezone: str) -> None:
        self.session = session
        self.zone = ZoneInfo(timezone)
        self.ids: dict[str, int | None] = {}  # handle -> creator id (None: not on roster)
        self.handles: dict[int, str] = {}
        self.staged = 0
        session.execute(text("DROP TABLE IF EXISTS results_staging"))
        STAGING.create(session.connection())

    def drop(self) -> None:
        self.session.execute(text("DROP TABLE IF EXISTS results_staging"))

    def _resolve(self, handles: set[str]) -> None:
        missing = sorted(h for h in handles if h not in self.ids)
        for start in range(0, len(missing), _LOOKUP_CHUNK):
            chunk = missing[start : start + _LOOKUP_CHUNK]
            self.ids.update(dict.fromkeys(chunk))
            for handle, creator_id in self.session.execute(
                select(Creator.handle, Creator.id).where(Creator.handle.in_(chunk))
            ):
                self.ids[handle] = creator_id
                self.handles[creator_id] = handle

    def check_handles(self, items: Sequence[tuple[int, str]], problems: Problems) -> None:
        """A handle not on the roster is a problem (for rows not staged for other reasons)."""
        self._resolve({handle for _, handle in items})
        for number, handle in items:
            if self.ids[handle] is None:
                problems.add(number, "handle", f"'{handle}' is not on the roster")

    def add(self, items: Sequence[tuple[int, SessionRecord]], problems: Problems) -> None:
        """Stage `items` (row number, record); a handle not on the roster is a problem."""
        self._resolve({record.handle for _, record in items})
        rows: list[dict[str, Any]] = []
        zone = self.zone
        for number, record in items:
            creator_id = self.ids[record.handle]
            if creator_id is None:
                problems.add(number, "handle", f"'{record.handle}' is not on the roster")
                continue
            rows.append(
                {
                    "row_number": number,
                    "creator_id": creator_id,
                    "started_at": record.started_at,
                    "ended_at": record.ended_at,
                    "day": record.started_at.astimezone(zone).date(),
                    "duration_minutes": record.duration_minutes,
                    "diamonds": record.diamonds,
                    "viewers_peak": record.viewers_peak,
                    "new_followers": record.new_followers,
                    "match_id": record.match_id,
                    "outcome": record.outcome,
                    "existing_id": None,
                    "state": CREATED,
                }
            )
        bulk_insert(self.session, STAGING, rows)
        self.staged += len(rows)

    def check_duplicates(self, problems: Problems) -> None:
        """A session (creator, start) twice in the same import is a problem on its later rows."""
        groups = (
            select(S.creator_id, S.started_at, func.min(S.row_number).label("first"))
            .group_by(S.creator_id, S.started_at)
            .having(func.count() > 1)
            .subquery()
        )
        query = (
            select(S.row_number, groups.c.first, S.creator_id, S.started_at)
            .join(
                groups,
                and_(S.creator_id == groups.c.creator_id, S.started_at == groups.c.started_at),
            )
            .where(S.row_number > groups.c.first)
        )
        for number, first, creator_id, started_at in self.session.execute(query):
            problems.add(
                number,
                "started_at",
                f"the session of '{self.handles[creator_id]}' starting {iso(started_at)} "
                f"appears again (first on row {first})",
            )

    def classify(self) -> dict[int, int]:
        """Mark each staged session created, updated or unchanged against the stored ones;
        returns the count of each."""
        same = and_(*(L[name].is_not_distinct_from(S[name]) for name in FIGURES))
        self.session.execute(
            update(STAGING)
            .values(existing_id=L.id, state=case((same, UNCHANGED), else_=UPDATED))
            .where(L.creator_id == S.creator_id, L.started_at == S.started_at)
        )
        counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED), 0)
        for state, count in self.session.execute(select(S.state, func.count()).group_by(S.state)):
            counts[int(state)] = int(count)
        return counts

    def linked(self) -> int:
        """Staged sessions that will be written and belong to a match."""
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(STAGING)
                .where(S.state != UNCHANGED, S.match_id.is_not(None))
            )
            or 0
        )

    def preview(self, limit: int) -> list[PreviewRow]:
        names = {CREATED: "new", UPDATED: "updated", UNCHANGED: "unchanged"}
        rows = self.session.execute(
            select(
                S.row_number,
                S.creator_id,
                S.started_at,
                S.duration_minutes,
                S.diamonds,
                S.match_id,
                S.state,
            )
            .order_by(S.row_number)
            .limit(limit)
        )
        return [
            PreviewRow(
                row=number,
                handle=self.handles[creator_id],
                started_at=aware(started_at),
                duration_minutes=duration,
                diamonds=diamonds,
                match_id=match_id,
                state=names[state],
            )
            for number, creator_id, started_at, duration, diamonds, match_id, state in rows
        ]

    def updated_pairs(self) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
        """(session id, figures before, figures after) of each session the import updates."""
        columns = [L[name] for name in FIGURES] + [S[name] for name in FIGURES]
        rows = self.session.execute(
            select(L.id, *columns)
            .join(STAGING, S.existing_id == L.id)
            .where(S.state == UPDATED)
            .order_by(S.row_number)
        )
        width = len(FIGURES)
        return [
            (
                row[0],
                dict(zip(FIGURES, row[1 : 1 + width], strict=True)),
                dict(zip(FIGURES, row[1 + width :], strict=True)),
            )
            for row in rows
        ]

    def write_sessions(self, now: datetime) -> None:
        """Update the changed sessions and insert the new ones."""
        self.session.execute(
            update(LiveSession.__table__)  # type: ignore[arg-type]
            .values(**{name: S[name] for name in FIGURES}, day=S.day, imported_at=now)
            .where(L.id == S.existing_id, S.state == UPDATED)
        )
        names = ["creator_id", "started_at", "day", *FIGURES]
        self.session.execute(
            insert(LiveSession.__table__).from_select(  # type: ignore[arg-type]
                [*names, "imported_at"],
                select(*(S[name] for name in names), literal(now, DateTime(timezone=True))).where(
                    S.state == CREATED
                ),
            )
        )

    def touched_creators(self) -> Any:
        """A subquery of the creators whose sessions the import writes."""
        return select(S.creator_id).where(S.state != UNCHANGED).distinct()


def today_in(timezone: str) -> date:
    return utcnow().astimezone(ZoneInfo(timezone)).date()
