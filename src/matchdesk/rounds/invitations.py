"""Invitations: the message and calendar event each matched creator gets.

Each creator has one calendar event per round (UID `round-R-creator-C@domain`), so a
rematch updates the event they already have: METHOD:REQUEST with a higher SEQUENCE for a
new partner or time, METHOD:CANCEL when they end up without a match. Every message is
written to the outbox in the caller's transaction (the change and its message commit
together); its idempotency key names the invitation and sequence, so it is sent once.

Publishing a big round goes through the same collector in bulk: creators and matches are
plain rows (anything with the attributes of `Person` and `Slot`), the invitations are
read in one query and written in one statement each way (new rows, changed rows), every
portal link is signed with one derived key (`PortalLinks`), and the messages go to the
outbox in one `enqueue_many`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Any, Protocol, cast

from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import Select, Table, bindparam, select, update
from sqlalchemy.orm import Session

from matchdesk.config import Settings
from matchdesk.db import bulk_insert
from matchdesk.i18n import N_, Messages, messages_for
from matchdesk.mail.delivery import DeliverySettings
from matchdesk.mail.outbox import Attachment, NewMessage, enqueue_many
from matchdesk.portal.bulk_links import PortalLinks
from matchdesk.program import Program
from matchdesk.roster.models import Creator, utcnow
from matchdesk.rounds.ics_fast import fast_calendar
from matchdesk.rounds.models import Invitation, Match, Round
from matchdesk.rounds.queries import local_date_time

PRODID = "-//matchdesk//LIVE match rounds//EN"

# The reasons the board and the round's lifecycle cancel a creator's match for, written
# in English there and translated here into the creator's language.
CANCEL_REASONS = (
    N_("unpaired by the manager"),
    N_("excluded"),
    N_("partner excluded"),
    N_("you declined it"),
    N_("no new partner could be found this round"),
)


@dataclass(frozen=True)
class _RequestWords:
    """An invitation's sentences in one language (gettext once per language, not a dozen
    times per invitation)."""

    subject: str
    subject_update: str
    matched_named: str
    matched: str
    hi: str
    changed: str
    when: str
    please: str
    attached: str
    note: str


_REQUEST_WORDS: dict[str, _RequestWords] = {}


def _request_words(t: Messages) -> _RequestWords:
    words = _REQUEST_WORDS.get(t.language)
    if words is None:
        _ = t.gettext
        words = _REQUEST_WORDS[t.language] = _RequestWords(
            subject=_("Your LIVE match with @%(partner)s, %(when)s"),
            subject_update=_("Updated: your LIVE match with @%(partner)s, %(when)s"),
            matched_named=_(
                "You are matched with @%(partner)s (%(partner_name)s) "
                "for a LIVE match of %(minutes)d minutes."
            ),
            matched=_("You are matched with @%(partner)s for a LIVE match of %(minutes)d minutes."),
            hi=_("Hi %(name)s,"),
            changed=_("Your match for this round has changed."),
            when=_("When: %(when)s"),
            please=_("Please confirm or decline here:"),
            attached=_("The calendar invitation is attached."),
            note=_("LIVE match with @%(partner)s. Confirm or decline: %(link)s"),
        )
    return words


class Person(Protocol):
    """A creator as an invitation needs them: an ORM `Creator` or a plain row."""

    @property
    def id(self) -> int: ...
    @property
    def handle(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def portal_link_version(self) -> int: ...
    @property
    def languages(self) -> str: ...  # the messages' language (H12a: i18n)


class Slot(Protocol):
    """A match as an invitation needs it: an ORM `Match` or a plain row."""

    @property
    def id(self) -> int: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...


PERSON_COLUMNS = (
    Creator.id,
    Creator.handle,
    Creator.display_name,
    Creator.email,
    Creator.timezone,
    Creator.portal_link_version,
    Creator.languages,
)  # select(*PERSON_COLUMNS) reads creators as `Person` rows


@dataclass
class Sent:
    """A creator's invitations row as the collector keeps it: what they were last sent
    (`sequence` -1: nothing yet, no row). `changed` rows are written at `flush`."""

    id: int | None
    sequence: int
    state: str
    match_id: int | None
    changed: bool = False


@dataclass(frozen=True)
class Sender:
    """Who invitations come from (the organizer) and the domain of their UIDs."""

    address: str
    name: str
    domain: str

    @classmethod
    def from_settings(cls, delivery: DeliverySettings | None = None) -> Sender:
        """The sender of `MATCHDESK_MAIL_FROM`."""
        name, address = parseaddr((delivery or DeliverySettings()).mail_from)
        return cls(address, name or "matchdesk", address.rpartition("@")[2] or "localhost")


def local_time(moment: datetime, timezone: str) -> str:
    """`Tue 10 Mar 2026, 19:00 (Europe/Berlin)`: a moment as the creator's clock shows it."""
    return f"{local_date_time(moment, timezone)} ({timezone})"


def event_uid(round_id: int, creator_id: int, domain: str) -> str:
    """The stable UID of a creator's event in a round."""
    return f"round-{round_id}-creator-{creator_id}@{domain}"


def calendar_bytes(
    *,
    method: str,
    uid: str,
    sequence: int,
    summary: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    organizer: Sender,
    attendee: str,
    stamp: datetime,
) -> bytes:
    """An iCalendar object (RFC 5545/5546) with one event, METHOD REQUEST or CANCEL
    (written directly when no value needs escaping: the same bytes, much faster)."""
    fast = fast_calendar(
        prodid=PRODID,
        method=method,
        uid=uid,
        sequence=sequence,
        summary=summary,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        organizer_address=organizer.address,
        organizer_name=organizer.name,
        attendee=attendee,
        stamp=stamp,
    )
    if fast is not None:
        return fast
    return calendar_bytes_icalendar(
        method=method,
        uid=uid,
        sequence=sequence,
        summary=summary,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        organizer=organizer,
        attendee=attendee,
        stamp=stamp,
    )


def calendar_bytes_icalendar(
    *,
    method: str,
    uid: str,
    sequence: int,
    summary: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    organizer: Sender,
    attendee: str,
    stamp: datetime,
) -> bytes:
    """`calendar_bytes` through the icalendar library (any value, escaped as needed)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", starts_at.astimezone(UTC))
    event.add("dtend", ends_at.astimezone(UTC))
    event.add("summary", summary)
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    who = vCalAddress(f"mailto:{organizer.address}")
    who.params["cn"] = vText(organizer.name)
    event["organizer"] = who
    guest = vCalAddress(f"mailto:{attendee}")
    guest.params["role"] = vText("REQ-PARTICIPANT")
    guest.params["rsvp"] = vText("TRUE" if method == "REQUEST" else "FALSE")
    event.add("attendee", guest, encode=False)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


@dataclass
class Outgoing:
    """Collects a change's messages, then enqueues them in one statement."""

    session: Session
    settings: Settings
    program: Program
    round_: Round
    sender: Sender
    messages: list[NewMessage]
    invitations: dict[int, Sent]
    whole_round: bool = False  # every invitation of the round is in `invitations`
    links: PortalLinks | None = None  # made on the first link (the key may come from a file)
    stamp: datetime = field(default_factory=utcnow)  # the calendars' DTSTAMP
    read_for: set[int] = field(default_factory=set)  # creators whose invitation is read

    @classmethod
    def start(
        cls,
        session: Session,
        settings: Settings,
        program: Program,
        round_: Round,
        *,
        whole_round: bool = False,
    ) -> Outgoing:
        """A collector for `round_`'s messages. `whole_round` (publish, rematch) reads all
        the round's invitations in one query; otherwise (an edit touching a pair or two)
        each creator's is read when needed."""
        invitations = {}
        if whole_round:
            invitations = {
                creator_id: Sent(id_, sequence, state, match_id)
                for id_, creator_id, sequence, state, match_id in session.execute(
                    select(*_SENT_COLUMNS).where(Invitation.round_id == round_.id)
                )
            }
        sender = Sender.from_settings()
        return cls(
            session, settings, program, round_, sender, [], invitations, whole_round=whole_round
        )

    def portal_link(self, creator: Person) -> str:
        """The creator's portal address (the signing key read and derived once per
        collector, not once per message: it may come from a file)."""
        if self.links is None:
            self.links = PortalLinks(
                self.settings.signing_key(), utcnow(), self.settings.public_url()
            )
        return self.links.url(creator.handle, creator.id, creator.portal_link_version)

    def read(self, creator_ids: set[int], among: Select[Any] | None = None) -> None:
        """Read the invitations of `creator_ids` in a few queries (a rematch touches only
        the round's free creators: reading the whole round's would cost more). `among`, a
        query of exactly those ids, reads them in one query without sending the ids."""
        ordered = sorted(creator_ids - self.read_for)
        chosen = (
            [among]
            if among is not None
            else [ordered[i : i + 20_000] for i in range(0, len(ordered), 20_000)]
        )
        for ids in chosen:
            for id_, creator_id, sequence, state, match_id in self.session.execute(
                select(*_SENT_COLUMNS)
                .where(Invitation.round_id == self.round_.id)
                .where(Invitation.creator_id.in_(ids))
            ):
                if creator_id not in self.read_for:
                    self.invitations[creator_id] = Sent(id_, sequence, state, match_id)
        self.read_for.update(ordered)

    def _invitation(self, creator_id: int) -> Sent:
        invitation = self.invitations.get(creator_id)
        if invitation is None and not self.whole_round and creator_id not in self.read_for:
            row = self.session.execute(
                select(*_SENT_COLUMNS)
                .where(Invitation.round_id == self.round_.id)
                .where(Invitation.creator_id == creator_id)
            ).one_or_none()
            if row is not None:
                invitation = Sent(row.id, row.sequence, row.state, row.match_id)
                self.invitations[creator_id] = invitation
        if invitation is None:
            invitation = Sent(None, -1, "request", None)
            self.invitations[creator_id] = invitation
        return invitation

    def request(self, match: Slot, creator: Person, partner: Person) -> None:
        """Invite `creator` to `match` (a first invitation, or an update of their event)."""
        invitation = self._invitation(creator.id)
        current = invitation.state == "request" and invitation.match_id == match.id
        if current and invitation.sequence >= 0:
            return  # they have this very invitation already
        invitation.sequence += 1
        invitation.state = "request"
        invitation.match_id = match.id
        invitation.changed = True
        update = invitation.sequence > 0
        link = self.portal_link(creator)
        t = messages_for(creator.languages)
        w = _request_words(t)
        when = f"{t.moment(match.starts_at, creator.timezone)} ({creator.timezone})"
        words = {
            "name": creator.display_name or "@" + creator.handle,
            "partner": partner.handle,
            "partner_name": partner.display_name,
            "minutes": self.program.matching.duration_minutes,
            "when": when,
            "link": link,
        }
        subject = (w.subject_update if update else w.subject) % words
        matched = w.matched_named if partner.display_name else w.matched
        text = (
            w.hi % words
            + "\n\n"
            + (w.changed + "\n\n" if update else "")
            + matched % words
            + "\n\n"
            + w.when % words
            + "\n\n"
            + w.please
            + f"\n{link}\n\n"
            + w.attached
            + f"\n\n{self.program.program.name}\n"
        )
        note = w.note % words
        self._add(
            creator, "match_invitation", subject, text, note, "REQUEST", invitation, match, partner
        )

    def cancel(self, creator: Person, reason: str) -> None:
        """Cancel `creator`'s event in the round, if they were sent one that stands."""
        invitation = self._invitation(creator.id)
        if invitation.sequence < 0 or invitation.state == "cancel":
            return  # never invited, or cancelled already
        match = self.session.get(Match, invitation.match_id) if invitation.match_id else None
        invitation.sequence += 1
        invitation.state = "cancel"
        invitation.changed = True
        _ = messages_for(creator.languages).gettext
        words = {
            "name": creator.display_name or "@" + creator.handle,
            "program": self.program.program.name,
            "reason": _(reason),
        }
        subject = _("Cancelled: your LIVE match in %(program)s") % words
        text = (
            _("Hi %(name)s,") % words
            + "\n\n"
            + _("Your LIVE match for this round is cancelled: %(reason)s.") % words
            + f"\n\n{self.program.program.name}\n"
        )
        note = _("Cancelled: %(reason)s.") % words
        self._add(
            creator, "match_cancellation", subject, text, note, "CANCEL", invitation, match, None
        )

    def _add(
        self,
        creator: Person,
        kind: str,
        subject: str,
        text: str,
        note: str,
        method: str,
        invitation: Sent,
        match: Slot | None,
        partner: Person | None,
    ) -> None:
        if not creator.email:
            return  # nobody to write to; the board shows who has no e-mail address
        starts = match.starts_at if match else self.round_.period_start
        ends = match.ends_at if match else self.round_.period_start
        _ = messages_for(creator.languages).gettext
        if partner:
            summary = _("LIVE match with @%(partner)s") % {"partner": partner.handle}
        else:
            summary = _("LIVE match (cancelled)")
        ics = calendar_bytes(
            method=method,
            uid=event_uid(self.round_.id, creator.id, self.sender.domain),
            sequence=invitation.sequence,
            summary=summary,
            description=note,
            starts_at=_aware(starts),
            ends_at=_aware(ends),
            organizer=self.sender,
            attendee=creator.email,
            stamp=self.stamp,
        )
        self.messages.append(
            NewMessage(
                kind=kind,
                recipient=creator.email,
                subject=subject,
                text=text,
                idempotency_key=f"round:{self.round_.id}:creator:{creator.id}:seq:{invitation.sequence}",
                attachments=(Attachment("invite.ics", f"text/calendar; method={method}", ics),),
            )
        )

    def flush(self) -> int:
        """Write the changed invitations (new rows in one bulk insert, the others in one
        executemany) and the collected messages to the outbox; returns how many
        messages. The collector is for one change: after `flush` it reads invitations
        afresh."""
        self.session.flush()  # the ORM's pending rows (new matches) before the raw writes
        now = utcnow()
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for creator_id, sent in self.invitations.items():
            if not sent.changed:
                continue
            if sent.id is None:
                new.append(
                    {
                        "round_id": self.round_.id,
                        "creator_id": creator_id,
                        "match_id": sent.match_id,
                        "sequence": sent.sequence,
                        "state": sent.state,
                        "updated_at": now,
                    }
                )
            else:
                changed.append(
                    {
                        "invitation_id": sent.id,
                        "new_match_id": sent.match_id,
                        "new_sequence": sent.sequence,
                        "new_state": sent.state,
                    }
                )
        if new:
            bulk_insert(self.session, INVITATIONS, new)
        if changed:
            self.session.execute(
                update(INVITATIONS)
                .where(INVITATIONS.c.id == bindparam("invitation_id"))
                .values(
                    match_id=bindparam("new_match_id"),
                    sequence=bindparam("new_sequence"),
                    state=bindparam("new_state"),
                    updated_at=now,
                ),
                changed,
            )
        self.invitations = {}
        self.whole_round = False
        self.read_for = set()
        count = enqueue_many(self.session, self.messages)
        self.messages = []
        return count


INVITATIONS = cast(Table, Invitation.__table__)
_SENT_COLUMNS = (
    Invitation.id,
    Invitation.creator_id,
    Invitation.sequence,
    Invitation.state,
    Invitation.match_id,
)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
