"""What the outside calls for outreach: saved segments and their previews (the caller
owns the transaction). Newsletters are in `newsletters.py`, consent in `consent.py`."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchdesk.audit import record
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.outreach.models import Segment as SavedSegment
from matchdesk.outreach.segments import Preview, Segment, parse_segment, preview_segment
from matchdesk.roster.models import utcnow

MAX_NAME = 100


def list_segments(session: Session) -> list[SavedSegment]:
    """Every saved segment, by name."""
    return list(session.scalars(select(SavedSegment).order_by(SavedSegment.name)))


def get_segment(session: Session, name: str) -> SavedSegment:
    """The saved segment called `name`, or `NotFound`."""
    saved = session.scalars(select(SavedSegment).where(SavedSegment.name == name)).one_or_none()
    if saved is None:
        raise NotFound(f"there is no saved segment {name!r}")
    return saved


def save_segment(
    session: Session,
    name: str,
    document: Any,
    *,
    actor: str,
    expected_version: int | None = None,
) -> SavedSegment:
    """Save `document` (checked first) as the segment `name`: a new one, or a new version
    of an existing one when `expected_version` is the version the editor read (a stale
    version is a `Conflict`, so two editors never overwrite each other unseen)."""
    name = name.strip()
    if not 0 < len(name) <= MAX_NAME:
        raise InvalidInput(f"name: a segment needs a name of 1 to {MAX_NAME} characters")
    segment = parse_segment(document)
    saved = session.scalars(
        select(SavedSegment).where(SavedSegment.name == name).with_for_update()
    ).one_or_none()
    before = None
    if saved is None:
        if expected_version is not None:
            raise Conflict(f"the segment {name!r} was deleted or renamed since you opened it")
        saved = SavedSegment(name=name, rules=segment.as_json(), created_by=actor, version=1)
        session.add(saved)
    else:
        if expected_version is None:
            raise Conflict(f"a segment called {name!r} exists already; open it to change it")
        if saved.version != expected_version:
            raise Conflict(
                f"the segment {name!r} was changed by someone else since you opened it "
                f"(version {saved.version}, yours {expected_version}); reload it"
            )
        before = saved.rules
        saved.rules = segment.as_json()
        saved.version += 1
        saved.updated_at = utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action="segment.saved",
        subject_type="segment",
        subject_id=name,
        before=None if before is None else {"rules": before},
        after={"rules": saved.rules, "version": saved.version},
    )
    return saved


def saved_rules(session: Session, name: str) -> Segment:
    """The checked rule tree of the saved segment `name`."""
    return parse_segment(get_segment(session, name).rules)


def preview(session: Session, segment: Segment, today: date, limit: int | None = None) -> Preview:
    """The creators `segment` holds now (count and sorted handles)."""
    return preview_segment(session, segment, today, limit)
