"""Reminding the creators of a published round who have not answered their invitation.

Each creator gets at most one reminder per round, whoever asks and however often: the
message's idempotency key is `round:R:creator:C:reminder`, so a second request (or two
managers at once) enqueues nothing new. The caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matchdesk.config import Settings
from matchdesk.errors import Conflict, NotFound
from matchdesk.i18n import messages_for
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many
from matchdesk.program import Program
from matchdesk.roster.models import Creator
from matchdesk.rounds.invitations import Outgoing
from matchdesk.rounds.models import Match, Round


@dataclass(frozen=True)
class Reminders:
    """What a reminder request did: creators who had not answered, reminders queued now,
    those reminded before (not again), and those with no e-mail address (handles)."""

    unanswered: int
    queued: int
    reminded_before: int
    no_email: list[str]


def reminder_key(round_id: int, creator_id: int) -> str:
    """The idempotency key of a creator's reminder in a round (one per creator and round)."""
    return f"round:{round_id}:creator:{creator_id}:reminder"


def remind_unanswered(
    session: Session, settings: Settings, program: Program, round_id: int
) -> Reminders:
    """Queue a reminder for every creator of the published round `round_id` whose answer
    to a published match is still pending. Raises `NotFound`, or `Conflict` when the round
    is not published."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound(f"No round {round_id}.")
    if round_.status != "published":
        raise Conflict(
            f"Round {round_id} is {round_.status}: only a published round has answers to wait for."
        )
    matches = list(
        session.scalars(
            select(Match)
            .where(Match.round_id == round_id, Match.status == "published")
            .where(or_(Match.a_response == "pending", Match.b_response == "pending"))
        )
    )
    waiting: list[tuple[Match, int, int]] = []  # match, creator waited on, partner
    for m in matches:
        if m.a_response == "pending":
            waiting.append((m, m.creator_a_id, m.creator_b_id))
        if m.b_response == "pending":
            waiting.append((m, m.creator_b_id, m.creator_a_id))
    sent_before = set(
        session.scalars(
            select(OutboxMessage.idempotency_key).where(
                OutboxMessage.idempotency_key.like(f"round:{round_id}:creator:%:reminder")
            )
        )
    )
    ids = {c for _, c, _ in waiting} | {p for _, _, p in waiting}
    ordered = sorted(ids)
    people: dict[int, Creator] = {}
    for i in range(0, len(ordered), 20_000):  # bound the statement's parameters
        chunk = ordered[i : i + 20_000]
        people.update(
            (c.id, c) for c in session.scalars(select(Creator).where(Creator.id.in_(chunk)))
        )
    outgoing = Outgoing.start(session, settings, program, round_)
    messages: list[NewMessage] = []
    no_email: list[str] = []
    reminded_before = 0
    for match, creator_id, partner_id in waiting:
        creator, partner = people[creator_id], people[partner_id]
        key = reminder_key(round_id, creator_id)
        if key in sent_before:
            reminded_before += 1
            continue
        if not creator.email:
            no_email.append(creator.handle)
            continue
        t = messages_for(creator.languages)
        _ = t.gettext
        words = {
            "name": creator.display_name or "@" + creator.handle,
            "partner": partner.handle,
            "when": f"{t.moment(match.starts_at, creator.timezone)} ({creator.timezone})",
        }
        messages.append(
            NewMessage(
                kind="match_reminder",
                recipient=creator.email,
                subject=_("Reminder: please answer your LIVE match with @%(partner)s, %(when)s")
                % words,
                text=(
                    _("Hi %(name)s,") % words
                    + "\n\n"
                    + _("You have not yet answered your LIVE match with @%(partner)s.") % words
                    + "\n\n"
                    + _("When: %(when)s") % words
                    + "\n\n"
                    + _("Please confirm or decline here:")
                    + f"\n{outgoing.portal_link(creator)}\n\n{program.program.name}\n"
                ),
                idempotency_key=key,
            )
        )
    enqueue_many(session, messages)
    return Reminders(
        unanswered=len(waiting),
        queued=len(messages),
        reminded_before=reminded_before,
        no_email=sorted(no_email),
    )
