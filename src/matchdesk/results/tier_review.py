"""The tier review: which creators with results have earned another tier, and applying the
moves the manager picks.

The rule, for the last `tier_review_weeks` (N) complete program weeks (Monday to Sunday,
the program's time zone; the week holding `today` is not complete):

- a week's revenue is the creator's ledger diamonds over the 30 program days ending that
  week's Sunday; with the roster's followers it maps through `Program.tier_for` to a tier;
- the creator is proposed for tier T when every one of the N weeks maps to the same T and
  T is not their current tier, and
- hysteresis: a move up needs T's minimums met (that is all `tier_for` asks); a move down
  needs every week's revenue below `DOWN_MARGIN` (90%) of the current tier's
  `min_revenue_30d` (or the roster's followers below its `min_followers`), so a creator
  who just reached a tier is not sent back by a dip just under its line; and a creator
  with an applied move is not proposed again until all N reviewed weeks started after
  that move (N full weeks of new evidence).

Only creators whose revenue comes from results (`revenue_source` = "results") are reviewed:
the roster's figure re-tiers the others on import. Everything is one grouped query over
`ledger_days` joined to the N week windows; Python sees only the proposals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from matchdesk.audit import record
from matchdesk.errors import InvalidInput
from matchdesk.mail.outbox import NewMessage, enqueue_many
from matchdesk.program import Program
from matchdesk.results.ledger import REVENUE_DAYS
from matchdesk.results.models import LedgerDay, TierMove
from matchdesk.results.rollups import settle_tiers
from matchdesk.roster.models import Creator, utcnow
from matchdesk.roster.version import roster_changed

# A move down needs revenue below this share of the current tier's minimum (as a fraction
# NUM/DEN, so SQL compares whole numbers: revenue * DEN < minimum * NUM).
DOWN_MARGIN = (9, 10)


@dataclass(frozen=True)
class WeekFigure:
    week_end: date  # the Sunday
    revenue_30d: int


@dataclass(frozen=True)
class Proposal:
    """A proposed tier move with the figures behind it."""

    creator_id: int
    handle: str
    display_name: str
    email: str
    followers: int
    from_tier: str | None
    to_tier: str
    direction: str  # "up" or "down"
    weeks: tuple[WeekFigure, ...]  # oldest first
    to_min_revenue_30d: int
    to_min_followers: int
    from_min_revenue_30d: int | None  # None when the current tier is not in the program
    down_below: int | None  # a move down needed revenue below this (None for a move up)

    def figures(self) -> dict[str, Any]:
        """The JSON document of the proposal (`tiers review --json`, `tier_moves.figures`)."""
        return {
            "handle": self.handle,
            "from_tier": self.from_tier,
            "to_tier": self.to_tier,
            "direction": self.direction,
            "followers": self.followers,
            "weeks": [
                {"week_end": w.week_end.isoformat(), "revenue_30d": w.revenue_30d}
                for w in self.weeks
            ],
            "to_min_revenue_30d": self.to_min_revenue_30d,
            "to_min_followers": self.to_min_followers,
            "from_min_revenue_30d": self.from_min_revenue_30d,
            "down_below": self.down_below,
        }


def review_weeks(today: date, weeks: int) -> list[tuple[date, date]]:
    """The last `weeks` complete program weeks before `today`, oldest first, each as the
    30-day revenue window (first day, Sunday) ending on that week's Sunday."""
    last_sunday = today - timedelta(days=today.weekday() + 1)
    ends = [last_sunday - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
    return [(end - timedelta(days=REVENUE_DAYS - 1), end) for end in ends]


def _rank(program: Program, tier: Any) -> Any:
    """SQL: the position of the tier named by `tier` in the program (None if unknown)."""
    return case(
        *((tier == t.name, i) for i, t in enumerate(program.tiers)), else_=literal(None, Integer)
    )


def _tier_rank_for(program: Program, revenue: Any, followers: Any) -> Any:
    """SQL: `Program.tier_for` as a tier position (first tier whose minimums are met)."""
    return case(
        *(
            (and_(revenue >= t.min_revenue_30d, followers >= t.min_followers), i)
            for i, t in enumerate(program.tiers)
        ),
        else_=literal(None, Integer),
    )


def _down_limit(program: Program, tier: Any) -> Any:
    """SQL: NUM x the current tier's revenue minimum (compared with revenue x DEN)."""
    num = DOWN_MARGIN[0]
    return case(
        *((tier == t.name, t.min_revenue_30d * num) for t in program.tiers),
        else_=literal(None, Integer),
    )


def _proposals_query(program: Program, today: date) -> Any:
    """One scan of the reviewed ledger days grouped by creator (a conditional sum per
    week), joined to the creators; the rule is in SQL, so only proposals come back."""
    count = program.program.tier_review_weeks
    windows = review_weeks(today, count)
    sums = (
        select(
            LedgerDay.creator_id,
            *(
                func.sum(
                    case((LedgerDay.day.between(first, last), LedgerDay.diamonds), else_=0)
                ).label(f"w{k}")
                for k, (first, last) in enumerate(windows)
            ),
        )
        .where(LedgerDay.day.between(windows[0][0], windows[-1][1]))
        .group_by(LedgerDay.creator_id)
        .subquery("sums")
    )
    # The cool-down: the reviewed weeks must all start after the creator's last move.
    zone = ZoneInfo(program.program.timezone)
    oldest_monday = windows[0][1] - timedelta(days=6)
    evidence_from = datetime.combine(oldest_monday, time(), zone).astimezone(UTC)
    moved = select(TierMove.creator_id).where(TierMove.applied_at >= evidence_from)

    weeks = [func.coalesce(sums.c[f"w{k}"], 0) for k in range(count)]
    targets = [_tier_rank_for(program, w, Creator.followers) for w in weeks]
    current = _rank(program, Creator.tier)
    limit = _down_limit(program, Creator.tier)
    # A move down (to a later tier) needs every week below the margin of the current tier.
    # Followers come from the roster and do not hover week to week: below the current
    # tier's follower minimum, a move down needs no revenue margin.
    min_followers = case(
        *((Creator.tier == t.name, t.min_followers) for t in program.tiers),
        else_=literal(None, Integer),
    )
    down_ok = or_(
        Creator.followers < min_followers, and_(*(w * DOWN_MARGIN[1] < limit for w in weeks))
    )
    return (
        select(
            Creator.id.label("creator_id"),
            Creator.handle,
            Creator.display_name,
            Creator.email,
            Creator.followers,
            Creator.tier,
            targets[0].label("target"),
            *(w.label(f"w{k}") for k, w in enumerate(weeks)),
        )
        .select_from(Creator)
        .outerjoin(sums, sums.c.creator_id == Creator.id)
        .where(
            Creator.revenue_source == "results",
            Creator.id.not_in(moved),
            targets[0].is_not(None),
            *(t == targets[0] for t in targets[1:]),
            or_(
                current.is_(None),
                targets[0] < current,
                and_(targets[0] > current, down_ok),
            ),
        )
    ), windows


def review(session: Session, program: Program, today: date) -> list[Proposal]:
    """The tier moves the ledger supports as of `today` (program date), by handle."""
    query, windows = _proposals_query(program, today)
    rows = session.execute(query).all()
    proposals = []
    for row in rows:
        to = program.tiers[row.target]
        current = _known(program, row.tier)
        down = current is not None and row.target > program.tier_index(current)
        from_min = program.tier(current).min_revenue_30d if current is not None else None
        proposals.append(
            Proposal(
                creator_id=row.creator_id,
                handle=row.handle,
                display_name=row.display_name or row.handle,
                email=row.email,
                followers=row.followers,
                from_tier=row.tier,
                to_tier=to.name,
                direction="down" if down else "up",
                weeks=tuple(
                    WeekFigure(last, int(getattr(row, f"w{k}")))
                    for k, (_, last) in enumerate(windows)
                ),
                to_min_revenue_30d=to.min_revenue_30d,
                to_min_followers=to.min_followers,
                from_min_revenue_30d=from_min,
                down_below=(
                    from_min * DOWN_MARGIN[0] // DOWN_MARGIN[1]
                    if down and from_min is not None
                    else None
                ),
            )
        )
    return sorted(proposals, key=lambda p: p.handle)


def count_proposals(session: Session, program: Program, today: date) -> int:
    """How many tier moves the review proposes (for the dashboard): one query, no rows."""
    query, _ = _proposals_query(program, today)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def _known(program: Program, tier: str | None) -> str | None:
    return tier if tier is not None and tier in {t.name for t in program.tiers} else None


def apply_moves(
    session: Session,
    program: Program,
    today: date,
    *,
    actor: str,
    handles: list[str] | None = None,
    now: datetime | None = None,
) -> list[Proposal]:
    """Apply the proposed moves of `handles` (None: all of them), all or none: each creator
    gets the new tier and a new version, the move is recorded in `tier_moves` and audited,
    and the creator (with an e-mail address) gets a message in the outbox. A handle that is
    not proposed (any more) is refused. Returns the moves applied. `now` is when they
    are applied (the cool-down counts from it; default the clock)."""
    proposals = review(session, program, today)
    if handles is not None:
        wanted = {h.strip().lstrip("@").casefold() for h in handles if h.strip()}
        by_handle = {p.handle.casefold(): p for p in proposals}
        missing = sorted(wanted - by_handle.keys())
        if missing:
            raise InvalidInput(
                "some creators have no tier move to apply (the review may have changed)",
                [f"handle {h}: not proposed" for h in missing],
            )
        proposals = [p for p in proposals if p.handle.casefold() in wanted]
    if not proposals:
        return []
    now = now or utcnow()
    # Lock the creators (PostgreSQL; SQLite has one writer at a time), then make sure no
    # one else moved them since the review was read: two managers applying at once give
    # one move, the second is refused.
    creators: dict[int, Creator] = {}
    ids = [p.creator_id for p in proposals]
    for start in range(0, len(ids), 1000):
        for creator in session.scalars(
            select(Creator)
            .where(Creator.id.in_(ids[start : start + 1000]))
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            creators[creator.id] = creator
    stale = sorted(
        p.handle
        for p in proposals
        if p.creator_id not in creators or creators[p.creator_id].tier != p.from_tier
    )
    if stale:
        raise InvalidInput(
            "some creators changed tier while the review was read; review again",
            [f"handle {h}: tier changed" for h in stale],
        )
    moves = []
    for proposal in proposals:
        creator = creators[proposal.creator_id]
        creator.tier = proposal.to_tier
        creator.version += 1
        creator.updated_at = now
        move = TierMove(
            creator_id=creator.id,
            from_tier=proposal.from_tier,
            to_tier=proposal.to_tier,
            figures=proposal.figures(),
            applied_by=actor,
            applied_at=now,
        )
        session.add(move)
        moves.append((proposal, move))
        record(
            session,
            actor,
            "tier_moved",
            "creator",
            creator.id,
            before={"tier": proposal.from_tier},
            after={"tier": proposal.to_tier, "figures": proposal.figures()},
        )
    session.flush()
    settle_tiers(session)  # the moved creators' figures follow them in the rollups
    enqueue_many(
        session,
        [_message(program, proposal, move.id) for proposal, move in moves if proposal.email],
    )
    roster_changed(session)
    return proposals


def _message(program: Program, proposal: Proposal, move_id: int) -> NewMessage:
    weeks = "\n".join(
        f"  30 days to {w.week_end.isoformat()}: {w.revenue_30d:,} diamonds" for w in proposal.weeks
    )
    verb = "moved up" if proposal.direction == "up" else "moved"
    text = (
        f"Hello {proposal.display_name},\n\n"
        f"You have {verb} to tier {proposal.to_tier} in {program.program.name}"
        f" (from {proposal.from_tier or 'no tier'}).\n\n"
        f"Your revenue over the last {len(proposal.weeks)} weeks:\n{weeks}\n\n"
        f"Tier {proposal.to_tier} starts at {proposal.to_min_revenue_30d:,} diamonds over 30 days"
        f" and {proposal.to_min_followers:,} followers. Your next rounds are in this tier.\n"
    )
    return NewMessage(
        kind="tier_move",
        recipient=proposal.email or "",
        subject=f"{program.program.name}: you are now in tier {proposal.to_tier}",
        text=text,
        idempotency_key=f"tier-move-{move_id}",
    )
