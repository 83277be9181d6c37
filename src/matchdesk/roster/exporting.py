"""The roster export, streamed: creators in pages of `PAGE` by handle (keyset), each page
with its windows and blocks, so an export of any size holds one page in memory."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from matchdesk.roster.availability import Window, parse_availability
from matchdesk.roster.models import AvailabilityWindow, Creator, CreatorBlock
from matchdesk.roster.records import COLUMNS, CreatorRecord
from matchdesk.roster.service import record_row
from matchdesk.roster.tables import Cell, iter_csv, write_xlsx_to

PAGE = 2000
_READ = 1 << 16


def iter_records(session: Session, page: int = PAGE) -> Iterator[CreatorRecord]:
    """Every creator as a `CreatorRecord`, by handle, read a page at a time."""
    after = ""
    blocked_creator = aliased(Creator)
    while True:
        creators = list(
            session.execute(
                select(Creator).where(Creator.handle > after).order_by(Creator.handle).limit(page)
            ).scalars()
        )
        if not creators:
            return
        ids = [c.id for c in creators]
        windows: dict[int, list[Window]] = {}
        for creator_id, weekday, start, end in session.execute(
            select(
                AvailabilityWindow.creator_id,
                AvailabilityWindow.weekday,
                AvailabilityWindow.start_minute,
                AvailabilityWindow.end_minute,
            ).where(AvailabilityWindow.creator_id.in_(ids))
        ):
            windows.setdefault(creator_id, []).append(Window(weekday, start, end))
        blocked: dict[int, list[str]] = {}
        for creator_id, handle in session.execute(
            select(CreatorBlock.creator_id, blocked_creator.handle)
            .join(blocked_creator, blocked_creator.id == CreatorBlock.blocked_id)
            .where(CreatorBlock.creator_id.in_(ids))
        ):
            blocked.setdefault(creator_id, []).append(handle)
        for row in creators:
            yield CreatorRecord(
                handle=row.handle,
                display_name=row.display_name,
                email=row.email,
                timezone=row.timezone,
                languages=tuple(row.languages.split(";")),
                region=row.region,
                category=row.category,
                followers=row.followers,
                revenue_30d=row.revenue_30d,
                availability=tuple(sorted(windows.get(row.id, ()))),
                blocked=tuple(sorted(blocked.get(row.id, ()))),
                status=row.status,
                manager=row.manager,
                checkin_hours=parse_availability(row.checkin_hours),
            )
        after = creators[-1].handle
        session.expunge_all()


def _rows(session: Session) -> Iterator[list[Cell]]:
    for record in iter_records(session):
        yield list(record_row(record))


def stream_csv(session: Session) -> Iterator[bytes]:
    """The roster file as CSV, in pieces."""
    yield from iter_csv(list(COLUMNS), _rows(session))


def stream_xlsx(session: Session) -> Iterator[bytes]:
    """The roster file as XLSX: written to a temporary file (spilling to disk past 8 MB),
    then read back in pieces."""
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115
    with spool:
        write_xlsx_to(spool, list(COLUMNS), _rows(session), "creators")
        spool.seek(0)
        while chunk := spool.read(_READ):
            yield chunk
