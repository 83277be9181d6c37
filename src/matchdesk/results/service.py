"""The results' commands and queries (SPEC section 4). The caller owns the transaction:
these functions flush but never commit, so a failure anywhere leaves the database as it
was; an import with any problem raises `InvalidInput` listing every one and writes nothing.

Every way in (a file, the upload page, the API's JSON rows, `save_sessions` for records
made in code) goes through the same staging table and the same checks and writes.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from matchdesk.audit import AuditEntry
from matchdesk.errors import InvalidInput
from matchdesk.program import Program
from matchdesk.results.cache import results_changed
from matchdesk.results.creator_stats import figures_recorded
from matchdesk.results.importing import RESULTS_COLUMNS, Progress, stage_rows, table_of_rows
from matchdesk.results.ledger import refresh_revenue
from matchdesk.results.linking import complete_matches, link_by_overlap, membership_problems
from matchdesk.results.models import LiveSession, ResultsUpload
from matchdesk.results.records import COLUMNS, SessionRecord
from matchdesk.results.rollups import record_import
from matchdesk.results.staging import CREATED, UNCHANGED, UPDATED, PreviewRow, Stage, today_in
from matchdesk.roster.models import Creator, utcnow
from matchdesk.roster.tables import read_table
from matchdesk.tabular import Problems, collector_paused, header_problems, refuse
from matchdesk.uploads import mark_imported, missing_upload

MAX_UPLOAD_BYTES = 200 * 2**20
MAX_API_ROWS = 100_000
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class ResultsReport:
    """What an import did (or, with `dry_run`, would do): sessions created, updated and
    unchanged, those linked to a match, the matches it completed, and its first rows."""

    created: int
    updated: int
    unchanged: int
    dry_run: bool
    linked: int = 0
    matches_completed: int = 0
    preview: tuple[PreviewRow, ...] = ()

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


def _import(
    session: Session,
    program: Program,
    name: str,
    fill: Callable[[Stage, Problems], None],
    header: Sequence[str],
    *,
    actor: str,
    dry_run: bool,
    today: date | None,
    preview: int = 0,
) -> ResultsReport:
    stage = Stage(session, program.program.timezone)
    problems = Problems(header)
    fill(stage, problems)
    stage.analyze()
    stage.check_duplicates(problems)
    membership_problems(stage, problems)
    if problems:
        stage.drop()
        raise refuse(name, problems.sorted())
    link_by_overlap(stage)
    counts = stage.classify()
    linked = stage.linked()
    shown = tuple(stage.preview(preview)) if preview else ()
    completed: list[int] = []
    if not dry_run:
        _audit_updates(session, stage, actor)
        record_import(stage)
        stage.write_sessions(utcnow())
        completed = complete_matches(stage, actor)
        refresh_revenue(
            session, today or today_in(program.program.timezone), stage.touched_creators()
        )
        figures_recorded(stage, today or today_in(program.program.timezone))
        results_changed(session)
    stage.drop()
    session.flush()
    return ResultsReport(
        created=counts[CREATED],
        updated=counts[UPDATED],
        unchanged=counts[UNCHANGED],
        dry_run=dry_run,
        linked=linked,
        matches_completed=len(completed),
        preview=shown,
    )


def _audit_updates(session: Session, stage: Stage, actor: str) -> None:
    rows = [
        {
            "actor": actor,
            "action": "session.updated",
            "subject_type": "live_session",
            "subject_id": str(session_id),
            "before": before,
            "after": after,
        }
        for session_id, before, after in stage.updated_pairs()
    ]
    for start in range(0, len(rows), 5000):
        session.execute(insert(AuditEntry), rows[start : start + 5000])


def save_sessions(
    session: Session,
    program: Program,
    records: Iterable[SessionRecord],
    *,
    actor: str,
    today: date | None = None,
    dry_run: bool = False,
) -> ResultsReport:
    """Write validated sessions exactly as an import of them would: new ones inserted,
    changed ones updated (audited), matches linked and completed, the ledger adjusted and
    `revenue_30d` refreshed (as of `today`, program time; default: today). A handle not
    on the roster or a match the creator is not in raises `InvalidInput` naming the
    record (`row N` is the N-th record) and writes nothing."""

    def fill(stage: Stage, problems: Problems) -> None:
        chunk: list[tuple[int, SessionRecord]] = []
        for item in enumerate(records, start=1):
            chunk.append(item)
            if len(chunk) == 20_000:
                stage.add(chunk, problems)
                chunk = []
        stage.add(chunk, problems)

    return _import(
        session,
        program,
        "the sessions",
        fill,
        COLUMNS,
        actor=actor,
        dry_run=dry_run,
        today=today,
    )


def import_results(
    session: Session,
    program: Program,
    data: bytes,
    name: str,
    *,
    actor: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    today: date | None = None,
    preview: int = 0,
) -> ResultsReport:
    """Validate a results file (CSV or XLSX, SPEC section 4) and, unless `dry_run`, save
    it. Raises `InvalidInput` listing every problem (`row N, column C: message`)."""
    with collector_paused():  # a million rows of cells: see tabular.collector_paused
        table = read_table(data, name)
        problems = header_problems(table.header, RESULTS_COLUMNS)
        if problems:
            raise refuse(name, problems)

        def fill(stage: Stage, found: Problems) -> None:
            stage_rows(stage, table.rows, found, progress)

        return _import(
            session,
            program,
            name,
            fill,
            table.header,
            actor=actor,
            dry_run=dry_run,
            today=today,
            preview=preview,
        )


def import_rows(
    session: Session,
    program: Program,
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    dry_run: bool = False,
    today: date | None = None,
) -> ResultsReport:
    """The API's JSON rows (objects with the file's columns as keys; rows[0] is row 1),
    validated and saved exactly like a file's."""
    if len(rows) > MAX_API_ROWS:
        raise InvalidInput(f"at most {MAX_API_ROWS:,} rows a request (got {len(rows):,})")
    if not rows:
        raise InvalidInput("no rows: send at least one session")

    def fill(stage: Stage, problems: Problems) -> None:
        table = table_of_rows(rows, problems)
        stage_rows(stage, table.rows, problems)

    return _import(
        session, program, "the rows", fill, COLUMNS, actor=actor, dry_run=dry_run, today=today
    )


def stage_upload(
    session: Session, program: Program, data: bytes, name: str, uploaded_by: str
) -> tuple[str, ResultsReport]:
    """Check an uploaded results file and keep it until the manager confirms it. Returns
    the upload's id and what the import would do (with a preview of its first rows)."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
    report = import_results(
        session, program, data, name, actor=uploaded_by, dry_run=True, preview=PREVIEW_ROWS
    )
    upload_id = secrets.token_urlsafe(24)
    session.execute(
        delete(ResultsUpload).where(ResultsUpload.created_at < utcnow() - timedelta(days=1))
    )
    session.add(
        ResultsUpload(id=upload_id, filename=name[:200], data=data, uploaded_by=uploaded_by)
    )
    session.flush()
    return upload_id, report


def confirm_upload(
    session: Session,
    program: Program,
    upload_id: str,
    *,
    actor: str,
    progress: Progress | None = None,
) -> tuple[str, ResultsReport]:
    """Import a staged upload (all or nothing, checked again against today's data)."""
    upload = session.get(ResultsUpload, upload_id)
    if upload is None:
        raise missing_upload(session, "results_upload", upload_id)
    report = import_results(
        session, program, upload.data, upload.filename, actor=actor, progress=progress
    )
    name = upload.filename
    mark_imported(session, "results_upload", upload_id, name, upload.uploaded_by)
    session.delete(upload)
    session.flush()
    return name, report


def get_upload(session: Session, upload_id: str) -> ResultsUpload | None:
    return session.get(ResultsUpload, upload_id)


@dataclass(frozen=True)
class SessionRow:
    """A stored session, for lists."""

    id: int
    handle: str
    started_at: datetime
    day: date
    duration_minutes: int
    diamonds: int
    viewers_peak: int | None
    new_followers: int | None
    match_id: int | None
    outcome: str | None


def latest_sessions(
    session: Session, limit: int = 20, creator_id: int | None = None
) -> list[SessionRow]:
    """The most recently imported sessions (newest import first, then latest start)."""
    from matchdesk.results.staging import aware

    query = (
        select(
            LiveSession.id,
            Creator.handle,
            LiveSession.started_at,
            LiveSession.day,
            LiveSession.duration_minutes,
            LiveSession.diamonds,
            LiveSession.viewers_peak,
            LiveSession.new_followers,
            LiveSession.match_id,
            LiveSession.outcome,
        )
        .join(Creator, Creator.id == LiveSession.creator_id)
        .order_by(
            LiveSession.imported_at.desc(), LiveSession.started_at.desc(), LiveSession.id.desc()
        )
        .limit(limit)
    )
    if creator_id is not None:
        query = query.where(LiveSession.creator_id == creator_id)
    return [
        SessionRow(r[0], r[1], aware(r[2]), r[3], r[4], r[5], r[6], r[7], r[8], r[9])
        for r in session.execute(query)
    ]


def count_sessions(session: Session) -> int:
    from sqlalchemy import func

    return int(session.scalar(select(func.count()).select_from(LiveSession)) or 0)
