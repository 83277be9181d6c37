"""What needs attention today, for the dashboard: a few grouped queries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from matchdesk.program import Program
from matchdesk.results import analytics
from matchdesk.results.cache import ResultsCache, cached
from matchdesk.results.staging import today_in
from matchdesk.results.tier_review import count_proposals
from matchdesk.roster.models import utcnow
from matchdesk.roster.service import count_creators
from matchdesk.roster.tiers import tier_counts


@dataclass(frozen=True)
class Attention:
    """Open rounds (unanswered invitations, declines, byes), creators gone dark, tier
    moves to review and past published or confirmed matches with no result imported."""

    rounds: list[dict[str, Any]]
    dark: int
    tier_moves: int
    missing_results: int


def attention(
    session: Session,
    program: Program,
    cache: ResultsCache | None = None,
    versions: tuple[str, str] | None = None,
) -> Attention:
    """Today's to-do list (today in the program's time zone); the figures read from the
    ledger (creators gone dark, the tier review) come from `cache` when given (at the
    data's `versions`, when the caller read them already)."""
    today = today_in(program.program.timezone)
    dark, tier_moves = cached(
        cache,
        session,
        ("dashboard", today),
        lambda: (
            analytics.gone_dark(session, today, limit=0)[0],
            count_proposals(session, program, today),
        ),
        versions,
    )
    now = utcnow()
    return Attention(
        rounds=analytics.open_round_attention(session, now),
        dark=dark,
        tier_moves=tier_moves,
        missing_results=analytics.matches_missing_results(session, now),
    )


def roster_counts(
    session: Session,
    cache: ResultsCache | None = None,
    versions: tuple[str, str] | None = None,
) -> tuple[int, dict[str | None, int]]:
    """The dashboard's roster figures: creators, and creators per tier (the roster's
    version keys the cache, so any creator change shows at once)."""
    return cached(
        cache,
        session,
        ("roster counts",),
        lambda: (count_creators(session), tier_counts(session)),
        versions,
    )
