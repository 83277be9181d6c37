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

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import (
    BigInteger,
    Column,
    Computed,
    Date,
    DateTime,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    and_,
    any_,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from matchdesk.results.models import LiveSession
from matchdesk.results.records import OUTCOMES, SessionRecord
from matchdesk.roster.models import Creator
from matchdesk.rounds.period import program_today
from matchdesk.tabular import Problems

CREATED, UPDATED, UNCHANGED = 0, 1, 2
# A validated row: number, handle, started_at (UTC), duration_minutes, diamonds,
# viewers_peak, new_followers, match_id, outcome.
Row = tuple[int, str, datetime, int, int, int | None, int | None, int | None, str | None]
_LOOKUP_CHUNK = 1000  # handles per IN list (well below every backend's parameter limit)

STAGING = Table(
    "results_staging",
    MetaData(),  # not the application's metadata: never part of a migration
    Column("row_number", Integer, primary_key=True),
    Column("creator_id", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
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
# The import's creators, once classified (`Stage.creators`): touched = 1 for those whose
# sessions it writes (not only unchanged ones).
CREATORS = Table(
    "results_creators",
    MetaData(),
    Column("creator_id", Integer, primary_key=True, autoincrement=False),
    Column("touched", SmallInteger, nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_STAGED = [c.name for c in STAGING.columns]
_NAMES = ", ".join(_STAGED)
# What the COPY sends on PostgreSQL: the program day and the two columns every staged row
# starts with the same value in are the server's (`_server_staging`).
_COPIED = ", ".join(name for name in _STAGED if name not in ("day", "existing_id", "state"))


def program_day_sql(zone: str) -> str:
    """PostgreSQL's program day of `started_at` (timestamptz): its date in the program's
    zone, as `started_at.astimezone(zone).date()` in Python (SPEC section 4: a session
    belongs to the day on which it starts)."""
    return "(started_at AT TIME ZONE '" + zone.replace("'", "''") + "')::date"


def _server_staging(zone: str) -> Table:
    """The staging table as PostgreSQL creates it: the same columns, with `day` computed
    by the server from `started_at` (a stored generated column: C time zone arithmetic
    instead of a Python `astimezone` per row) and `state` created by default."""
    columns: list[Column[Any]] = []
    for column in STAGING.columns:
        if column.name == "day":
            columns.append(Column("day", Date, Computed(program_day_sql(zone), persisted=True)))
        elif column.name == "state":
            columns.append(
                Column("state", SmallInteger, nullable=False, server_default=str(CREATED))
            )
        else:
            columns.append(column._copy())
    return Table(
        STAGING.name,
        MetaData(),
        *columns,
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )


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
        self._postgresql = session.get_bind().dialect.name == "postgresql"
        self._copy: Copy | None = None
        self._creators = False
        self.counts: dict[int, int] | None = None  # by state, once classified
        self._linked: int | None = None
        # PostgreSQL computes each start's program day (when it knows the program's zone).
        self._day_in_sql = self._postgresql and _server_knows(session, timezone)
        session.execute(text("DROP TABLE IF EXISTS results_staging"))
        table = _server_staging(timezone) if self._day_in_sql else STAGING
        table.create(session.connection())

    def drop(self) -> None:
        self.session.execute(text("DROP TABLE IF EXISTS results_staging"))
        self.session.execute(text("DROP TABLE IF EXISTS results_creators"))
        self._creators = False

    def creators(self) -> Any:
        """The table of the import's creators (creator_id, touched), made at its first use
        after `classify`: one grouping of the staged rows serves the creators' lock and
        every step that reads the touched creators (each had its own DISTINCT over them)."""
        if not self._creators:
            self.session.execute(text("DROP TABLE IF EXISTS results_creators"))
            CREATORS.create(self.session.connection())
            self.session.execute(
                insert(CREATORS).from_select(
                    ["creator_id", "touched"],
                    select(
                        S.creator_id, func.max(case((S.state != UNCHANGED, 1), else_=0))
                    ).group_by(S.creator_id),
                )
            )
            if self._postgresql:
                self.session.execute(text("ANALYZE results_creators"))
            self._creators = True
        return CREATORS

    def _resolve(self, handles: set[str]) -> None:
        missing = sorted(handles - self.ids.keys())
        if missing and self._copy is not None:
            raise RuntimeError("handles must be resolved before streaming")
        # PostgreSQL takes a whole array as one parameter (= ANY); SQLite, IN lists.
        size = 50_000 if self._postgresql else _LOOKUP_CHUNK
        for start in range(0, len(missing), size):
            chunk = missing[start : start + size]
            self.ids.update(dict.fromkeys(chunk))
            wanted = (
                Creator.handle == any_(literal(chunk, ARRAY(String)))
                if self._postgresql
                else Creator.handle.in_(chunk)
            )
            for handle, creator_id in self.session.execute(
                select(Creator.handle, Creator.id).where(wanted)
            ):
                self.ids[handle] = creator_id
                self.handles[creator_id] = handle

    def analyze(self) -> None:
        """Give PostgreSQL's planner the staged table's size (temporary tables are never
        analysed automatically; without it, the joins below are planned for a few rows)."""
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("ANALYZE results_staging"))
            # The ledger's grouping and the duplicates check sort a million rows in memory
            # rather than in batches on disk (for the rest of this transaction only).
            self.session.execute(text("SET LOCAL work_mem = '256MB'"))

    def check_handles(self, items: Sequence[tuple[int, str]], problems: Problems) -> None:
        """A handle not on the roster is a problem (for rows not staged for other reasons)."""
        self._resolve({handle for _, handle in items})
        for number, handle in items:
            if self.ids[handle] is None:
                problems.add(number, "handle", f"'{handle}' is not on the roster")

    @property
    def streams(self) -> bool:
        """Whether `streaming` keeps one COPY open (PostgreSQL)."""
        return self._postgresql

    @contextmanager
    def streaming(self) -> Iterator[None]:
        """On PostgreSQL, one COPY for every `add_rows` inside (the server takes in one
        chunk while the next is being checked, on its own core); no other statement may
        run meanwhile, so resolve the handles first (`resolve`)."""
        if not self._postgresql or self._copy is not None:
            yield
            return
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        names = _COPIED if self._day_in_sql else _NAMES
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY results_staging ({names}) FROM STDIN", writer=QueuedLibpqWriter(cursor)
            ) as copy,
        ):
            self._copy = copy
            try:
                yield
            finally:
                self._copy = None

    def resolve(self, handles: set[str]) -> None:
        """Look the handles up (in bulk) before `streaming`."""
        self._resolve(handles)

    def add(self, items: Sequence[tuple[int, SessionRecord]], problems: Problems) -> None:
        """Stage `items` (row number, record): records made in code are checked for what
        a file's parser guarantees (an aware start, a known outcome)."""
        rows: list[Row] = []
        for number, r in items:
            if r.outcome is not None and r.outcome not in OUTCOMES:
                problems.add(number, "outcome", f"'{r.outcome}' is not win, loss or draw")
                continue
            started = r.started_at
            if started.tzinfo is not UTC:
                if started.utcoffset() is None:
                    problems.add(number, "started_at", "the start time has no UTC offset")
                    continue
                started = started.astimezone(UTC)
            rows.append(
                (
                    number,
                    r.handle,
                    started,
                    r.duration_minutes,
                    r.diamonds,
                    r.viewers_peak,
                    r.new_followers,
                    r.match_id,
                    r.outcome,
                )
            )
        self.add_rows(rows, problems)

    def add_rows(self, rows: Sequence[Row], problems: Problems) -> None:
        """Stage validated rows (row number, handle, started_at in UTC, duration_minutes,
        diamonds, viewers_peak, new_followers, match_id, outcome); a handle not on the
        roster is a problem. Written as fast as each backend takes them: COPY text on
        PostgreSQL (formatted here: every value is a number, a time, a date or a checked
        word, so nothing needs escaping), the driver's executemany on SQLite with times
        in the text form SQLAlchemy stores there (`2026-03-09 01:00:00.000000`, compared
        as text)."""
        handles = {row[1] for row in rows}
        self._resolve(handles)
        ids = self.ids
        zone = self.zone
        known: Sequence[Row] = rows
        if any(ids[handle] is None for handle in handles):  # else every row is known
            known = []
            for row in rows:
                if ids[row[1]] is None:
                    problems.add(row[0], "handle", f"'{row[1]}' is not on the roster")
                else:
                    known.append(row)
        self.staged += len(known)
        if not known:
            return
        if self._postgresql:
            nothing = "\\N"
            if self._day_in_sql:  # the server computes the day (see `_server_staging`)
                text = "".join(
                    [
                        f"{n}\t{ids[h]}\t{s.isoformat()}\t{m}\t{g}\t"
                        f"{nothing if v is None else v}\t{nothing if f is None else f}\t"
                        f"{nothing if x is None else x}\t{nothing if o is None else o}\n"
                        for n, h, s, m, g, v, f, x, o in known
                    ]
                )
            else:
                text = "".join(
                    [
                        f"{n}\t{ids[h]}\t{s.isoformat()}\t"
                        f"{s.astimezone(zone).date().isoformat()}\t{m}\t{g}\t"
                        f"{nothing if v is None else v}\t{nothing if f is None else f}\t"
                        f"{nothing if x is None else x}\t{nothing if o is None else o}\t\\N\t0\n"
                        for n, h, s, m, g, v, f, x, o in known
                    ]
                )
            if self._copy is not None:
                self._copy.write(text)
            else:
                with self.streaming():
                    assert self._copy is not None
                    self._copy.write(text)
            return
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        marks = ", ".join("?" for _ in _STAGED)
        raw.executemany(
            f"INSERT INTO results_staging ({_NAMES}) VALUES ({marks})",
            [
                (
                    n,
                    ids[h],
                    s.replace(tzinfo=None).isoformat(" ", "microseconds"),
                    s.astimezone(zone).date().isoformat(),
                    m,
                    g,
                    v,
                    f,
                    x,
                    o,
                    None,
                    CREATED,
                )
                for n, h, s, m, g, v, f, x, o in known
            ],
        )

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
        # each state's sessions and those of them that belong to a match, in one scan
        counts = dict.fromkeys((CREATED, UPDATED, UNCHANGED), 0)
        linked = 0
        for state, count, matched in self.session.execute(
            select(S.state, func.count(), func.count(S.match_id)).group_by(S.state)
        ):
            counts[int(state)] = int(count)
            if state != UNCHANGED:
                linked += int(matched)
        self.counts, self._linked = counts, linked
        return counts

    def linked(self) -> int:
        """Staged sessions that will be written and belong to a match (after `classify`)."""
        if self._linked is None:
            raise RuntimeError("classify the staged sessions first")
        return self._linked

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
        if self.counts is not None and not self.counts[UPDATED]:
            return []  # classified: nothing to read
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
        """Update the changed sessions and insert the new ones (once classified, only the
        statements that have rows to write: a re-import of the same file runs neither)."""
        counts = self.counts
        if counts is None or counts[UPDATED]:
            self.session.execute(
                update(LiveSession.__table__)  # type: ignore[arg-type]
                .values(**{name: S[name] for name in FIGURES}, day=S.day, imported_at=now)
                .where(L.id == S.existing_id, S.state == UPDATED)
            )
        if counts is not None and not counts[CREATED]:
            return
        names = ["creator_id", "started_at", "day", *FIGURES]
        self.session.execute(
            insert(LiveSession.__table__).from_select(  # type: ignore[arg-type]
                [*names, "imported_at"],
                select(*(S[name] for name in names), literal(now, DateTime(timezone=True)))
                .where(S.state == CREATED)
                # in the unique index's order: its pages are written once, not at random
                .order_by(S.creator_id, S.started_at),
            )
        )

    def ended_at(self) -> Any:
        """SQL for a staged session's end (its start plus its minutes)."""
        if self.session.get_bind().dialect.name == "postgresql":
            return S.started_at + S.duration_minutes * literal_column("interval '1 minute'")
        # SQLite: the stored text form; %f is seconds with milliseconds, which compares
        # correctly against the stored microseconds (an equal time is never "less").
        return func.strftime(
            "%Y-%m-%d %H:%M:%f", S.started_at, "+" + cast(S.duration_minutes, String) + " minutes"
        )

    def lock_creators(self) -> None:
        """Hold the import's creators until commit, as a foreign key check would (their
        rows FOR KEY SHARE: a creator cannot be removed meanwhile), in one statement
        instead of one per session; a creator removed since the handles were looked up
        is refused. SQLite: its single writer gives the same guarantee."""
        if not self._postgresql:
            return
        wanted = self.creators().c.creator_id
        locked = self.session.execute(
            select(Creator.id).where(Creator.id.in_(select(wanted))).with_for_update(key_share=True)
        ).scalars()
        gone = set(self.handles) - set(locked)
        if gone:
            from matchdesk.errors import InvalidInput

            names = ", ".join(sorted(f"'{self.handles[i]}'" for i in gone))
            raise InvalidInput(f"creators removed from the roster during the import: {names}")

    def touched_creators(self) -> Any:
        """A subquery of the creators whose sessions the import writes (call after
        `classify`)."""
        them = self.creators().c
        return select(them.creator_id).where(them.touched == 1)


def _server_knows(session: Session, timezone: str) -> bool:
    """Whether PostgreSQL's time zone database has the program's zone (Python's does: the
    program's settings are checked against it); if not, Python computes the days."""
    connection = session.connection()
    try:
        with connection.begin_nested():  # a savepoint: an unknown zone is an error there
            connection.execute(text("SELECT now() AT TIME ZONE :zone"), {"zone": timezone})
    except DBAPIError:
        return False
    return True


def today_in(timezone: str) -> date:
    """Today's date on `timezone`'s calendar (the program's clock: rounds.period)."""
    return program_today(timezone)
