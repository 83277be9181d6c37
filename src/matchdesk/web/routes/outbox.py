"""The outbox pages: every message and its state (filters, keyset pages), one message as
it goes out, the retry of a failed one, and the reminder of a round's unanswered creators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response

from matchdesk.audit import record
from matchdesk.errors import Conflict
from matchdesk.mail.browse import OutboxFilter, get_message, list_messages, retry_message
from matchdesk.mail.delivery import DeliverySettings
from matchdesk.rounds.reminders import remind_unanswered
from matchdesk.web.addresses import served_settings
from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

MessageId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RoundId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/outbox")
def outbox_page(
    request: Request,
    status: str = Query("", max_length=10),
    kind: str = Query("", max_length=60),
    recipient: str = Query("", max_length=254),
    before: int | None = Query(None, ge=1, le=2**31 - 1),
    principal: Principal = Depends(require("viewer")),
) -> Response:
    filters = OutboxFilter(status=status, kind=kind, recipient=recipient)
    with app_of(request).transaction() as session:
        page = list_messages(session, filters, before=before)
    return render(
        request,
        "outbox.html",
        page=page,
        filters=filters,
        before=before,
        flash=request.session.pop("flash", None),
    )


# A message's body holds the creator's signed portal link: managers and admins only.
@router.get("/outbox/{message_id}")
def outbox_message(
    request: Request, message_id: MessageId, principal: Principal = Depends(require("manager"))
) -> Response:
    delivery = DeliverySettings()
    with app_of(request).transaction() as session:
        view = get_message(session, message_id, delivery.sender, delivery.domain)
        return render(
            request, "outbox_message.html", view=view, flash=request.session.pop("flash", None)
        )


@router.post("/outbox/{message_id}/retry")
def outbox_retry(
    request: Request, message_id: MessageId, principal: Principal = Depends(require("manager"))
) -> Response:
    """Put a failed message back in the queue (audited); anything else is refused."""
    with app_of(request).transaction() as session:
        message = retry_message(session, message_id)
        record(
            session,
            principal.actor,
            "message_retried",
            "outbox",
            message_id,
            before={"status": "failed", "last_error": message.last_error},
            after={"status": "queued"},
        )
    request.session["flash"] = f"Message {message_id} is queued again; the worker sends it next."
    return RedirectResponse(f"/outbox/{message_id}", status_code=303)


@router.post("/rounds/{round_id}/remind")
def round_remind(
    request: Request, round_id: RoundId, principal: Principal = Depends(require("manager"))
) -> Response:
    """Remind every creator of a published round who has not answered (once per creator
    and round, however often this is asked)."""
    md = app_of(request)
    try:
        with md.transaction() as session:
            done = remind_unanswered(session, served_settings(request), md.program, round_id)
            record(
                session,
                principal.actor,
                "round.reminded",
                "round",
                round_id,
                after={
                    "unanswered": done.unanswered,
                    "queued": done.queued,
                    "reminded_before": done.reminded_before,
                    "no_email": len(done.no_email),
                },
            )
    except Conflict as exc:  # not published: say so on the board
        request.session["flash"] = exc.message
        return RedirectResponse(f"/rounds/{round_id}", status_code=303)
    parts = [f"{done.queued} reminder{'' if done.queued == 1 else 's'} queued"]
    if done.reminded_before:
        parts.append(f"{done.reminded_before} reminded before (not again)")
    if done.no_email:
        parts.append(
            f"{len(done.no_email)} without an e-mail address: "
            + ", ".join("@" + h for h in done.no_email[:20])
            + (" …" if len(done.no_email) > 20 else "")
        )
    if not done.unanswered:
        parts = ["Everyone has answered: no reminder to send"]
    request.session["flash"] = "; ".join(parts) + "."
    return RedirectResponse(f"/rounds/{round_id}", status_code=303)
