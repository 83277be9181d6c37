"""The reports' charts: one Altair (Vega-Lite) definition each, drawn in the page by the
vendored vega-embed (static/charts.js) and as static SVG or PNG by vl-convert for
e-mails and printable reports, so the picture is the same everywhere.

Data comes in as plain rows (dicts), already aggregated by `results.reports`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import altair as alt

from matchdesk.i18n import N_

WIDTH = 560
HEIGHT = 200
FORMATS = ("svg", "png")


def _frame(rows: Sequence[dict[str, Any]]) -> alt.Data:
    return alt.Data(values=[dict(row) for row in rows])  # type: ignore[no-untyped-call]


def _with_rows(definition: alt.Chart, rows: Sequence[dict[str, Any]]) -> alt.Chart:
    """The chart `definition` (built once: Altair's encoding checks cost ~100 ms a chart)
    with these rows as its data."""
    chart = definition.copy(deep=False)
    chart.data = _frame(rows)
    return chart


def weekly_diamonds(weeks: Sequence[dict[str, Any]]) -> alt.Chart:
    """Diamonds per program week: a bar a week."""
    return _with_rows(_weekly_diamonds(), weeks)


@cache
def _weekly_diamonds() -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(_frame([]), title="Diamonds per week")
        .mark_bar()
        .encode(
            x=alt.X("week_start:O", title="week from"),
            y=alt.Y("diamonds:Q", title="diamonds"),
            tooltip=["week_start:O", "diamonds:Q", "sessions:Q", "live_hours:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def weekly_hours(weeks: Sequence[dict[str, Any]]) -> alt.Chart:
    """LIVE hours per program week: a line with a point a week."""
    return _with_rows(_weekly_hours(), weeks)


@cache
def _weekly_hours() -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(_frame([]), title="LIVE hours per week")
        .mark_line(point=True)
        .encode(
            x=alt.X("week_start:O", title="week from"),
            y=alt.Y("live_hours:Q", title="LIVE hours"),
            tooltip=["week_start:O", "live_hours:Q", "sessions:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def tiers_over_time(rows: Sequence[dict[str, Any]]) -> alt.Chart:
    """Creators live per week and tier: stacked bars (one segment a week and tier)."""
    return _with_rows(_tiers_over_time(), rows)


@cache
def _tiers_over_time() -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(_frame([]), title="Creators live per week, by tier")
        .mark_bar()
        .encode(
            x=alt.X("week_start:O", title="week from"),
            y=alt.Y("creators_live:Q", title="creators live", stack=True),
            color=alt.Color("tier:N", title="tier"),
            tooltip=["week_start:O", "tier:N", "creators_live:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def daily_diamonds(days: Sequence[dict[str, Any]]) -> alt.Chart:
    """A creator's diamonds per program day they were live: a line with a point a day."""
    return _with_rows(_daily_diamonds(), days)


@cache
def _daily_diamonds() -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(_frame([]), title=N_("Diamonds per day live"))
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=N_("day")),
            y=alt.Y("diamonds:Q", title=N_("diamonds")),
            tooltip=["day:T", "diamonds:Q", "sessions:Q", "live_minutes:Q"],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def spec(chart: alt.Chart) -> dict[str, Any]:
    """The chart's Vega-Lite spec (JSON-ready)."""
    result: dict[str, Any] = chart.to_dict(validate=False)  # the definitions are fixed and tested
    return result


# The creator's chart's tooltip fields, titled as the days table titles its columns (the
# portal's chart shows them in the creator's language, see `spec_json`).
TOOLTIP_TITLES = {
    "day": N_("day"),
    "diamonds": N_("diamonds"),
    "sessions": N_("sessions"),
    "live_minutes": N_("LIVE minutes"),
}


def _translated(document: dict[str, Any], gettext: Callable[[str], str]) -> dict[str, Any]:
    """`document` (a spec) with its title, its axes' titles and its tooltips' titles in
    the language of `gettext` (titles not in the catalogs stay as they are)."""
    if isinstance(document.get("title"), str):
        document["title"] = gettext(document["title"])
    for channel in document.get("encoding", {}).values():
        if isinstance(channel, dict) and isinstance(channel.get("title"), str):
            channel["title"] = gettext(channel["title"])
        elif isinstance(channel, list):  # the tooltip
            for entry in channel:
                if isinstance(entry, dict) and entry.get("field") in TOOLTIP_TITLES:
                    entry["title"] = gettext(TOOLTIP_TITLES[entry["field"]])
    return document


def spec_json(chart: alt.Chart, gettext: Callable[[str], str] | None = None) -> str:
    """The spec as JSON safe inside a `<script type="application/json">` block; with
    `gettext` (a creator's, for the portal), its visible titles in their language."""
    document = spec(chart)
    if gettext is not None:
        document = _translated(document, gettext)
    text = json.dumps(document, ensure_ascii=False, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render(chart: alt.Chart, fmt: str) -> bytes:
    """The chart as a static SVG or PNG (vl-convert: no browser, no network)."""
    import vl_convert as vlc

    if fmt == "svg":
        return vlc.vegalite_to_svg(spec(chart)).encode()
    if fmt == "png":
        return bytes(vlc.vegalite_to_png(spec(chart), scale=2))
    raise ValueError(f"unknown chart format {fmt!r}")
