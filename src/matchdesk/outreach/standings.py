"""Campaign points kept as results arrive, so a leaderboard reads one stored figure per
creator instead of scoring every session at every read.

For each campaign and ranked creator (enrolled in a league), `campaign_days` holds per
day of the creator's own clock the sums of their campaign sessions starting that day
(diamonds, those in the bonus hours, LIVE minutes, wins) with that day's LIVE points
(`floor(minutes x points_per_live_hour / 60)`) and whether the daily cap replaces them;
the enrolment keeps the sums over those days (`kept_*`: diamonds, bonus diamonds, wins,
the uncapped days' LIVE points, the capped days) and its `points` are the floor of their
exact (decimal) total: the same figure `campaigns.points` defines.

- `backfill` computes a campaign's days and points from its sessions: when it enrols its
  creators, and whenever its scoring or dates differ from those the points were kept for
  (`campaigns.points_rules`). With a progress callback (the `campaign.points` job).
- An import (`record_import`, called by `results.creator_stats.figures_recorded`)
  touches, for every campaign whose points are kept, only the creator-local days its
  written sessions fall on: a day with a changed session is recomputed from its
  sessions; one that only gained new sessions is, on PostgreSQL, its old row plus their
  figures from the staging table (SQLite recomputes it). Each touched creator's sums
  move by the new rows minus the old ones (their other days are not read) and their
  points are set from the sums, in one statement on PostgreSQL.
- A creator whose time zone changed since (their `points_zone`) is rescored when the
  leaderboard is next read (`refresh_stale`).

PostgreSQL computes local days with `AT TIME ZONE` and sums in `numeric`; SQLite, which
has no time zones, in Python (`zoneinfo`) over the creators' sessions, in chunks.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from matchdesk.outreach.campaigns import Scoring, _aware, _time_of_day, scoring_of
from matchdesk.outreach.models import Campaign, CampaignDay, Enrolment
from matchdesk.results.models import LiveSession
from matchdesk.roster.models import Creator

if TYPE_CHECKING:
    from matchdesk.results.staging import Stage

Progress = Callable[[int, int], None]
CHUNK = 2_000  # creators a step (SQLite reads their sessions; PostgreSQL an id range)
DAY_COLUMNS = (
    "campaign_id",
    "creator_id",
    "day",
    "diamonds",
    "bonus_diamonds",
    "minutes",
    "wins",
    "live_points",
    "capped",
)


def rules_of(campaign: Campaign) -> dict[str, Any]:
    """What a campaign's points depend on besides its sessions and enrolments."""
    return {
        "scoring": dict(campaign.scoring),
        "starts": campaign.starts.isoformat(),
        "ends": campaign.ends.isoformat(),
    }


def is_kept(campaign: Campaign) -> bool:
    """Whether the stored points are this campaign's (enrolled, and for its rules now)."""
    return campaign.enrolled_at is not None and campaign.points_rules == rules_of(campaign)


def _exact(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def live_points(scoring: Scoring, minutes: int) -> tuple[int, bool]:
    """A day's LIVE points before the cap, and whether the cap replaces them."""
    whole = int(Decimal(minutes) * _exact(scoring.points_per_live_hour) // 60)  # type: ignore[operator]
    cap = _exact(scoring.max_live_points_per_day)
    return whole, cap is not None and whole >= cap


def total_points(
    scoring: Scoring, diamonds: int, bonus: int, wins: int, live: int, capped_days: int
) -> int:
    """The floor of the exact sum: diamonds (those in the bonus hours multiplied), wins,
    the uncapped days' LIVE points and the cap for each capped day."""
    per_diamond = _exact(scoring.points_per_diamond) or Decimal(0)
    total = (
        (diamonds - bonus) * per_diamond
        + bonus * per_diamond * (_exact(scoring.bonus_multiplier) or Decimal(0))
        + wins * (_exact(scoring.points_per_match_win) or Decimal(0))
        + live
        + capped_days * (_exact(scoring.max_live_points_per_day) or Decimal(0))
    )
    return math.floor(total)


def day_figures(
    scoring: Scoring, zone: ZoneInfo, sessions: Iterable[tuple[datetime, int, int, str | None]]
) -> dict[date, list[int]]:
    """Per local day: diamonds, bonus diamonds, minutes, wins (as `campaigns.points`)."""
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for started, minutes, diamonds, outcome in sessions:
        local = _aware(started).astimezone(zone)
        figures = days[local.date()]
        figures[0] += diamonds
        if scoring.in_bonus(local.hour * 60 + local.minute):
            figures[1] += diamonds
        figures[2] += minutes
        if outcome == "win":
            figures[3] += 1
    return days


def _many(session: Session, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """SQLite: `statement` (qmark parameters) for each of `rows` by the driver's own
    executemany (SQLAlchemy's per-row parameter processing costs more than the writes);
    dates as ISO text, times as SQLAlchemy stores them there (`_text_time`)."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    raw.executemany(statement, rows)


def _text_time(moment: datetime) -> str:
    """A UTC time in SQLAlchemy's SQLite text form (`2026-03-09 01:00:00.000000`)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# --- PostgreSQL: the days in SQL --------------------------------------------------------

# The day rows from a grouped select of day figures (LIVE points before the cap as `live`).
_INSERT_DAYS = """
INSERT INTO campaign_days (campaign_id, creator_id, day, diamonds, bonus_diamonds, minutes,
                           wins, live_points, capped)
SELECT :campaign, creator_id, day, diamonds, bonus_diamonds, minutes, wins, live,
       coalesce(live >= CAST(:cap AS numeric), false)
FROM ("""

# The sessions of the ranked creators in scope, with their local start; {scope} narrows
# them (a range or a list of creator ids).
_PG_DAYS = (
    _INSERT_DAYS
    + """
    SELECT creator_id, CAST(local AS date) AS day, sum(diamonds) AS diamonds,
           sum(CASE WHEN {bonus} THEN diamonds ELSE 0 END) AS bonus_diamonds,
           sum(duration_minutes) AS minutes,
           count(*) FILTER (WHERE outcome = 'win') AS wins,
           CAST(floor(sum(duration_minutes) * CAST(:per_hour AS numeric) / 60) AS BIGINT)
               AS live
    FROM (
        SELECT e.creator_id, ls.started_at AT TIME ZONE c.timezone AS local,
               ls.duration_minutes, ls.diamonds, ls.outcome
        FROM campaign_enrolments AS e
        JOIN creators AS c ON c.id = e.creator_id
        JOIN live_sessions AS ls ON ls.creator_id = e.creator_id
        WHERE e.campaign_id = :campaign AND e.league IS NOT NULL
          AND ls.day >= :starts AND ls.day <= :ends {scope}
    ) AS s
    GROUP BY creator_id, CAST(local AS date)
) AS g
"""
)

# The creator-local days an import's written sessions start on (ranked creators of the
# campaign, campaign program days), with the zone they were taken in and whether a
# session of theirs changed (else the day only gained new sessions).
_PG_TOUCHED = """
CREATE TEMPORARY TABLE campaign_touched ON COMMIT DROP AS
    SELECT st.creator_id, CAST(st.started_at AT TIME ZONE c.timezone AS date) AS day,
           c.timezone AS zone, bool_or(st.state <> :created) AS changed
    FROM results_staging AS st
    JOIN campaign_enrolments AS e ON e.creator_id = st.creator_id
    JOIN creators AS c ON c.id = st.creator_id
    WHERE e.campaign_id = :campaign AND e.league IS NOT NULL AND st.state <> :unchanged
      AND st.day >= :starts AND st.day <= :ends
    GROUP BY st.creator_id, CAST(st.started_at AT TIME ZONE c.timezone AS date), c.timezone
"""
# A touched day with a changed session: its sessions by the unique index (creator,
# start), the UTC span of the local day widened by 3 hours each side for local midnights
# a DST change skips or repeats (as `_SLACK` on SQLite; a day each side read 8 sessions
# a day, not 3), then the exact local day.
_PG_TOUCHED_DAYS = (
    _INSERT_DAYS
    + """
    SELECT creator_id, day, sum(diamonds) AS diamonds,
           sum(CASE WHEN {bonus} THEN diamonds ELSE 0 END) AS bonus_diamonds,
           sum(duration_minutes) AS minutes,
           count(*) FILTER (WHERE outcome = 'win') AS wins,
           CAST(floor(sum(duration_minutes) * CAST(:per_hour AS numeric) / 60) AS BIGINT)
               AS live
    FROM (
        SELECT t.creator_id, t.day, ls.started_at AT TIME ZONE t.zone AS local,
               ls.duration_minutes, ls.diamonds, ls.outcome
        FROM campaign_touched AS t
        JOIN live_sessions AS ls ON ls.creator_id = t.creator_id
         AND ls.started_at >= (CAST(t.day AS timestamp) AT TIME ZONE t.zone) - interval '3 hours'
         AND ls.started_at < (CAST(t.day + 1 AS timestamp) AT TIME ZONE t.zone) + interval '3 hours'
        WHERE t.changed AND ls.day >= :starts AND ls.day <= :ends
    ) AS s
    WHERE CAST(local AS date) = day
    GROUP BY creator_id, day
) AS g
"""
)


# The changed days' old rows deleted, and each creator's difference started with minus
# their sums (uncapped days' LIVE points, capped days).
_PG_OLD = """
WITH old AS (
    DELETE FROM campaign_days AS d USING campaign_touched AS t
    WHERE t.changed AND d.campaign_id = :campaign AND d.creator_id = t.creator_id
      AND d.day = t.day
    RETURNING d.creator_id, d.diamonds, d.bonus_diamonds, d.wins, d.live_points, d.capped
)
INSERT INTO campaign_delta (creator_id, diamonds, bonus_diamonds, wins, live_points, capped)
SELECT creator_id, -sum(diamonds), -sum(bonus_diamonds), -sum(wins),
       -sum(CASE WHEN capped THEN 0 ELSE live_points END), -count(*) FILTER (WHERE capped)
FROM old
GROUP BY creator_id
"""
# A day that only gained new sessions: its row is its old row (if any) plus the new
# sessions' sums from the staging table (no session read again), its LIVE points and cap
# from the new minutes; the difference to each creator's sums added.
_PG_ADDED = """
WITH added AS (
    SELECT creator_id, day, sum(diamonds) AS diamonds,
           sum(CASE WHEN {bonus} THEN diamonds ELSE 0 END) AS bonus_diamonds,
           sum(duration_minutes) AS minutes, count(*) FILTER (WHERE outcome = 'win') AS wins
    FROM (
        SELECT t.creator_id, t.day, st.started_at AT TIME ZONE t.zone AS local,
               st.duration_minutes, st.diamonds, st.outcome
        FROM campaign_touched AS t
        JOIN results_staging AS st ON st.creator_id = t.creator_id
        WHERE NOT t.changed AND st.state = :created AND st.day >= :starts AND st.day <= :ends
    ) AS s
    WHERE CAST(local AS date) = day
    GROUP BY creator_id, day
), merged AS (
    SELECT a.creator_id, a.day, a.diamonds + coalesce(o.diamonds, 0) AS diamonds,
           a.bonus_diamonds + coalesce(o.bonus_diamonds, 0) AS bonus_diamonds,
           a.minutes + coalesce(o.minutes, 0) AS minutes, a.wins + coalesce(o.wins, 0) AS wins,
           coalesce(o.diamonds, 0) AS old_diamonds,
           coalesce(o.bonus_diamonds, 0) AS old_bonus_diamonds, coalesce(o.wins, 0) AS old_wins,
           CASE WHEN o.capped THEN 0 ELSE coalesce(o.live_points, 0) END AS old_live,
           CASE WHEN o.capped THEN 1 ELSE 0 END AS old_capped
    FROM added AS a
    LEFT JOIN campaign_days AS o
      ON o.campaign_id = :campaign AND o.creator_id = a.creator_id AND o.day = a.day
), live AS (
    SELECT *, CAST(floor(minutes * CAST(:per_hour AS numeric) / 60) AS BIGINT) AS live
    FROM merged
), computed AS (
    SELECT *, coalesce(live >= CAST(:cap AS numeric), false) AS capped FROM live
), written AS (
    INSERT INTO campaign_days (campaign_id, creator_id, day, diamonds, bonus_diamonds, minutes,
                               wins, live_points, capped)
    SELECT :campaign, creator_id, day, diamonds, bonus_diamonds, minutes, wins, live, capped
    FROM computed
    ON CONFLICT (campaign_id, creator_id, day) DO UPDATE
    SET diamonds = excluded.diamonds, bonus_diamonds = excluded.bonus_diamonds,
        minutes = excluded.minutes, wins = excluded.wins, live_points = excluded.live_points,
        capped = excluded.capped
)
INSERT INTO campaign_delta (creator_id, diamonds, bonus_diamonds, wins, live_points, capped)
SELECT creator_id, sum(diamonds - old_diamonds), sum(bonus_diamonds - old_bonus_diamonds),
       sum(wins - old_wins), sum(CASE WHEN capped THEN 0 ELSE live END - old_live),
       sum(CASE WHEN capped THEN 1 ELSE 0 END - old_capped)
FROM computed
GROUP BY creator_id
"""
# The changed days' new rows inserted, and each touched creator's sums moved by the
# difference (new days' minus old days'), their points the floor of the exact total
# (None kept None: rescored at the next read, as is a creator whose zone changed).
_PG_NEW = """
WITH new AS (
    {insert}
    RETURNING creator_id, diamonds, bonus_diamonds, wins, live_points, capped
), delta AS (
    SELECT creator_id, sum(diamonds) AS diamonds, sum(bonus_diamonds) AS bonus_diamonds,
           sum(wins) AS wins, sum(live_points) AS live_points, sum(capped) AS capped
    FROM (
        SELECT creator_id, diamonds, bonus_diamonds, wins, live_points, capped
        FROM campaign_delta
        UNION ALL
        SELECT creator_id, diamonds, bonus_diamonds, wins,
               CASE WHEN capped THEN 0 ELSE live_points END, CASE WHEN capped THEN 1 ELSE 0 END
        FROM new
    ) AS x
    GROUP BY creator_id
), summed AS (
    SELECT e.creator_id, e.kept_diamonds + d.diamonds AS diamonds,
           e.kept_bonus_diamonds + d.bonus_diamonds AS bonus_diamonds,
           e.kept_wins + d.wins AS wins, e.kept_live_points + d.live_points AS live_points,
           e.kept_capped_days + d.capped AS capped
    FROM delta AS d
    JOIN campaign_enrolments AS e ON e.campaign_id = :campaign AND e.creator_id = d.creator_id
)
UPDATE campaign_enrolments AS e
SET kept_diamonds = s.diamonds, kept_bonus_diamonds = s.bonus_diamonds, kept_wins = s.wins,
    kept_live_points = s.live_points, kept_capped_days = s.capped,
    points = CASE WHEN e.points IS NULL THEN NULL ELSE CAST(floor(
        (s.diamonds - s.bonus_diamonds) * CAST(:per_diamond AS numeric)
        + s.bonus_diamonds * CAST(:per_diamond AS numeric) * CAST(:multiplier AS numeric)
        + s.wins * CAST(:per_win AS numeric) + s.live_points
        + s.capped * CAST(:cap_points AS numeric)) AS BIGINT) END
FROM summed AS s
WHERE e.campaign_id = :campaign AND e.creator_id = s.creator_id
"""


def _bonus_sql(scoring: Scoring) -> str:
    # A local time of day at or after HH:MM has hour * 60 + minute at or after it (the
    # seconds only add), and before HH:MM likewise: the same test as `Scoring.in_bonus`.
    clock = "CAST(local AS time)"
    if scoring.bonus is None:
        return "false"
    start, end = (_time_of_day(m) for m in scoring.bonus)
    joined = "AND" if scoring.bonus[0] < scoring.bonus[1] else "OR"  # OR: crosses midnight
    return f"({clock} >= TIME '{start}' {joined} {clock} < TIME '{end}')"


def _pg_parameters(campaign: Campaign, scoring: Scoring) -> dict[str, Any]:
    return {
        "campaign": campaign.id,
        "starts": campaign.starts,
        "ends": campaign.ends,
        "per_hour": _exact(scoring.points_per_live_hour),
        "cap": _exact(scoring.max_live_points_per_day),
        "per_diamond": _exact(scoring.points_per_diamond) or Decimal(0),
        "multiplier": _exact(scoring.bonus_multiplier) or Decimal(0),
        "per_win": _exact(scoring.points_per_match_win) or Decimal(0),
        "cap_points": _exact(scoring.max_live_points_per_day) or Decimal(0),
    }


def _pg_days(
    session: Session, campaign: Campaign, scoring: Scoring, *, scope: str = "", **parameters: Any
) -> None:
    statement = _PG_DAYS.format(bonus=_bonus_sql(scoring), scope=scope)
    session.execute(text(statement), {**_pg_parameters(campaign, scoring), **parameters})


# --- SQLite (and any backend): the days in Python ----------------------------------------


_SESSION_FIGURES = (
    LiveSession.creator_id,
    LiveSession.started_at,
    LiveSession.duration_minutes,
    LiveSession.diamonds,
    LiveSession.outcome,
)
# The UTC spans of the creator-local days an import touched (SQLite), for reading their
# sessions by the unique index (creator, start).
_SPANS = Table(
    "campaign_touched_spans",
    MetaData(),  # not the application's metadata: never part of a migration
    Column("creator_id", Integer, nullable=False),
    Column("first", DateTime(timezone=True), nullable=False),
    Column("last", DateTime(timezone=True), nullable=False),
    prefixes=["TEMPORARY"],
)
_SLACK = timedelta(hours=3)  # around a local day's span: midnights a DST change moves


def _python_days(
    session: Session,
    campaign: Campaign,
    scoring: Scoring,
    zones: dict[int, str],
    wanted: set[tuple[int, date]] | None = None,
) -> list[tuple[Any, ...]]:
    """Insert the day rows of the creators in `zones` (creator id: zone), only the days
    in `wanted` when given (their sessions read by start), from their campaign sessions;
    returns the rows inserted (`DAY_COLUMNS`, the day as ISO text, `capped` 0 or 1)."""
    if wanted is not None:
        return _python_touched_days(session, campaign, scoring, zones, wanted)
    inserted: list[tuple[Any, ...]] = []
    ids = sorted(zones)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        by_creator: dict[int, list[tuple[datetime, int, int, str | None]]] = defaultdict(list)
        for cid, started, minutes, diamonds, outcome in session.execute(
            select(*_SESSION_FIGURES).where(
                LiveSession.creator_id.in_(chunk),
                LiveSession.day >= campaign.starts,
                LiveSession.day <= campaign.ends,
            )
        ):
            by_creator[cid].append((started, minutes, diamonds, outcome))
        inserted += _insert_days(session, campaign, scoring, zones, by_creator, None)
    return inserted


def _python_touched_days(
    session: Session,
    campaign: Campaign,
    scoring: Scoring,
    zones: dict[int, str],
    wanted: set[tuple[int, date]],
) -> list[tuple[Any, ...]]:
    spans: list[dict[str, Any]] = []
    for cid, day in sorted(wanted):
        zone = ZoneInfo(zones[cid])
        first = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC) - _SLACK
        last = first + timedelta(days=1) + 2 * _SLACK
        if spans and spans[-1]["creator_id"] == cid and spans[-1]["last"] >= first:
            spans[-1]["last"] = last  # consecutive days: one span, no session read twice
        else:
            spans.append({"creator_id": cid, "first": first, "last": last})
    session.execute(text("DROP TABLE IF EXISTS campaign_touched_spans"))
    _SPANS.create(session.connection())
    try:
        _many(
            session,
            "INSERT INTO campaign_touched_spans (creator_id, first, last) VALUES (?, ?, ?)",
            [(x["creator_id"], _text_time(x["first"]), _text_time(x["last"])) for x in spans],
        )
        by_creator: dict[int, list[tuple[datetime, int, int, str | None]]] = defaultdict(list)
        # The spans outermost (SQLite keeps a CROSS JOIN's order; it has no statistics
        # for a temporary table), each span's sessions by the unique index.
        found = session.execute(
            text(
                "SELECT ls.creator_id, ls.started_at, ls.duration_minutes, ls.diamonds,"
                " ls.outcome FROM campaign_touched_spans AS t CROSS JOIN live_sessions AS ls"
                " WHERE ls.creator_id = t.creator_id AND ls.started_at >= t.first"
                " AND ls.started_at < t.last AND ls.day >= :starts AND ls.day <= :ends"
            )
            .bindparams(bindparam("starts", type_=Date), bindparam("ends", type_=Date))
            .columns(
                creator_id=Integer,
                started_at=DateTime(timezone=True),
                duration_minutes=Integer,
                diamonds=BigInteger,
                outcome=String,
            ),
            {"starts": campaign.starts, "ends": campaign.ends},
        )
        for cid, started, minutes, diamonds, outcome in found:
            by_creator[cid].append((started, minutes, diamonds, outcome))
    finally:
        session.execute(text("DROP TABLE IF EXISTS campaign_touched_spans"))
    return _insert_days(session, campaign, scoring, zones, by_creator, wanted)


def _insert_days(
    session: Session,
    campaign: Campaign,
    scoring: Scoring,
    zones: dict[int, str],
    by_creator: dict[int, list[tuple[datetime, int, int, str | None]]],
    wanted: set[tuple[int, date]] | None,
) -> list[tuple[Any, ...]]:
    rows = []
    for cid, sessions in by_creator.items():
        for day, (diamonds, bonus, minutes, wins) in day_figures(
            scoring, ZoneInfo(zones[cid]), sessions
        ).items():
            if wanted is not None and (cid, day) not in wanted:
                continue
            live, capped = live_points(scoring, minutes)
            rows.append(
                (campaign.id, cid, day.isoformat(), diamonds, bonus, minutes, wins, live,
                 int(capped))
            )  # fmt: skip
    if rows:
        _many(
            session,
            f"INSERT INTO campaign_days ({', '.join(DAY_COLUMNS)}) VALUES"
            f" ({', '.join('?' for _ in DAY_COLUMNS)})",
            rows,
        )
    return rows


# --- the points from the days ------------------------------------------------------------


Sums = tuple[int, int, int, int, int]  # diamonds, bonus diamonds, wins, LIVE, capped days
SUM_COLUMNS = (
    "kept_diamonds",
    "kept_bonus_diamonds",
    "kept_wins",
    "kept_live_points",
    "kept_capped_days",
)


def _write_points(
    session: Session, campaign: Campaign, scoring: Scoring, creators: Sequence[int] | None = None
) -> None:
    """Set the sums and points of the ranked creators of `campaign` (those in `creators`
    when given) from their day rows, and the zone their days were taken in."""
    if creators is None:
        # Everyone at 0 (no sessions) with their zone, then those with days.
        e = Enrolment
        zone = select(Creator.timezone).where(Creator.id == e.creator_id).scalar_subquery()
        session.execute(
            update(e)
            .where(e.campaign_id == campaign.id, e.league.is_not(None))
            .values(points=0, points_zone=zone, **dict.fromkeys(SUM_COLUMNS, 0))
            .execution_options(synchronize_session=False)
        )
        found = _sums(session, campaign, None)
        items = [(cid, sums) for cid, sums in found.items() if any(sums)]
        for start in range(0, len(items), 50_000):
            _set_points(session, campaign.id, scoring, items[start : start + 50_000])
        return
    for start in range(0, len(creators), 50_000):
        chunk = list(creators[start : start + 50_000])
        found = _sums(session, campaign, chunk)
        _set_points(
            session, campaign.id, scoring, [(cid, found.get(cid, (0, 0, 0, 0, 0))) for cid in chunk]
        )


def _sums(session: Session, campaign: Campaign, creators: list[int] | None) -> dict[int, Sums]:
    """Each creator's sums over their day rows (the `creators` given, or all)."""
    d = CampaignDay
    query = (
        select(
            d.creator_id,
            func.sum(d.diamonds),
            func.sum(d.bonus_diamonds),
            func.sum(d.wins),
            func.sum(func.coalesce(d.live_points * (1 - _as_int(d.capped)), 0)),
            func.sum(_as_int(d.capped)),
        )
        .where(d.campaign_id == campaign.id)
        .group_by(d.creator_id)
    )
    if creators is not None and _postgresql(session):
        # A semi-join on the ids unnested (hashed), not `= ANY` tested on every row.
        ids = select(
            func.unnest(bindparam(None, creators, type_=ARRAY(BigInteger))).label("id")
        ).subquery()
        query = query.where(d.creator_id.in_(select(ids.c.id)))
    elif creators is not None:
        query = query.where(d.creator_id.in_(creators))
    return {
        int(cid): (int(a), int(b), int(w), int(live), int(c))
        for cid, a, b, w, live, c in session.execute(query)
    }


def _as_int(column: Any) -> Any:
    return cast(column, Integer)


def _set_points(
    session: Session, campaign_id: int, scoring: Scoring, items: list[tuple[int, Sums]]
) -> None:
    """Each (creator, sums) of `items` written with its points, and the creator's zone now."""
    if not items:
        return
    if _postgresql(session):
        columns = list(zip(*(sums for _, sums in items), strict=True))
        session.execute(
            text(
                "UPDATE campaign_enrolments AS e SET points = v.points, points_zone = c.timezone,"
                + ", ".join(f" {name} = v.{name}" for name in SUM_COLUMNS)
                + " FROM (SELECT unnest(CAST(:ids AS bigint[])) AS id,"
                " unnest(CAST(:points AS bigint[])) AS points,"
                + ", ".join(f" unnest(CAST(:{name} AS bigint[])) AS {name}" for name in SUM_COLUMNS)
                + ") AS v JOIN creators AS c ON c.id = v.id"
                " WHERE e.campaign_id = :campaign AND e.creator_id = v.id"
            ),
            {
                "campaign": campaign_id,
                "ids": [i for i, _ in items],
                "points": [total_points(scoring, *sums) for _, sums in items],
                **{name: list(column) for name, column in zip(SUM_COLUMNS, columns, strict=True)},
            },
        )
        return
    _many(
        session,
        "UPDATE campaign_enrolments SET points = ?,"
        " points_zone = (SELECT timezone FROM creators WHERE id = ?),"
        + ", ".join(f" {name} = ?" for name in SUM_COLUMNS)
        + " WHERE campaign_id = ? AND creator_id = ?",
        [(total_points(scoring, *sums), cid, *sums, campaign_id, cid) for cid, sums in items],
    )


# --- the entry points -------------------------------------------------------------------


def backfill(session: Session, campaign: Campaign, progress: Progress | None = None) -> int:
    """Compute a campaign's days and points from its sessions (after enrolment, or when
    its rules changed); returns the ranked creators scored."""
    scoring = scoring_of(campaign.scoring)
    session.execute(delete(CampaignDay).where(CampaignDay.campaign_id == campaign.id))
    ranked = session.execute(
        select(Enrolment.creator_id, Creator.timezone)
        .join(Creator, Creator.id == Enrolment.creator_id)
        .where(Enrolment.campaign_id == campaign.id, Enrolment.league.is_not(None))
        .order_by(Enrolment.creator_id)
    ).all()
    ids = [cid for cid, _ in ranked]
    steps = max(1, math.ceil(len(ids) / (CHUNK * 10)))
    if _postgresql(session):
        # The per-day grouping holds millions of groups at 10,000,000 sessions: room in
        # memory for this transaction, so it does not spill to disk in batches.
        session.execute(text("SELECT set_config('work_mem', '256MB', true)"))
        size = math.ceil(len(ids) / steps) if ids else 1
        for step in range(steps):
            part = ids[step * size : (step + 1) * size]
            if part:
                _pg_days(
                    session, campaign, scoring,
                    scope="AND e.creator_id BETWEEN :first AND :last", first=part[0], last=part[-1],
                )  # fmt: skip
            if progress:
                progress(step + 1, steps + 1)
    else:
        zones = dict(ranked)
        size = CHUNK * 10
        for step in range(steps):
            part = ids[step * size : (step + 1) * size]
            _python_days(session, campaign, scoring, {cid: zones[cid] for cid in part})
            if progress:
                progress(step + 1, steps + 1)
    if _postgresql(session):
        session.execute(text("ANALYZE campaign_days"))  # a million rows may have arrived
    _write_points(session, campaign, scoring)
    campaign.points_rules = rules_of(campaign)
    session.flush()
    if progress:
        progress(steps + 1, steps + 1)
    return len(ids)


def rescore(session: Session, campaign: Campaign, creator_ids: Sequence[int]) -> None:
    """Recompute every day and the points of some ranked creators (e.g. their time zone
    changed since their points were kept)."""
    scoring = scoring_of(campaign.scoring)
    for start in range(0, len(creator_ids), CHUNK):
        chunk = list(creator_ids[start : start + CHUNK])
        session.execute(
            delete(CampaignDay).where(
                CampaignDay.campaign_id == campaign.id, CampaignDay.creator_id.in_(chunk)
            )
        )
        if _postgresql(session):
            _pg_days(
                session, campaign, scoring,
                scope="AND e.creator_id = ANY(CAST(:ids AS bigint[]))", ids=chunk,
            )  # fmt: skip
        else:
            zones = dict(
                session.execute(
                    select(Creator.id, Creator.timezone).where(Creator.id.in_(chunk))
                ).all()
            )
            _python_days(session, campaign, scoring, zones)
        _write_points(session, campaign, scoring, chunk)


def ensure_kept(session: Session, campaign: Campaign) -> None:
    """Before a campaign's points are read: backfilled if they were kept for other rules
    (or never), and the ranked creators without points or whose time zone changed since
    rescored."""
    if campaign.enrolled_at is None:
        return
    if not is_kept(campaign):
        backfill(session, campaign)
        return
    stale = list(
        session.scalars(
            select(Enrolment.creator_id)
            .join(Creator, Creator.id == Enrolment.creator_id)
            .where(
                Enrolment.campaign_id == campaign.id,
                Enrolment.league.is_not(None),
                or_(Enrolment.points.is_(None), Enrolment.points_zone != Creator.timezone),
            )
        )
    )
    if stale:
        rescore(session, campaign, stale)


def record_import(stage: Stage, today: date) -> None:
    """After an import wrote its sessions: for every campaign whose points are kept and
    whose days the written sessions fall in, the touched creator-local days recomputed
    and those creators' points set from their days."""
    from matchdesk.results.staging import CREATED, STAGING, UNCHANGED, S

    session = stage.session
    span = session.execute(
        select(func.min(S.day), func.max(S.day)).where(S.state != UNCHANGED)
    ).one()
    if span[0] is None:
        return
    campaigns = [
        c
        for c in session.scalars(
            select(Campaign).where(
                Campaign.enrolled_at.is_not(None),
                Campaign.starts <= span[1],
                Campaign.ends >= span[0],
            )
        )
        if is_kept(c)
    ]
    for campaign in campaigns:
        scoring = scoring_of(campaign.scoring)
        if _postgresql(session):
            parameters = {
                **_pg_parameters(campaign, scoring),
                "unchanged": UNCHANGED,
                "created": CREATED,
            }
            session.execute(text("DROP TABLE IF EXISTS campaign_touched"))
            session.execute(text(_PG_TOUCHED), parameters)
            session.execute(text("ANALYZE campaign_touched"))
            session.execute(text("DROP TABLE IF EXISTS campaign_delta"))
            session.execute(
                text(
                    "CREATE TEMPORARY TABLE campaign_delta (creator_id bigint, diamonds bigint,"
                    " bonus_diamonds bigint, wins bigint, live_points bigint, capped bigint)"
                    " ON COMMIT DROP"
                )
            )
            session.execute(text(_PG_OLD), parameters)
            session.execute(text(_PG_ADDED.format(bonus=_bonus_sql(scoring))), parameters)
            insert = _PG_TOUCHED_DAYS.format(bonus=_bonus_sql(scoring)).strip()
            session.execute(text(_PG_NEW.format(insert=insert)), parameters)
            session.execute(text("DROP TABLE campaign_delta"))
            session.execute(text("DROP TABLE campaign_touched"))
            continue
        # The staging table outermost (SQLite has no statistics for it): the ranked
        # creators as an IN list, each creator's zone by its primary key.
        ranked = select(Enrolment.creator_id).where(
            Enrolment.campaign_id == campaign.id, Enrolment.league.is_not(None)
        )
        zone_of = select(Creator.timezone).where(Creator.id == S.creator_id).scalar_subquery()
        rows = session.execute(
            select(S.creator_id, S.started_at, zone_of)
            .select_from(STAGING)
            .where(
                S.creator_id.in_(ranked),
                S.state != UNCHANGED,
                S.day >= campaign.starts,
                S.day <= campaign.ends,
            )
        ).all()
        if not rows:
            continue
        zones: dict[int, str] = {}
        wanted: set[tuple[int, date]] = set()
        for cid, started, zone in rows:
            zones[cid] = zone
            wanted.add((cid, _aware(started).astimezone(ZoneInfo(zone)).date()))
        delta = _old_days(session, campaign, wanted)
        _many(
            session,
            "DELETE FROM campaign_days WHERE campaign_id = ? AND creator_id = ? AND day = ?",
            [(campaign.id, c, d.isoformat()) for c, d in sorted(wanted)],
        )
        for row in _python_days(session, campaign, scoring, zones, wanted):
            _add(delta[row[1]], row[3], row[4], row[6], row[7], row[8], 1)
        _apply(session, campaign, scoring, delta)


def _add(
    sums: list[int], diamonds: int, bonus: int, wins: int, live: int, capped: Any, sign: int
) -> None:
    """A day's figures added to (`sign` 1) or taken from (-1) a creator's sums."""
    sums[0] += sign * diamonds
    sums[1] += sign * bonus
    sums[2] += sign * wins
    if capped:
        sums[4] += sign
    else:
        sums[3] += sign * live


def _raw(session: Session, statement: str, parameters: Sequence[Any]) -> list[Any]:
    """SQLite: the rows of `statement` (qmark parameters) by the driver itself."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    rows: list[Any] = raw.execute(statement, parameters).fetchall()
    return rows


def _old_days(
    session: Session, campaign: Campaign, wanted: set[tuple[int, date]]
) -> dict[int, list[int]]:
    """SQLite: minus the sums of the kept rows of the `wanted` days, per creator (their
    creators' rows between the first and last of those days, by the primary key)."""
    delta: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    days = {(cid, day.isoformat()) for cid, day in wanted}
    ids = sorted({cid for cid, _ in wanted})
    first, last = min(d for _, d in days), max(d for _, d in days)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for cid, day, diamonds, bonus, wins, live, capped in _raw(
            session,
            "SELECT creator_id, day, diamonds, bonus_diamonds, wins, live_points, capped"
            " FROM campaign_days WHERE campaign_id = ? AND day >= ? AND day <= ?"
            f" AND creator_id IN ({', '.join('?' for _ in chunk)})",
            [campaign.id, first, last, *chunk],
        ):
            if (cid, day) in days:
                _add(delta[cid], diamonds, bonus, wins, live, capped, -1)
    return delta


def _apply(
    session: Session, campaign: Campaign, scoring: Scoring, delta: dict[int, list[int]]
) -> None:
    """SQLite: each creator's kept sums moved by their difference and their points set
    from them (None kept None: rescored at the next read)."""
    ids = sorted(delta)
    rows = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        for cid, kept, *sums in _raw(
            session,
            f"SELECT creator_id, points, {', '.join(SUM_COLUMNS)} FROM campaign_enrolments"
            f" WHERE campaign_id = ? AND creator_id IN ({', '.join('?' for _ in chunk)})",
            [campaign.id, *chunk],
        ):
            change = delta[cid]
            new = [a + b for a, b in zip(sums, change, strict=True)]
            value = None if kept is None else total_points(scoring, *new)
            rows.append((value, *new, campaign.id, cid))
    _many(
        session,
        "UPDATE campaign_enrolments SET points = ?,"
        + ", ".join(f" {name} = ?" for name in SUM_COLUMNS)
        + " WHERE campaign_id = ? AND creator_id = ?",
        rows,
    )
