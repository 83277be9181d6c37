"""The rounds pages: the list with the build form, a build job's progress, the round board
with its edits, and the exports.

Every edit form carries the round's `version` as the page showed it; the service refuses a
stale one (409, with who changed the round), so two managers never overwrite each other.
Edits answer 303 back to the board with a one-line note kept in the session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from matchdesk import clock
from matchdesk.audit import entries_for
from matchdesk.errors import MatchdeskError
from matchdesk.jobs import service as jobs
from matchdesk.roster.index import RosterIndex
from matchdesk.roster.search import search_term
from matchdesk.rounds import board, lifecycle
from matchdesk.rounds.board import Edit, in_plain_words
from matchdesk.rounds.export import CONTENT_TYPES, export_round
from matchdesk.rounds.jobs import BUILD, PUBLISH
from matchdesk.rounds.models import MATCH_STATUSES
from matchdesk.rounds.period import CADENCES, next_start, parse_start, program_today
from matchdesk.rounds.queries import (
    PER_PAGE,
    BoardFilter,
    Unreachable,
    board_page,
    board_row,
    match_statuses,
    round_byes,
    unreachable,
)
from matchdesk.rounds.records import page_records
from matchdesk.rounds.service import (
    build_round,
    count_matches,
    discard_round,
    get_round,
    late_build_note,
    list_rounds,
    plan_round,
)
from matchdesk.web.addresses import served_settings, served_url
from matchdesk.web.job_links import import_outcome
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

# Ids come from addresses anyone can type: keep them inside the database's integers.
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MatchId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Version = Annotated[int, Form(ge=1, le=2**31 - 1)]
HandleField = Annotated[str, Form(max_length=30)]
AUDIT_SHOWN = 200  # a long-lived round's log is long; the newest entries matter most


def _edit(principal: Principal, version: int) -> Edit:
    return Edit(actor=principal.actor, expected_version=version)


def _back(request: Request, round_id: int, note: str) -> Response:
    """303 to the board, with `note` shown once at its top."""
    request.session["flash"] = note
    return RedirectResponse(f"/rounds/{round_id}", status_code=303)


def _fragment(request: Request) -> bool:
    """Whether HTMX asks for a fragment (not when it restores a page from history, which
    needs the whole page)."""
    headers = request.headers
    return bool(headers.get("hx-request")) and not headers.get("hx-history-restore-request")


def _names(request: Request, session: Session, q: str) -> RosterIndex | None:
    """The roster's in-memory index when the board searches (so display names are found
    as well as handles); None without a search."""
    if not search_term(q):
        return None
    index: RosterIndex = request.app.state.roster_index.current(session)
    return index


def _board_filters(
    q: str = Form("", max_length=30),
    status: str = Form("", max_length=12),
    tier: str = Form("", max_length=40),
    locked: str = Form("", max_length=3),
    reason: str = Form("", max_length=60),
) -> BoardFilter:
    """The board's filters, sent along with an edit made through HTMX (`hx-include`)."""
    return BoardFilter(q=q, status=status, tier=tier, locked=locked, reason=reason)


def _row_filters(
    q: str = Form("", max_length=30), reason: str = Form("", max_length=60)
) -> BoardFilter:
    """What a row's edit sends of the board's filters (`hx-include`): the search and the
    byes' reason, for the byes it sends back (its own `locked` field is the lock's)."""
    return BoardFilter(q=q, reason=reason)


def _edited(
    request: Request,
    round_id: int,
    work: Callable[[Session], str],
    *,
    row: int | None = None,
    filters: BoardFilter | None = None,
) -> Response:
    """Run a board edit (`work` returns its note). A plain form gets the 303 back to the
    board. Through HTMX the board stays where it is: the answer is the changed row (`row`)
    or the matches' table (`filters`), the note in #board-note, and the round's new
    version in `HX-Trigger` (static/board.js puts it in every form), and the tiles and
    the byes in place of the page's (htmx's <hx-partial>: an unpaired pair shows among
    the byes at once);
    a refused edit changes nothing on the page but the note, in plain words (a plain
    form's refusal is its error page, in the same words, with a link back to the board)."""
    md = app_of(request)
    htmx = _fragment(request)
    try:
        with md.transaction() as session:
            note = work(session)
            if not htmx:
                return _back(request, round_id, note)
            round_ = get_round(session, round_id)
            now = clock.now()
            shown_filters = filters or BoardFilter()
            names = _names(request, session, shown_filters.q)  # once for matches and byes
            statuses = None  # the tiles' counts, from the page when one is read
            if row is not None:
                shown = board_row(session, round_id, row)
                body = (
                    b""
                    if shown is None
                    else render(
                        request,
                        "round_match_row.html",
                        m=shown,
                        round=round_,
                        now=now,
                        records=page_records(session, round_id, [shown]),
                    ).body
                )
            else:
                page = board_page(session, round_id, shown_filters, names=names)
                statuses = page.statuses
                body = render(
                    request,
                    "round_matches.html",
                    round=round_,
                    result=page,
                    filters=shown_filters,
                    now=now,
                    records=page_records(session, round_id, page.matches),
                ).body
            byes, bye_total, reasons = round_byes(
                session, round_id, shown_filters.q, shown_filters.reason, names=names
            )
            around = render(
                request,
                "round_edit_oob.html",
                round=round_,
                result={"statuses": statuses or match_statuses(session, round_id)},
                statuses=MATCH_STATUSES,
                byes=byes,
                bye_total=bye_total,
                reasons=reasons,
                reason=shown_filters.reason,
                filters=shown_filters,
            ).body
            version = round_.version
    except MatchdeskError as exc:
        if not htmx:
            # Without JavaScript: the refusal's page says it in the same plain words and
            # leads back to the board (the status stays the refusal's own).
            back = (f"/rounds/{round_id}", "Back to the board")
            raise type(exc)(in_plain_words(exc), links=[*exc.links, back]) from exc
        refused = render(request, "round_edit_answer.html", note=in_plain_words(exc), refused=True)
        refused.headers["HX-Reswap"] = "none"
        return refused
    answer = render(
        request,
        "round_edit_answer.html",
        note=note,
        refused=False,
        gone=row if row is not None and not body else None,
    )
    response = Response(bytes(body) + bytes(answer.body) + bytes(around), media_type="text/html")
    response.headers["HX-Trigger"] = json.dumps({"round-version": {"version": version}})
    return response


@router.get("/rounds")
def rounds_page(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    """Recent rounds and, for managers, the form that builds one."""
    md = app_of(request)
    with md.transaction() as session:
        rounds = list_rounds(session)
    today = program_today(md.program.program.timezone)
    return render(
        request,
        "rounds.html",
        rounds=rounds,
        defaults={cadence: next_start(cadence, today) for cadence in CADENCES},
        flash=request.session.pop("flash", None),
    )


@router.post("/rounds")
def rounds_build(
    request: Request,
    cadence: str = Form(..., max_length=10),
    start: str = Form(..., max_length=20),
    tier: str = Form("", max_length=40),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Build a draft round: inside the request for a pool up to `round_inline_limit`
    creators, else as a background job whose progress page opens the round when done."""
    md = app_of(request)
    day = parse_start(start)
    now = clock.now()
    with md.transaction() as session:
        plan = plan_round(
            session, md.program, cadence=cadence, start=day, tier=tier or None, not_before=now
        )
        if plan.pool_size > md.settings.round_inline_limit:
            job = jobs.submit(
                session,
                BUILD,
                {
                    "cadence": cadence,
                    "start": day.isoformat(),
                    "tier": tier or None,
                    "actor": principal.actor,
                    "seed": 0,
                    "not_before": now.isoformat(),
                },
            )
            return RedirectResponse(f"/jobs/{job.id}", status_code=303)
        round_ = build_round(
            session,
            md.program,
            cadence=cadence,
            start=day,
            tier=tier or None,
            actor=principal.actor,
            not_before=now,
        )
        session.flush()
        round_id, matched = round_.id, round_.statistics.get("matched", 0)
        late = late_build_note(round_, md.program.program.timezone)
    note = f"Round built: {matched // 2:,} matches from {plan.pool_size:,} creators."
    note += f" {late}" if late else ""
    return _back(request, round_id, note)


@router.get("/jobs/{job_id}")
def job_page(
    request: Request,
    job_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """A background job's progress. HTMX polls the same address for the progress fragment
    every second; once a round build is done the fragment sends the browser to the round."""
    with app_of(request).transaction() as session:
        job = jobs.get_job(session, job_id)
    round_id = (job.result or {}).get("round_id") if job.status == "done" else None
    outcome = import_outcome(job)
    if _fragment(request):
        response = render(request, "job_progress.html", job=job, round_id=round_id, outcome=outcome)
        if round_id is not None:
            response.headers["HX-Redirect"] = f"/rounds/{round_id}"
        elif outcome is not None:
            response.headers["HX-Redirect"] = outcome[0]
        return response
    return render(request, "job.html", job=job, round_id=round_id, outcome=outcome)


@router.get("/rounds/{round_id}")
def round_board(
    request: Request,
    round_id: RoundId,
    q: str = Query("", max_length=30),
    status: str = Query("", max_length=12),
    tier: str = Query("", max_length=40),
    locked: str = Query("", max_length=3),
    page: int = Query(1, ge=1, le=100_000),
    reason: str = Query("", max_length=60),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The round board: header and figures, filters, one page of matches, byes, actions
    (managers) and the audit log. An HTMX request gets just the matches' fragment."""
    md = app_of(request)
    filters = BoardFilter(q=q, status=status, tier=tier, locked=locked, reason=reason)
    with md.transaction() as session:
        round_ = get_round(session, round_id)
        names = _names(request, session, q)
        matches = board_page(session, round_id, filters, page, names=names)
        records = page_records(session, round_id, matches.matches)
        if _fragment(request):
            return render(
                request,
                "round_matches.html",
                round=round_,
                result=matches,
                filters=filters,
                now=clock.now(),
                records=records,
            )
        byes, bye_total, reasons = round_byes(session, round_id, q, reason, names=names)
        history = entries_for(session, "round", round_id)[:AUDIT_SHOWN]
        no_email = unreachable(session, round_id)
    return render(
        request,
        "round.html",
        round=round_,
        result=matches,
        filters=filters,
        byes=byes,
        bye_total=bye_total,
        reasons=reasons,
        reason=reason,
        history=history,
        no_email=no_email,
        records=records,
        statuses=MATCH_STATUSES,
        per_page=PER_PAGE,
        now=clock.now(),
        flash=request.session.pop("flash", None),
    )


@router.get("/rounds/{round_id}/export.{fmt}")
def round_export(
    request: Request,
    round_id: RoundId,
    fmt: Annotated[str, Path(max_length=5)],
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The round as CSV, XLSX or ICS (SPEC section 3's fields)."""
    with app_of(request).transaction() as session:
        data = export_round(session, round_id, fmt)
    return Response(
        data,
        media_type=CONTENT_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="round-{round_id}.{fmt}"'},
    )


@router.post("/rounds/{round_id}/matches/{match_id}/lock")
def match_lock(
    request: Request,
    round_id: RoundId,
    match_id: MatchId,
    version: Version,
    locked: bool = Form(True),
    filters: BoardFilter = Depends(_row_filters),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Lock a pair (re-optimising keeps it) or unlock it."""

    def work(session: Session) -> str:
        board.set_locked(session, round_id, match_id, locked, _edit(principal, version))
        return f"Match {match_id} {'locked' if locked else 'unlocked'}."

    return _edited(request, round_id, work, row=match_id, filters=filters)


@router.post("/rounds/{round_id}/matches/{match_id}/unpair")
def match_unpair(
    request: Request,
    round_id: RoundId,
    match_id: MatchId,
    version: Version,
    filters: BoardFilter = Depends(_row_filters),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Take a pair apart; both creators get a bye."""
    md = app_of(request)

    def work(session: Session) -> str:
        edit = _edit(principal, version)
        board.unpair(session, served_settings(request), md.program, round_id, match_id, edit)
        return f"Match {match_id} unpaired; both creators have a bye."

    return _edited(request, round_id, work, row=match_id, filters=filters)


@router.post("/rounds/{round_id}/matches/{match_id}/no-show")
def match_no_show(
    request: Request,
    round_id: RoundId,
    match_id: MatchId,
    version: Version,
    handles: Annotated[list[str], Form(max_length=2)] = [],  # noqa: B006 (FastAPI copies it)
    filters: BoardFilter = Depends(_row_filters),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Mark who of a past match did not turn up."""

    def work(session: Session) -> str:
        lifecycle.mark_no_show(session, round_id, match_id, handles, _edit(principal, version))
        return f"Match {match_id} marked a no-show."

    return _edited(request, round_id, work, row=match_id, filters=filters)


@router.post("/rounds/{round_id}/swap")
def round_swap(
    request: Request,
    round_id: RoundId,
    version: Version,
    first: HandleField,
    second: HandleField,
    filters: BoardFilter = Depends(_board_filters),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Two creators of different matches exchange partners."""
    md = app_of(request)

    def work(session: Session) -> str:
        edit = _edit(principal, version)
        board.swap(session, served_settings(request), md.program, round_id, first, second, edit)
        x, y = first.strip().lstrip("@"), second.strip().lstrip("@")
        return f"Swapped: @{x} and @{y} exchanged partners."

    return _edited(request, round_id, work, filters=filters)


@router.post("/rounds/{round_id}/pair")
def round_pair(
    request: Request,
    round_id: RoundId,
    version: Version,
    first: HandleField,
    second: HandleField,
    filters: BoardFilter = Depends(_board_filters),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Pair two unmatched creators by hand (locked); refused naming the broken rule."""
    md = app_of(request)

    def work(session: Session) -> str:
        edit = _edit(principal, version)
        made = board.pair(
            session, served_settings(request), md.program, round_id, first, second, edit
        )
        session.flush()
        return f"Paired by hand: match {made.id}, locked."

    return _edited(request, round_id, work, filters=filters)


@router.post("/rounds/{round_id}/exclude")
def round_exclude(
    request: Request,
    round_id: RoundId,
    version: Version,
    handle: HandleField,
    filters: BoardFilter = Depends(_board_filters),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Leave a creator out of the round (their partner is freed)."""
    md = app_of(request)

    def work(session: Session) -> str:
        edit = _edit(principal, version)
        board.exclude(session, served_settings(request), md.program, round_id, handle, edit)
        return f"@{handle.strip().lstrip('@')} excluded from the round."

    return _edited(request, round_id, work, filters=filters)


@router.post("/rounds/{round_id}/include")
def round_include(
    request: Request,
    round_id: RoundId,
    version: Version,
    handle: HandleField,
    filters: BoardFilter = Depends(_board_filters),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Bring an excluded creator back (matched at the next re-optimise or rematch)."""

    def work(session: Session) -> str:
        board.include(session, round_id, handle, _edit(principal, version))
        return f"@{handle.strip().lstrip('@')} is back in the round."

    return _edited(request, round_id, work, filters=filters)


@router.post("/rounds/{round_id}/reoptimise")
def round_reoptimise(
    request: Request,
    round_id: RoundId,
    version: Version,
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Run the engine again on the draft, keeping locked pairs."""
    md = app_of(request)
    with md.transaction() as session:
        count = board.reoptimise(session, md.program, round_id, _edit(principal, version))
    return _back(request, round_id, f"Re-optimised: {count:,} matches.")


@router.post("/rounds/{round_id}/publish")
def round_publish(
    request: Request,
    round_id: RoundId,
    version: Version,
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Publish the draft: every matched creator is invited. A round with more creators to
    invite than `round_inline_limit` is published by a background job (its progress page
    opens the round when done)."""
    md = app_of(request)
    with md.transaction() as session:
        if 2 * count_matches(session, round_id, "proposed") > md.settings.round_inline_limit:
            job = jobs.submit(
                session,
                PUBLISH,
                {
                    "round_id": round_id,
                    "actor": principal.actor,
                    "expected_version": version,
                    "base_url": md.settings.base_url or served_url(request),
                },
            )
            return RedirectResponse(f"/jobs/{job.id}", status_code=303)
        queued = lifecycle.publish(
            session, served_settings(request), md.program, round_id, _edit(principal, version)
        )
        missed = unreachable(session, round_id)
    return _back(request, round_id, f"Published: {queued:,} invitations queued.{_missed(missed)}")


def _missed(missed: Unreachable) -> str:
    """ " N matched creators have no e-mail address ...", or "" when everyone has one."""
    if not missed.total:
        return ""
    names = ", ".join("@" + h for h in missed.handles[:10])
    more = f" and {missed.total - 10:,} more" if missed.total > 10 else ""
    return (
        f" {missed.total:,} matched creator{'s have' if missed.total != 1 else ' has'} no e-mail "
        f"address and got no invitation: {names}{more}. Send them their portal link."
    )


@router.post("/rounds/{round_id}/rematch")
def round_rematch(
    request: Request,
    round_id: RoundId,
    version: Version,
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Pair the published round's free creators with each other."""
    md = app_of(request)
    with md.transaction() as session:
        count = lifecycle.rematch(
            session, served_settings(request), md.program, round_id, _edit(principal, version)
        )
    return _back(request, round_id, f"Rematched: {count:,} new matches.")


@router.post("/rounds/{round_id}/discard")
def round_discard(
    request: Request,
    round_id: RoundId,
    version: Version,
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Discard a draft round (its period can then be built again)."""
    with app_of(request).transaction() as session:
        discard_round(session, round_id, actor=principal.actor, expected_version=version)
    request.session["flash"] = f"Round {round_id} discarded."
    return RedirectResponse("/rounds", status_code=303)
