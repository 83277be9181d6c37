"""Bounces and complaints read back from the bounce mailbox (a Maildir folder).

Delivery status notifications are parsed with flufl.bounce (GNU Mailman's bounce
detectors: RFC 3464 DSNs and the many non-standard formats servers send): permanent
failures are hard bounces (the address is suppressed), temporary ones soft bounces
(counted). Complaints are RFC 5965 feedback reports (`multipart/report;
report-type=feedback-report`), which flufl.bounce does not read: the complained-about
recipient comes from the report's `Original-Rcpt-To` or the returned message's `To`;
the address is suppressed. The returned headers' Message-ID ties a bounce to its
newsletter (the outbox keeps each message's Message-ID).

Reading is idempotent: a report is recorded once per (file, address), and a read
message is moved from `new/` to `cur/` and marked seen.

The same findings also come from an e-mail provider's webhook (`record_webhook`): its
JSON events (Amazon SES, SendGrid, Mailgun, Postmark, or matchdesk's own shape) are
recorded once per (event id, address), as a Maildir file is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mailbox
from collections.abc import Iterable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses
from pathlib import Path
from typing import Any, cast

from flufl.bounce import all_failures
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from matchdesk.errors import InvalidInput, MatchdeskError
from matchdesk.mail.models import OutboxMessage
from matchdesk.outreach.consent import suppress
from matchdesk.outreach.models import Bounce


@dataclass(frozen=True)
class Finding:
    """One address a report is about: `hard`, `soft` or `complaint`."""

    email: str
    kind: str
    message_id: str | None


@dataclass
class BounceReport:
    """What reading a mailbox did."""

    messages: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    not_reports: int = 0
    suppressed: int = 0


def classify(raw: bytes) -> list[Finding]:
    """The addresses a bounce or complaint message is about (none for other mail)."""
    message = cast(EmailMessage, message_from_bytes(raw, policy=policy.compat32))
    returned_id = _returned_message_id(message)
    complaint = _complaint(message)
    if complaint is not None:
        return [Finding(complaint, "complaint", returned_id)]
    temporary, permanent = all_failures(message)
    findings = [Finding(_text(a), "hard", returned_id) for a in sorted(permanent)]
    findings += [Finding(_text(a), "soft", returned_id) for a in sorted(temporary - permanent)]
    return [f for f in findings if "@" in f.email]


def _text(address: bytes | str) -> str:
    value = address.decode("utf-8", "replace") if isinstance(address, bytes) else address
    return value.strip().strip("<>").lower()


def _is_report(message: Message, report_type: str) -> bool:
    value = message.get_param("report-type")
    return (
        message.get_content_type() == "multipart/report"
        and isinstance(value, str)
        and value.lower() == report_type
    )


def _complaint(message: Message) -> str | None:
    if not _is_report(message, "feedback-report"):
        return None
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            fields = _fields(part)
            recipient = fields.get("original-rcpt-to")
            if recipient:
                return _text(recipient)
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            returned = _inner(part)
            if returned is not None and returned.get("To"):
                addresses = getaddresses([str(returned["To"])])
                if addresses and "@" in addresses[0][1]:
                    return addresses[0][1].lower()
    return None


def _fields(part: Message) -> dict[str, str]:
    """The `Name: value` fields of a feedback-report or delivery-status part."""
    payload: Any = part.get_payload()
    blocks = payload if isinstance(payload, list) else [part]
    fields: dict[str, str] = {}
    for block in blocks:
        if isinstance(block, Message):
            for name, value in block.items():
                fields.setdefault(name.lower(), str(value).strip())
            text = block.get_payload()
            if isinstance(text, str):
                for line in text.splitlines():
                    name, sep, value = line.partition(":")
                    if sep:
                        fields.setdefault(name.strip().lower(), value.strip())
    return fields


def _inner(part: Message) -> Message | None:
    payload: Any = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return payload[0]
    if isinstance(payload, str):
        return message_from_bytes(payload.encode("utf-8", "replace"), policy=policy.compat32)
    return None


def _returned_message_id(message: Message) -> str | None:
    """The Message-ID of the message a report returns (its headers or whole copy)."""
    for part in message.walk():
        if part is message:
            continue
        if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
            returned = _inner(part)
            if returned is not None and returned.get("Message-ID"):
                return str(returned["Message-ID"]).strip()
    return None


def record(
    session: Session, source: str, findings: Iterable[Finding], report: BounceReport
) -> None:
    """Record the findings of one report (once per source and address) and suppress
    the hard-bounced and complaining addresses."""
    findings = list(findings)
    if not findings:
        report.not_reports += 1
        return
    ids = {f.message_id for f in findings if f.message_id}
    keys = (
        dict(
            session.execute(
                select(OutboxMessage.message_id, OutboxMessage.idempotency_key).where(
                    OutboxMessage.message_id.in_(ids)
                )
            ).all()
        )
        if ids
        else {}
    )
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for finding in findings:
        newsletter_id = _newsletter_of(keys.get(finding.message_id or ""))
        written = session.execute(
            insert(Bounce)
            .values(
                source=source[:300],
                email=finding.email[:254],
                kind=finding.kind,
                newsletter_id=newsletter_id,
            )
            .on_conflict_do_nothing(index_elements=["source", "email"])
            .returning(Bounce.id)
        ).first()
        if written is None:  # read before
            continue
        if finding.kind == "soft":
            report.soft += 1
            continue
        if finding.kind == "hard":
            report.hard += 1
        else:
            report.complaints += 1
        reason = "hard_bounce" if finding.kind == "hard" else "complaint"
        report.suppressed += suppress(
            session, [finding.email], reason, detail=source, newsletter_id=newsletter_id
        )


def _newsletter_of(key: str | None) -> int | None:
    if key and key.startswith("newsletter:"):
        part = key.split(":")[1]
        return int(part) if part.isdigit() else None
    return None


def read_maildir(session: Session, folder: Path) -> tuple[BounceReport, list[str]]:
    """Read the new messages of the Maildir `folder`: record each report and suppress
    hard bounces and complaints, in the caller's transaction. Returns the report and
    the keys read: pass them to `mark_read` once the transaction has committed (a
    failure leaves them in `new/`, read again next time, recorded once)."""
    if not (folder / "new").is_dir() or not (folder / "cur").is_dir():
        raise InvalidInput(f"{folder}: not a Maildir folder (it needs new/ and cur/)")
    box = mailbox.Maildir(str(folder), factory=None, create=False)
    report = BounceReport()
    read: list[str] = []
    for key in sorted(box.iterkeys()):
        message = box.get_message(key)
        if message.get_subdir() != "new":
            continue
        report.messages += 1
        record(session, f"maildir:{key}", classify(message.as_bytes()), report)
        read.append(key)
    return report, read


def mark_read(folder: Path, keys: Iterable[str]) -> None:
    """Move the messages read to `cur/`, marked seen."""
    box = mailbox.Maildir(str(folder), factory=None, create=False)
    for key in keys:
        message = box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        box[key] = message


# --- the bounce webhook: an e-mail provider's JSON events ------------------------------

WEBHOOK_SALT = "matchdesk-bounce-webhook"


class WebhookRefused(MatchdeskError):
    code = "webhook_refused"
    status = 403


def webhook_token(key: str) -> str:
    """The secret part of the bounce webhook's URL, derived from the app's secret key (an
    HMAC-SHA256 of a fixed label: a new secret key makes a new URL)."""
    digest = hmac.new(key.encode(), WEBHOOK_SALT.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def check_webhook_token(key: str, token: str) -> None:
    """`WebhookRefused` unless `token` is the webhook's (compared in constant time)."""
    if not hmac.compare_digest(token.encode(), webhook_token(key).encode()):
        raise WebhookRefused("This webhook address is not valid.")


def webhook_findings(payload: Any) -> tuple[list[tuple[str, Finding]], int]:
    """The (event id, finding) pairs of a provider's webhook body, and how many events
    were not bounces or complaints (deliveries, opens, subscription confirmations...).

    Read: Amazon SES (an SNS notification, or its message alone), SendGrid's event list,
    Mailgun's `event-data`, Postmark's bounce and spam-complaint records, and
    matchdesk's own `{"events": [{"id", "email", "kind", "message_id"}]}`."""
    events = payload if isinstance(payload, list) else [payload]
    found: list[tuple[str, Finding]] = []
    ignored = 0
    for event in events:
        pairs = _event_findings(event) if isinstance(event, dict) else []
        if pairs:
            found.extend(pairs)
        else:
            ignored += 1
    return found, ignored


def _event_findings(event: dict[str, Any]) -> list[tuple[str, Finding]]:
    if isinstance(event.get("events"), list):  # matchdesk's own
        return [
            (
                f"webhook:{e.get('id') or _digest(e)}",
                Finding(_address(e["email"]), e["kind"], _mid(e.get("message_id"))),
            )
            for e in event["events"]
            if isinstance(e, dict)
            and isinstance(e.get("email"), str)
            and e.get("kind") in ("hard", "soft", "complaint")
        ]
    if event.get("Type") == "Notification" and isinstance(event.get("Message"), str):  # SNS
        try:
            inner = json.loads(event["Message"])
        except ValueError:
            return []
        return _ses(inner, str(event.get("MessageId") or _digest(event)))
    if "notificationType" in event or "eventType" in event:
        return _ses(event, _digest(event))
    if isinstance(event.get("event-data"), dict):
        return _mailgun(event["event-data"])
    if "RecordType" in event:
        return _postmark(event)
    if "event" in event and "email" in event:
        return _sendgrid(event)
    return []


def _ses(note: dict[str, Any], event_id: str) -> list[tuple[str, Finding]]:
    kind = note.get("notificationType") or note.get("eventType")
    mail = _dict(note.get("mail"))
    headers = _dict(mail.get("commonHeaders"))
    message_id = _mid(headers.get("messageId"))
    if kind == "Bounce" and isinstance(note.get("bounce"), dict):
        bounce = note["bounce"]
        severity = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
        recipients = bounce.get("bouncedRecipients") or []
    elif kind == "Complaint" and isinstance(note.get("complaint"), dict):
        severity, recipients = "complaint", note["complaint"].get("complainedRecipients") or []
    else:
        return []
    return [
        (f"webhook:ses:{event_id}", Finding(_address(r["emailAddress"]), severity, message_id))
        for r in recipients
        if isinstance(r, dict) and isinstance(r.get("emailAddress"), str)
    ]


def _sendgrid(event: dict[str, Any]) -> list[tuple[str, Finding]]:
    name, bounce_type = event.get("event"), event.get("type")
    if name == "bounce":
        kind = "soft" if bounce_type == "blocked" else "hard"
    elif name == "spamreport":
        kind = "complaint"
    elif name == "deferred":
        kind = "soft"
    else:
        return []
    event_id = event.get("sg_event_id") or _digest(event)
    message_id = _mid(event.get("smtp-id"))
    return [(f"webhook:sendgrid:{event_id}", Finding(_address(event["email"]), kind, message_id))]


def _mailgun(data: dict[str, Any]) -> list[tuple[str, Finding]]:
    name = data.get("event")
    if name == "failed":
        kind = "hard" if data.get("severity") == "permanent" else "soft"
    elif name == "complained":
        kind = "complaint"
    else:
        return []
    recipient = data.get("recipient")
    if not isinstance(recipient, str):
        return []
    message = _dict(data.get("message"))
    headers = _dict(message.get("headers"))
    event_id = data.get("id") or _digest(data)
    finding = Finding(_address(recipient), kind, _mid(headers.get("message-id")))
    return [(f"webhook:mailgun:{event_id}", finding)]


def _postmark(record_: dict[str, Any]) -> list[tuple[str, Finding]]:
    record_type, bounce_type = record_.get("RecordType"), record_.get("Type")
    if record_type == "SpamComplaint" or bounce_type == "SpamComplaint":
        kind = "complaint"
    elif record_type == "Bounce":
        kind = "hard" if bounce_type in POSTMARK_HARD else "soft"
    else:
        return []
    email = record_.get("Email")
    if not isinstance(email, str):
        return []
    event_id = record_.get("ID") or _digest(record_)
    return [(f"webhook:postmark:{event_id}", Finding(_address(email), kind, None))]


# Postmark's bounce types that mean the address will not work (the rest are soft).
POSTMARK_HARD = frozenset({"HardBounce", "BadEmailAddress", "ManuallyDeactivated", "Blocked"})


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _address(value: str) -> str:
    return value.strip().strip("<>").lower()


def _mid(value: Any) -> str | None:
    """A Message-ID as the outbox keeps it, `<...>`."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    return text if text.startswith("<") else f"<{text}>"


def _digest(event: Any) -> str:
    # An event without an id of its own is named by its content: a provider's retry of
    # the same event is recorded once.
    return hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()[:32]


def record_webhook(session: Session, payload: Any) -> tuple[BounceReport, int]:
    """Record a webhook body's bounces and complaints (once per event and address) and
    suppress the hard-bounced and complaining addresses, in the caller's transaction.
    Returns the report and how many events were something else."""
    found, ignored = webhook_findings(payload)
    report = BounceReport()
    by_event: dict[str, list[Finding]] = {}
    for event_id, finding in found:
        if "@" in finding.email:
            by_event.setdefault(event_id, []).append(finding)
    for event_id, findings in by_event.items():
        report.messages += 1
        record(session, event_id, findings, report)
    return report, ignored


def webhook_url(base_url: str, key: str) -> str:
    """The bounce webhook's address: `{base_url}/webhooks/bounces/{token}`."""
    return f"{base_url.rstrip('/')}/webhooks/bounces/{webhook_token(key)}"
