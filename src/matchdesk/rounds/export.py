"""Writing a round out: CSV (docs/formats.md section 3: the fields of `rounds show --json`'s
matches, one a row), XLSX (the same fields as real dates and numbers, each creator's local
start beside UTC, and a sheet of byes) and ICS (one calendar with every standing match, for
the ops team's calendar)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from matchdesk.errors import InvalidInput
from matchdesk.roster.models import Creator, utcnow
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
        return _xlsx(session, round_id, document)
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


DATE_TIME = "yyyy-mm-dd hh:mm"
LOCAL_FIELDS = (
    "creator_a_timezone",
    "creator_a_local_start",
    "creator_b_timezone",
    "creator_b_local_start",
)


def _xlsx(session: Session, round_id: int, document: dict[str, Any]) -> bytes:
    """Sheet "matches": the CSV's fields (times in UTC as spreadsheet dates, the score a
    number), then each creator's zone and local start (a date on their clock); sheet
    "byes": every bye with its reason."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    handles = {m["creator_a"] for m in document["matches"]} | {
        m["creator_b"] for m in document["matches"]
    }
    handles |= {b["creator"] for b in document["byes"]}
    zones = _zones(session, sorted(handles))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("matches")

    def when(moment: datetime) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=moment.replace(tzinfo=None))
        cell.number_format = DATE_TIME
        return cell

    sheet.append([*FIELDS, *LOCAL_FIELDS])
    for m in document["matches"]:
        starts, ends = _instant(m["starts_at"]), _instant(m["ends_at"])
        row: list[Any] = [m["match_id"], m["creator_a"], m["creator_b"], when(starts)]
        row += [when(ends), m["score"], m["status"]]
        for handle in (m["creator_a"], m["creator_b"]):
            zone = zones.get(handle, "UTC")
            row += [zone, when(starts.astimezone(ZoneInfo(zone)))]
        sheet.append(row)
    byes = book.create_sheet("byes")
    byes.append(["creator", "reason", "timezone"])
    for b in document["byes"]:
        byes.append([b["creator"], b["reason"], zones.get(b["creator"], "UTC")])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def _zones(session: Session, handles: list[str]) -> dict[str, str]:
    zones: dict[str, str] = {}
    for i in range(0, len(handles), 20_000):
        found = session.execute(
            select(Creator.handle, Creator.timezone).where(
                Creator.handle.in_(handles[i : i + 20_000])
            )
        )
        zones.update((handle, zone) for handle, zone in found)
    return zones
