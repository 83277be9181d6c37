"""Tier assignment: the program's rules applied to every creator, in one statement."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import ColumnElement, case, func, literal, select, update
from sqlalchemy.orm import Session

from matchdesk.program import Program
from matchdesk.roster.models import Creator, ProgramState
from matchdesk.roster.version import roster_changed

_FINGERPRINT_KEY = "tier_rules"


def tier_rules_fingerprint(program: Program) -> str:
    """A hash of the tier rules: when it changes, every creator's tier is recomputed."""
    rules = [t.model_dump() for t in program.tiers]
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:32]


def tier_expression(program: Program) -> ColumnElement[str | None]:
    """SQL for 'the first tier whose minimums are all met', matching `Program.tier_for`."""
    whens = [
        (
            (Creator.revenue_30d >= tier.min_revenue_30d)
            & (Creator.followers >= tier.min_followers),
            literal(tier.name),
        )
        for tier in program.tiers
    ]
    return case(*whens, else_=None)


def retier_all(session: Session, program: Program) -> int:
    """Recompute every creator's tier; returns how many creators changed tier. Creators
    whose revenue_30d follows their session results are left alone: their tier changes
    come from the tier review."""
    expression = tier_expression(program)
    result = session.execute(
        update(Creator)
        .where(Creator.revenue_source != "results")
        .where(func.coalesce(Creator.tier, "") != func.coalesce(expression, ""))
        .values(tier=expression, version=Creator.version + 1)
        .execution_options(synchronize_session=False)
    )
    changed = result.rowcount  # type: ignore[attr-defined]
    if changed:
        roster_changed(session)
    _store_fingerprint(session, tier_rules_fingerprint(program))
    return int(changed or 0)


def ensure_tiers_current(session: Session, program: Program) -> int:
    """Recompute tiers if the program's tier rules changed since they were last applied."""
    stored = session.get(ProgramState, _FINGERPRINT_KEY)
    if stored is not None and stored.value == tier_rules_fingerprint(program):
        return 0
    return retier_all(session, program)


def _store_fingerprint(session: Session, fingerprint: str) -> None:
    state = session.get(ProgramState, _FINGERPRINT_KEY)
    if state is None:
        session.add(ProgramState(key=_FINGERPRINT_KEY, value=fingerprint))
    else:
        state.value = fingerprint
    session.flush()


def tier_counts(session: Session) -> dict[str | None, int]:
    rows = session.execute(select(Creator.tier, func.count()).group_by(Creator.tier)).all()
    return {tier: int(count) for tier, count in rows}
