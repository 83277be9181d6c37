"""The report pages' content, assembled once for the page, the exports and the charts:
each table a `Table` (exports.py), each chart an Altair definition (charts.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import altair as alt
from sqlalchemy.orm import Session

from matchdesk.i18n import N_
from matchdesk.program import Program
from matchdesk.results import analytics, charts
from matchdesk.results.cache import ResultsCache, cached, data_versions
from matchdesk.results.exports import Table
from matchdesk.results.reports import creator_report, find_creator, program_weeks
from matchdesk.results.staging import aware

T = TypeVar("T")
WEEK_COLUMNS = (
    ("week_start", "week from"),
    ("sessions", "sessions"),
    ("live_hours", "LIVE hours"),
    ("diamonds", "diamonds"),
    ("creators_live", "creators live"),
)


@dataclass
class ReportPage:
    """A report's tables (by name, in page order), charts (by name) and headline figures."""

    start: date
    end: date
    tables: dict[str, Table] = field(default_factory=dict)
    # chart name -> what makes it: built only when asked (an Altair chart's data checks
    # cost ~5 ms each, every request, while the page's specs come from the cache)
    charts: dict[str, Callable[[], alt.Chart]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    specs: dict[str, str] = field(default_factory=dict)  # chart name -> its spec's JSON

    def chart(self, name: str) -> alt.Chart:
        """The chart called `name` (KeyError when the page has none)."""
        return self.charts[name]()

    def chart_specs(self) -> dict[str, str]:
        """Each chart's Vega-Lite spec as JSON for the page (kept when already made)."""
        return self.specs or {name: charts.spec_json(make()) for name, make in self.charts.items()}


# An uplift row's columns (`_uplift_row`), per tier and per round and tier.
UPLIFT_COLUMNS = (
    ("tier", "tier"),
    ("estimate", "uplift"),
    ("low", "low"),
    ("high", "high"),
    ("n_matched", "matched"),
    ("n_control", "control"),
)


def _hours(minutes: int) -> float:
    return round(minutes / 60, 1)


def _weeks(session: Session, start: date, end: date) -> list[dict[str, Any]]:
    rows = program_weeks(session, start, end)
    for row in rows:
        row["week_start"] = date.fromisoformat(row["week_start"])
        row["live_hours"] = _hours(row["live_minutes"])
    return rows


def _change(now: int | float, then: int | float) -> float | None:
    return round((now - then) / then, 4) if then else None


def program_page(
    session: Session,
    program: Program,
    start: date,
    end: date,
    today: date,
    cache: ResultsCache | None = None,
) -> ReportPage:
    """Everything the program report shows for the range, with the previous period. The
    figures read from the ledger come from `cache` when given (the web app's)."""

    versions = None if cache is None else data_versions(session)

    def keep(name: str, *key: Any, compute: Callable[[], T]) -> T:
        return cached(cache, session, ("program", name, start, end, *key), compute, versions)

    page = ReportPage(start, end)
    weeks = keep("weeks", compute=lambda: _weeks(session, start, end))
    page.tables["weeks"] = Table("weeks", WEEK_COLUMNS, weeks)
    before = analytics.previous_period(start, end)
    now, then = keep(
        "totals",
        compute=lambda: (analytics.totals(session, start, end), analytics.totals(session, *before)),
    )
    page.figures["previous"] = before
    page.figures["totals"] = [
        {
            "figure": label,
            "now": conv(now[key]),
            "previous": conv(then[key]),
            "change_rate": _change(now[key], then[key]),
        }
        for key, label, conv in (
            ("diamonds", "diamonds", int),
            ("sessions", "sessions", int),
            ("live_minutes", "LIVE hours", _hours),
            ("creators_live", "creators live", int),
        )
    ]
    page.tables["totals"] = Table(
        "totals",
        (
            ("figure", "figure"),
            ("now", "this period"),
            ("previous", "previous period"),
            ("change_rate", "change"),
        ),
        page.figures["totals"],
    )
    page.tables["rounds"] = Table(
        "rounds",
        (
            ("round_id", "round"),
            ("cadence", "cadence"),
            ("tier", "tier"),
            ("period_start", "period from"),
            ("matches", "matches"),
            ("held", "held"),
            ("confirm_rate", "confirm rate"),
            ("decline_rate", "decline rate"),
            ("no_show_rate", "no-show rate"),
        ),
        analytics.round_rates(session, program, start, end),
    )
    pooled, each_round = keep("uplift", compute=lambda: _uplifts(session, program, start, end))
    page.tables["uplift"] = Table("uplift", UPLIFT_COLUMNS, pooled)
    page.tables["round_uplift"] = Table(
        "round_uplift",
        (
            ("round_id", "round"),
            ("cadence", "cadence"),
            ("period_start", "period from"),
            *UPLIFT_COLUMNS,
        ),
        each_round,
    )
    page.tables["movers"] = Table(
        "movers",
        (
            ("handle", "creator"),
            ("tier", "tier"),
            ("diamonds", "diamonds"),
            ("previous", "previous period"),
            ("change", "change"),
            ("change_rate", "change rate"),
        ),
        keep("movers", compute=lambda: analytics.top_movers(session, start, end)),
    )
    dark_count, dark = keep("dark", today, compute=lambda: analytics.gone_dark(session, today))
    page.figures["dark_count"] = dark_count
    page.tables["dark"] = Table(
        "dark",
        (
            ("handle", "creator"),
            ("tier", "tier"),
            ("last_live", "last live"),
            ("days_dark", "days without a session"),
        ),
        dark,
    )
    by_week = keep("tiers", compute=lambda: analytics.tiers_by_week(session, program, start, end))
    tiers = [{**row, "week_start": date.fromisoformat(row["week_start"])} for row in by_week]
    page.tables["tiers"] = Table(
        "tiers",
        (("week_start", "week from"), ("tier", "tier"), ("creators_live", "creators live")),
        tiers,
    )
    chart_weeks = [{**w, "week_start": w["week_start"].isoformat()} for w in weeks]
    tier_weeks = [{**t, "week_start": t["week_start"].isoformat()} for t in tiers]
    page.charts["diamonds"] = lambda: charts.weekly_diamonds(chart_weeks)
    page.charts["hours"] = lambda: charts.weekly_hours(chart_weeks)
    page.charts["tiers"] = lambda: charts.tiers_over_time(tier_weeks)
    page.specs = keep(
        "specs",
        compute=lambda: {name: charts.spec_json(make()) for name, make in page.charts.items()},
    )
    return page


def _uplift_row(u: Any) -> dict[str, Any]:
    return {
        "tier": u.tier,
        "estimate": None if u.estimate is None else round(u.estimate, 4),
        "low": None if u.low is None else round(u.low, 4),
        "high": None if u.high is None else round(u.high, 4),
        "n_matched": u.n_matched,
        "n_control": u.n_control,
    }


def _uplifts(
    session: Session, program: Program, start: date, end: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Uplift per tier pooled over the range's rounds, and per round and tier."""
    from matchdesk.results.uplift import period_uplift

    pooled, each = period_uplift(session, program, start, end)
    zone = ZoneInfo(program.program.timezone)
    rounds = [
        {
            "round_id": round_.id,
            "cadence": round_.cadence,
            "period_start": aware(round_.period_start).astimezone(zone).date(),
            **_uplift_row(u),
        }
        for round_, found in each
        for u in found
    ]
    return [_uplift_row(u) for u in pooled], rounds


def creator_page(
    session: Session, program: Program, handle: str, start: date, end: date
) -> ReportPage:
    """Everything a creator's report shows for the range. The column titles are marked
    for the catalogs (`N_`): the portal's page shows them in the creator's language, the
    exports and the operators' page as written."""
    creator = find_creator(session, handle)
    page = ReportPage(start, end)
    page.figures["creator"] = creator
    page.figures["document"] = creator_report(session, program, creator.handle, start, end)
    days = analytics.creator_days(session, creator.id, start, end)
    page.tables["days"] = Table(
        "days",
        (
            ("day", N_("day")),
            ("sessions", N_("sessions")),
            ("live_minutes", N_("LIVE minutes")),
            ("diamonds", N_("diamonds")),
            ("new_followers", N_("new followers")),
            ("match_sessions", N_("match sessions")),
        ),
        days,
    )
    matches = analytics.creator_matches(session, program, creator.id, start, end)
    for row in matches:
        row["starts_at"] = row["starts_at"].replace(tzinfo=None)  # UTC, for the spreadsheet
    page.tables["matches"] = Table(
        "matches",
        (
            ("match_id", N_("match")),
            ("starts_at", N_("starts (UTC)")),
            ("partner", N_("partner")),
            ("status", N_("status")),
            ("diamonds", N_("diamonds")),
            ("outcome", N_("outcome")),
            ("uplift", N_("uplift")),
        ),
        matches,
    )
    page.figures["reliability"] = analytics.reliability(session, creator.id)
    page.figures["tier"] = analytics.tier_distance(program, creator)
    chart_days = [{**d, "day": d["day"].isoformat()} for d in days]
    page.charts["days"] = lambda: charts.daily_diamonds(chart_days)
    return page


# The matches table's values as the portal's report writes them, in the creator's language
# (the operators' page and the exports keep the stored values).
PORTAL_WORDS = {
    "status": {
        "published": N_("published"),
        "confirmed": N_("confirmed"),
        "declined": N_("declined"),
        "completed": N_("completed"),
        "no_show": N_("no-show"),
    },
    "outcome": {"win": N_("win"), "loss": N_("loss"), "draw": N_("draw")},
}


def in_language(page: ReportPage, gettext: Callable[[str], str]) -> None:
    """The creator's own report page (the portal's) in their language: the charts' titles,
    and the matches table's status and outcome words; the page's copy only (the portal
    exports none; the operators' page and the exports keep the stored values)."""
    page.specs = {name: charts.spec_json(make(), gettext) for name, make in page.charts.items()}
    for row in page.tables["matches"].rows:
        for column, words in PORTAL_WORDS.items():
            if row[column] in words:
                row[column] = gettext(words[row[column]])
