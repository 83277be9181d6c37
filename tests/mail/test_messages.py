"""Building e-mails: the worker's faster header handling makes the very same bytes as
the standard library's `email.policy.default`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy

import pytest

from matchdesk.mail import messages
from matchdesk.mail.messages import build_email
from matchdesk.mail.models import OutboxMessage
from matchdesk.mail.outbox import Attachment

BOUNDARY = re.compile(rb"={15}\d+==")
INVITE = Attachment("match.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")


def outbox_row(n: int, **kw: object) -> OutboxMessage:
    values: dict[str, object] = {
        "id": n,
        "kind": "k",
        "recipient": f"c{n}@example.com",
        "subject": f"Your match #{n}",
        "body_text": "Hello " * 40,
        "body_html": None,
        "attachments": [],
        "idempotency_key": f"match:{n}",
        "created_at": datetime(2030, 1, 7, 12, n, tzinfo=UTC),
    }
    values.update(kw)
    return OutboxMessage(**values)


ROWS = [
    outbox_row(1),
    outbox_row(2),  # the same shape again: shared headers are reused
    outbox_row(
        3,
        recipient="Zoë Müller <zoe@example.com>",
        subject="Ton match avec Zoë 🎉 " * 6,  # folded over several lines
        body_text="Héllo\n" * 3,
        body_html="<p>Héllo</p>",
        attachments=[
            Attachment(
                "match.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n"
            ).as_json()
        ],
        created_at=datetime(2030, 1, 7, 12, 3),  # naive, as SQLite returns it
    ),
]


def flattened(row: OutboxMessage, from_address: str) -> tuple[bytes, bytes]:
    email = build_email(row, from_address, "example.org")
    # Multipart boundaries are random: the same placeholder for each.
    return (
        BOUNDARY.sub(b"BOUNDARY", email.as_bytes(policy=policy.SMTP)),  # as SMTP sends it
        BOUNDARY.sub(b"BOUNDARY", email.as_bytes()),  # as an .eml file holds it
    )


@pytest.mark.parametrize("from_address", ["noreply@example.org", "Match Désk <n@example.org>"])
def test_messages_are_byte_for_byte_those_of_the_standard_policy(
    monkeypatch: pytest.MonkeyPatch, from_address: str
) -> None:
    fast = [flattened(row, from_address) for row in ROWS + ROWS]
    monkeypatch.setattr(messages, "POLICY", policy.default)
    standard = [flattened(row, from_address) for row in ROWS + ROWS]
    assert fast == standard


SHAPES = [
    {},
    {"body_html": "<p>Hello</p>"},
    {"body_text": "short\nlines\n", "body_html": "<p>" + "long html " * 30 + "</p>"},
    {"body_text": "Olá, Zoë!\nAté já.\n"},  # 8bit
    {"body_text": "Olá " * 40, "body_html": "<p>Olá</p>\n" * 20},  # quoted-printable
    {"body_text": "日本語のテキスト" * 20},  # base64
    {"body_text": ".leading dot\n..two\n"},
    {"body_text": "crlf\r\nand cr\rlines\r\n"},
    {"body_text": ""},
    {"recipient": "Zoë Müller <zoe@example.com>"},
    {"recipient": "Ana Lima <ana.lima+news@example.com.br>"},
    {"recipient": "Ana. Lima <ana@example.com>"},
    {"recipient": '"quoted" <q@example.com>'},
    {"subject": "Ton match avec Zoë 🎉 " * 6},
    {"subject": "A plain subject that is long enough to be folded over two lines, surely"},
    {"subject": "double  space and =?utf-8?q?x?= word"},
    {"subject": "  leading and trailing  "},
    {"subject": ""},
    {
        "headers": {
            "List-Unsubscribe": "<https://desk.example.org/unsubscribe/12.34.AbCdEfGhIjKlMnOpQrStUvWx>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    },
    {"headers": {"List-Unsubscribe": "<https://x.org/u/1.2.a>", "X-Campaign": "spring 2030"}},
    {"headers": {"Reply-To": "Desk <desk@example.org>"}},
    {"idempotency_key": "newsletter:7:123456", "created_at": datetime(2030, 1, 7, 23, 59, 59)},
]


@pytest.mark.parametrize("shape", range(len(SHAPES)))
@pytest.mark.parametrize(
    "from_address", ["noreply@example.org", "matchdesk <desk@localhost>", "Match Désk <n@x.org>"]
)
@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_email_bytes_are_those_of_the_built_message(
    shape: int, from_address: str, linesep: str
) -> None:
    row = outbox_row(5, **SHAPES[shape])
    fast = messages.email_bytes(row, from_address, "example.org", linesep=linesep)
    target = policy.SMTP if linesep == "\r\n" else policy.default
    built = build_email(row, from_address, "example.org").as_bytes(policy=target)
    assert BOUNDARY.sub(b"BOUNDARY", fast) == BOUNDARY.sub(b"BOUNDARY", built)


def test_email_bytes_of_a_message_with_attachments_are_built_as_before() -> None:
    row = ROWS[2]
    fast = messages.email_bytes(row, "noreply@example.org", "example.org")
    built = build_email(row, "noreply@example.org", "example.org").as_bytes(policy=policy.SMTP)
    assert BOUNDARY.sub(b"BOUNDARY", fast) == BOUNDARY.sub(b"BOUNDARY", built)
