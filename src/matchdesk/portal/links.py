"""Creator portal links: signed, expiring tokens scoped to one creator.

A creator has no password. An operator hands out a link `{base_url}/portal/{token}`;
the token carries the creator's id and handle, signed with the app's secret key and
stamped with the time it was made. Every portal request verifies the signature and the
age, then loads the creator by id and checks the handle still matches, so a link stops
working when its creator is deleted (even if SQLite later reuses the id).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from matchdesk import clock as wall_clock
from matchdesk.config import Settings
from matchdesk.errors import MatchdeskError, NotFound
from matchdesk.program import Program
from matchdesk.roster.availability import WEEKDAYS, parse_availability
from matchdesk.roster.editing import creator_state, set_availability
from matchdesk.roster.models import Creator
from matchdesk.roster.service import get_creator
from matchdesk.rounds.queries import creator_matches, local_date_time

SALT = "matchdesk-portal"
_CSRF_PURPOSE = b"matchdesk-portal-csrf:"

DEFAULT_LINK_DAYS: int = Settings.model_fields["portal_link_days"].default

Clock = Callable[[], datetime]


class LinkInvalid(MatchdeskError):
    """The link was tampered with, is not a portal link, or its creator is gone."""

    code = "link_invalid"
    status = 403


class LinkExpired(MatchdeskError):
    """The link was genuine but is older than `Settings.portal_link_days`."""

    code = "link_expired"
    status = 410


INVALID_MESSAGE = "This link is not valid."
EXPIRED_MESSAGE = "This link has expired. Ask your program manager for a new one."


@dataclass(frozen=True)
class LinkClaims:
    """Who a verified token speaks for."""

    creator_id: int
    handle: str
    issued_at: datetime
    link_version: int = 0  # the creator's portal_link_version when the link was made


@dataclass(frozen=True)
class PortalLink:
    """A link handed to a creator, and when it stops working."""

    handle: str
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class PortalView:
    """What the portal shows a creator: their own figures and availability, nothing else."""

    creator_id: int
    handle: str
    display_name: str
    timezone: str
    tier: str | None
    followers: int
    revenue_30d: int
    status: str
    availability: str  # the window syntax, in the creator's own time zone
    windows: tuple[tuple[str, str, str, bool], ...]  # (day, start, end, crosses midnight)
    version: int
    link_expires_at: datetime
    matches: tuple[PortalMatch, ...] = ()  # upcoming, by start
    languages: str = ""  # the roster's `es;en`: the portal speaks the first with a catalog


@dataclass(frozen=True)
class PortalMatch:
    """One of the creator's upcoming matches, as they see it: their partner, the time on
    their own clock, and their own answer (never the partner's details beyond the handle)."""

    match_id: int
    partner: str  # handle
    starts_local: str  # `Tue 10 Mar 2026, 19:00`
    ends_local: str  # `20:00`
    status: str
    my_answer: str  # pending / confirmed / declined
    started: bool  # answers are taken until the match starts
    partner_answer: str = "pending"
    starts_at: datetime | None = None  # the moments, for the page's own locale
    ends_at: datetime | None = None

    @property
    def state_text(self) -> str:
        """Where the match stands, in the creator's words (never "published")."""
        if self.status == "published":
            if self.my_answer == "confirmed":
                return f"you said yes; waiting for @{self.partner}"
            return "waiting for your answer"
        return {
            "confirmed": "confirmed: you both said yes",
            "declined": "declined",
            "completed": "done",
            "no_show": "missed",
            "cancelled": "cancelled",
        }.get(self.status, self.status.replace("_", " "))

    @property
    def can_confirm(self) -> bool:
        return self.can_decline and self.my_answer != "confirmed"

    @property
    def can_decline(self) -> bool:
        return self.status in ("published", "confirmed") and not self.started


def _now() -> datetime:
    return wall_clock.now()


def _key(settings_or_key: Settings | str) -> str:
    return settings_or_key if isinstance(settings_or_key, str) else settings_or_key.signing_key()


# One serializer per key and clock, not one per token: publishing a big round signs a link
# for every invitation, and building the signer class each time cost a third of it.
@lru_cache(maxsize=32)
def _serializer(key: str, clock: Clock) -> URLSafeTimedSerializer:
    # itsdangerous stamps and checks ages with time.time(); a signer reading our clock
    # lets tests (and callers) make or check a token at any moment without sleeping.
    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return URLSafeTimedSerializer(key, salt=SALT, signer=ClockedSigner)


def make_portal_token(
    settings_or_key: Settings | str,
    creator_handle: str,
    creator_id: int,
    *,
    clock: Clock = _now,
    link_version: int = 0,
) -> str:
    """A URL-safe token for creator `creator_id` / `creator_handle`, stamped `clock()`,
    carrying the creator's `link_version` (raising it revokes the token)."""
    payload: dict[str, object] = {"id": creator_id, "h": creator_handle}
    if link_version:
        payload["v"] = link_version
    token: str = _serializer(_key(settings_or_key), clock).dumps(payload)
    return token


def read_portal_token(
    settings_or_key: Settings | str,
    token: str,
    *,
    max_age_days: int | None = None,
    clock: Clock = _now,
) -> LinkClaims:
    """Verify a token's signature and age (`max_age_days`, by default the settings'
    `portal_link_days`, or its default when given a bare key). Raises `LinkExpired` or
    `LinkInvalid`; does not look at the database (see `open_portal`)."""
    if max_age_days is None:
        max_age_days = (
            DEFAULT_LINK_DAYS
            if isinstance(settings_or_key, str)
            else settings_or_key.portal_link_days
        )
    serializer = _serializer(_key(settings_or_key), clock)
    try:
        payload, issued_at = serializer.loads(
            token, max_age=max_age_days * 86400, return_timestamp=True
        )
    except SignatureExpired as exc:
        # A token stamped in the future is refused too (itsdangerous reports it as expired),
        # but only a genuine one: the signature is checked before the age.
        raise LinkExpired(EXPIRED_MESSAGE) from exc
    except BadSignature as exc:
        raise LinkInvalid(INVALID_MESSAGE) from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("id"), int)
        or not isinstance(payload.get("h"), str)
        or not isinstance(payload.get("v", 0), int)
    ):
        raise LinkInvalid(INVALID_MESSAGE)
    return LinkClaims(
        creator_id=payload["id"],
        handle=payload["h"],
        issued_at=issued_at,
        link_version=payload.get("v", 0),
    )


def creator_id_of_token(settings_or_key: Settings | str, token: str) -> int | None:
    """The creator id a genuine token names, however old it is (None for a forged or
    malformed one): enough to speak to them in their language on the page that says
    their link has expired, never to act for them."""
    try:
        payload = _serializer(_key(settings_or_key), _now).loads(token)
    except BadSignature:
        return None
    found = payload.get("id") if isinstance(payload, dict) else None
    return found if isinstance(found, int) else None


def portal_url(
    settings: Settings,
    handle: str,
    creator_id: int,
    *,
    clock: Clock = _now,
    link_version: int = 0,
) -> str:
    """The creator's portal address: `{base_url}/portal/{token}`."""
    token = make_portal_token(settings, handle, creator_id, clock=clock, link_version=link_version)
    return f"{settings.public_url()}/portal/{token}"


def issue_portal_link(
    session: Session, settings: Settings, handle: str, *, clock: Clock = _now
) -> PortalLink:
    """A fresh portal link for the creator with `handle` (what the CLI command
    `matchdesk creators link HANDLE` and the creator page's button call). Raises
    `NotFound` for an unknown handle. Earlier links stay valid until they expire or are
    revoked (`revoke_portal_links`)."""
    creator = get_creator(session, handle)
    if creator is None:
        raise NotFound(f"No creator with handle @{handle.strip().lstrip('@').lower()}.")
    issued = clock()
    return PortalLink(
        handle=creator.handle,
        url=portal_url(
            settings,
            creator.handle,
            creator.id,
            clock=lambda: issued,
            link_version=creator.portal_link_version,
        ),
        expires_at=issued.replace(microsecond=0) + timedelta(days=settings.portal_link_days),
    )


def creator_for_token(
    session: Session, settings: Settings, token: str, *, clock: Clock = _now
) -> tuple[Creator, LinkClaims]:
    """The creator a portal token speaks for (and the token's claims), after checking
    signature, age and that the creator still exists under the same handle. Raises
    `LinkExpired` or `LinkInvalid`."""
    claims = read_portal_token(settings, token, clock=clock)
    creator = session.get(Creator, claims.creator_id)
    if (
        creator is None
        or creator.handle != claims.handle
        or creator.portal_link_version != claims.link_version
    ):
        raise LinkInvalid(INVALID_MESSAGE)
    return creator, claims


def revoke_portal_links(session: Session, handle: str) -> Creator:
    """Every portal link issued to the creator stops working (new ones work)."""
    creator = get_creator(session, handle)
    if creator is None:
        raise NotFound(f"No creator with handle @{handle.strip().lstrip('@').lower()}.")
    creator.portal_link_version += 1
    session.flush()
    return creator


def _portal_matches(session: Session, creator: Creator, now: datetime) -> tuple[PortalMatch, ...]:
    zone = ZoneInfo(creator.timezone)
    out = []
    for m in creator_matches(session, creator.id, now):
        mine_is_a = m.a == creator.handle
        ends = m.ends_at.astimezone(zone)
        out.append(
            PortalMatch(
                match_id=m.id,
                partner=m.b if mine_is_a else m.a,
                starts_local=local_date_time(m.starts_at, creator.timezone),
                ends_local=f"{ends:%H:%M}",
                status=m.status,
                my_answer=m.a_response if mine_is_a else m.b_response,
                started=m.starts_at <= now,
                partner_answer=m.b_response if mine_is_a else m.a_response,
                starts_at=m.starts_at,
                ends_at=m.ends_at,
            )
        )
    return tuple(out)


def _clock_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def open_portal(
    session: Session, settings: Settings, token: str, *, clock: Clock = _now
) -> PortalView:
    """The portal's view of the creator behind `token` (see `creator_for_token`)."""
    creator, claims = creator_for_token(session, settings, token, clock=clock)
    state = creator_state(session, creator)
    availability = str(state["availability"])
    windows = tuple(
        (WEEKDAYS[w.weekday], _clock_time(w.start), _clock_time(w.end), w.end <= w.start)
        for w in parse_availability(availability)
    )
    return PortalView(
        creator_id=creator.id,
        handle=creator.handle,
        display_name=creator.display_name,
        timezone=creator.timezone,
        tier=creator.tier,
        followers=creator.followers,
        revenue_30d=creator.revenue_30d,
        status=creator.status,
        availability=availability,
        windows=windows,
        version=creator.version,
        link_expires_at=claims.issued_at + timedelta(days=settings.portal_link_days),
        matches=_portal_matches(session, creator, clock()),
        languages=creator.languages,
    )


def portal_csrf(settings_or_key: Settings | str, token: str) -> str:
    """The CSRF value portal forms carry: an HMAC of the link's token with the secret key.
    The portal is authenticated by its URL, not a cookie; this still proves a POST came
    from a page matchdesk rendered for that link."""
    key = _key(settings_or_key).encode()
    return hmac.new(key, _CSRF_PURPOSE + token.encode(), hashlib.sha256).hexdigest()


def check_portal_csrf(settings_or_key: Settings | str, token: str, presented: str) -> bool:
    """Whether `presented` is the CSRF value of the link `token` (constant-time)."""
    return hmac.compare_digest(portal_csrf(settings_or_key, token), presented)


def save_portal_availability(
    session: Session,
    program: Program,
    settings: Settings,
    token: str,
    text: str,
    expected_version: int,
    *,
    clock: Clock = _now,
) -> PortalView:
    """Replace the weekly availability of the creator behind `token`, validated exactly as
    the roster file's column (raises `InvalidInput` naming the bad window), refused with
    `Conflict` when the creator changed since `expected_version` was shown. Audited as
    `creator:{handle}`. Returns the new view."""
    creator, _ = creator_for_token(session, settings, token, clock=clock)
    set_availability(
        session,
        program,
        creator.handle,
        text,
        actor=f"creator:{creator.handle}",
        expected_version=expected_version,
    )
    return open_portal(session, settings, token, clock=clock)
