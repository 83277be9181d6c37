"""The web app factory. Until the web issue lands this serves the roster list only."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from matchdesk.context import Matchdesk
from matchdesk.roster.service import count_creators, list_creators

HERE = Path(__file__).parent
PAGE_SIZE = 50


def create_app(md: Matchdesk) -> FastAPI:
    """A FastAPI app bound to one `Matchdesk` (its settings, program and database)."""
    web = FastAPI(title="matchdesk", docs_url=None, redoc_url=None)
    templates = Jinja2Templates(directory=HERE / "templates")
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    web.state.md = md

    @web.get("/", response_class=HTMLResponse)
    def roster(request: Request, page: int = Query(1, ge=1)) -> HTMLResponse:
        with md.transaction() as session:
            total = count_creators(session)
            creators = list_creators(session, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        pages = max(1, -(-total // PAGE_SIZE))
        return templates.TemplateResponse(
            request,
            "roster.html",
            {
                "program": md.program,
                "creators": creators,
                "total": total,
                "page": page,
                "pages": pages,
            },
        )

    return web
