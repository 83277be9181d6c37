"""Finding creators: search, filters, sort and pages. Shared by the web pages and the REST
API so both list the same way.

Two ways give the same answer: plain SQL (`search_creators` without an index), and an
in-memory `RosterIndex` (see index.py) that a web process keeps per roster version, which
filters and sorts 100,000 creators in a millisecond or two and then reads just the page's
rows by id. Tests hold the two to the same results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from matchdesk.roster.models import Creator, CreatorLanguage
from matchdesk.roster.search import matches, search_term

if TYPE_CHECKING:
    from matchdesk.roster.index import RosterIndexCache

SortKey = Literal[
    "handle", "-handle", "followers", "-followers", "revenue_30d", "-revenue_30d", "tier", "-tier"
]
SORT_KEYS: tuple[str, ...] = SortKey.__args__  # type: ignore[attr-defined]
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class CreatorFilter:
    """Empty fields filter nothing. `q` matches anywhere inside a handle or a display name,
    whatever the case and accents (`luna` finds @drona_luna6099, `sofia` finds Sofía; a
    leading `@` is ignored)."""

    q: str = ""
    tier: str = ""
    region: str = ""
    language: str = ""
    status: str = ""

    @property
    def term(self) -> str:
        """The folded search term (roster/search.py)."""
        return search_term(self.q)


class CreatorRow(NamedTuple):
    """A creator as a list shows it: the fields stored on the creator row itself (read
    without the ORM: a list page is the hottest read in the app)."""

    id: int
    handle: str
    display_name: str
    email: str
    timezone: str
    languages: str
    region: str
    category: str
    followers: int
    revenue_30d: int
    tier: str | None
    status: str
    version: int


LIST_COLUMNS = tuple(getattr(Creator, name) for name in CreatorRow._fields)


def rows_by_id(session: Session, ids: Sequence[int]) -> list[CreatorRow]:
    """The list rows of these creators, in the order of `ids` (unknown ids left out)."""
    found = {
        row[0]: CreatorRow(*row)
        for row in session.execute(select(*LIST_COLUMNS).where(Creator.id.in_(ids)))
    }
    return [found[i] for i in ids if i in found]


@dataclass(frozen=True)
class CreatorPage:
    creators: list[CreatorRow]
    total: int
    page: int
    per_page: int
    sort: str
    filters: CreatorFilter = field(default_factory=CreatorFilter)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filtered(statement: Select[Any], f: CreatorFilter, session: Session) -> Select[Any]:
    if f.term:
        # Literal ids: a common term finds more creators than SQLite takes parameters.
        ids: Any = bindparam("searched", _searched_ids(session, f.term), literal_execute=True)
        statement = statement.where(Creator.id.in_(ids))
    if f.tier:
        statement = statement.where(Creator.tier == f.tier)
    if f.region:
        statement = statement.where(Creator.region == f.region.upper())
    if f.status:
        statement = statement.where(Creator.status == f.status)
    if f.language:
        # IN (not EXISTS): the language index finds the matching ids first.
        speakers = select(CreatorLanguage.creator_id).where(
            CreatorLanguage.language == f.language.lower()
        )
        statement = statement.where(Creator.id.in_(speakers))
    return statement


def _searched_ids(session: Session, term: str) -> list[int]:
    """The creators whose handle or display name holds `term` (folded in Python, so both
    backends agree; this plain path reads every handle and name, the in-memory index of
    index.py is what the pages use)."""
    return [
        creator_id
        for creator_id, handle, name in session.execute(
            select(Creator.id, Creator.handle, Creator.display_name)
        )
        if term in handle or matches(term, name)
    ]


def _order(sort: str, tier_order: Sequence[str]) -> list[Any]:
    key = sort.lstrip("-")
    column: Any
    if key == "tier" and tier_order:  # the program's order (strongest first), no tier last
        column = case(
            {name: rank for rank, name in enumerate(tier_order)},
            value=Creator.tier,
            else_=len(tier_order),
        )
    else:
        column = getattr(Creator, key)
    order = [column.desc() if sort.startswith("-") else column.asc()]
    if key != "handle":
        order.append(Creator.handle.asc())
    return order


def normalise(sort: str, page: int, per_page: int) -> tuple[str, int, int]:
    return (
        sort if sort in SORT_KEYS else "handle",
        max(1, page),
        max(1, min(per_page, MAX_PER_PAGE)),
    )


def search_creators(
    session: Session,
    filters: CreatorFilter = CreatorFilter(),
    *,
    sort: str = "handle",
    page: int = 1,
    per_page: int = 50,
    tier_order: Sequence[str] = (),
    index: RosterIndexCache | None = None,
) -> CreatorPage:
    """One page of creators matching `filters`, sorted by `sort` (`-` for descending; ties
    broken by handle so pages never overlap; tiers in `tier_order`)."""
    sort, page, per_page = normalise(sort, page, per_page)
    if index is not None:
        return index.search(session, filters, sort=sort, page=page, per_page=per_page)
    total = int(session.scalar(_filtered(select(func.count(Creator.id)), filters, session)) or 0)
    rows = session.execute(
        _filtered(select(*LIST_COLUMNS), filters, session)
        .order_by(*_order(sort, tier_order))
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return CreatorPage([CreatorRow(*r) for r in rows], total, page, per_page, sort, filters)


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The values the roster's filters can take (regions and languages in use)."""
    return {
        "region": sorted(r for r in session.scalars(select(Creator.region).distinct()) if r),
        "language": list(
            session.scalars(
                select(CreatorLanguage.language).distinct().order_by(CreatorLanguage.language)
            )
        ),
        "status": ["active", "paused"],
    }
