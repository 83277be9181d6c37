"""The Outreach pages: saved segments (rule rows with a live count and sample) and
newsletters. Routes parse the form, call `matchdesk.outreach`, render."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.outreach import service
from matchdesk.outreach.segments import (
    FIELDS,
    OPS,
    Segment,
    document_from_rows,
    load_segment_text,
    parse_segment,
)
from matchdesk.rounds.period import program_today
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

SAMPLE = 20
ALL_OPS = sorted({op for ops in OPS.values() for op in ops}, key=lambda op: (len(op), op))


def _today(request: Request) -> Any:
    return program_today(app_of(request).program.program.timezone)


@router.get("/outreach")
def outreach_page(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    """Saved segments and newsletters with their figures."""
    from matchdesk.outreach.newsletters import list_newsletters

    md = app_of(request)
    with md.transaction() as session:
        segments = service.list_segments(session)
        newsletters = list_newsletters(session)
    webhook = ""
    if principal.role == "admin":  # the bounce webhook's secret address (docs/delivery.md)
        from matchdesk.outreach.bounces import webhook_url

        webhook = webhook_url(md.settings.public_url(), md.settings.signing_key())
    return render(
        request,
        "outreach.html",
        segments=segments,
        newsletters=newsletters,
        bounce_webhook_url=webhook,
    )


def _segment_form(
    request: Request,
    *,
    name: str = "",
    document: dict[str, Any] | None = None,
    version: int | None = None,
    status: int = 200,
    message: str = "",
    problems: list[str] | None = None,
) -> Response:
    document = document or {"match": "all", "rules": [{"field": "tier", "op": "=", "value": ""}]}
    flat = all("rules" not in r for r in document.get("rules", []))
    rows = [
        (
            r.get("field", ""),
            r.get("op", "="),
            ", ".join(str(v) for v in r["value"])
            if isinstance(r.get("value"), list)
            else _text(r.get("value", "")),
        )
        for r in document.get("rules", [])
        if flat
    ]
    return render(
        request,
        "segment.html",
        status,
        segment_name=name,
        version=version,
        match=document.get("match", "all"),
        rows=rows or [("tier", "=", "")],
        json_text="" if flat else json.dumps(document, indent=2),
        fields=list(FIELDS),
        ops=ALL_OPS,
        message=message,
        problems=problems or [],
    )


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@router.get("/outreach/segments/new")
def segment_new(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    return _segment_form(request)


@router.get("/outreach/segments/rule-row")
def segment_rule_row(
    request: Request, principal: Principal = Depends(require("viewer"))
) -> Response:
    """One empty rule row (the page's Add a rule button swaps it in)."""
    return render(
        request, "segment_row.html", row=("tier", "=", ""), fields=list(FIELDS), ops=ALL_OPS
    )


@router.get("/outreach/segments/{name}")
def segment_page(
    request: Request, name: str, principal: Principal = Depends(require("viewer"))
) -> Response:
    md = app_of(request)
    with md.transaction() as session:
        saved = service.get_segment(session, name)
        document, version = saved.rules, saved.version
    return _segment_form(request, name=name, document=document, version=version)


def _submitted(
    match: str, fields: list[str], ops: list[str], values: list[str], json_text: str
) -> Segment:
    if json_text.strip():
        return load_segment_text(json_text, where="the JSON rules")
    rows = list(zip(fields, ops, values, strict=False))
    return parse_segment(document_from_rows(match, rows))


@router.post("/outreach/segments/preview")
def segment_preview(
    request: Request,
    match: str = Form(default="all"),
    field: list[str] = Form(default=[]),
    op: list[str] = Form(default=[]),
    value: list[str] = Form(default=[]),
    json_text: str = Form(default="", alias="json"),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The live count and sample of the segment being built (an HTMX fragment)."""
    md = app_of(request)
    try:
        segment = _submitted(match, field, op, value, json_text)
    except InvalidInput as exc:
        return render(request, "segment_preview.html", problems=[exc.message, *exc.details])
    with md.transaction() as session:
        found = service.preview(session, segment, _today(request), limit=SAMPLE)
    return render(request, "segment_preview.html", found=found, problems=[])


@router.post("/outreach/segments")
def segment_save(
    request: Request,
    name: str = Form(default=""),
    version: str = Form(default=""),
    match: str = Form(default="all"),
    field: list[str] = Form(default=[]),
    op: list[str] = Form(default=[]),
    value: list[str] = Form(default=[]),
    json_text: str = Form(default="", alias="json"),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Save the segment (a new one, or a new version of the one opened)."""
    md = app_of(request)
    expected = int(version) if version.isdigit() else None
    rows = list(zip(field, op, value, strict=False))
    try:
        segment = _submitted(match, field, op, value, json_text)
        with md.transaction() as session:
            service.save_segment(
                session, name, segment.as_json(), actor=principal.actor, expected_version=expected
            )
    except (InvalidInput, Conflict, NotFound) as exc:
        document = (
            json.loads(json_text)
            if json_text.strip() and _is_json(json_text)
            else document_from_rows(match, rows)
        )
        return _segment_form(
            request,
            name=name,
            document=document,
            version=expected,
            status=409 if isinstance(exc, Conflict) else 422,
            message=exc.message,
            problems=exc.details,
        )
    return RedirectResponse(f"/outreach/segments/{name.strip()}", status_code=303)


def _is_json(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


# --- newsletters ---------------------------------------------------------------------


def _newsletter_form(request: Request, status: int = 200, **context: Any) -> Response:
    md = app_of(request)
    with md.transaction() as session:
        segments = service.list_segments(session)
    from matchdesk.outreach.templates import FIELDS as PERSONAL

    defaults: dict[str, Any] = {
        "form": {"name": "", "segment": "", "subject": "", "body": "", "when": "now"},
        "message": "",
        "problems": [],
    }
    return render(
        request,
        "newsletter_new.html",
        status,
        segments=segments,
        personal=PERSONAL,
        **{**defaults, **context},
    )


@router.get("/outreach/newsletters/new")
def newsletter_new(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    return _newsletter_form(request)


@router.post("/outreach/newsletters")
def newsletter_create(
    request: Request,
    name: str = Form(default=""),
    segment: str = Form(default=""),
    subject: str = Form(default=""),
    body: str = Form(default=""),
    when: str = Form(default="now"),
    send_at: str = Form(default=""),
    local_time: str = Form(default=""),
    local_date: str = Form(default=""),
    lang_code: list[str] = Form(default=[]),
    lang_subject: list[str] = Form(default=[]),
    lang_body: list[str] = Form(default=[]),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Save a draft (its segment is a saved one, evaluated when the send starts), with
    its versions in other languages (the rows whose language or body is filled in)."""
    from itertools import zip_longest

    from matchdesk.outreach.newsletters import create_newsletter, parse_schedule

    md = app_of(request)
    languages = [
        (code.strip(), other_subject, other_body)
        for code, other_subject, other_body in zip_longest(
            lang_code, lang_subject, lang_body, fillvalue=""
        )
        if code.strip() or other_body.strip()
    ]
    form = {"name": name, "segment": segment, "subject": subject, "body": body, "when": when,
            "send_at": send_at, "local_time": local_time, "local_date": local_date,
            "languages": languages}  # fmt: skip
    translations = {
        code: {"subject": other_subject, "body": other_body}
        for code, other_subject, other_body in languages
    }
    try:
        if when == "at":
            # A datetime-local field has no zone: it is read on the program's clock.
            schedule = parse_schedule(_with_program_offset(md, send_at), None, None)
        elif when == "local":
            schedule = parse_schedule(None, local_time or None, local_date or None)
        else:
            schedule = parse_schedule(None, None, None)
        with md.transaction() as session:
            saved = service.get_segment(session, segment)
            newsletter = create_newsletter(
                session,
                name=name,
                segment=saved.rules,
                segment_name=saved.name,
                subject=subject,
                body=body,
                schedule=schedule,
                actor=principal.actor,
                translations=translations,
            )
            newsletter_id = newsletter.id
    except (InvalidInput, NotFound) as exc:
        return _newsletter_form(request, 422, form=form, message=exc.message, problems=exc.details)
    return RedirectResponse(f"/outreach/newsletters/{newsletter_id}", status_code=303)


def _with_program_offset(md: Any, local: str) -> str | None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    if not local:
        raise InvalidInput("send at: choose a date and time")
    try:
        moment = datetime.fromisoformat(local)
    except ValueError:
        raise InvalidInput(f"send at: {local!r} is not a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(md.program.program.timezone))
    return moment.isoformat()


def _newsletter_page(
    request: Request, newsletter_id: int, status: int = 200, **context: Any
) -> Response:
    from matchdesk.outreach.newsletters import figures, get_newsletter
    from matchdesk.outreach.segments import parse_segment

    md = app_of(request)
    with md.transaction() as session:
        newsletter = get_newsletter(session, newsletter_id)
        found = figures(session, newsletter_id)
        sample = service.preview(
            session, parse_segment(newsletter.segment), _today(request), limit=SAMPLE
        )
    return render(
        request,
        "newsletter.html",
        status,
        newsletter=newsletter,
        figures=found,
        sample=sample,
        **{"message": "", "problems": [], "notice": "", "job_id": None, **context},
    )


@router.get("/outreach/newsletters/{newsletter_id}")
def newsletter_page(
    request: Request,
    newsletter_id: int,
    job: int | None = Query(default=None, ge=1, le=2**31 - 1),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The newsletter: figures, details, preview as a creator, and its actions; after
    Send or Resume, a link to the queueing job's progress page."""
    return _newsletter_page(request, newsletter_id, job_id=job)


@router.get("/outreach/newsletters/{newsletter_id}/figures")
def newsletter_figures(
    request: Request, newsletter_id: int, principal: Principal = Depends(require("viewer"))
) -> Response:
    """The figures alone (the page refreshes them with htmx while sending)."""
    from matchdesk.outreach.newsletters import figures

    md = app_of(request)
    with md.transaction() as session:
        found = figures(session, newsletter_id)
    return render(request, "newsletter_figures.html", figures=found)


@router.get("/outreach/newsletters/{newsletter_id}/preview")
def newsletter_preview(
    request: Request,
    newsletter_id: int,
    handle: str = "",
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The newsletter as one creator of its segment would get it (an htmx fragment)."""
    from matchdesk.outreach.newsletters import preview_as
    from matchdesk.roster.models import utcnow

    md = app_of(request)
    try:
        with md.transaction() as session:
            rendered = preview_as(
                session, md.settings, newsletter_id, handle, today=_today(request), now=utcnow()
            )
    except NotFound as exc:
        return render(request, "newsletter_preview.html", rendered=None, problem=exc.message)
    return render(request, "newsletter_preview.html", rendered=rendered, handle=handle, problem="")


def _act(request: Request, newsletter_id: int, action: Any, notice: str) -> Response:
    try:
        result = action()
    except (InvalidInput, Conflict) as exc:
        return _newsletter_page(
            request,
            newsletter_id,
            409 if isinstance(exc, Conflict) else 422,
            message=exc.message,
            problems=exc.details,
        )
    if isinstance(result, Response):
        return result
    return _newsletter_page(request, newsletter_id, notice=notice.format(result))


@router.post("/outreach/newsletters/{newsletter_id}/test")
def newsletter_test(
    request: Request,
    newsletter_id: int,
    handle: str = Form(default=""),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Send the newsletter as `handle` gets it to the signed-in operator."""
    from matchdesk.outreach.newsletters import test_send
    from matchdesk.roster.models import utcnow

    md = app_of(request)

    def action() -> None:
        if "@" not in principal.name:
            raise InvalidInput("a test send goes to your e-mail address: sign in as an operator")
        with md.transaction() as session:
            test_send(
                session, md.settings, newsletter_id, handle=handle, to=principal.name,
                today=_today(request), now=utcnow(),
            )  # fmt: skip

    return _act(request, newsletter_id, action, "A test message is on its way to your address.")


@router.post("/outreach/newsletters/{newsletter_id}/send")
def newsletter_send(
    request: Request, newsletter_id: int, principal: Principal = Depends(require("manager"))
) -> Response:
    """Start sending: the recipients are written now; a job renders and queues them
    (its progress page follows)."""
    from matchdesk.jobs import service as jobs
    from matchdesk.outreach.jobs import SEND
    from matchdesk.outreach.newsletters import start_send
    from matchdesk.roster.models import utcnow

    md = app_of(request)

    def action() -> Response:
        with md.transaction() as session:
            start_send(
                session, newsletter_id, today=_today(request), now=utcnow(), actor=principal.actor
            )
            job = jobs.submit(session, SEND, {"newsletter_id": newsletter_id})
        return RedirectResponse(
            f"/outreach/newsletters/{newsletter_id}?job={job.id}", status_code=303
        )

    return _act(request, newsletter_id, action, "")


@router.post("/outreach/newsletters/{newsletter_id}/pause")
def newsletter_pause(
    request: Request, newsletter_id: int, principal: Principal = Depends(require("manager"))
) -> Response:
    from matchdesk.outreach.newsletters import pause

    md = app_of(request)

    def action() -> int:
        with md.transaction() as session:
            return pause(session, newsletter_id, actor=principal.actor)

    return _act(
        request, newsletter_id, action, "Paused: {:,} messages not yet sent were taken back."
    )


@router.post("/outreach/newsletters/{newsletter_id}/resume")
def newsletter_resume(
    request: Request, newsletter_id: int, principal: Principal = Depends(require("manager"))
) -> Response:
    from matchdesk.jobs import service as jobs
    from matchdesk.outreach.jobs import SEND
    from matchdesk.outreach.newsletters import resume

    md = app_of(request)

    def action() -> Response:
        with md.transaction() as session:
            resume(session, newsletter_id, actor=principal.actor)
            job = jobs.submit(session, SEND, {"newsletter_id": newsletter_id})
        return RedirectResponse(
            f"/outreach/newsletters/{newsletter_id}?job={job.id}", status_code=303
        )

    return _act(request, newsletter_id, action, "")


# --- unsubscribing (no sign-in: the signed link is the credential) ----------------------


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str) -> Response:
    """The footer link's page: a button that unsubscribes (a GET changes nothing, as
    mail scanners follow links)."""
    from matchdesk.outreach.consent import read_unsubscribe_token

    md = app_of(request)
    creator_id, _ = read_unsubscribe_token(md.settings.signing_key(), token)
    i18n = _creator_messages(md, creator_id)
    return render(request, "outreach_unsubscribe.html", token=token, done=None, i18n=i18n)


@router.post("/unsubscribe/{token}")
def unsubscribe_post(request: Request, token: str) -> Response:
    """RFC 8058's one-click POST (`List-Unsubscribe=One-Click`) and the page's button:
    no sign-in and no CSRF token (the signed link is the credential, and unsubscribing
    twice is harmless)."""
    from matchdesk.outreach.consent import read_unsubscribe_token, unsubscribe

    md = app_of(request)
    with md.transaction() as session:
        done = unsubscribe(session, md.settings.signing_key(), token)
    i18n = _creator_messages(md, read_unsubscribe_token(md.settings.signing_key(), token)[0])
    return render(request, "outreach_unsubscribe.html", token=token, done=done, i18n=i18n)


def _creator_messages(md: Any, creator_id: int) -> Any:
    """The language of creator `creator_id` (English when they are gone)."""
    from matchdesk.i18n import messages_for
    from matchdesk.roster.models import Creator

    with md.transaction() as session:
        creator = session.get(Creator, creator_id)
        return messages_for(creator.languages if creator else "")


# --- the creator's subscriptions in the portal (the link's token is the credential) ---

_PORTAL_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


def _subscriptions_page(request: Request, token: str, saved: bool = False) -> Response:
    from matchdesk.i18n import messages_for
    from matchdesk.outreach.consent import subscriptions
    from matchdesk.portal.links import creator_for_token, portal_csrf

    md = app_of(request)
    with md.transaction() as session:
        creator, _ = creator_for_token(session, md.settings, token)
        chosen = subscriptions(session, creator.id)
        handle = creator.handle
        i18n = messages_for(creator.languages)
    response = render(
        request,
        "outreach_portal_subscriptions.html",
        token=token,
        i18n=i18n,
        handle=handle,
        chosen=chosen,
        saved=saved,
        csrf_token=portal_csrf(md.settings, token),
    )
    response.headers.update(_PORTAL_HEADERS)
    return response


@router.get("/portal/{token}/subscriptions")
def portal_subscriptions(request: Request, token: str, saved: bool = False) -> Response:
    """The creator chooses which messages they get (newsletters, campaign updates)."""
    return _subscriptions_page(request, token, saved)


@router.post("/portal/{token}/subscriptions")
def portal_subscriptions_save(
    request: Request,
    token: str,
    topic: list[str] = Form(default=[]),
    csrf_token: str = Form("", alias="csrf_token"),
) -> Response:
    """Save the creator's choices: the topics checked are subscribed, the others not."""
    from matchdesk.outreach.consent import set_subscription
    from matchdesk.outreach.models import TOPICS
    from matchdesk.portal.links import check_portal_csrf, creator_for_token
    from matchdesk.web.security import CsrfRefused

    md = app_of(request)
    if not check_portal_csrf(md.settings, token, csrf_token):
        raise CsrfRefused(
            "This form did not come from your matchdesk page. Reload the page and try again."
        )
    with md.transaction() as session:
        creator, _ = creator_for_token(session, md.settings, token)
        for name in TOPICS:
            set_subscription(session, creator.id, name, name in topic)
    return RedirectResponse(f"/portal/{token}/subscriptions?saved=1", status_code=303)


# --- campaigns -----------------------------------------------------------------------


@router.get("/outreach/campaigns")
def campaigns_page(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    """The campaigns, and (managers) a new one from its file."""
    return _campaigns(request)


def _campaigns(request: Request, status: int = 200, **context: Any) -> Response:
    from matchdesk.outreach.campaigns import list_campaigns

    md = app_of(request)
    with md.transaction() as session:
        campaigns = list_campaigns(session)
    defaults: dict[str, Any] = {"text": "", "message": "", "problems": []}
    return render(
        request, "outreach_campaigns.html", status, campaigns=campaigns, **{**defaults, **context}
    )


@router.post("/outreach/campaigns")
def campaign_create(
    request: Request,
    text: str = Form(default="", max_length=100_000),
    principal: Principal = Depends(require("manager")),
) -> Response:
    """Create a campaign from its file's text (SPEC section 8)."""
    from matchdesk.outreach.campaigns import create_from_text

    md = app_of(request)
    try:
        with md.transaction() as session:
            campaign = create_from_text(session, text, today=_today(request), actor=principal.actor)
            campaign_id = campaign.id
    except InvalidInput as exc:
        return _campaigns(request, 422, text=text, message=exc.message, problems=exc.details)
    return RedirectResponse(f"/outreach/campaigns/{campaign_id}", status_code=303)


@router.get("/outreach/campaigns/{campaign_id}")
def campaign_page(
    request: Request,
    campaign_id: int,
    league: str = Query(default="", max_length=100),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The leaderboard of each league (or of one), as results are imported."""
    from matchdesk.outreach.campaigns import get_campaign, leaderboard

    md = app_of(request)
    with md.transaction() as session:
        campaign = get_campaign(session, campaign_id)
        standings = leaderboard(session, campaign_id, today=_today(request))
    leagues = [lg["name"] for lg in campaign.leagues]
    shown = [s for s in standings if not league or s.league == league]
    return render(
        request,
        "outreach_campaign.html",
        campaign=campaign,
        leagues=leagues,
        league=league,
        standings=shown,
        today=_today(request),
    )


@router.get("/outreach/campaigns/{campaign_id}/standings.{fmt}")
def campaign_export(
    request: Request,
    campaign_id: int,
    fmt: str,
    principal: Principal = Depends(require("viewer")),
) -> Response:
    """The standings as CSV or XLSX."""
    from matchdesk.outreach.campaigns import get_campaign, leaderboard, standings_table
    from matchdesk.results.exports import FORMATS, export

    if fmt not in FORMATS:
        raise NotFound(f"there is no {fmt!r} export (csv or xlsx)")
    md = app_of(request)
    with md.transaction() as session:
        campaign = get_campaign(session, campaign_id)
        table = standings_table(campaign, leaderboard(session, campaign_id, today=_today(request)))
    data, media_type = export(table, fmt)
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{table.name}.{fmt}"'},
    )


@router.get("/portal/{token}/campaigns")
def portal_campaigns(request: Request, token: str) -> Response:
    """The creator's own rank and points in each campaign they take part in."""
    from matchdesk.i18n import messages_for
    from matchdesk.outreach.campaigns import creator_standings
    from matchdesk.portal.links import creator_for_token

    md = app_of(request)
    with md.transaction() as session:
        creator, _ = creator_for_token(session, md.settings, token)
        mine = creator_standings(session, creator.id, today=_today(request))
        handle = creator.handle
        i18n = messages_for(creator.languages)
    response = render(
        request, "outreach_portal_campaigns.html", token=token, handle=handle, mine=mine, i18n=i18n
    )
    response.headers.update(_PORTAL_HEADERS)
    return response


# --- the bounce webhook (no sign-in: the secret address is the credential) -------------

WEBHOOK_MAX_BYTES = 1_000_000


@router.post("/webhooks/bounces/{token}")
async def bounce_webhook(request: Request, token: str) -> Response:
    """An e-mail provider's bounce and complaint events (docs/delivery.md): hard bounces
    and complaints suppress the address, soft bounces are counted. The address holds a
    token derived from the secret key; a wrong one is refused (403) before the body is
    read. No CSRF token: the provider has no session. Answers are JSON, errors too."""
    from fastapi.responses import JSONResponse
    from starlette.concurrency import run_in_threadpool

    from matchdesk.errors import MatchdeskError
    from matchdesk.outreach.bounces import check_webhook_token, record_webhook

    md = app_of(request)

    def store(payload: Any) -> dict[str, int]:
        with md.transaction() as session:
            report, ignored = record_webhook(session, payload)
        return {
            "hard": report.hard,
            "soft": report.soft,
            "complaints": report.complaints,
            "suppressed": report.suppressed,
            "ignored": ignored,
        }

    try:
        check_webhook_token(md.settings.signing_key(), token)
        body = await request.body()
        if len(body) > WEBHOOK_MAX_BYTES:
            raise InvalidInput(
                "the webhook body is too large", [f"at most {WEBHOOK_MAX_BYTES} bytes"]
            )
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise InvalidInput("the webhook body is not JSON", [str(exc)]) from exc
        return JSONResponse(await run_in_threadpool(store, payload))
    except MatchdeskError as exc:
        error = {"code": exc.code, "message": exc.message, "details": list(exc.details)}
        return JSONResponse({"error": error}, status_code=exc.status)
