"""Newsletters: drafts, the send (one delivery row per recipient, written when it starts),
queueing in chunks, pause and resume, and the figures.

Exactly once, by construction:
- `start_send` evaluates the segment and writes one `newsletter_deliveries` row per
  recipient, unique on (newsletter, creator), in one transaction with the status
  change: a second start is refused, a crash leaves no half-written list.
- `queue_chunk` turns pending deliveries into outbox messages keyed
  `newsletter:{id}:{creator}` (unique in the outbox), marking them queued in the same
  transaction. Its first statement re-checks that the newsletter is still sending and
  holds the newsletter row (PostgreSQL's row lock, SQLite's write lock) until it
  commits, so a pause either comes before it (and it queues nothing) or waits for it
  (and takes back what it queued). Two workers queueing at once write each key once.
- `pause` takes back every queued message no worker has claimed (their deliveries are
  pending again); `resume` queues the pending ones again under the same keys. A
  message already sent keeps its outbox row, so its key can never be queued twice.
- The newsletter is `sent` only when no delivery is pending and every queued message
  has been sent or has failed: never before every recipient has been tried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, cast, func, literal, select, update
from sqlalchemy.orm import Session

from matchdesk.audit import record
from matchdesk.config import Settings
from matchdesk.db import bulk_insert
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.i18n import messages_in
from matchdesk.mail.claims import UNCERTAIN
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import NewMessage, enqueue_many, withdraw
from matchdesk.outreach.consent import delivery_key, unsubscribe_token, unsubscribe_url
from matchdesk.outreach.languages import parse_translations, version_for
from matchdesk.outreach.models import Bounce, Delivery, Newsletter, Suppression
from matchdesk.outreach.personal import id_in, personal_values
from matchdesk.outreach.segments import parse_segment, segment_condition, subscribed_condition
from matchdesk.outreach.templates import Rendered, check_template, render
from matchdesk.roster.models import Creator, utcnow

KIND = "newsletter"
CHUNK = 1000
MAX_NAME = 200


@dataclass(frozen=True)
class Schedule:
    """When a newsletter goes out: now, at `send_at`, or at `local_time` on `local_date`
    on each recipient's own clock."""

    send_at: datetime | None = None
    local_date: date | None = None
    local_time: str | None = None

    def due(self, now: datetime, timezone: str) -> datetime:
        """When the message to a creator in `timezone` is due (never before `now`)."""
        if self.local_date is not None and self.local_time is not None:
            hours, minutes = (int(p) for p in self.local_time.split(":"))
            local = datetime.combine(self.local_date, time(hours, minutes), ZoneInfo(timezone))
            # fold=0: a wall time that occurs twice (DST ends) is its first occurrence;
            # one that does not occur (DST starts) is shifted forward by the gap.
            moment = local.astimezone(UTC)
            return max(moment, now)
        if self.send_at is not None:
            return max(_aware(self.send_at), now)
        return now


def parse_schedule(send_at: str | None, local_time: str | None, local_date: str | None) -> Schedule:
    """The schedule of `--send-at ISO` or `--local-time HH:MM --date YYYY-MM-DD`."""
    if send_at and (local_time or local_date):
        raise InvalidInput("give either --send-at or --local-time with --date, not both")
    if send_at:
        try:
            moment = datetime.fromisoformat(send_at)
        except ValueError:
            raise InvalidInput(f"send-at: {send_at!r} is not an ISO 8601 time") from None
        if moment.tzinfo is None:
            raise InvalidInput(f"send-at: {send_at!r} needs an offset or Z (e.g. +02:00)")
        return Schedule(send_at=moment.astimezone(UTC))
    if local_time or local_date:
        if not (local_time and local_date):
            raise InvalidInput("--local-time and --date go together")
        try:
            hours, minutes = (int(p) for p in local_time.split(":"))
            time(hours, minutes)
            if len(local_time) != 5:
                raise ValueError
        except ValueError:
            raise InvalidInput(f"local-time: {local_time!r} is not HH:MM") from None
        try:
            day = date.fromisoformat(local_date)
        except ValueError:
            raise InvalidInput(f"date: {local_date!r} is not YYYY-MM-DD") from None
        return Schedule(local_date=day, local_time=local_time)
    return Schedule()


def create_newsletter(
    session: Session,
    *,
    name: str,
    segment: Any,
    subject: str,
    body: str,
    schedule: Schedule,
    actor: str,
    segment_name: str | None = None,
    translations: Any = None,
) -> Newsletter:
    """A draft newsletter; its segment and template are checked (an unknown field is
    refused, named). `translations`: the subject and body per language (languages.py)."""
    name = name.strip()
    problems = []
    if not 0 < len(name) <= MAX_NAME:
        problems.append(f"name: 1 to {MAX_NAME} characters")
    if not subject.strip() or len(subject) > 300:
        problems.append("subject: 1 to 300 characters")
    if problems:
        raise InvalidInput("the newsletter cannot be saved", problems)
    rules = parse_segment(segment)
    check_template(subject, body)
    versions = parse_translations(translations, subject)
    newsletter = Newsletter(
        name=name,
        segment=rules.as_json(),
        segment_name=segment_name,
        subject=subject.strip(),
        body=body,
        translations=versions or None,
        send_at=schedule.send_at,
        local_date=schedule.local_date,
        local_time=schedule.local_time,
        status="draft",
        created_by=actor,
    )
    session.add(newsletter)
    session.flush()
    record(session, actor, "newsletter.created", "newsletter", newsletter.id, after={"name": name})
    return newsletter


def update_draft(
    session: Session,
    newsletter_id: int,
    *,
    expected_version: int,
    subject: str,
    body: str,
    actor: str,
) -> Newsletter:
    """Change a draft's subject and body (refused once sending, or when stale)."""
    newsletter = _locked(session, newsletter_id)
    if newsletter.status != "draft":
        raise Conflict(f"newsletter {newsletter_id} is {newsletter.status}: only a draft changes")
    if newsletter.version != expected_version:
        raise Conflict(f"newsletter {newsletter_id} was changed by someone else; reload it")
    check_template(subject, body)
    newsletter.subject, newsletter.body = subject.strip(), body
    newsletter.version += 1
    record(session, actor, "newsletter.edited", "newsletter", newsletter_id)
    return newsletter


def get_newsletter(session: Session, newsletter_id: int) -> Newsletter:
    newsletter = session.get(Newsletter, newsletter_id, populate_existing=True)
    if newsletter is None:
        raise NotFound(f"there is no newsletter {newsletter_id}")
    return newsletter


def list_newsletters(session: Session) -> list[Newsletter]:
    """Every newsletter, newest first."""
    return list(session.scalars(select(Newsletter).order_by(Newsletter.id.desc())))


def _locked(session: Session, newsletter_id: int) -> Newsletter:
    newsletter = session.scalars(
        select(Newsletter)
        .where(Newsletter.id == newsletter_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if newsletter is None:
        raise NotFound(f"there is no newsletter {newsletter_id}")
    return newsletter


def schedule_of(newsletter: Newsletter) -> Schedule:
    return Schedule(newsletter.send_at, newsletter.local_date, newsletter.local_time)


def start_send(
    session: Session, newsletter_id: int, *, today: date, now: datetime, actor: str
) -> int:
    """Start sending: evaluate the segment now and write one delivery per recipient
    (suppressed, opted-out and address-less creators as `suppressed`). Returns the
    number of recipients. Refused unless the newsletter is a draft."""
    # The status change first: it takes the write lock (SQLite) / the row lock (PG).
    changed = session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter_id, Newsletter.status == "draft")
        .values(status="sending", started_at=now, version=Newsletter.version + 1)
    ).rowcount  # type: ignore[attr-defined]
    newsletter = get_newsletter(session, newsletter_id)
    if not changed:
        raise Conflict(f"newsletter {newsletter_id} is {newsletter.status}: it was started already")
    rules = parse_segment(newsletter.segment)
    schedule = schedule_of(newsletter)
    condition = segment_condition(session, rules, today)
    suppressed = set(session.scalars(select(Suppression.email)))
    rows = session.execute(
        select(Creator.id, Creator.email, Creator.timezone, subscribed_condition())
        .where(condition)
        .order_by(Creator.id)
    ).all()
    deliveries = []
    for cid, email, zone, subscribed in rows:
        address = (email or "").strip()
        reachable = bool(subscribed) and "@" in address and address.lower() not in suppressed
        deliveries.append(
            {
                "newsletter_id": newsletter_id,
                "creator_id": cid,
                "email": address,
                "due_at": schedule.due(now, zone),
                "status": "pending" if reachable else "suppressed",
            }
        )
    bulk_insert(session, Delivery.__table__, deliveries)  # type: ignore[arg-type]
    record(
        session,
        actor,
        "newsletter.started",
        "newsletter",
        newsletter_id,
        after={"recipients": len(deliveries)},
    )
    return len(deliveries)


def queue_chunk(
    session: Session,
    settings: Settings,
    newsletter_id: int,
    *,
    today: date,
    now: datetime,
    limit: int = CHUNK,
) -> int:
    """Render and queue up to `limit` pending deliveries of a sending newsletter, in the
    caller's transaction (which must commit right after). Returns how many were queued:
    0 when none is pending or the newsletter is not sending (paused)."""
    return _queue_chunk(session, settings, newsletter_id, today=today, now=now, limit=limit)[0]


def _queue_chunk(
    session: Session,
    settings: Settings,
    newsletter_id: int,
    *,
    today: date,
    now: datetime,
    limit: int = CHUNK,
    after: int = 0,
    ranks: dict[int, int] | None = None,
) -> tuple[int, int]:
    """`queue_chunk` from the deliveries after id `after` (keyset: no rescan of those
    done); returns (queued, the last delivery id seen)."""
    held = session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter_id, Newsletter.status == "sending")
        .values(version=Newsletter.version)
    ).rowcount  # type: ignore[attr-defined]
    if not held:
        return 0, after
    newsletter = get_newsletter(session, newsletter_id)
    batch = session.execute(
        select(Delivery.id, Delivery.creator_id, Delivery.email, Delivery.due_at)
        .where(
            Delivery.newsletter_id == newsletter_id,
            Delivery.status == "pending",
            Delivery.id > after,
        )
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    if not batch:
        return 0, after
    if ranks is None and "campaign_rank" not in _all_text(newsletter):
        ranks = {}  # the template does not use it: no leaderboard to compute
    values = personal_values(session, [b.creator_id for b in batch], today, now, ranks)
    versions = newsletter.translations or {}
    spoken: dict[int, str] = {}
    if versions:  # each recipient's languages, to pick their version
        spoken = dict(
            session.execute(
                select(Creator.id, Creator.languages).where(
                    id_in(session, Creator.id, [b.creator_id for b in batch])
                )
            ).all()
        )
    key, base = settings.signing_key(), settings.public_url()
    messages = []
    for _id, cid, email, due in batch:
        url = unsubscribe_url(base, unsubscribe_token(key, cid, newsletter_id))
        subject, body, label = version_of(newsletter, spoken.get(cid))
        rendered = render(subject, body, {**values[cid], "unsubscribe_url": url}, label)
        messages.append(
            NewMessage(
                kind=KIND,
                recipient=email,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
                idempotency_key=delivery_key(newsletter_id, cid),
                headers={
                    "List-Unsubscribe": f"<{url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
                not_before=_aware(due),
            )
        )
    enqueue_many(session, messages)
    session.execute(
        update(Delivery)
        .where(id_in(session, Delivery.id, [b.id for b in batch]), Delivery.status == "pending")
        .values(status="queued"),
        execution_options={"synchronize_session": False},
    )
    return len(batch), batch[-1].id


def run_send(
    md: Any,
    newsletter_id: int,
    *,
    today: date,
    now: Callable[[], datetime] = utcnow,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = CHUNK,
) -> int:
    """Queue every pending delivery, a chunk per transaction, until none is left or the
    newsletter is paused. Safe to run twice at once or again after a crash."""
    with md.transaction() as session:
        total = count_deliveries(session, newsletter_id, None)
        done = total - count_deliveries(session, newsletter_id, "pending")
    queued, after = 0, 0
    ranks: dict[int, int] | None = None
    with md.transaction() as session:
        newsletter = get_newsletter(session, newsletter_id)
        if "campaign_rank" in _all_text(newsletter):
            from matchdesk.outreach.campaigns import running_ranks

            ranks = running_ranks(session, today)  # once for the whole send
    while True:
        with md.transaction() as session:
            n, after = _queue_chunk(
                session,
                md.settings,
                newsletter_id,
                today=today,
                now=now(),
                limit=chunk,
                after=after,
                ranks=ranks if ranks is not None else {},
            )
        if n == 0:
            break
        queued += n
        done += n
        if progress is not None:
            progress(done, total)
    return queued


def version_of(newsletter: Newsletter, languages: str | None) -> tuple[str, str, str]:
    """The subject and body a creator speaking `languages` (`es;en`) gets, the first of
    their languages the newsletter has, else its default; and the footer's unsubscribe
    label in that version's language (English for the default)."""
    versions = newsletter.translations or {}
    language = version_for(languages, versions)
    if language is None:
        return newsletter.subject, newsletter.body, "Unsubscribe"
    version = versions[language]
    return version["subject"], version["body"], messages_in(language).gettext("Unsubscribe")


def _all_text(newsletter: Newsletter) -> str:
    """Every subject and body of the newsletter, its languages' too."""
    versions = (newsletter.translations or {}).values()
    return (
        newsletter.subject + newsletter.body + "".join(v["subject"] + v["body"] for v in versions)
    )


def count_deliveries(session: Session, newsletter_id: int, status: str | None = None) -> int:
    """How many deliveries the newsletter has (in `status`, or in all)."""
    query = (
        select(func.count()).select_from(Delivery).where(Delivery.newsletter_id == newsletter_id)
    )
    if status is not None:
        query = query.where(Delivery.status == status)
    return int(session.scalar(query) or 0)


def pause(session: Session, newsletter_id: int, *, actor: str) -> int:
    """Pause a sending newsletter: take back every queued message no worker has claimed
    (their deliveries are pending again). Returns how many were taken back."""
    changed = session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter_id, Newsletter.status == "sending")
        .values(status="paused", version=Newsletter.version + 1)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        newsletter = get_newsletter(session, newsletter_id)
        raise Conflict(
            f"newsletter {newsletter_id} is {newsletter.status}: only a sending one pauses"
        )
    queued = session.execute(
        select(Delivery.id, Delivery.creator_id).where(
            Delivery.newsletter_id == newsletter_id, Delivery.status == "queued"
        )
    ).all()
    keys = {delivery_key(newsletter_id, cid): did for did, cid in queued}
    withdrawn = withdraw(session, list(keys))
    ids = [keys[k] for k in withdrawn]
    for start in range(0, len(ids), 500):
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids[start : start + 500]))
            .values(status="pending"),
            execution_options={"synchronize_session": False},
        )
    record(
        session,
        actor,
        "newsletter.paused",
        "newsletter",
        newsletter_id,
        after={"taken_back": len(ids)},
    )
    return len(ids)


def resume(session: Session, newsletter_id: int, *, actor: str) -> None:
    """Resume a paused newsletter (the caller then runs `run_send` or submits its job)."""
    changed = session.execute(
        update(Newsletter)
        .where(Newsletter.id == newsletter_id, Newsletter.status == "paused")
        .values(status="sending", version=Newsletter.version + 1)
    ).rowcount  # type: ignore[attr-defined]
    if not changed:
        newsletter = get_newsletter(session, newsletter_id)
        raise Conflict(
            f"newsletter {newsletter_id} is {newsletter.status}: only a paused one resumes"
        )
    record(session, actor, "newsletter.resumed", "newsletter", newsletter_id)


@dataclass(frozen=True)
class Figures:
    """A newsletter's figures (SPEC section 7's `show`, plus the queue, bounces and the
    uncertain: messages whose outcome a worker's crash or a lost connection left unknown,
    handed to the server but not recorded as taken; never sent again, counted in neither
    `sent` nor `failed`)."""

    id: int
    status: str
    recipients: int
    sent: int
    failed: int
    suppressed: int
    unsubscribed: int
    bounces: int
    pending: int
    queued: int
    uncertain: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "recipients": self.recipients,
            "sent": self.sent,
            "failed": self.failed,
            "suppressed": self.suppressed,
            "unsubscribed": self.unsubscribed,
        }


def figures(session: Session, newsletter_id: int) -> Figures:
    """Count the deliveries by what became of them; a sending newsletter whose every
    recipient has been tried is marked `sent` here."""
    newsletter = get_newsletter(session, newsletter_id)
    by_status = dict(
        session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.newsletter_id == newsletter_id)
            .group_by(Delivery.status)
        ).all()
    )
    key = literal(f"newsletter:{newsletter_id}:") + cast(Delivery.creator_id, String)
    outcome = case(
        (
            and_(
                OutboxMessage.status == "failed",
                OutboxMessage.last_error.startswith(UNCERTAIN, autoescape=True),
            ),
            literal("uncertain"),
        ),
        else_=OutboxMessage.status,
    )
    outbox: dict[str, int] = dict(
        session.execute(
            select(outcome, func.count())
            .select_from(Delivery)
            .join(OutboxMessage, OutboxMessage.idempotency_key == key)
            .where(Delivery.newsletter_id == newsletter_id, Delivery.status == "queued")
            .group_by(outcome)
        ).all()
    )
    unsubscribed = session.scalar(
        select(func.count())
        .select_from(Suppression)
        .where(Suppression.newsletter_id == newsletter_id, Suppression.reason == "unsubscribe")
    )
    bounces = session.scalar(
        select(func.count()).select_from(Bounce).where(Bounce.newsletter_id == newsletter_id)
    )
    pending = int(by_status.get("pending", 0))
    in_flight = int(outbox.get("queued", 0)) + int(outbox.get("sending", 0))
    status = newsletter.status
    if status == "sending" and pending == 0 and in_flight == 0:
        newsletter.status, newsletter.finished_at = "sent", utcnow()
        status = "sent"
    return Figures(
        id=newsletter_id,
        status=status,
        recipients=sum(int(v) for v in by_status.values()),
        sent=int(outbox.get("sent", 0)),
        failed=int(outbox.get("failed", 0)),
        suppressed=int(by_status.get("suppressed", 0)),
        unsubscribed=int(unsubscribed or 0),
        bounces=int(bounces or 0),
        pending=pending,
        queued=in_flight,
        uncertain=int(outbox.get("uncertain", 0)),
    )


def preview_as(
    session: Session,
    settings: Settings,
    newsletter_id: int,
    handle: str,
    *,
    today: date,
    now: datetime,
) -> Rendered:
    """The newsletter as `handle` would get it; the creator must be in its segment now."""
    newsletter = get_newsletter(session, newsletter_id)
    rules = parse_segment(newsletter.segment)
    found = session.execute(
        select(Creator.id, Creator.languages).where(
            Creator.handle == handle.lstrip("@"), segment_condition(session, rules, today)
        )
    ).first()
    if found is None:
        raise NotFound(f"{handle!r} is not in this newsletter's segment")
    creator_id, languages = found
    values = personal_values(session, [creator_id], today, now)[creator_id]
    url = unsubscribe_url(
        settings.public_url(), unsubscribe_token(settings.signing_key(), creator_id, newsletter_id)
    )
    subject, body, label = version_of(newsletter, languages)
    return render(subject, body, {**values, "unsubscribe_url": url}, label)


def test_send(
    session: Session,
    settings: Settings,
    newsletter_id: int,
    *,
    handle: str,
    to: str,
    today: date,
    now: datetime,
) -> None:
    """Queue the newsletter as `handle` would get it, to the operator's address `to`
    (marked [test]; it is not a delivery and counts nowhere)."""
    rendered = preview_as(session, settings, newsletter_id, handle, today=today, now=now)
    enqueue_many(
        session,
        [
            NewMessage(
                kind="newsletter_test",
                recipient=to,
                subject=f"[test] {rendered.subject}",
                text=rendered.text,
                html=rendered.html,
                idempotency_key=f"newsletter-test:{newsletter_id}:{now.isoformat()}:{to}"[:200],
            )
        ],
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
