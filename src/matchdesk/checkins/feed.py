"""A manager's private calendar feed: their check-ins and their creators' matches as one
iCalendar file at a signed address (subscribe to it in any calendar app).

The address carries the operator's id and `feed_version`, signed with the app's key; a
new address (raising the version) stops the old one. The feed has no METHOD (it is
published, not an invitation); cancelled check-ins appear with STATUS:CANCELLED under
their UID, so a subscribed calendar drops them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from matchdesk.accounts.models import Operator
from matchdesk.checkins.due import aware
from matchdesk.checkins.models import Checkin
from matchdesk.config import Settings
from matchdesk.errors import MatchdeskError
from matchdesk.roster.models import Creator
from matchdesk.rounds.invitations import PRODID, Sender
from matchdesk.rounds.models import Match

SALT = "matchdesk-calendar-feed"
PAST = timedelta(days=30)  # how far back the feed reaches
MATCH_STATUSES = ("published", "confirmed", "completed")


class FeedInvalid(MatchdeskError):
    code = "feed_invalid"
    status = 404


def feed_token(settings: Settings, operator: Operator) -> str:
    return str(
        URLSafeSerializer(settings.signing_key(), SALT).dumps([operator.id, operator.feed_version])
    )


def feed_url(settings: Settings, operator: Operator) -> str:
    """The operator's feed address (`webcal://` works too: same path)."""
    return f"{settings.public_url()}/calendar/{feed_token(settings, operator)}.ics"


def operator_for_feed(session: Session, settings: Settings, token: str) -> Operator:
    try:
        operator_id, version = URLSafeSerializer(settings.signing_key(), SALT).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise FeedInvalid("This calendar address is not valid.") from None
    operator = session.get(Operator, int(operator_id))
    if operator is None or not operator.active or operator.feed_version != version:
        raise FeedInvalid("This calendar address is not valid.")
    return operator


def renew_feed(operator: Operator) -> None:
    """Stop the current address; the next `feed_url` is a new one."""
    operator.feed_version += 1


def calendar_feed(session: Session, operator: Operator, now: datetime) -> bytes:
    """The feed: the operator's check-ins and the matches of creators they manage, from
    30 days ago on."""
    since = now - PAST
    sender = Sender.from_settings()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"matchdesk: {operator.name or operator.email}")
    rows = session.execute(
        select(Checkin, Creator.handle)
        .join(Creator, Creator.id == Checkin.creator_id)
        .where(Checkin.manager_id == operator.id, Checkin.starts_at >= since)
        .order_by(Checkin.starts_at)
    ).all()
    for checkin, handle in rows:
        event = Event()
        event.add("uid", checkin.uid)
        event.add("sequence", checkin.sequence)
        event.add("dtstamp", aware(checkin.updated_at))
        event.add("dtstart", aware(checkin.starts_at))
        event.add("dtend", aware(checkin.ends_at))
        event.add("summary", f"Check-in with @{handle}")
        event.add("status", "CANCELLED" if checkin.status == "cancelled" else "CONFIRMED")
        calendar.add_component(event)
    a, b = aliased(Creator), aliased(Creator)
    matches = session.execute(
        select(Match.id, Match.starts_at, Match.ends_at, Match.status, a.handle, b.handle)
        .join(a, a.id == Match.creator_a_id)
        .join(b, b.id == Match.creator_b_id)
        .where(or_(a.manager == operator.email, b.manager == operator.email))
        .where(Match.status.in_(MATCH_STATUSES), Match.starts_at >= since)
        .order_by(Match.starts_at)
    ).all()
    for match_id, starts, ends, status, first, second in matches:
        event = Event()
        event.add("uid", f"match-{match_id}@{sender.domain}")
        event.add("dtstamp", aware(starts))
        event.add("dtstart", aware(starts))
        event.add("dtend", aware(ends))
        event.add("summary", f"LIVE match @{first} x @{second} ({status})")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
