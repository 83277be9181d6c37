"""The REST API under /api/v1: creators (list, read, create, change, delete) and the
program's rules. Bearer tokens or a signed-in session (with the X-CSRF-Token header for
changes); a viewer reads, a manager changes. Every error is an `ErrorBody`."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.security import HTTPBearer

from matchdesk.errors import InvalidInput, NotFound
from matchdesk.roster.editing import create_creator, creator_state, delete_creator, update_creator
from matchdesk.roster.queries import CreatorFilter, search_creators
from matchdesk.roster.service import get_creator
from matchdesk.rounds.service import isoformat_z, list_rounds, round_document
from matchdesk.web.schemas import (
    CreatorCreate,
    CreatorList,
    CreatorPublic,
    CreatorQuery,
    CreatorReport,
    CreatorSummary,
    CreatorUpdate,
    ErrorBody,
    ProgramPublic,
    ProgramReport,
    ResultsIn,
    ResultsReportPublic,
    RoundDocument,
    RoundList,
    RoundSummary,
)
from matchdesk.web.security import Principal, app_of, require

# Documents the bearer scheme in OpenAPI (and the docs' "Authorize" button); `require`
# does the checking, for tokens and sessions alike.
_bearer = HTTPBearer(auto_error=False, description="an API token: `Authorization: Bearer mdk_...`")

router = APIRouter(prefix="/api/v1", tags=["api"], dependencies=[Depends(_bearer)])

_ERRORS = {
    400: "The body is not JSON (or not UTF-8).",
    401: "No valid credentials: no token or session, or the token is unknown or revoked.",
    403: "The role is too weak, or a session's change lacks the X-CSRF-Token header.",
    404: "No creator with this handle (or no round with this id).",
    409: "The creator was changed since the given version, or the handle is taken.",
    422: "The request is not valid; `details` lists each problem as `field: message`.",
}
_ETAG = {
    "ETag": {"description": "the creator's version, for If-Match", "schema": {"type": "string"}}
}
_LOCATION = {"Location": {"description": "the new creator's URL", "schema": {"type": "string"}}}
_IF_MATCH_RE = re.compile(r'"([0-9]{1,10})"|([0-9]{1,10})')

HandlePath = Annotated[
    str,
    Path(
        pattern=r"^@?[A-Za-z0-9_.]{1,24}$",
        description="the creator's handle (case-insensitive, `@` optional)",
        examples=["luna.star"],
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=100,
        description='the ETag read (e.g. `"3"`): refuse the change (409) if the creator '
        "changed since; `*` matches any version",
    ),
]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": _ERRORS[s]} for s in statuses}


def _etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(if_match: str | None, version: int | None) -> int | None:
    """The version a change was based on, from `If-Match` or the `version` field."""
    if if_match is None or if_match.strip() == "*":
        return version
    match = _IF_MATCH_RE.fullmatch(if_match.strip())
    if match is None:
        raise InvalidInput(
            "The request is not valid.",
            [f'If-Match: {if_match!r} is not an ETag of this API (e.g. "3")'],
        )
    header_version = int(match.group(1) or match.group(2))
    if version is not None and version != header_version:
        raise InvalidInput(
            "The request is not valid.",
            [f"version: {version} disagrees with If-Match ({header_version})"],
        )
    return header_version


def _as_fields(body: CreatorCreate | CreatorUpdate) -> dict[str, str]:
    """Typed JSON to the roster file's text fields, which `roster.editing` validates."""
    fields: dict[str, str] = {}
    for name, value in body.model_dump(exclude_unset=True, exclude={"version"}).items():
        fields[name] = ";".join(value) if isinstance(value, list) else str(value)
    return fields


@router.get(
    "/creators",
    response_model=CreatorList,
    responses=_errors(401, 403, 422),
    summary="List creators",
)
async def list_creators(  # async: a short in-memory search, no thread-pool hop
    request: Request,
    query: Annotated[CreatorQuery, Query()],
    principal: Principal = Depends(require("viewer")),
) -> CreatorList:
    """Creators matching the filters, a page at a time (sorted by `sort`, ties by handle).
    List items leave out availability and block list; read a creator for those."""
    filters = CreatorFilter(
        q=query.q,
        tier=query.tier,
        region=query.region,
        language=query.language,
        status=query.status,
    )
    with app_of(request).transaction() as session:
        page = search_creators(
            session,
            filters,
            sort=query.sort,
            page=query.page,
            per_page=query.per_page,
            index=request.app.state.roster_index,
        )
        items = [CreatorSummary.from_creator(c) for c in page.creators]
    return CreatorList(
        items=items, total=page.total, page=page.page, per_page=page.per_page, pages=page.pages
    )


@router.get(
    "/creators/{handle}",
    response_model=CreatorPublic,
    responses={200: {"headers": _ETAG}, **_errors(401, 403, 404, 422)},
    summary="Read a creator",
)
def read_creator(
    request: Request,
    response: Response,
    handle: HandlePath,
    principal: Principal = Depends(require("viewer")),
) -> CreatorPublic:
    """One creator, with an `ETag` of its version."""
    with app_of(request).transaction() as session:
        creator = get_creator(session, handle)
        if creator is None:
            raise NotFound(f"No creator with handle @{handle.removeprefix('@').lower()}.")
        result = CreatorPublic.from_state(creator_state(session, creator))
    response.headers["ETag"] = _etag(result.version)
    return result


@router.post(
    "/creators",
    response_model=CreatorPublic,
    status_code=201,
    responses={201: {"headers": {**_ETAG, **_LOCATION}}, **_errors(400, 401, 403, 409, 422)},
    summary="Add a creator",
)
def add_creator(
    request: Request,
    response: Response,
    body: CreatorCreate,
    principal: Principal = Depends(require("manager")),
) -> CreatorPublic:
    """Add a creator; fields are validated as the roster file's cells are. Audited."""
    md = app_of(request)
    with md.transaction() as session:
        creator = create_creator(session, md.program, _as_fields(body), principal.actor)
        result = CreatorPublic.from_state(creator_state(session, creator))
    response.headers["Location"] = f"{router.prefix}/creators/{result.handle}"
    response.headers["ETag"] = _etag(result.version)
    return result


@router.patch(
    "/creators/{handle}",
    response_model=CreatorPublic,
    responses={200: {"headers": _ETAG}, **_errors(400, 401, 403, 404, 409, 422)},
    summary="Change a creator",
)
def change_creator(
    request: Request,
    response: Response,
    handle: HandlePath,
    body: CreatorUpdate,
    if_match: IfMatch = None,
    principal: Principal = Depends(require("manager")),
) -> CreatorPublic:
    """Change the fields given. With `If-Match` or `version`, a stale edit is refused (409)
    instead of silently overwriting someone else's change. Audited."""
    md = app_of(request)
    expected = _expected_version(if_match, body.version)
    with md.transaction() as session:
        creator = update_creator(
            session, md.program, handle, _as_fields(body), principal.actor, expected
        )
        result = CreatorPublic.from_state(creator_state(session, creator))
    response.headers["ETag"] = _etag(result.version)
    return result


@router.delete(
    "/creators/{handle}",
    status_code=204,
    response_class=Response,
    responses=_errors(401, 403, 404, 409, 422),
    summary="Delete a creator",
)
def remove_creator(
    request: Request,
    handle: HandlePath,
    if_match: IfMatch = None,
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="the version read (or use If-Match)")
    ] = None,
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Delete a creator with their availability, languages and blocks. Audited."""
    expected = _expected_version(if_match, version)
    with app_of(request).transaction() as session:
        delete_creator(session, handle, principal.actor, expected)
    return Response(status_code=204)


@router.get(
    "/program",
    response_model=ProgramPublic,
    responses=_errors(401, 403),
    summary="The program's rules",
)
def program_rules(
    request: Request, principal: Principal = Depends(require("viewer"))
) -> ProgramPublic:
    """Name, time zone, tiers (the first whose minimums are all met wins) and matching rules."""
    return ProgramPublic.from_program(app_of(request).program)


@router.get(
    "/rounds",
    response_model=RoundList,
    responses=_errors(401, 403),
    summary="List rounds",
)
def rounds_list(request: Request, principal: Principal = Depends(require("viewer"))) -> RoundList:
    """The 100 most recent rounds (newest period first) with their match and bye counts."""
    with app_of(request).transaction() as session:
        rows = list_rounds(session)
    return RoundList(
        items=[
            RoundSummary(
                round_id=r.id,
                cadence=r.cadence,
                tier=r.tier,
                status=r.status,
                period_start=isoformat_z(r.period_start),
                period_end=isoformat_z(r.period_end),
                matches=n_matches,
                byes=n_byes,
                version=r.version,
            )
            for r, n_matches, n_byes in rows
        ]
    )


@router.get(
    "/rounds/{round_id}",
    response_model=RoundDocument,
    responses=_errors(401, 403, 404, 422),
    summary="Read a round",
)
def round_read(
    request: Request,
    round_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="the round's id")],
    principal: Principal = Depends(require("viewer")),
) -> RoundDocument:
    """Every match (by start time) and bye (by handle) of a round, exactly as
    `matchdesk rounds show ID --json` prints it (SPEC section 3)."""
    with app_of(request).transaction() as session:
        document = round_document(session, round_id)
    return RoundDocument.model_validate(document)


@router.post(
    "/results",
    response_model=ResultsReportPublic,
    responses=_errors(400, 401, 403, 422),
    summary="Import session results",
)
def results_import(
    request: Request,
    body: ResultsIn,
    principal: Principal = Depends(require("manager")),
) -> ResultsReportPublic:
    """Import LIVE session results, validated exactly like a results file: every row or
    none, every problem listed as `row N, column C: message`. Sessions are keyed by
    handle and start; the same row again changes nothing."""
    from matchdesk.results.service import import_rows

    md = app_of(request)
    with md.transaction() as session:
        report = import_rows(
            session, md.program, body.rows, actor=principal.actor, dry_run=body.dry_run
        )
    return ResultsReportPublic(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        linked=report.linked,
        matches_completed=report.matches_completed,
        dry_run=report.dry_run,
    )


_FROM = Query(alias="from", description="first program day, YYYY-MM-DD", examples=["2026-03-02"])
_TO = Query(alias="to", description="last program day (included), YYYY-MM-DD")


@router.get(
    "/reports/creators/{handle}",
    response_model=CreatorReport,
    responses=_errors(401, 403, 404, 422),
    summary="A creator's report",
)
def report_creator(
    request: Request,
    handle: HandlePath,
    start: Annotated[str | None, _FROM] = None,
    end: Annotated[str | None, _TO] = None,
    principal: Principal = Depends(require("viewer")),
) -> CreatorReport:
    """A creator's sessions, LIVE minutes, diamonds, days live, completed matches and
    uplift over the program days `from` to `to` (SPEC section 5)."""
    from matchdesk.results.reports import creator_report, parse_range

    first, last = parse_range(start, end)
    md = app_of(request)
    with md.transaction() as session:
        document = creator_report(session, md.program, handle, first, last)
    return CreatorReport.model_validate(document)


@router.get(
    "/reports/program",
    response_model=ProgramReport,
    responses=_errors(401, 403, 422),
    summary="The program's report",
)
def report_program(
    request: Request,
    start: Annotated[str | None, _FROM] = None,
    end: Annotated[str | None, _TO] = None,
    principal: Principal = Depends(require("viewer")),
) -> ProgramReport:
    """The program's figures per program week (from Monday, the range's days only) and
    per tier over the program days `from` to `to` (SPEC section 5)."""
    from matchdesk.results.reports import parse_range, program_report

    first, last = parse_range(start, end)
    md = app_of(request)
    with md.transaction() as session:
        document = program_report(session, md.program, first, last)
    return ProgramReport.model_validate(document)
