"""The roster's commands and queries. The caller owns the transaction: these functions
flush but never commit, so a failure anywhere leaves the database as it was."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from matchdesk.accounts.models import Operator
from matchdesk.db import bulk_insert
from matchdesk.errors import InvalidInput
from matchdesk.program import Program
from matchdesk.roster.availability import Window, format_availability, parse_availability
from matchdesk.roster.importing import validate_table
from matchdesk.roster.models import (
    AvailabilityWindow,
    Creator,
    CreatorBlock,
    CreatorLanguage,
    RosterUpload,
    utcnow,
)
from matchdesk.roster.records import COLUMNS, CreatorRecord
from matchdesk.roster.tables import read_table, write_csv, write_xlsx
from matchdesk.roster.tiers import ensure_tiers_current
from matchdesk.roster.version import roster_changed
from matchdesk.uploads import mark_imported, missing_upload

Progress = Callable[[str, int, int], None]
_CHUNK = 5000


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, with `dry_run`, would do)."""

    created: int
    updated: int
    unchanged: int
    dry_run: bool

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def load_records(session: Session) -> dict[str, CreatorRecord]:
    """Every creator on the roster as a `CreatorRecord`, by handle (the export's content)."""
    windows: dict[int, list[Window]] = {}
    for creator_id, weekday, start, end in session.execute(
        select(
            AvailabilityWindow.creator_id,
            AvailabilityWindow.weekday,
            AvailabilityWindow.start_minute,
            AvailabilityWindow.end_minute,
        )
    ):
        windows.setdefault(creator_id, []).append(Window(weekday, start, end))
    handles = dict(session.execute(select(Creator.id, Creator.handle)).all())
    blocked: dict[int, list[str]] = {}
    for creator_id, blocked_id in session.execute(
        select(CreatorBlock.creator_id, CreatorBlock.blocked_id)
    ):
        blocked.setdefault(creator_id, []).append(handles[blocked_id])
    records = {}
    for row in session.execute(select(Creator).order_by(Creator.handle)).scalars():
        records[row.handle] = CreatorRecord(
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
    session.expunge_all()  # thousands of loaded objects are not needed past this point
    return records


def _normalised(record: CreatorRecord) -> CreatorRecord:
    """The record as the database stores it (sorted windows and blocks), for comparison."""
    return CreatorRecord(
        **{
            **record.__dict__,
            "availability": tuple(sorted(set(record.availability))),
            "blocked": tuple(sorted(set(record.blocked))),
            "checkin_hours": tuple(sorted(set(record.checkin_hours))),
        }
    )


def _creator_values(record: CreatorRecord, program: Program) -> dict[str, Any]:
    return {
        "handle": record.handle,
        "display_name": record.display_name,
        "email": record.email,
        "timezone": record.timezone,
        "languages": ";".join(record.languages),
        "region": record.region,
        "category": record.category,
        "followers": record.followers,
        "revenue_30d": record.revenue_30d,
        "status": record.status,
        "manager": record.manager,
        "checkin_hours": format_availability(sorted(set(record.checkin_hours))),
        "tier": program.tier_for(record.revenue_30d, record.followers),
    }


def _ledger_kept(
    session: Session, records: Sequence[CreatorRecord]
) -> tuple[list[CreatorRecord], dict[str, str | None]]:
    """A creator whose revenue_30d follows their session results keeps it, and their tier
    (the tier review moves them), whatever the roster file says: the records with those
    creators' stored revenue, and their tiers by handle."""
    kept = {
        handle: (revenue, tier)
        for handle, revenue, tier in session.execute(
            select(Creator.handle, Creator.revenue_30d, Creator.tier).where(
                Creator.revenue_source == "results"
            )
        )
    }
    if not kept:
        return list(records), {}
    return (
        [replace(r, revenue_30d=kept[r.handle][0]) if r.handle in kept else r for r in records],
        {handle: tier for handle, (_, tier) in kept.items()},
    )


def save_records(
    session: Session,
    program: Program,
    records: Sequence[CreatorRecord],
    progress: Progress | None = None,
) -> ImportReport:
    """Insert new handles and update changed ones; unchanged creators are not touched.
    Blocked handles must exist on the roster or among `records`."""
    ensure_tiers_current(session, program)
    records, kept_tiers = _ledger_kept(session, records)
    current = load_records(session)
    ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
    versions = dict(session.execute(select(Creator.id, Creator.version)).all())
    new = [r for r in records if r.handle not in current]
    changed = [r for r in records if r.handle in current and _normalised(r) != current[r.handle]]
    now = utcnow()
    done = 0
    total = len(new) + len(changed)
    for chunk in _chunks(new, 20_000):
        rows = [
            {
                **_creator_values(r, program),
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for r in chunk
        ]
        bulk_insert(session, Creator.__table__, rows)  # type: ignore[arg-type]
        done += len(chunk)
        if progress:
            progress("Saving creators", done, total)
    if new:
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
    for chunk in _chunks(changed):
        rows = [
            {
                **_creator_values(r, program),
                **({"tier": kept_tiers[r.handle]} if r.handle in kept_tiers else {}),
                "id": ids[r.handle],
                "version": versions[ids[r.handle]] + 1,
                "updated_at": now,
            }
            for r in chunk
        ]
        session.execute(update(Creator), rows)
        touched = [ids[r.handle] for r in chunk]
        for table in (AvailabilityWindow, CreatorLanguage, CreatorBlock):
            session.execute(delete(table).where(table.creator_id.in_(touched)))
        done += len(chunk)
        if progress:
            progress("Saving creators", done, total)
    _insert_children(session, [*new, *changed], ids)
    if new or changed:
        roster_changed(session)
    session.flush()
    return ImportReport(len(new), len(changed), len(records) - total, dry_run=False)


def _insert_children(
    session: Session, records: Sequence[CreatorRecord], ids: dict[str, int]
) -> None:
    windows = [
        {
            "creator_id": ids[r.handle],
            "weekday": w.weekday,
            "start_minute": w.start,
            "end_minute": w.end,
        }
        for r in records
        for w in sorted(set(r.availability))
    ]
    languages = [
        {"creator_id": ids[r.handle], "language": lang} for r in records for lang in r.languages
    ]
    blocks = [
        {"creator_id": ids[r.handle], "blocked_id": ids[b]}
        for r in records
        for b in sorted(set(r.blocked))
    ]
    for table, rows in (
        (AvailabilityWindow, windows),
        (CreatorLanguage, languages),
        (CreatorBlock, blocks),
    ):
        for chunk in _chunks(rows, 50_000):
            bulk_insert(session, table.__table__, chunk)  # type: ignore[arg-type]


def import_roster(
    session: Session,
    program: Program,
    data: bytes,
    name: str,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate a roster file and, unless `dry_run`, save it. Raises `InvalidInput` listing
    every problem (`row N, column C: message`) and then writes nothing at all."""
    table = read_table(data, name)
    known = set(session.execute(select(Creator.handle)).scalars())
    managers = set(session.execute(select(Operator.email)).scalars())
    validation = validate_table(
        table,
        known,
        (lambda done, total: progress("Checking rows", done, total)) if progress else None,
        managers,
    )
    if validation.problems:
        count = len(validation.problems)
        raise InvalidInput(
            f"{name}: {count} problem{'s' if count != 1 else ''} found; nothing was imported",
            validation.problems,
        )
    if dry_run:
        current = load_records(session)
        records, _ = _ledger_kept(session, validation.records)
        new = sum(1 for r in records if r.handle not in current)
        changed = sum(
            1 for r in records if r.handle in current and _normalised(r) != current[r.handle]
        )
        return ImportReport(new, changed, len(records) - new - changed, dry_run=True)
    return save_records(session, program, validation.records, progress)


def record_row(record: CreatorRecord) -> list[str | int]:
    """A record as the roster file's cells, in `COLUMNS` order."""
    return [
        record.handle,
        record.display_name,
        record.email,
        record.timezone,
        ";".join(record.languages),
        record.region,
        record.category,
        record.followers,
        record.revenue_30d,
        format_availability(record.availability),
        ";".join(record.blocked),
        record.status,
        record.manager,
        format_availability(record.checkin_hours),
    ]


def export_roster(session: Session, name: str) -> bytes:
    """The whole roster in the roster file format; XLSX when `name` ends in .xlsx, else CSV."""
    rows = [record_row(r) for r in load_records(session).values()]
    if Path(name).suffix.lower() == ".xlsx":
        return write_xlsx(list(COLUMNS), rows, "creators")
    return write_csv(list(COLUMNS), rows)


def count_creators(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Creator)) or 0)


def get_creator(session: Session, handle: str) -> Creator | None:
    """A creator by handle (case-insensitive, `@` optional), with its windows loaded."""
    return session.scalar(
        select(Creator)
        .where(Creator.handle == handle.strip().removeprefix("@").lower())
        .options(selectinload(Creator.windows))
    )


MAX_UPLOAD_BYTES = 50 * 2**20


def stage_upload(
    session: Session, program: Program, data: bytes, name: str, uploaded_by: str
) -> tuple[str, ImportReport]:
    """Check an uploaded roster file and keep it until the manager confirms it. Returns the
    upload's id and what the import would do; raises `InvalidInput` with every problem."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    report = import_roster(session, program, data, name, dry_run=True)
    upload_id = secrets.token_urlsafe(24)
    # Uploads older than a day were never confirmed: drop them.
    session.execute(
        delete(RosterUpload).where(RosterUpload.created_at < utcnow() - timedelta(days=1))
    )
    session.add(RosterUpload(id=upload_id, filename=name[:200], data=data, uploaded_by=uploaded_by))
    session.flush()
    return upload_id, report


def confirm_upload(
    session: Session, program: Program, upload_id: str, progress: Progress | None = None
) -> tuple[str, ImportReport]:
    """Import a staged upload (all or nothing, checked again against today's roster)."""
    upload = session.get(RosterUpload, upload_id)
    if upload is None:
        raise missing_upload(session, "roster_upload", upload_id)
    report = import_roster(session, program, upload.data, upload.filename, progress=progress)
    name = upload.filename
    mark_imported(session, "roster_upload", upload_id, name, upload.uploaded_by)
    session.delete(upload)
    session.flush()
    return name, report
