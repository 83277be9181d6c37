"""Undo of the last edit on a round's board, from its audit log.

Each edit of the board is in the round's log with what it changed; undoing one applies the
opposite edit through the board's own functions (so every hard rule and message applies
again) and logs `round.undone`, naming the entry undone and those the undo wrote. Asked
again, the undo goes one edit further back. A re-optimise, a publish or a rematch is not
undone (they touch the whole round); the undo says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.config import Settings
from matchdesk.errors import Conflict
from matchdesk.program import Program
from matchdesk.roster.models import Creator
from matchdesk.rounds import board
from matchdesk.rounds.board import Edit

UNDOABLE = (
    "match.locked",
    "match.unlocked",
    "match.paired",
    "match.unpaired",
    "match.swapped",
    "creator.excluded",
    "creator.included",
)
UNDONE = "round.undone"
NOT_EDITS = ("round.reminded",)  # logged on the round, but nothing on the board changed


@dataclass(frozen=True)
class Undone:
    """What an undo did, in words, and the audit entry it undid."""

    entry_id: int
    action: str
    note: str


def _entries(session: Session, round_id: int) -> list[audit.AuditEntry]:
    return list(
        session.scalars(
            select(audit.AuditEntry)
            .where(audit.AuditEntry.subject_type == "round")
            .where(audit.AuditEntry.subject_id == str(round_id))
            .order_by(audit.AuditEntry.id.desc())
        )
    )


def last_undoable(session: Session, round_id: int) -> audit.AuditEntry | None:
    """The newest edit of the round that neither was undone nor was written by an undo;
    None when the newest such entry is a whole-round change (or there is none)."""
    entries = _entries(session, round_id)
    skip: set[int] = set()
    for entry in entries:
        if entry.action == UNDONE and entry.after:
            skip.add(int(entry.after.get("undid", 0)))
            skip.update(int(i) for i in entry.after.get("made", []))
    for entry in entries:
        if entry.id in skip or entry.action in (UNDONE, *NOT_EDITS):
            continue
        if entry.action in UNDOABLE:
            return entry
        if entry.action.startswith("round."):
            return None  # a whole-round change (build, re-optimise, publish...) stops it
    return None


def _pair_handles(state: dict[str, Any]) -> set[str]:
    return {str(state["creator_a"]), str(state["creator_b"])}


def undo_last(
    session: Session, settings: Settings, program: Program, round_id: int, edit: Edit
) -> Undone:
    """Undo the round's last board edit (see the module). Raises `Conflict` when there is
    nothing to undo, or the edit's opposite is no longer possible (its rule named)."""
    entry = last_undoable(session, round_id)
    if entry is None:
        raise Conflict(
            "Nothing to undo: the last change was not a board edit (a build, re-optimise, "
            "publish or rematch is not undone), or every edit since has been undone."
        )
    first_id = int(
        session.scalar(select(audit.AuditEntry.id).order_by(audit.AuditEntry.id.desc()).limit(1))
        or 0
    )
    again = Edit(edit.actor, None)  # the version was checked by the first step
    after: dict[str, Any] = entry.after or {}
    before: dict[str, Any] = entry.before or {}
    action = entry.action
    if action in ("match.locked", "match.unlocked"):
        board.set_locked(
            session, round_id, int(after["match_id"]), action == "match.unlocked", edit
        )
        state = "locked" if action == "match.unlocked" else "unlocked"
        note = f"match {after['match_id']} {state} again"
    elif action == "match.paired":
        board.unpair(session, settings, program, round_id, int(after["match_id"]), edit)
        note = f"@{after['creator_a']} and @{after['creator_b']} unpaired again"
    elif action == "match.unpaired":
        made = board.pair(
            session, settings, program, round_id, before["creator_a"], before["creator_b"], edit
        )
        if not before.get("locked", False):
            board.set_locked(session, round_id, made.id, False, again)
        note = f"@{before['creator_a']} and @{before['creator_b']} paired again (match {made.id})"
    elif action == "match.swapped":
        old, new = before["matches"], after["matches"]
        x = (_pair_handles(old[0]) & _pair_handles(new[1])).pop()
        y = (_pair_handles(old[1]) & _pair_handles(new[0])).pop()
        # Pairs made by a swap are locked: open them, swap back, then lock as before.
        board.set_locked(session, round_id, int(new[0]["match_id"]), False, edit)
        board.set_locked(session, round_id, int(new[1]["match_id"]), False, again)
        remade = board.swap(session, settings, program, round_id, x, y, again)
        was_locked = {frozenset(_pair_handles(state)): bool(state["locked"]) for state in old}
        for match in remade:
            pair = frozenset(
                session.scalars(
                    select(Creator.handle).where(
                        Creator.id.in_((match.creator_a_id, match.creator_b_id))
                    )
                )
            )
            if not was_locked.get(pair, True):
                board.set_locked(session, round_id, match.id, False, again)
        note = f"@{x} and @{y} swapped back"
    elif action == "creator.excluded":
        board.include(session, round_id, after["creator"], edit)
        note = f"@{after['creator']} is back in the round (pair them again if they had a match)"
    else:  # creator.included
        board.exclude(session, settings, program, round_id, after["creator"], edit)
        note = f"@{after['creator']} is excluded again"
    session.flush()
    made_ids = list(
        session.scalars(
            select(audit.AuditEntry.id)
            .where(audit.AuditEntry.id > first_id)
            .where(audit.AuditEntry.subject_type == "round")
            .where(audit.AuditEntry.subject_id == str(round_id))
        )
    )
    audit.record(
        session,
        edit.actor,
        UNDONE,
        "round",
        round_id,
        before={"action": action},
        after={"undid": entry.id, "made": made_ids},
    )
    return Undone(entry.id, action, f"Undone: {note}.")
