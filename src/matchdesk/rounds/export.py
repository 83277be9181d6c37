"""Writing a round out: CSV and XLSX (SPEC section 3: the fields of `rounds show --json`'s
matches, one a row) and ICS (one calendar with every standing match, for the ops team's
calendar)."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from icalendar import Calendar, Event
from sqlalchemy.orm import Session

from matchdesk.errors import InvalidInput
from matchdesk.roster.models import utcnow
from matchdesk.rounds.invitations import PRODID, Sender
from matchdesk.rounds.service import round_document

FIELDS = ("match_id", "creator_a", "creator_b", "starts_at", "ends_at", "score", "status")
FORMATS = ("csv", "xlsx", "ics")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ics": "text/calendar; charset=utf-8",
}
STANDING = ("proposed", "published", "confirmed", "completed")


def export_round(session: Session, round_id: int, fmt: str) -> bytes:
    """The round in format `fmt` (csv, xlsx or ics). InvalidInput for another format."""
    if fmt not in FORMATS:
        raise InvalidInput("unknown format", [f"format: {fmt!r} is not one of csv, xlsx, ics"])
    document = round_document(session, round_id)
    rows = [[m[f] for f in FIELDS] for m in document["matches"]]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(FIELDS)
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(f"round {round_id}")
        sheet.append(list(FIELDS))
        for row in rows:
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        return data.getvalue()
    sender = Sender.from_settings()
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    stamp = utcnow()
    for match in document["matches"]:
        if match["status"] not in STANDING:
            continue
        event = Event()
        event.add("uid", f"match-{match['match_id']}@{sender.domain}")
        event.add("dtstamp", stamp)
        event.add("dtstart", _instant(match["starts_at"]))
        event.add("dtend", _instant(match["ends_at"]))
        event.add("summary", f"LIVE match @{match['creator_a']} x @{match['creator_b']}")
        event.add("description", f"Round {round_id}, match {match['match_id']} ({match['status']})")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
