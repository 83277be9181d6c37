"""The dashboard and the sections other parts of matchdesk fill (honest empty states)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from matchdesk.web.rendering import render
from matchdesk.web.security import Principal, app_of, require

router = APIRouter(include_in_schema=False)

# Sections not built yet show an honest empty state (every section is built now).
SECTIONS: dict[str, tuple[str, str, str]] = {}


@router.get("/")
def dashboard(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
    """What needs attention today (open rounds, creators gone dark, tier moves to review,
    results missing for past matches), each linking to where it is resolved; the roster."""
    from matchdesk.results.cache import data_versions
    from matchdesk.results.dashboard import attention, roster_counts

    md = app_of(request)
    cache = request.app.state.results_cache
    with md.transaction() as session:
        versions = data_versions(session)  # once for both cached figures
        total, tiers = roster_counts(session, cache, versions)
        todo = attention(session, md.program, cache, versions)
    order = [t.name for t in md.program.tiers]
    tier_rows = [(t.name, t.cadence, tiers.get(t.name, 0)) for t in md.program.tiers]
    untiered = sum(n for name, n in tiers.items() if name not in order)
    return render(
        request,
        "dashboard.html",
        total=total,
        tier_rows=tier_rows,
        untiered=untiered,
        todo=todo,
    )


def _section(key: str):  # type: ignore[no-untyped-def]
    heading, empty_title, empty_text = SECTIONS[key]

    def page(request: Request, principal: Principal = Depends(require("viewer"))) -> Response:
        return render(
            request, "section.html", heading=heading, empty_title=empty_title, empty_text=empty_text
        )

    page.__name__ = f"{key}_page"
    return page


for _key in SECTIONS:
    router.add_api_route(f"/{_key}", _section(_key), methods=["GET"])
