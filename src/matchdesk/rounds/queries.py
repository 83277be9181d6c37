"""Reading a round for the board: matches and byes with filters, search and pages, each
match with both creators' local start times. One page is one query with a LIMIT, so a
10,000-match round opens as fast as a small one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from matchdesk.roster.models import Creator
from matchdesk.roster.search import search_term
from matchdesk.rounds.models import Bye, Match
from matchdesk.rounds.service import aware, key_counts

if TYPE_CHECKING:
    from matchdesk.roster.index import RosterIndex

PER_PAGE = 100
# A match's two creators, aliased once: a fresh `aliased(Creator)` per query made
# SQLAlchemy rebuild the alias's column proxies on each (tens of ms per board request).
_A, _B = aliased(Creator, name="creator_a"), aliased(Creator, name="creator_b")
LIVE = ("proposed", "published", "confirmed")  # matches that still stand


@dataclass(frozen=True)
class BoardFilter:
    """Empty fields filter nothing. `q` matches anywhere inside either creator's handle
    or display name, case- and accent-insensitive (`Lúna` finds @drona_luna6099 and
    "Luna Díaz"): the names through the roster's in-memory index (`names` of
    `board_page` and `round_byes`; the web app passes its own), handles alone by SQL when
    no index is given (handles are lower-case ASCII, so the folded term is enough)."""

    q: str = ""
    status: str = ""
    tier: str = ""
    locked: str = ""  # "yes" / "no" / ""
    reason: str = ""  # the byes' filter (the matches ignore it)

    @property
    def term(self) -> str:
        return search_term(self.q)


@dataclass(frozen=True)
class BoardMatch:
    """A match as the board shows it."""

    id: int
    a: str
    b: str
    a_tier: str
    b_tier: str
    a_local: str
    b_local: str
    a_timezone: str
    b_timezone: str
    starts_at: datetime
    ends_at: datetime
    score: float
    parts: dict[str, float]
    status: str
    locked: bool
    manual: bool
    a_response: str
    b_response: str
    a_id: int = 0
    b_id: int = 0


@dataclass(frozen=True)
class BoardPage:
    """One page of a round's matches, and how many match the filter."""

    matches: list[BoardMatch]
    total: int
    page: int
    pages: int
    statuses: dict[str, int]


def _board_match(m: Match, a: Creator, b: Creator) -> BoardMatch:
    return BoardMatch(
        id=m.id,
        a=a.handle,
        b=b.handle,
        a_tier=a.tier or "",
        b_tier=b.tier or "",
        a_local=local_clock(m.starts_at, a.timezone),
        b_local=local_clock(m.starts_at, b.timezone),
        a_timezone=a.timezone,
        b_timezone=b.timezone,
        starts_at=aware(m.starts_at),
        ends_at=aware(m.ends_at),
        score=m.score,
        parts={
            "revenue": m.revenue,
            "audience": m.audience,
            "slot": m.slot,
            "novelty": m.novelty,
            "fairness": m.fairness,
        },
        status=m.status,
        locked=m.locked,
        manual=m.manual,
        a_response=m.a_response,
        b_response=m.b_response,
        a_id=a.id,
        b_id=b.id,
    )


def local_date_time(moment: datetime, timezone: str) -> str:
    """`Tue 10 Mar 2026, 19:00`: a moment as a clock in `timezone` shows it."""
    local = aware(moment).astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M}"


def local_clock(moment: datetime, timezone: str) -> str:
    """`Tue 1 Dec 19:00` in `timezone` (the day matters: a match is often on another
    date for each creator)."""
    local = aware(moment).astimezone(ZoneInfo(timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _inside(term: str) -> str:
    """A LIKE pattern (escape `\\`) for handles holding `term` anywhere."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _holders(names: RosterIndex, term: str) -> NDArray[np.int64]:
    """The ids of the creators whose handle or folded display name holds `term`."""
    return names.ids[names.holding(term)]


def _filtered(
    round_id: int, f: BoardFilter, *, by_handle: bool = True, columns: tuple[Any, ...] = ()
) -> Select[*tuple[Any, ...]]:
    """The ids (and `columns`) of the round's matches that pass `f`, as a query on
    `matches` alone: a filter on the creators is an `IN` of a subquery on `creators`
    (read once, then a lookup per match), not a join of both creators' rows to every
    match (which cost a second on a 45,000-match round). With `by_handle` false the
    search is left to the caller (the roster index, for names)."""
    query = select(Match.id, *columns).where(Match.round_id == round_id)
    creators: list[Any] = []
    if f.term and by_handle:
        creators.append(Creator.handle.like(_inside(f.term), escape="\\"))
    if f.tier:
        creators.append(Creator.tier == f.tier)
    for n, condition in enumerate(creators):
        # A CTE read once for both sides (SQLite and PostgreSQL materialise a CTE used
        # twice), not the same subquery on `creators` run for each.
        chosen = select(Creator.id).where(condition).cte(f"board_creators_{n}")
        query = query.where(
            or_(
                Match.creator_a_id.in_(select(chosen.c.id)),
                Match.creator_b_id.in_(select(chosen.c.id)),
            )
        )
    if f.status:
        query = query.where(Match.status == f.status)
    if f.locked in ("yes", "no"):
        query = query.where(Match.locked.is_(f.locked == "yes"))
    return query


def board_row(session: Session, round_id: int, match_id: int) -> BoardMatch | None:
    """One match of the round as the board shows it (None when it is gone)."""
    a, b = _A, _B
    row = session.execute(
        select(Match, a, b)
        .join(a, a.id == Match.creator_a_id)
        .join(b, b.id == Match.creator_b_id)
        .where(Match.round_id == round_id)
        .where(Match.id == match_id)
    ).one_or_none()
    return None if row is None else _board_match(*row)


def board_page(
    session: Session,
    round_id: int,
    f: BoardFilter,
    page: int = 1,
    *,
    names: RosterIndex | None = None,
) -> BoardPage:
    """The page-th page of the round's matches that pass `f`, by start time: the count
    and the page's ids from `matches` alone, then the page's 100 rows with their
    creators. With `names` the search also finds display names (see BoardFilter)."""
    ids = _filtered(round_id, f).order_by(Match.starts_at, Match.id)
    if f.term and names is not None:
        # The other filters in SQL, the search by the index: a membership test of both
        # creators of each passing match (numpy), in the same start order.
        rows = session.execute(
            _filtered(
                round_id, f, by_handle=False, columns=(Match.creator_a_id, Match.creator_b_id)
            ).order_by(Match.starts_at, Match.id)
        ).all()
        # fromiter over the flattened rows: np.array() of 45,000 rows took 0.7 s.
        found = np.fromiter(
            (value for row in rows for value in row), dtype=np.int64, count=3 * len(rows)
        ).reshape(-1, 3)
        held = _holders(names, f.term)
        keep = np.isin(found[:, 1], held) | np.isin(found[:, 2], held)
        passing = found[keep, 0].tolist()
        total = len(passing)
        pages = max(1, -(-total // PER_PAGE))
        page = min(max(1, page), pages)
        chosen = passing[(page - 1) * PER_PAGE : page * PER_PAGE]
    elif f.term or f.status or f.tier or f.locked:
        # One pass over the round's matches gives both the count and the page.
        passing = list(session.scalars(ids))
        total = len(passing)
        pages = max(1, -(-total // PER_PAGE))
        page = min(max(1, page), pages)
        chosen = passing[(page - 1) * PER_PAGE : page * PER_PAGE]
    else:
        # Counted without the ORDER BY (PostgreSQL sorted all 45,000 ids to count them).
        counted = _filtered(round_id, f).subquery()
        total = int(session.scalar(select(func.count()).select_from(counted)) or 0)
        pages = max(1, -(-total // PER_PAGE))
        page = min(max(1, page), pages)
        chosen = list(session.scalars(ids.limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    a, b = _A, _B
    rows = session.execute(
        select(Match, a, b)
        .join(a, a.id == Match.creator_a_id)
        .join(b, b.id == Match.creator_b_id)
        .where(Match.id.in_(chosen))
        .order_by(Match.starts_at, Match.id)
    ).all()
    return BoardPage(
        matches=[_board_match(m, a, b) for m, a, b in rows],
        total=total,
        page=page,
        pages=pages,
        statuses=match_statuses(session, round_id),
    )


def match_statuses(session: Session, round_id: int) -> dict[str, int]:
    """How many of the round's matches have each status (the board's tiles)."""
    return key_counts(
        session,
        select(Match.status, func.count()).where(Match.round_id == round_id).group_by(Match.status),
    )


@dataclass(frozen=True)
class BoardBye:
    """A bye as the board shows it."""

    handle: str
    tier: str
    timezone: str
    reason: str
    has_email: bool


@dataclass(frozen=True)
class Unreachable:
    """Matched creators who have no e-mail address, so get no invitation or update."""

    total: int
    handles: list[str]  # the first `limit`, by handle


def unreachable(session: Session, round_id: int, limit: int = 50) -> Unreachable:
    """The round's creators in a standing match (proposed, published, confirmed) without
    an e-mail address: they must be told another way (their portal link). The round's
    creators and those without an address are read apart and met here: the database's
    plan for one query looked every match's two creators up (a second at 45,000)."""
    in_round: set[int] = set()
    for a, b in session.execute(
        select(Match.creator_a_id, Match.creator_b_id)
        .where(Match.round_id == round_id)
        .where(Match.status.in_(LIVE))
    ):
        in_round.update((a, b))
    handles = sorted(
        handle
        for creator_id, handle in session.execute(
            select(Creator.id, Creator.handle).where(Creator.email == "")
        )
        if creator_id in in_round
    )
    return Unreachable(len(handles), list(handles[:limit]))


def round_byes(
    session: Session,
    round_id: int,
    q: str = "",
    reason: str = "",
    limit: int = 500,
    *,
    names: RosterIndex | None = None,
) -> tuple[list[BoardBye], int, dict[str, int]]:
    """The round's byes passing the filters (by handle, at most `limit`), their total,
    and the count per reason. With `names` the search also finds display names."""
    # Each bye's handle by its creator's primary key (a look-up per bye), not a join: for
    # a join PostgreSQL read all 100,000 creators into a hash to meet 3,000 byes. The
    # first `limit` by handle are then joined to their creators for the columns shown
    # (not whole ORM creators).
    handle = (
        select(Creator.handle).where(Creator.id == Bye.creator_id).correlate(Bye).scalar_subquery()
    )
    chosen = select(Bye.creator_id, Bye.reason).where(Bye.round_id == round_id)
    counted = select(func.count()).select_from(Bye).where(Bye.round_id == round_id)
    term = search_term(q)
    if term and names is None:
        holds = handle.like(_inside(term), escape="\\")
        chosen, counted = chosen.where(holds), counted.where(holds)
    if reason:
        chosen, counted = chosen.where(Bye.reason == reason), counted.where(Bye.reason == reason)
    if term and names is not None:
        # The byes' creators and handles read once, the search by the index; the first
        # `limit` by handle are then read by id.
        held = _holders(names, term)
        found = [
            (creator_id, name)
            for creator_id, name in session.execute(
                chosen.with_only_columns(Bye.creator_id, handle)
            )
        ]
        kept = np.isin(np.fromiter((c for c, _ in found), dtype=np.int64, count=len(found)), held)
        picked = sorted((name, c) for (c, name), k in zip(found, kept, strict=True) if k)
        total = len(picked)
        firsts = chosen.where(Bye.creator_id.in_([c for _, c in picked[:limit]])).subquery()
    else:
        # Every bye has its creator (a foreign key that cascades): without a search the
        # count is of `byes` alone, from its (round_id, reason) index.
        total = int(session.scalar(counted) or 0)
        firsts = chosen.order_by(handle).limit(limit).subquery()
    rows = session.execute(
        select(firsts.c.reason, Creator.handle, Creator.tier, Creator.timezone, Creator.email)
        .join(Creator, Creator.id == firsts.c.creator_id)
        .order_by(Creator.handle)
    ).all()
    reasons = key_counts(
        session,
        select(Bye.reason, func.count()).where(Bye.round_id == round_id).group_by(Bye.reason),
    )
    return (
        [
            BoardBye(handle, tier or "", timezone, r, bool(email))
            for r, handle, tier, timezone, email in rows
        ],
        total,
        reasons,
    )


def _creator_rows(session: Session, creator_id: int, *conditions: Any) -> list[BoardMatch]:
    a, b = _A, _B
    query = (
        select(Match, a, b)
        .join(a, a.id == Match.creator_a_id)
        .join(b, b.id == Match.creator_b_id)
        .where(or_(Match.creator_a_id == creator_id, Match.creator_b_id == creator_id))
    )
    for condition in conditions:
        query = query.where(condition)
    return [_board_match(m, x, y) for m, x, y in session.execute(query).all()]


def creator_matches(session: Session, creator_id: int, since: datetime) -> list[BoardMatch]:
    """A creator's published matches that end after `since` (their upcoming ones), by
    start."""
    rows = _creator_rows(
        session,
        creator_id,
        Match.ends_at > since,
        Match.status.in_(("published", "confirmed", "declined", "cancelled")),
    )
    return sorted(rows, key=lambda m: (m.starts_at, m.id))


def match_history(session: Session, creator_id: int, limit: int = 20) -> list[BoardMatch]:
    """A creator's latest matches in every round (drafts left out), newest first."""
    rows = _creator_rows(session, creator_id, Match.status != "proposed")
    return sorted(rows, key=lambda m: (m.starts_at, m.id), reverse=True)[:limit]
