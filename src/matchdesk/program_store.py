"""The program as an admin last saved it in Settings, kept in the database beside the
program file: the file sets a program up, Settings changes it afterwards without a
restart. The saved program is validated exactly as the file is (`program.program_from_data`),
carries a version (two admins saving at once: the second is refused), and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, Integer, String, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from matchdesk.audit import record
from matchdesk.db import Base
from matchdesk.errors import Conflict, InvalidInput
from matchdesk.program import Program, program_from_data
from matchdesk.roster.models import utcnow

if TYPE_CHECKING:
    from matchdesk.context import Matchdesk

SOURCE = "settings"


class ProgramOverride(Base):
    """The one saved program (id 1): the whole program document, as the file's keys."""

    __tablename__ = "program_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def saved_program(session: Session) -> tuple[Program, int] | None:
    """The program saved in Settings and its version, or None (the file's program holds)."""
    row = session.get(ProgramOverride, 1)
    if row is None:
        return None
    return program_from_data(row.document, SOURCE), row.version


def startup_program(engine: Engine, from_file: Program) -> Program:
    """The program a process starts with: the one saved in Settings, else the file's (also
    before `matchdesk init` has made the table)."""
    if not inspect(engine).has_table(ProgramOverride.__tablename__):
        return from_file
    with Session(engine) as session:
        saved = saved_program(session)
    return saved[0] if saved else from_file


def saved_version(session: Session) -> int:
    """The version of the program saved in Settings (0: none saved): one primary-key read,
    cheap enough for a worker to ask before every job."""
    version = session.scalar(select(ProgramOverride.version).where(ProgramOverride.id == 1))
    return int(version or 0)


@dataclass
class ProgramWatch:
    """Keeps a long-running process's program (`Matchdesk.program`) the one saved in
    Settings: `refresh` reads the saved version and, when another process (the web app)
    saved a new one, loads it. The worker calls it before each job and each batch of
    reminders, so a change made in Settings holds from the next job on, without a restart."""

    file_program: Program
    seen: int = -1  # the saved version `md.program` is; -1: not read yet
    table: bool = False  # whether the table exists (looked for until it does)

    def refresh(self, md: Matchdesk) -> bool:
        """Load the saved program into `md` if it changed since the last call; returns
        whether it did."""
        if not self.table:
            self.table = inspect(md.engine).has_table(ProgramOverride.__tablename__)
            if not self.table:
                return False  # before `matchdesk init`: the file's program holds
        with md.transaction() as session:
            version = saved_version(session)
            if version == self.seen:
                return False
            saved = saved_program(session) if version else None
        changed = self.seen != -1
        md.program = saved[0] if saved else self.file_program
        self.seen = saved[1] if saved else 0
        return changed


def save_program(
    session: Session,
    current: Program,
    data: dict[str, Any],
    *,
    actor: str,
    expected_version: int,
) -> tuple[Program, int]:
    """Validate `data` (the program file's keys) as the file is, and save it if nobody saved
    since `expected_version` was read (0: nothing saved yet). Returns the program and its
    new version. Raises `InvalidInput` naming each bad key, `Conflict` for a stale save."""
    program = program_from_data(data, SOURCE)
    row = session.get(ProgramOverride, 1, with_for_update=True)
    version = row.version if row else 0
    if version != expected_version:
        raise Conflict(
            f"Someone saved the program settings since you loaded them (your version "
            f"{expected_version}, now {version}); reload and try again."
        )
    document = program.model_dump(mode="json")
    if row is None:
        row = ProgramOverride(id=1, document=document, version=1, updated_by=actor)
        session.add(row)
    else:
        row.document = document
        row.version = version + 1
        row.updated_by = actor
        row.updated_at = utcnow()
    before = current.model_dump(mode="json", include={"tiers", "matching", "program"})
    after = program.model_dump(mode="json", include={"tiers", "matching", "program"})
    record(
        session,
        actor,
        "program_saved",
        "program",
        1,
        before={k: v for k, v in before.items() if after.get(k) != v},
        after={k: v for k, v in after.items() if before.get(k) != v},
    )
    session.flush()
    return program, row.version


MAX_NUMBER_DIGITS = 15
TIER_KEYS = ("name", "min_revenue_30d", "min_followers", "cadence", "checkin_every_weeks")
MATCHING_KEYS = (
    "duration_minutes",
    "max_tier_distance",
    "require_shared_language",
    "rematch_cooldown_rounds",
    "slot_step_minutes",
)


def with_rules(
    current: Program, tiers: list[dict[str, str]], matching: dict[str, str]
) -> dict[str, Any]:
    """The program file's keys for `current` with the Settings form's tiers (in order; a
    row without a name is left out) and matching rules, as text: the program's own
    validation checks and converts them, naming the key of each mistake. An empty value
    means the key's default."""
    too_long = [
        f"{SOURCE}: tiers[{i}].{k}: at most {MAX_NUMBER_DIGITS} digits"
        for i, row in enumerate(tiers)
        for k, v in row.items()
        if k not in ("name", "cadence") and len(v.strip()) > MAX_NUMBER_DIGITS
    ] + [
        f"{SOURCE}: matching.{k}: at most {MAX_NUMBER_DIGITS} digits"
        for k, v in matching.items()
        if len(v.strip()) > MAX_NUMBER_DIGITS
    ]
    if too_long:  # the database's integers hold 18 digits; no rule needs more than 15
        raise InvalidInput(f"{SOURCE} is invalid", too_long)
    data = current.model_dump(mode="json")
    data["tiers"] = [
        {k: v.strip() for k, v in row.items() if k in TIER_KEYS and v.strip()}
        for row in tiers
        if row.get("name", "").strip()
    ]
    rules = dict(data["matching"])
    for key in MATCHING_KEYS:
        text = matching.get(key, "").strip()
        if text:
            rules[key] = text
        else:
            rules.pop(key, None)
    data["matching"] = rules
    return data
