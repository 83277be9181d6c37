"""Finding creators: search, filters, sort and pages, fast at 100,000 creators.
Shared by the web pages and the REST API so both list the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from matchdesk.roster.models import Creator, CreatorLanguage

SortKey = Literal[
    "handle", "-handle", "followers", "-followers", "revenue_30d", "-revenue_30d", "tier", "-tier"
]
SORT_KEYS: tuple[str, ...] = SortKey.__args__  # type: ignore[attr-defined]
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class CreatorFilter:
    """Empty fields filter nothing. `q` matches the start of a handle or a display name
    (case-insensitive; a leading `@` is ignored)."""

    q: str = ""
    tier: str = ""
    region: str = ""
    language: str = ""
    status: str = ""


@dataclass(frozen=True)
class CreatorPage:
    creators: list[Creator]
    total: int
    page: int
    per_page: int
    sort: str
    filters: CreatorFilter = field(default_factory=CreatorFilter)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filtered(statement: Select[Any], f: CreatorFilter) -> Select[Any]:
    q = f.q.strip().removeprefix("@").lower()
    if q:
        pattern = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(
            or_(
                Creator.handle.like(pattern, escape="\\"),
                func.lower(Creator.display_name).like(pattern, escape="\\"),
            )
        )
    if f.tier:
        statement = statement.where(Creator.tier == f.tier)
    if f.region:
        statement = statement.where(Creator.region == f.region.upper())
    if f.status:
        statement = statement.where(Creator.status == f.status)
    if f.language:
        statement = statement.where(
            exists().where(
                (CreatorLanguage.creator_id == Creator.id)
                & (CreatorLanguage.language == f.language.lower())
            )
        )
    return statement


def search_creators(
    session: Session,
    filters: CreatorFilter = CreatorFilter(),
    *,
    sort: str = "handle",
    page: int = 1,
    per_page: int = 50,
) -> CreatorPage:
    """One page of creators matching `filters`, sorted by `sort` (`-` for descending; ties
    broken by handle so pages never overlap)."""
    if sort not in SORT_KEYS:
        sort = "handle"
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    column = getattr(Creator, sort.lstrip("-"))
    order = [column.desc() if sort.startswith("-") else column.asc()]
    if sort.lstrip("-") != "handle":
        order.append(Creator.handle.asc())
    total = session.scalar(_filtered(select(func.count(Creator.id)), filters)) or 0
    rows = session.scalars(
        _filtered(select(Creator), filters)
        .order_by(*order)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return CreatorPage(list(rows), int(total), page, per_page, sort, filters)


def filter_choices(session: Session) -> dict[str, list[str]]:
    """The values the roster's filters can take (tiers, regions, languages in use)."""
    return {
        "tier": [t for t in session.scalars(select(Creator.tier).distinct()) if t],
        "region": sorted(r for r in session.scalars(select(Creator.region).distinct()) if r),
        "language": list(
            session.scalars(
                select(CreatorLanguage.language).distinct().order_by(CreatorLanguage.language)
            )
        ),
        "status": ["active", "paused"],
    }
