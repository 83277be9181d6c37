"""Consent: signed unsubscribe links (RFC 8058 one-click and the footer link, no sign-in),
the suppression list, and creators' subscriptions.

An unsubscribe token carries the creator and the newsletter, signed (HMAC-SHA256) with
a key derived from the app's secret key; it does not expire, as a creator may
unsubscribe from an old e-mail. Unsubscribing suppresses the address and takes back,
in the same transaction, every newsletter message to it that no worker has claimed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matchdesk.errors import MatchdeskError
from matchdesk.mail.claims import Claimed
from matchdesk.mail.outbox import withdraw
from matchdesk.outreach.models import TOPICS, Delivery, Subscription, Suppression
from matchdesk.roster.models import Creator, utcnow

SALT = "matchdesk-unsubscribe"


class UnsubscribeLinkInvalid(MatchdeskError):
    code = "link_invalid"
    status = 403


@dataclass(frozen=True)
class Unsubscribed:
    """Who an unsubscribe link spoke for, and whether it changed anything."""

    handle: str
    email: str
    already: bool


def delivery_key(newsletter_id: int, creator_id: int) -> str:
    """The outbox idempotency key of a newsletter's message to a creator."""
    return f"newsletter:{newsletter_id}:{creator_id}"


@lru_cache(maxsize=8)
def _token_key(key: str) -> bytes:
    # A key of its own for unsubscribe links, derived once from the secret key.
    return hashlib.sha256(f"{SALT}:{key}".encode()).digest()


def _signature(key: str, payload: str) -> str:
    digest = hmac.new(_token_key(key), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode("ascii")


def unsubscribe_token(key: str, creator_id: int, newsletter_id: int | None) -> str:
    """The signed token of a creator's unsubscribe link: `CREATOR.NEWSLETTER.SIGNATURE`
    (an HMAC-SHA256 of the rest with a key derived from the secret key; one is made per
    message, so it is plain hmac rather than a serializer)."""
    payload = f"{creator_id}.{newsletter_id or 0}"
    return f"{payload}.{_signature(key, payload)}"


def unsubscribe_url(base_url: str, token: str) -> str:
    """`{base_url}/unsubscribe/{token}`: the List-Unsubscribe URL and the footer link."""
    return f"{base_url.rstrip('/')}/unsubscribe/{token}"


def read_unsubscribe_token(key: str, token: str) -> tuple[int, int | None]:
    """(creator id, newsletter id or None) of a genuine token; `UnsubscribeLinkInvalid`
    otherwise."""
    creator, _, rest = token.partition(".")
    newsletter, _, signature = rest.partition(".")
    payload = f"{creator}.{newsletter}"
    if (
        not creator.isdigit()
        or not newsletter.isdigit()
        or len(token) > 100
        or not hmac.compare_digest(signature.encode(), _signature(key, payload).encode())
    ):
        raise UnsubscribeLinkInvalid("This unsubscribe link is not valid.")
    return int(creator), int(newsletter) or None


def _insert(session: Session):  # type: ignore[no-untyped-def]
    return postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def suppress(
    session: Session,
    emails: Iterable[str],
    reason: str,
    *,
    detail: str = "",
    newsletter_id: int | None = None,
) -> int:
    """Put addresses on the suppression list (an address already there keeps its first
    reason) and take back their newsletter messages not yet claimed. Returns how many
    addresses were new on the list."""
    addresses = sorted({e.strip().lower() for e in emails if e and e.strip()})
    if not addresses:
        return 0
    known = set(session.scalars(select(Suppression.email).where(Suppression.email.in_(addresses))))
    new = [a for a in addresses if a not in known]
    if new:
        statement = _insert(session)(Suppression).on_conflict_do_nothing(index_elements=["email"])
        session.execute(
            statement,
            [
                {
                    "email": a,
                    "reason": reason,
                    "detail": detail[:500],
                    "newsletter_id": newsletter_id,
                    "created_at": utcnow(),
                }
                for a in new
            ],
        )
    hold_back(session, addresses)
    return len(new)


def hold_back(session: Session, emails: list[str]) -> int:
    """Take back the queued newsletter messages to `emails` (lower case) that no worker
    has claimed; their deliveries become `suppressed`. Returns how many."""
    rows = session.execute(
        select(Delivery.id, Delivery.newsletter_id, Delivery.creator_id).where(
            func.lower(Delivery.email).in_(emails), Delivery.status.in_(("queued", "pending"))
        )
    ).all()
    if not rows:
        return 0
    keys = {delivery_key(n, c): i for i, n, c in rows}
    pending_ids = [i for i, *_ in rows]
    withdrawn = withdraw(session, list(keys))
    # A queued delivery whose message is no longer `queued` is being sent or was sent.
    taken = [keys[k] for k in withdrawn]
    queued = set(
        session.scalars(
            select(Delivery.id).where(Delivery.id.in_(pending_ids), Delivery.status == "queued")
        )
    )
    stopped = [i for i in pending_ids if i not in queued] + taken
    if stopped:
        session.execute(
            update(Delivery).where(Delivery.id.in_(stopped)).values(status="suppressed"),
            execution_options={"synchronize_session": False},
        )
    return len(stopped)


def unsubscribe(session: Session, key: str, token: str) -> Unsubscribed:
    """Unsubscribe the creator a token speaks for from newsletters (one-click POST or the
    footer link's page): suppressed, and opted out of the newsletters topic."""
    creator_id, newsletter_id = read_unsubscribe_token(key, token)
    creator = session.get(Creator, creator_id)
    if creator is None:
        raise UnsubscribeLinkInvalid("This unsubscribe link is not valid.")
    email = creator.email.strip().lower()
    already = session.get(Suppression, email) is not None if email else True
    set_subscription(session, creator_id, "newsletters", False)
    if email:
        suppress(session, [email], "unsubscribe", detail="link", newsletter_id=newsletter_id)
    return Unsubscribed(creator.handle, creator.email, already)


def set_subscription(session: Session, creator_id: int, topic: str, subscribed: bool) -> None:
    """A creator's choice for `topic` (the portal's subscriptions form). Subscribing to
    newsletters again lifts an unsubscribe suppression (not a bounce or a complaint)."""
    if topic not in TOPICS:
        raise ValueError(topic)
    statement = _insert(session)(Subscription).values(
        creator_id=creator_id, topic=topic, subscribed=subscribed, updated_at=utcnow()
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["creator_id", "topic"],
            set_={"subscribed": subscribed, "updated_at": utcnow()},
        )
    )
    if subscribed and topic == "newsletters":
        creator = session.get(Creator, creator_id)
        if creator is not None and creator.email:
            session.execute(
                delete(Suppression).where(
                    Suppression.email == creator.email.strip().lower(),
                    Suppression.reason == "unsubscribe",
                )
            )


def subscriptions(session: Session, creator_id: int) -> dict[str, bool]:
    """The creator's choice per topic (subscribed unless they said otherwise)."""
    chosen = dict(
        session.execute(
            select(Subscription.topic, Subscription.subscribed).where(
                Subscription.creator_id == creator_id
            )
        ).all()
    )
    return {topic: bool(chosen.get(topic, True)) for topic in TOPICS}


# The kinds of mail a suppressed address no longer gets; everything else (invitations,
# reminders, check-ins, a newsletter's test send to the operator) is transactional.
BULK_KINDS = frozenset({"newsletter"})


def withhold_suppressed(session: Session, messages: Sequence[Claimed]) -> dict[int, str]:
    """At delivery time: the claimed bulk messages whose address is on the suppression
    list now (suppressed after they were queued, e.g. by a bounce or an unsubscribe
    while they waited for a retry), with the reason each is failed unsent; their
    newsletter deliveries become `suppressed`. In the claim's transaction (the courier's
    `withhold`). A suppression that lands while the batch is being sent is seen by the
    next claim."""
    bulk = {m.id: m.recipient.strip().lower() for m in messages if m.kind in BULK_KINDS}
    if not bulk:
        return {}
    reasons = dict(
        session.execute(
            select(Suppression.email, Suppression.reason).where(
                Suppression.email.in_(sorted(set(bulk.values())))
            )
        ).all()
    )
    withheld = {
        row_id: f"suppressed: {email} is on the suppression list ({reasons[email]})"
        for row_id, email in bulk.items()
        if email in reasons
    }
    keys = [m.idempotency_key for m in messages if m.id in withheld]
    pairs = [_delivery_of(key) for key in keys]
    for newsletter_id, creator_id in (pair for pair in pairs if pair is not None):
        session.execute(
            update(Delivery)
            .where(
                Delivery.newsletter_id == newsletter_id,
                Delivery.creator_id == creator_id,
                Delivery.status == "queued",
            )
            .values(status="suppressed"),
            execution_options={"synchronize_session": False},
        )
    return withheld


def _delivery_of(key: str) -> tuple[int, int] | None:
    """(newsletter id, creator id) of a `delivery_key`, or None for another key."""
    kind, _, rest = key.partition(":")
    newsletter, _, creator = rest.partition(":")
    if kind != "newsletter" or not newsletter.isdigit() or not creator.isdigit():
        return None
    return int(newsletter), int(creator)
