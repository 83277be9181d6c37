"""Campaigns (SPEC section 8): the campaign file, enrolment, leagues and points.

Points of an enrolled creator come from their sessions whose program day (the day the
session starts on the program's clock, kept on each session) is a campaign day:
- diamond points: `diamonds x points_per_diamond`, times `bonus_multiplier` when the
  session starts inside `bonus_hours` on the creator's own clock (a window may cross
  midnight: "22:00-02:00");
- LIVE points: for each day of the creator's own clock, `min(max_live_points_per_day,
  floor(minutes x points_per_live_hour / 60))`, minutes being those of the sessions that
  start on that day (a session belongs wholly to the day it starts);
- win points: `points_per_match_win` per session with `outcome = win`.
Local days and times come from `zoneinfo`, so a DST change moves nothing by an hour.

Points are kept as results are imported (`outreach.standings`: per creator-local day,
and per enrolment the total), so the leaderboard reads one stored figure per creator and
follows each import. `computed_points` computes them from scratch, the reference: on
PostgreSQL one aggregate query (local days and times from its `AT TIME ZONE`, sums in
`numeric`, so exact); on SQLite, which has no time zones, `points` below does, in Python,
from the campaign's sessions.
"""

from __future__ import annotations

import contextlib
import json
import math
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from matchdesk.audit import record
from matchdesk.errors import InvalidInput, NotFound
from matchdesk.outreach.models import Campaign, Enrolment
from matchdesk.outreach.segments import parse_segment, segment_condition
from matchdesk.results.models import LedgerDay, LiveSession
from matchdesk.roster.models import Creator, utcnow

SCORING_DEFAULTS: dict[str, Any] = {
    "points_per_diamond": 0,
    "points_per_live_hour": 0,
    "max_live_points_per_day": None,
    "bonus_hours": None,
    "bonus_multiplier": 1,
    "points_per_match_win": 0,
}


@dataclass(frozen=True)
class Scoring:
    points_per_diamond: float
    points_per_live_hour: float
    max_live_points_per_day: float | None
    bonus: tuple[int, int] | None  # minutes of the day, start and end (end may be <= start)
    bonus_multiplier: float
    points_per_match_win: float

    def in_bonus(self, minute: int) -> bool:
        """Whether a session starting `minute` after local midnight is in the bonus hours."""
        if self.bonus is None:
            return False
        start, end = self.bonus
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end  # crosses midnight


def _clock(text: str, where: str, problems: list[str], allow_24: bool) -> int | None:
    try:
        hours, minutes = (int(p) for p in text.split(":"))
    except ValueError:
        problems.append(f"{where}: {text!r} is not HH:MM")
        return None
    if (hours, minutes) == (24, 0) and allow_24:
        return 1440
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        problems.append(f"{where}: {text!r} is not a time of day")
        return None
    return hours * 60 + minutes


def parse_scoring(data: Any, problems: list[str]) -> dict[str, Any]:
    """The `[scoring]` table, checked, with its defaults."""
    if not isinstance(data, dict):
        problems.append("scoring: must be a table")
        return dict(SCORING_DEFAULTS)
    unknown = sorted(set(data) - set(SCORING_DEFAULTS))
    for key in unknown:
        problems.append(f"scoring.{key}: unknown key")
    scoring = {**SCORING_DEFAULTS, **{k: v for k, v in data.items() if k in SCORING_DEFAULTS}}
    for key in ("points_per_diamond", "points_per_live_hour", "bonus_multiplier",
                "points_per_match_win", "max_live_points_per_day"):  # fmt: skip
        value = scoring[key]
        if value is None and key == "max_live_points_per_day":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            problems.append(f"scoring.{key}: {value!r} is not a number of 0 or more")
    bonus = scoring["bonus_hours"]
    if bonus is not None:
        if not isinstance(bonus, str) or bonus.count("-") != 1:
            problems.append(f"scoring.bonus_hours: {bonus!r} is not HH:MM-HH:MM")
        else:
            start, end = bonus.split("-")
            first = _clock(start.strip(), "scoring.bonus_hours", problems, allow_24=False)
            last = _clock(end.strip(), "scoring.bonus_hours", problems, allow_24=True)
            if first is not None and last is not None and first == last % 1440:
                problems.append("scoring.bonus_hours: an empty window")
    return scoring


def scoring_of(data: dict[str, Any]) -> Scoring:
    bonus = None
    if data.get("bonus_hours"):
        start, end = (p.strip() for p in str(data["bonus_hours"]).split("-"))
        first = int(start[:2]) * 60 + int(start[3:5])
        last = 1440 if end == "24:00" else int(end[:2]) * 60 + int(end[3:5])
        bonus = (first, last % 1440 if last != 1440 else 1440)
    cap = data.get("max_live_points_per_day")
    return Scoring(
        float(data["points_per_diamond"]),
        float(data["points_per_live_hour"]),
        None if cap is None else float(cap),
        bonus,
        float(data["bonus_multiplier"]),
        float(data["points_per_match_win"]),
    )


@dataclass(frozen=True)
class CampaignFile:
    name: str
    starts: date
    ends: date
    segment: dict[str, Any]
    scoring: dict[str, Any]
    leagues: list[dict[str, Any]]


def read_campaign_file(path: Path) -> CampaignFile:
    """The campaign a TOML file describes, or `InvalidInput` listing every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{path}: not valid TOML", [str(exc)]) from None
    problems: list[str] = []
    unknown = sorted(set(data) - {"name", "starts", "ends", "segment", "scoring", "leagues"})
    for key in unknown:
        problems.append(f"{key}: unknown key")
    name = data.get("name")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 200:
        problems.append("name: 1 to 200 characters")
    days = {}
    for key in ("starts", "ends"):
        value = data.get(key)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = date.fromisoformat(value)
        if not isinstance(value, date) or isinstance(value, datetime):
            problems.append(f"{key}: {value!r} is not a date (YYYY-MM-DD)")
        else:
            days[key] = value
    if len(days) == 2 and days["ends"] < days["starts"]:
        problems.append("ends: before starts")
    segment = data.get("segment")
    if isinstance(segment, str):
        where = (path.parent / segment).resolve()
        try:
            segment = json.loads(where.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            problems.append(f"segment: cannot read {segment!r} as a segment JSON file ({exc})")
            segment = None
    if segment is None and "segment" not in data:
        problems.append("segment: missing (an inline table or a segment JSON file)")
    elif segment is not None:
        try:
            segment = parse_segment(segment).as_json()
        except InvalidInput as exc:
            problems.extend(f"segment: {d}" for d in exc.details)
    scoring = parse_scoring(data.get("scoring", {}), problems)
    leagues = data.get("leagues", [])
    if not isinstance(leagues, list):
        problems.append("leagues: must be an array of tables")
        leagues = []
    for index, league in enumerate(leagues):
        place = f"leagues[{index}]"
        if not isinstance(league, dict) or not isinstance(league.get("name"), str):
            problems.append(f"{place}: needs a name")
            continue
        minimum = league.get("min_diamonds_7d", 0)
        if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
            problems.append(f"{place}.min_diamonds_7d: {minimum!r} is not a whole number >= 0")
    if problems or not isinstance(name, str):
        raise InvalidInput(f"{path.name}: the campaign is invalid", problems)
    return CampaignFile(
        name.strip(), days["starts"], days["ends"], segment or {}, scoring,
        [{"name": lg["name"], "min_diamonds_7d": int(lg.get("min_diamonds_7d", 0))}
         for lg in leagues],
    )  # fmt: skip


def create_campaign(session: Session, spec: CampaignFile, *, today: date, actor: str) -> Campaign:
    """Save a campaign; enrol its creators now if it has started."""
    campaign = Campaign(
        name=spec.name,
        starts=spec.starts,
        ends=spec.ends,
        segment=spec.segment,
        scoring=spec.scoring,
        leagues=spec.leagues,
        created_by=actor,
    )
    session.add(campaign)
    session.flush()
    record(session, actor, "campaign.created", "campaign", campaign.id, after={"name": spec.name})
    ensure_enrolled(session, campaign, today)
    return campaign


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"there is no campaign {campaign_id}")
    return campaign


def ensure_enrolled(session: Session, campaign: Campaign, today: date) -> bool:
    """On or after the start, enrol the creators the segment holds (once), each in the
    first league whose minimum their diamonds over the 7 days before the start meet."""
    if campaign.enrolled_at is not None or today < campaign.starts:
        return False
    claimed = (
        session.query(Campaign)
        .filter(Campaign.id == campaign.id, Campaign.enrolled_at.is_(None))
        .update({"enrolled_at": utcnow()}, synchronize_session=False)
    )
    if not claimed:  # another request enrolled them first
        return False
    rules = parse_segment(campaign.segment)
    condition = segment_condition(session, rules, campaign.starts, recompute=False)
    ids = list(session.scalars(select(Creator.id).where(condition)))
    week = (campaign.starts - timedelta(days=7), campaign.starts - timedelta(days=1))
    diamonds = dict(
        session.execute(
            select(LedgerDay.creator_id, func.sum(LedgerDay.diamonds))
            .where(LedgerDay.day >= week[0], LedgerDay.day <= week[1])
            .group_by(LedgerDay.creator_id)
        ).all()
    )
    for cid in ids:
        d7 = int(diamonds.get(cid, 0) or 0)
        league = next(
            (lg["name"] for lg in campaign.leagues if d7 >= int(lg["min_diamonds_7d"])), None
        )
        session.add(Enrolment(campaign_id=campaign.id, creator_id=cid, league=league,
                              diamonds_7d=d7))  # fmt: skip
    session.flush()
    campaign.enrolled_at = utcnow()
    from matchdesk.outreach.standings import backfill

    backfill(session, campaign)  # the points of the sessions imported so far
    return True


def points(
    scoring: Scoring, timezone: str, sessions: Sequence[tuple[datetime, int, int, str | None]]
) -> int:
    """A creator's points from their campaign sessions (started_at, minutes, diamonds,
    outcome), on their own clock in `timezone`."""
    zone = ZoneInfo(timezone)
    total = 0.0
    minutes_by_day: dict[date, int] = defaultdict(int)
    for started, minutes, diamonds, outcome in sessions:
        local = _aware(started).astimezone(zone)
        factor = scoring.bonus_multiplier if scoring.in_bonus(local.hour * 60 + local.minute) else 1
        total += diamonds * scoring.points_per_diamond * factor
        minutes_by_day[local.date()] += minutes
        if outcome == "win":
            total += scoring.points_per_match_win
    for minutes in minutes_by_day.values():
        live: float = math.floor(minutes * scoring.points_per_live_hour / 60)
        if scoring.max_live_points_per_day is not None:
            live = min(live, scoring.max_live_points_per_day)
        total += live
    return math.floor(total)


@dataclass(frozen=True)
class Standing:
    rank: int
    handle: str
    league: str
    points: int

    def as_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "handle": self.handle, "league": self.league,
                "points": self.points}  # fmt: skip


def leaderboard(session: Session, campaign_id: int, *, today: date) -> list[Standing]:
    """The ranked creators of each league (file order), by points then handle."""
    from matchdesk.outreach.standings import ensure_kept

    campaign = get_campaign(session, campaign_id)
    ensure_enrolled(session, campaign, today)
    ensure_kept(session, campaign)
    order = {lg["name"]: i for i, lg in enumerate(campaign.leagues)}
    rows = sorted(
        (order.get(league or "", len(order)), -(points or 0), handle, league or "")
        for handle, league, points in session.execute(
            select(Creator.handle, Enrolment.league, Enrolment.points)
            .join(Enrolment, Enrolment.creator_id == Creator.id)
            .where(Enrolment.campaign_id == campaign_id, Enrolment.league.is_not(None))
        )
    )
    standings: list[Standing] = []
    rank, current = 0, None
    for _order, negative, handle, league in rows:
        if league != current:
            rank, current = 0, league
        rank += 1
        standings.append(Standing(rank, handle, league, -negative))
    return standings


def computed_points(session: Session, campaign: Campaign) -> dict[int, int]:
    """Each ranked creator's points computed from scratch from their sessions (the
    reference the kept points equal; creators without sessions get 0)."""
    scoring = scoring_of(campaign.scoring)
    enrolled = session.execute(
        select(Creator.id, Creator.timezone)
        .join(Enrolment, Enrolment.creator_id == Creator.id)
        .where(Enrolment.campaign_id == campaign.id, Enrolment.league.is_not(None))
    ).all()
    if session.get_bind().dialect.name == "postgresql":
        scores = _points_in_database(session, campaign, scoring)
    else:
        scores = _points_in_python(session, campaign, scoring, dict(enrolled))
    return {cid: scores.get(cid, 0) for cid, _zone in enrolled}


def _points_in_python(
    session: Session, campaign: Campaign, scoring: Scoring, zones: dict[int, str]
) -> dict[int, int]:
    """Each ranked creator's points, their campaign sessions read and scored by `points`."""
    by_creator: dict[int, list[tuple[datetime, int, int, str | None]]] = defaultdict(list)
    for cid, started, minutes, diamonds, outcome in session.execute(
        select(
            LiveSession.creator_id,
            LiveSession.started_at,
            LiveSession.duration_minutes,
            LiveSession.diamonds,
            LiveSession.outcome,
        )
        .join(Enrolment, Enrolment.creator_id == LiveSession.creator_id)
        .where(
            Enrolment.campaign_id == campaign.id,
            Enrolment.league.is_not(None),
            LiveSession.day >= campaign.starts,
            LiveSession.day <= campaign.ends,
        )
    ):
        by_creator[cid].append((started, minutes, diamonds, outcome))
    return {cid: points(scoring, zone, by_creator[cid]) for cid, zone in zones.items()}


# Per (creator, local day): diamonds in and out of the bonus hours, LIVE minutes, wins;
# then per creator the points, in numeric (exact: the scoring's numbers are decimals).
_POINTS_SQL = """
WITH s AS (
    SELECT e.creator_id, ls.started_at AT TIME ZONE c.timezone AS local,
           ls.duration_minutes, ls.diamonds, ls.outcome
    FROM campaign_enrolments AS e
    JOIN creators AS c ON c.id = e.creator_id
    JOIN live_sessions AS ls ON ls.creator_id = e.creator_id
    WHERE e.campaign_id = :campaign AND e.league IS NOT NULL
      AND ls.day >= :starts AND ls.day <= :ends
), days AS (
    SELECT creator_id,
           sum(CASE WHEN {bonus} THEN diamonds ELSE 0 END) AS bonus_diamonds,
           sum(diamonds) AS diamonds,
           sum(duration_minutes) AS minutes,
           count(*) FILTER (WHERE outcome = 'win') AS wins
    FROM s
    GROUP BY creator_id, CAST(local AS date)
)
SELECT creator_id, CAST(floor(sum(
        (diamonds - bonus_diamonds) * CAST(:per_diamond AS numeric)
        + bonus_diamonds * CAST(:per_diamond AS numeric) * CAST(:multiplier AS numeric)
        + wins * CAST(:per_win AS numeric)
        + least(floor(minutes * CAST(:per_hour AS numeric) / 60), CAST(:cap AS numeric))
    )) AS BIGINT)
FROM days
GROUP BY creator_id
"""


def _points_in_database(session: Session, campaign: Campaign, scoring: Scoring) -> dict[int, int]:
    """Each ranked creator's points (those with sessions), in one query on PostgreSQL."""
    # A local time of day at or after HH:MM has hour * 60 + minute at or after it (the
    # seconds only add), and before HH:MM likewise: the same test as `Scoring.in_bonus`.
    clock = "CAST(local AS time)"
    if scoring.bonus is None:
        bonus = "false"
    else:
        start, end = (_time_of_day(m) for m in scoring.bonus)
        joined = "AND" if scoring.bonus[0] < scoring.bonus[1] else "OR"  # OR: crosses midnight
        bonus = f"({clock} >= TIME '{start}' {joined} {clock} < TIME '{end}')"

    def exact(value: float | None) -> Decimal | None:
        return None if value is None else Decimal(repr(value))

    # The per-day grouping holds a few million groups at 10,000,000 sessions: given room
    # in memory for this statement (then the transaction's own setting back), it does not
    # spill to disk in a hundred batches.
    memory = session.scalar(text("SELECT current_setting('work_mem')"))
    session.execute(text("SELECT set_config('work_mem', '256MB', true)"))
    found = session.execute(
        text(_POINTS_SQL.format(bonus=bonus)),
        {
            "campaign": campaign.id,
            "starts": campaign.starts,
            "ends": campaign.ends,
            "per_diamond": exact(scoring.points_per_diamond),
            "multiplier": exact(scoring.bonus_multiplier),
            "per_win": exact(scoring.points_per_match_win),
            "per_hour": exact(scoring.points_per_live_hour),
            "cap": exact(scoring.max_live_points_per_day),
        },
    )
    scores = {int(cid): int(value) for cid, value in found}
    session.execute(text("SELECT set_config('work_mem', :memory, true)"), {"memory": memory})
    return scores


def _time_of_day(minutes: int) -> str:
    return "24:00" if minutes == 1440 else f"{minutes // 60:02d}:{minutes % 60:02d}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def list_campaigns(session: Session) -> list[Campaign]:
    """Every campaign, the latest start first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.starts.desc(), Campaign.id)))


def create_from_text(session: Session, text: str, *, today: date, actor: str) -> Campaign:
    """A campaign from a file's TOML text (the page's form); its segment must be inline."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "campaign.toml"
        path.write_text(text, encoding="utf-8")
        spec = read_campaign_file(path)
    return create_campaign(session, spec, today=today, actor=actor)


def standings_table(campaign: Campaign, standings: Sequence[Standing]) -> Any:
    """The final standings as an export table (CSV or XLSX)."""
    from matchdesk.results.exports import Table

    return Table(
        name=f"campaign-{campaign.id}-standings",
        columns=(
            ("league", "League"),
            ("rank", "Rank"),
            ("handle", "Creator"),
            ("points", "Points"),
        ),
        rows=[s.as_json() for s in standings],
    )


def running_ranks(session: Session, today: date) -> dict[int, int]:
    """Each creator's rank in the latest campaign running today (the `campaign_rank`
    personal field), by creator id."""
    campaign = session.scalars(
        select(Campaign)
        .where(Campaign.starts <= today, Campaign.ends >= today)
        .order_by(Campaign.starts.desc(), Campaign.id.desc())
        .limit(1)
    ).first()
    if campaign is None:
        return {}
    standings = leaderboard(session, campaign.id, today=today)
    ids = dict(
        session.execute(
            select(Creator.handle, Creator.id).where(
                Creator.handle.in_([s.handle for s in standings])
            )
        ).all()
    ) if standings else {}  # fmt: skip
    return {ids[s.handle]: s.rank for s in standings}


@dataclass(frozen=True)
class MyStanding:
    """A creator's place in one campaign (rank None: in no league)."""

    campaign: str
    starts: date
    ends: date
    league: str | None
    rank: int | None
    points: int | None
    ranked: int


def creator_standings(session: Session, creator_id: int, *, today: date) -> list[MyStanding]:
    """The campaigns a creator takes part in (started ones), with their rank and points
    (from the kept points: two counts in their league, not the whole leaderboard)."""
    from matchdesk.outreach.standings import ensure_kept

    handle = session.scalar(select(Creator.handle).where(Creator.id == creator_id))
    found: list[MyStanding] = []
    for campaign in list_campaigns(session):
        ensure_enrolled(session, campaign, today)
        league = session.execute(
            select(Enrolment.league).where(
                Enrolment.campaign_id == campaign.id, Enrolment.creator_id == creator_id
            )
        ).first()
        if league is None:
            continue
        if league[0] is None:  # enrolled, in no league: not ranked
            found.append(
                MyStanding(campaign.name, campaign.starts, campaign.ends, None, None, None, 0)
            )
            continue
        ensure_kept(session, campaign)
        mine = int(
            session.scalar(
                select(func.coalesce(Enrolment.points, 0)).where(
                    Enrolment.campaign_id == campaign.id, Enrolment.creator_id == creator_id
                )
            )
            or 0
        )
        theirs = func.coalesce(Enrolment.points, 0)
        in_league = (Enrolment.campaign_id == campaign.id, Enrolment.league == league[0])
        ahead = session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .join(Creator, Creator.id == Enrolment.creator_id)
            .where(*in_league)
            .where((theirs > mine) | ((theirs == mine) & (Creator.handle < handle)))
        )
        ranked = session.scalar(select(func.count()).select_from(Enrolment).where(*in_league))
        found.append(
            MyStanding(campaign.name, campaign.starts, campaign.ends, league[0],
                       int(ahead or 0) + 1, mine, int(ranked or 0))
        )  # fmt: skip
    return found
