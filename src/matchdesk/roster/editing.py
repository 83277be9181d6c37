"""Single-creator edits: create, update, delete, availability. Every field is validated as
the roster file's cell would be; every change is audited; an edit that carries the version
it read is refused if someone changed the creator since (no lost updates). The caller owns
the transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from matchdesk.accounts.models import Operator
from matchdesk.audit import record
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.program import Program
from matchdesk.roster.availability import Window, format_availability
from matchdesk.roster.importing import parse_fields
from matchdesk.roster.models import (
    AvailabilityWindow,
    Creator,
    CreatorBlock,
    CreatorLanguage,
    utcnow,
)
from matchdesk.roster.records import REQUIRED_COLUMNS
from matchdesk.roster.service import get_creator
from matchdesk.roster.version import roster_changed

_SCALARS = (
    "display_name",
    "email",
    "timezone",
    "region",
    "category",
    "followers",
    "revenue_30d",
    "status",
    "manager",
)


def _check_manager(session: Session, parsed: Mapping[str, object]) -> None:
    """A creator's manager is an operator (as the roster file's `manager` column)."""
    manager = str(parsed.get("manager", ""))
    if manager and session.scalar(select(Operator.id).where(Operator.email == manager)) is None:
        raise InvalidInput(
            "the creator's details are not valid",
            [f"manager: '{manager}' is not an operator (add them first)"],
        )


def creator_state(session: Session, creator: Creator) -> dict[str, Any]:
    """A creator's fields as the roster file writes them (for the audit log and the API)."""
    blocked = session.scalars(
        select(Creator.handle)
        .join(CreatorBlock, CreatorBlock.blocked_id == Creator.id)
        .where(CreatorBlock.creator_id == creator.id)
        .order_by(Creator.handle)
    )
    windows = session.execute(
        select(
            AvailabilityWindow.weekday,
            AvailabilityWindow.start_minute,
            AvailabilityWindow.end_minute,
        ).where(AvailabilityWindow.creator_id == creator.id)
    ).all()
    return {
        "handle": creator.handle,
        "display_name": creator.display_name,
        "email": creator.email,
        "timezone": creator.timezone,
        "languages": creator.languages,
        "region": creator.region,
        "category": creator.category,
        "followers": creator.followers,
        "revenue_30d": creator.revenue_30d,
        "availability": format_availability([Window(*w) for w in windows]),
        "blocked": ";".join(blocked),
        "status": creator.status,
        "tier": creator.tier,
        "version": creator.version,
    }


def _require(session: Session, handle: str) -> Creator:
    creator = get_creator(session, handle)
    if creator is None:
        raise NotFound(f"No creator with handle @{handle.strip().lstrip('@').lower()}.")
    return creator


def _check_version(creator: Creator, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != creator.version:
        raise Conflict(
            f"@{creator.handle} was changed by someone else since you loaded it "
            f"(your version {expected_version}, now {creator.version}); reload and try again."
        )


def _block_ids(session: Session, handle: str, blocked: tuple[str, ...]) -> list[int]:
    if handle in blocked:
        raise InvalidInput(
            "the creator's details are not valid", [f"blocked: '{handle}' cannot block itself"]
        )
    found = dict(
        session.execute(select(Creator.handle, Creator.id).where(Creator.handle.in_(blocked))).all()
    )
    unknown = [b for b in blocked if b not in found]
    if unknown:
        names = ", ".join(f"'{b}'" for b in unknown)
        raise InvalidInput(
            "the creator's details are not valid", [f"blocked: {names} not on the roster"]
        )
    return [found[b] for b in blocked]


def _replace_children(
    session: Session, creator_id: int, parsed: Mapping[str, object], handle: str
) -> None:
    if "availability" in parsed:
        session.execute(
            delete(AvailabilityWindow).where(AvailabilityWindow.creator_id == creator_id)
        )
        windows = sorted(set(parsed["availability"]))  # type: ignore[call-overload]
        session.add_all(
            AvailabilityWindow(
                creator_id=creator_id, weekday=w.weekday, start_minute=w.start, end_minute=w.end
            )
            for w in windows
        )
    if "languages" in parsed:
        session.execute(delete(CreatorLanguage).where(CreatorLanguage.creator_id == creator_id))
        session.add_all(
            CreatorLanguage(creator_id=creator_id, language=lang)
            for lang in parsed["languages"]  # type: ignore[attr-defined]
        )
    if "blocked" in parsed:
        ids = _block_ids(session, handle, parsed["blocked"])  # type: ignore[arg-type]
        session.execute(delete(CreatorBlock).where(CreatorBlock.creator_id == creator_id))
        session.add_all(CreatorBlock(creator_id=creator_id, blocked_id=i) for i in sorted(set(ids)))


def _refuse_results_revenue(creator: Creator, parsed: Mapping[str, object]) -> None:
    """Once a creator has session results their revenue_30d is the ledger's (refreshed as
    results arrive and every program day): an edit may repeat it, never change it."""
    wanted = parsed.get("revenue_30d")
    if creator.revenue_source != "results" or wanted is None:
        return
    if int(wanted) != creator.revenue_30d:  # type: ignore[call-overload]
        raise InvalidInput(
            "the creator's details are not valid",
            [
                f"revenue_30d: @{creator.handle}'s revenue_30d comes from their session "
                f"results ({creator.revenue_30d:,} diamonds over the last 30 program "
                "days) and cannot be edited"
            ],
        )


def create_creator(
    session: Session, program: Program, fields: Mapping[str, str], actor: str
) -> Creator:
    """Add one creator; `fields` are the roster file's columns as text."""
    missing = [
        c for c in REQUIRED_COLUMNS if c != "availability" and not str(fields.get(c, "")).strip()
    ]
    if missing:
        raise InvalidInput(
            "the creator's details are not valid", [f"{c}: a value is required" for c in missing]
        )
    parsed = parse_fields(fields)
    _check_manager(session, parsed)
    handle = str(parsed["handle"])
    if get_creator(session, handle) is not None:
        raise Conflict(f"A creator with handle @{handle} already exists.")
    creator = Creator(
        handle=handle,
        languages=";".join(parsed["languages"]),  # type: ignore[arg-type]
        tier=program.tier_for(int(parsed["revenue_30d"]), int(parsed["followers"])),  # type: ignore[call-overload]
        **{k: parsed[k] for k in _SCALARS if k in parsed},
    )
    session.add(creator)
    session.flush()
    _replace_children(session, creator.id, parsed, handle)
    roster_changed(session)
    session.flush()
    record(
        session, actor, "creator_created", "creator", handle, after=creator_state(session, creator)
    )
    return creator


def update_creator(
    session: Session,
    program: Program,
    handle: str,
    fields: Mapping[str, str],
    actor: str,
    expected_version: int | None = None,
) -> Creator:
    """Change some of a creator's fields (the handle cannot change)."""
    creator = _require(session, handle)
    _check_version(creator, expected_version)
    if "handle" in fields and fields["handle"].strip().lstrip("@").lower() != creator.handle:
        raise InvalidInput(
            "the creator's details are not valid", ["handle: a handle cannot be changed"]
        )
    parsed = parse_fields({k: v for k, v in fields.items() if k != "handle"})
    if not parsed:
        return creator  # nothing to change: no new version, no audit entry
    _refuse_results_revenue(creator, parsed)
    _check_manager(session, parsed)
    before = {**creator_state(session, creator), "manager": creator.manager}
    values: dict[str, Any] = {k: parsed[k] for k in _SCALARS if k in parsed}
    if "languages" in parsed:
        values["languages"] = ";".join(parsed["languages"])  # type: ignore[arg-type]
    # The tier follows the figures when they change; an edit of anything else keeps the
    # tier the creator has (one set by the tier review or by hand holds).
    followers = int(values.get("followers", creator.followers))
    revenue = int(values.get("revenue_30d", creator.revenue_30d))
    if (followers, revenue) != (creator.followers, creator.revenue_30d):
        values["tier"] = program.tier_for(revenue, followers)
    # The version check and the write are one statement, so two concurrent edits of the
    # same version cannot both succeed.
    changed = session.execute(
        update(Creator)
        .where(Creator.id == creator.id, Creator.version == creator.version)
        .values(**values, version=creator.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            f"@{creator.handle} was changed by someone else meanwhile; reload and try again."
        )
    _replace_children(session, creator.id, parsed, creator.handle)
    roster_changed(session)
    session.flush()
    session.refresh(creator)
    after = {**creator_state(session, creator), "manager": creator.manager}
    changed_keys = [k for k in after if k != "version" and after[k] != before[k]]
    record(
        session,
        actor,
        "creator_updated",
        "creator",
        creator.handle,
        before={k: before[k] for k in changed_keys},
        after={k: after[k] for k in changed_keys},
    )
    return creator


def set_availability(
    session: Session,
    program: Program,
    handle: str,
    text: str,
    actor: str,
    expected_version: int | None = None,
) -> Creator:
    """Replace a creator's weekly availability (the window syntax of the roster file)."""
    return update_creator(session, program, handle, {"availability": text}, actor, expected_version)


def delete_creator(
    session: Session, handle: str, actor: str, expected_version: int | None = None
) -> None:
    """Remove a creator with their windows, languages and blocks (either direction)."""
    creator = _require(session, handle)
    _check_version(creator, expected_version)
    before = creator_state(session, creator)
    session.delete(creator)
    roster_changed(session)
    session.flush()
    record(session, actor, "creator_deleted", "creator", before["handle"], before=before)
