"""What needs attention today, for the dashboard: a few grouped queries."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from matchdesk.program import Program
from matchdesk.results import analytics
from matchdesk.results.cache import ResultsCache, cached
from matchdesk.results.staging import today_in
from matchdesk.roster.models import utcnow
from matchdesk.roster.service import count_creators
from matchdesk.roster.tiers import tier_counts


@dataclass(frozen=True)
class Attention:
    """Open rounds (unanswered invitations, declines, byes), creators gone dark, tier
    moves to review (None when the tier review is not available) and past published or
    confirmed matches with no result imported."""

    rounds: list[dict[str, Any]]
    dark: int
    tier_moves: int | None
    missing_results: int


def attention(session: Session, program: Program, cache: ResultsCache | None = None) -> Attention:
    """Today's to-do list (today in the program's time zone); the figures read from the
    ledger (creators gone dark, the tier review) come from `cache` when given."""
    today = today_in(program.program.timezone)
    dark, tier_moves = cached(
        cache,
        session,
        ("dashboard", today),
        lambda: (
            analytics.gone_dark(session, today, limit=0)[0],
            _tier_moves(session, program, today),
        ),
    )
    return Attention(
        rounds=analytics.open_round_attention(session),
        dark=dark,
        tier_moves=tier_moves,
        missing_results=analytics.matches_missing_results(session, utcnow()),
    )


def roster_counts(
    session: Session, cache: ResultsCache | None = None
) -> tuple[int, dict[str | None, int]]:
    """The dashboard's roster figures: creators, and creators per tier (the roster's
    version keys the cache, so any creator change shows at once)."""
    return cached(
        cache, session, ("roster counts",), lambda: (count_creators(session), tier_counts(session))
    )


def _tier_moves(session: Session, program: Program, today: date) -> int | None:
    try:
        tier_review = importlib.import_module("matchdesk.results.tier_review")
    except ImportError:  # the tier review has not landed
        return None
    review = getattr(tier_review, "review", None)
    if review is None:
        return None
    return len(review(session, program, today))
