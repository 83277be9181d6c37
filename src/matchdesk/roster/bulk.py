"""Changes to many creators at once from the roster page: pause, resume, a tier, a manager.

All or nothing, and without lost updates: each creator comes with the version the page
showed, and one creator changed since (or gone) refuses the whole change. Each creator
changed gets a new version and an audit entry. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from matchdesk.accounts.models import Operator
from matchdesk.audit import record
from matchdesk.errors import Conflict, InvalidInput
from matchdesk.program import Program
from matchdesk.roster.models import Creator, utcnow
from matchdesk.roster.version import roster_changed

ACTIONS = ("pause", "resume", "tier", "manager")
MAX_BULK = 5_000


@dataclass(frozen=True)
class BulkResult:
    """What a bulk change did: the creators changed and those already so (unchanged)."""

    action: str
    value: str
    changed: list[str]
    unchanged: list[str]


def parse_selection(values: list[str]) -> dict[str, int]:
    """`["luna:3", "zed:1"]` (a roster page's checkboxes: handle and version read) as
    `{"luna": 3, "zed": 1}`. Raises `InvalidInput` naming a malformed value."""
    selection: dict[str, int] = {}
    problems = []
    for value in values:
        handle, _, version = value.rpartition(":")
        if not handle or not version.isdigit():
            problems.append(f"creator: {value[:40]!r} is not a handle with its version")
            continue
        selection[handle.strip().lstrip("@").lower()] = int(version)
    if problems:
        raise InvalidInput("the selection is not valid", problems)
    return selection


def _target(session: Session, program: Program, action: str, value: str) -> tuple[str, str]:
    """The column and the value `action` sets, checked."""
    if action not in ACTIONS:
        raise InvalidInput(
            "the bulk change is not valid",
            [f"action: '{action}' is not one of {', '.join(ACTIONS)}"],
        )
    if action in ("pause", "resume"):
        return "status", "paused" if action == "pause" else "active"
    value = value.strip()
    if action == "tier":
        names = [t.name for t in program.tiers]
        if value not in names:
            raise InvalidInput(
                "the bulk change is not valid",
                [f"tier: '{value}' is not a tier of the program ({', '.join(names)})"],
            )
        return "tier", value
    value = value.lower()
    if value and session.scalar(select(Operator.id).where(Operator.email == value)) is None:
        raise InvalidInput(
            "the bulk change is not valid",
            [f"manager: '{value}' is not an operator (add them first)"],
        )
    return "manager", value


def bulk_change(
    session: Session,
    program: Program,
    selection: Mapping[str, int],
    action: str,
    value: str,
    actor: str,
) -> BulkResult:
    """Apply `action` (pause, resume, tier NAME, manager EMAIL or "" for none) to the
    creators of `selection` (handle: the version read). A tier set here holds until the
    creator's revenue or followers change or the tier review moves them."""
    if not selection:
        raise InvalidInput("the bulk change is not valid", ["creator: check at least one creator"])
    if len(selection) > MAX_BULK:
        raise InvalidInput(
            "the bulk change is not valid", [f"creator: at most {MAX_BULK:,} creators at once"]
        )
    column, target = _target(session, program, action, value)
    handles = sorted(selection)
    found: dict[str, Creator] = {}
    for i in range(0, len(handles), 1000):
        for creator in session.scalars(
            select(Creator)
            .where(Creator.handle.in_(handles[i : i + 1000]))
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            found[creator.handle] = creator
    missing = [h for h in handles if h not in found]
    stale = [h for h in handles if h in found and found[h].version != selection[h]]
    if missing or stale:
        raise Conflict(
            "Nothing was changed: "
            + "; ".join(
                [f"@{h} is no longer on the roster" for h in missing]
                + [
                    f"@{h} was changed by someone else since you loaded the page "
                    f"(your version {selection[h]}, now {found[h].version})"
                    for h in stale
                ]
            )
            + ". Reload and try again."
        )
    changed, unchanged = [], []
    now = utcnow()
    for handle in handles:
        creator = found[handle]
        before = getattr(creator, column)
        if before == target:
            unchanged.append(handle)
            continue
        done = session.execute(
            update(Creator)
            .where(Creator.id == creator.id, Creator.version == creator.version)
            .values({column: target, "version": creator.version + 1, "updated_at": now})
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"@{handle} was changed by someone else meanwhile; reload and try again."
            )
        changed.append(handle)
        record(
            session,
            actor,
            "creator_updated",
            "creator",
            handle,
            before={column: before},
            after={column: target, "bulk": True},
        )
    if changed:
        roster_changed(session)
    session.flush()
    session.expire_all()
    return BulkResult(action, target, changed, unchanged)
