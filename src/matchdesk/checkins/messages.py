"""A check-in's messages through the outbox: invitations, reminders and the summary.

Invitations: one calendar event per check-in (its `uid`), the same for both people, each
invited in their own time: METHOD:REQUEST with the check-in's SEQUENCE (raised on every
change of time), METHOD:CANCEL when it is cancelled. Keys name the check-in, the sequence
and the person, so each version is sent once.

Reminders: 24 hours and 1 hour before, queued by the worker when they fall due (never
earlier, so a rescheduled check-in's old reminders are never sent: they were never
queued, and the new time's flags start fresh). A reminder that falls due while no worker
runs is sent late with a note as long as its purpose stands: the 24-hour one until one
hour before (after that the 1-hour reminder says it all), the 1-hour one until the start;
past that it is skipped. A check-in booked inside a reminder's window never gets that
reminder (the invitation has just told them). Each is marked on the check-in in the
transaction that queues it, and its key is unique: sent exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from matchdesk.accounts.models import Operator
from matchdesk.checkins.due import aware
from matchdesk.checkins.models import Checkin
from matchdesk.config import Settings
from matchdesk.i18n import SOURCE_LANGUAGE, Messages, messages_for, messages_in
from matchdesk.mail.outbox import Attachment, NewMessage, enqueue_many
from matchdesk.portal.links import make_portal_token
from matchdesk.program import Program
from matchdesk.roster.models import Creator
from matchdesk.rounds.invitations import PRODID, Sender

REMINDERS = (("24h", timedelta(hours=24)), ("1h", timedelta(hours=1)))
LATE_AFTER = timedelta(minutes=10)  # a reminder queued later than this says it is late


def _people(session: Session, checkin: Checkin) -> tuple[Creator, Operator]:
    creator = session.get(Creator, checkin.creator_id)
    manager = session.get(Operator, checkin.manager_id)
    assert creator is not None
    assert manager is not None
    return creator, manager


def _recipients(
    creator: Creator, manager: Operator, program: Program
) -> list[tuple[str, str, str, str, str, Messages]]:
    """(role, address, zone, greeting name, the other person, language) for both people
    who have an address: each is written to in their own time, the creator in their own
    language (the manager, an operator, in English)."""
    manager_name = manager.name or manager.email
    mine = messages_for(creator.languages)
    people = [
        (
            "creator",
            creator.email,
            creator.timezone,
            creator.display_name or "@" + creator.handle,
            mine.gettext("your manager %(name)s") % {"name": manager_name},
            mine,
        ),
        (
            "manager",
            manager.email,
            manager.timezone or program.program.timezone,
            manager_name,
            f"@{creator.handle}",
            messages_in(SOURCE_LANGUAGE),
        ),
    ]
    return [p for p in people if p[1]]


def portal_checkin_link(settings: Settings, creator: Creator, key: str = "") -> str:
    """The creator's check-in page in the portal (`key`: the signing key, if read)."""
    token = make_portal_token(
        key or settings.signing_key(),
        creator.handle,
        creator.id,
        link_version=creator.portal_link_version,
    )
    return f"{settings.public_url()}/portal/{token}/checkin"


def start_reminders(checkin: Checkin, now: datetime) -> None:
    """Fresh reminder flags for the check-in's current time: a reminder whose moment has
    passed at booking is skipped (never sent at booking time)."""
    start = aware(checkin.starts_at)
    flags = {name: ("skipped" if start - before <= now else "") for name, before in REMINDERS}
    checkin.reminder_24h, checkin.reminder_1h = flags["24h"], flags["1h"]


def invitations(
    session: Session, settings: Settings, program: Program, checkins: Iterable[Checkin]
) -> int:
    """Queue the invitation (or cancellation) of each check-in's current version to the
    creator and the manager, each in their own time. Returns how many were queued."""
    sender = Sender.from_settings()
    key = settings.signing_key()
    messages = []
    for checkin in checkins:
        creator, manager = _people(session, checkin)
        cancelled = checkin.status == "cancelled"
        method = "CANCEL" if cancelled else "REQUEST"
        link = portal_checkin_link(settings, creator, key)
        people = _recipients(creator, manager, program)
        # One event for both (RFC 5546: one organizer, the attendees), built once.
        ics = _calendar(checkin, program, sender, method, [p[1] for p in people], creator)
        for role, address, zone, name, other, t in people:
            _ = t.gettext
            words = {
                "name": name,
                "other": other,
                "when": f"{t.moment(aware(checkin.starts_at), zone)} ({zone})",
                "minutes": program.checkins.duration_minutes,
                "hours": program.checkins.min_notice_hours,
            }
            hello = _("Hi %(name)s,") % words + "\n\n"
            if cancelled:
                subject = _("Cancelled: check-in with %(other)s, %(when)s") % words
                text = hello + _("The check-in with %(other)s on %(when)s is cancelled.") % words
                text += "\n"
            else:
                update = checkin.sequence > 0
                if update:
                    subject = _("Moved: Check-in with %(other)s, %(when)s") % words
                else:
                    subject = _("Check-in with %(other)s, %(when)s") % words
                text = (
                    hello
                    + (_("Your check-in has moved.") + "\n\n" if update else "")
                    + _("Check-in with %(other)s: %(minutes)d minutes, %(when)s.") % words
                    + "\n"
                )
                if role == "creator":
                    text += (
                        "\n"
                        + _("Pick another time or cancel (up to %(hours)d hours before):") % words
                        + f"\n{link}\n"
                    )
            text += "\n" + _("The calendar invitation is attached.")
            text += f"\n\n{program.program.name}\n"
            messages.append(
                NewMessage(
                    kind="checkin_cancellation" if cancelled else "checkin_invitation",
                    recipient=address,
                    subject=subject,
                    text=text,
                    idempotency_key=f"checkin:{checkin.id}:seq:{checkin.sequence}:{role}",
                    attachments=(Attachment("invite.ics", f"text/calendar; method={method}", ics),),
                )
            )
    return enqueue_many(session, messages)


def _calendar(
    checkin: Checkin,
    program: Program,
    sender: Sender,
    method: str,
    attendees: list[str],
    creator: Creator,
) -> bytes:
    """The check-in's event (RFC 5545/5546), METHOD REQUEST or CANCEL, both attendees."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", checkin.uid)
    event.add("sequence", checkin.sequence)
    event.add("dtstamp", aware(checkin.updated_at))
    event.add("dtstart", aware(checkin.starts_at))
    event.add("dtend", aware(checkin.ends_at))
    event.add("summary", f"Check-in: @{creator.handle} ({program.program.name})")
    event.add("description", "Report and revenue check-in.")
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{sender.address}")
    organizer.params["cn"] = vText(sender.name)
    event["organizer"] = organizer
    for address in attendees:
        guest = vCalAddress(f"mailto:{address}")
        guest.params["role"] = vText("REQ-PARTICIPANT")
        guest.params["rsvp"] = vText("TRUE" if method == "REQUEST" else "FALSE")
        event.add("attendee", guest, encode=False)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def queue_due_reminders(
    session: Session, settings: Settings, program: Program, now: datetime
) -> int:
    """Queue every reminder that has fallen due by `now` and was not sent or skipped
    (see the module docstring). Returns how many messages were queued."""
    horizon = now + REMINDERS[0][1]
    due = list(
        session.scalars(
            select(Checkin)
            .where(
                Checkin.status == "booked",
                Checkin.starts_at <= horizon,
                or_(Checkin.reminder_24h == "", Checkin.reminder_1h == ""),
            )
            .order_by(Checkin.starts_at)
            .with_for_update(skip_locked=True)
        )
    )
    messages = []
    for checkin in due:
        start = aware(checkin.starts_at)
        for name, before in REMINDERS:
            flag = f"reminder_{name}"
            moment = start - before
            if getattr(checkin, flag) or now < moment:
                continue
            # Past its purpose: the 24 h one once the 1 h one is due, the 1 h one at start.
            if (name == "24h" and now >= start - REMINDERS[1][1]) or now >= start:
                setattr(checkin, flag, "skipped")
                continue
            setattr(checkin, flag, "sent")
            messages.extend(
                _reminder(session, settings, program, checkin, name, now - moment > LATE_AFTER)
            )
    return enqueue_many(session, messages)


def _reminder(
    session: Session,
    settings: Settings,
    program: Program,
    checkin: Checkin,
    name: str,
    late: bool,
) -> list[NewMessage]:
    creator, manager = _people(session, checkin)
    out = []
    for role, address, zone, who, other, t in _recipients(creator, manager, program):
        _ = t.gettext
        words = {
            "name": who,
            "other": other,
            "when": f"{t.moment(aware(checkin.starts_at), zone)} ({zone})",
            "link": portal_checkin_link(settings, creator) if role == "creator" else "",
        }
        if name == "24h":
            line = _("Reminder: your check-in with %(other)s is in 24 hours: %(when)s.")
            subject = _("Reminder: check-in with %(other)s in 24 hours")
        else:
            line = _("Reminder: your check-in with %(other)s is in 1 hour: %(when)s.")
            subject = _("Reminder: check-in with %(other)s in 1 hour")
        text = _("Hi %(name)s,") % words + "\n\n" + line % words + "\n"
        if late:
            text += (
                "\n"
                + _("(This reminder comes late: our mail service was paused when it was due.)")
                + "\n"
            )
        if role == "creator":
            text += "\n" + _("Your check-in page: %(link)s") % words + "\n"
        text += f"\n{program.program.name}\n"
        out.append(
            NewMessage(
                kind=f"checkin_reminder_{name}",
                recipient=address,
                subject=subject % words,
                text=text,
                idempotency_key=f"checkin:{checkin.id}:seq:{checkin.sequence}:reminder:{name}:{role}",
            )
        )
    return out
