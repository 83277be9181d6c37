"""The report pages: the program report and a creator's report (a period picker, the
previous period beside it), every table as CSV or XLSX, every chart as SVG or PNG."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from matchdesk.errors import NotFound
from matchdesk.results.charts import render as render_chart
from matchdesk.results.exports import export
from matchdesk.results.report_tables import ReportPage, creator_page, in_language, program_page
from matchdesk.results.reports import parse_range
from matchdesk.results.staging import today_in
from matchdesk.results.warming import default_period
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)
Fmt = Literal["csv", "xlsx"]
ChartFmt = Literal["svg", "png"]


def period(request: Request, start: str | None, end: str | None) -> tuple[date, date]:
    """The asked period, or the last four weeks up to today (program time)."""
    if not start and not end:
        return default_period(today_in(app_of(request).program.program.timezone))
    return parse_range(start, end)


def _program(request: Request, start: str | None, end: str | None) -> ReportPage:
    md = app_of(request)
    first, last = period(request, start, end)
    with md.transaction() as session:
        return program_page(
            session,
            md.program,
            first,
            last,
            today_in(md.program.program.timezone),
            request.app.state.results_cache,
        )


def _file(data: bytes, media: str, name: str) -> Response:
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def page_context(page: ReportPage) -> dict[str, Any]:
    return {
        "page": page,
        "specs": page.chart_specs(),
        "query": f"from={page.start.isoformat()}&to={page.end.isoformat()}",
    }


@router.get("/reports")
def program_report_page(
    request: Request, principal: Principal = Depends(require("viewer"))
) -> Response:
    page = _program(request, request.query_params.get("from"), request.query_params.get("to"))
    return render(request, "report_program.html", **page_context(page))


@router.get("/reports/export/{table}.{fmt}")
def program_report_export(
    request: Request, table: str, fmt: Fmt, principal: Principal = Depends(require("viewer"))
) -> Response:
    page = _program(request, request.query_params.get("from"), request.query_params.get("to"))
    if table not in page.tables:
        raise NotFound(f"No report table {table!r}.")
    data, media = export(page.tables[table], fmt)
    return _file(data, media, f"program-{table}-{page.start}-{page.end}.{fmt}")


def _chart(page: ReportPage, chart: str, fmt: ChartFmt) -> Response:
    if chart not in page.charts:
        raise NotFound(f"No report chart {chart!r}.")
    media = "image/svg+xml" if fmt == "svg" else "image/png"
    return Response(render_chart(page.chart(chart), fmt), media_type=media)


@router.get("/reports/charts/{chart}.{fmt}")
def program_report_chart(
    request: Request, chart: str, fmt: ChartFmt, principal: Principal = Depends(require("viewer"))
) -> Response:
    page = _program(request, request.query_params.get("from"), request.query_params.get("to"))
    return _chart(page, chart, fmt)


def _creator(request: Request, handle: str) -> ReportPage:
    md = app_of(request)
    first, last = period(request, request.query_params.get("from"), request.query_params.get("to"))
    with md.transaction() as session:
        return creator_page(session, md.program, handle, first, last)


@router.get("/reports/creators/{handle}")
def creator_report_page(
    request: Request, handle: str, principal: Principal = Depends(require("viewer"))
) -> Response:
    page = _creator(request, handle)
    base_url = "/reports/creators/" + page.figures["creator"].handle
    return render(request, "report_creator.html", base_url=base_url, **page_context(page))


@router.get("/reports/creators/{handle}/export/{table}.{fmt}")
def creator_report_export(
    request: Request,
    handle: str,
    table: str,
    fmt: Fmt,
    principal: Principal = Depends(require("viewer")),
) -> Response:
    page = _creator(request, handle)
    if table not in page.tables:
        raise NotFound(f"No report table {table!r}.")
    data, media = export(page.tables[table], fmt)
    who = page.figures["creator"].handle
    return _file(data, media, f"{who}-{table}-{page.start}-{page.end}.{fmt}")


@router.get("/reports/creators/{handle}/charts/{chart}.{fmt}")
def creator_report_chart(
    request: Request,
    handle: str,
    chart: str,
    fmt: ChartFmt,
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """A creator report's chart as SVG or PNG (the page's SVG and PNG links)."""
    return _chart(_creator(request, handle), chart, fmt)


def portal_report(request: Request, token: str, headers: dict[str, str]) -> Response:
    """A creator's own report in the portal: the token says who; nobody else's is reachable.
    It speaks the creator's language (`i18n`): the page's words, the column titles, the
    chart's titles and the period's dates (CLDR's way, as their other portal pages)."""
    from matchdesk.i18n import messages_for
    from matchdesk.portal.links import open_portal, portal_csrf

    md = app_of(request)
    first, last = period(request, request.query_params.get("from"), request.query_params.get("to"))
    with md.transaction() as session:
        view = open_portal(session, md.settings, token)
        page = creator_page(session, md.program, view.handle, first, last)
    i18n = messages_for(view.languages)
    in_language(page, i18n.gettext)
    response = render(
        request,
        "report_creator.html",
        portal=True,
        i18n=i18n,
        period_text=tuple(
            i18n.date(datetime.combine(day, time(), UTC), "UTC") for day in (page.start, page.end)
        ),
        base_url=f"/portal/{token}/report",
        csrf_token=portal_csrf(md.settings, token),
        **page_context(page),
    )
    response.headers.update(headers)
    return response
