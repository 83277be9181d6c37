"""Invitation calendars without the icalendar library's per-object machinery: publishing
a big round writes one calendar per invitation, and building each through icalendar cost
most of a millisecond. The text is written directly, byte for byte what
`invitations.calendar_bytes` makes with icalendar (same property order, RFC 5545 folding
at 75 octets), for values that need no escaping or quoting: printable ASCII without
backslash, `;`, `,` (nor space, `:`, `"`, `^` in the organizer's name). Anything else returns None
and the caller uses icalendar. tests/rounds/test_ics_fast.py checks the two agree.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache

# Printable ASCII without what TEXT escapes; a parameter also without what makes
# icalendar quote it.
_PLAIN = re.compile(r"[ -+\--:<-\[\]-~]*")  # 0x20-0x7E without , ; \\
_PLAIN_PARAM = re.compile(r"[!#-+\--9<-\[\]-\]_-~]*")  # also without space " : ^
_FOLD = 74  # characters per folded piece (75 octets with the continuation's space)


def _plain(value: str, allowed: re.Pattern[str] = _PLAIN) -> bool:
    return allowed.fullmatch(value) is not None


@lru_cache(maxsize=1024)
def _sender_plain(prodid: str, organizer_address: str, organizer_name: str) -> bool:
    """Whether the values every calendar of a batch shares need no escaping (checked once
    per sender, not once per calendar)."""
    return (
        _plain(prodid)
        and _plain(organizer_address, _PLAIN_PARAM)
        and _plain(organizer_name, _PLAIN_PARAM)
        and organizer_name.strip() == organizer_name
        and bool(organizer_name)
    )


def _line(text: str) -> str:
    if len(text) <= _FOLD:
        return text + "\r\n"
    pieces = [text[i : i + _FOLD] for i in range(0, len(text), _FOLD)]
    return "\r\n ".join(pieces) + "\r\n"


@lru_cache(maxsize=4096)  # a round has a few hundred slots; a batch shares one DTSTAMP
def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fast_calendar(
    *,
    prodid: str,
    method: str,
    uid: str,
    sequence: int,
    summary: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
    organizer_address: str,
    organizer_name: str,
    attendee: str,
    stamp: datetime,
) -> bytes | None:
    """The calendar `calendar_bytes` would make, or None when a value needs escaping."""
    if not (
        _sender_plain(prodid, organizer_address, organizer_name)
        and _plain(uid)
        and _plain(summary)
        and _plain(description)
        and _plain(attendee, _PLAIN_PARAM)
        and method in ("REQUEST", "CANCEL")
    ):
        return None
    rsvp = "TRUE" if method == "REQUEST" else "FALSE"
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        + _line(f"PRODID:{prodid}")
        + f"METHOD:{method}\r\nBEGIN:VEVENT\r\n"
        + _line(f"SUMMARY:{summary}")
        + f"DTSTART:{_stamp(starts_at)}\r\nDTEND:{_stamp(ends_at)}\r\n"
        + f"DTSTAMP:{_stamp(stamp)}\r\n"
        + _line(f"UID:{uid}")
        + f"SEQUENCE:{sequence}\r\n"
        + _line(f"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP={rsvp}:mailto:{attendee}")
        + _line(f"DESCRIPTION:{description}")
        + _line(f"ORGANIZER;CN={organizer_name}:mailto:{organizer_address}")
        + f"STATUS:{status}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return text.encode("ascii")
