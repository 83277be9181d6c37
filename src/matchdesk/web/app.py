"""The web app factory: one FastAPI app bound to one `Matchdesk` (nothing built at import)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from matchdesk.context import Matchdesk
from matchdesk.i18n.jinja import install_i18n
from matchdesk.results.cache import ResultsCache
from matchdesk.results.warming import Warmer
from matchdesk.roster.index import RosterIndexCache
from matchdesk.rounds.score_words import parts_in_words, weights_in_words
from matchdesk.rounds.service import aware
from matchdesk.web.errors import install_error_handlers
from matchdesk.web.routes import (
    api,
    auth,
    board_help,
    checkins,
    creator_edit,
    docs,
    outbox,
    outreach,
    pages,
    portal,
    reports,
    results,
    roster,
    rounds,
    settings,
    tiers,
)
from matchdesk.web.security import HardeningMiddleware, LoginGate, redact_access_log

HERE = Path(__file__).parent
ROUTERS = (
    auth.router,
    pages.router,
    outreach.router,
    creator_edit.router,  # before roster's /creators/{handle}: /creators/new
    board_help.router,  # and /creators/suggest
    roster.router,
    rounds.router,
    results.router,
    reports.router,
    tiers.router,
    checkins.router,
    outbox.router,
    settings.router,
    portal.router,
    api.router,
    docs.router,
)


def _thousands(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _zoned(moment: datetime, timezone: str = "UTC", fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """`moment` (naive means UTC, as SQLite gives it back) on `timezone`'s wall clock."""
    return aware(moment).astimezone(ZoneInfo(timezone)).strftime(fmt)


def create_app(md: Matchdesk, *, warm_reports: bool = False) -> FastAPI:
    """The web app: ops pages, the creator portal and the REST API under /api/v1.
    `warm_reports` (what `matchdesk serve` asks for): the report and dashboard figures are
    computed as it starts and again after every change (results/warming.py)."""
    roster_index = RosterIndexCache([t.name for t in md.program.tiers])

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Build the roster index before the first request rather than during it.
        with md.transaction() as session:
            await run_in_threadpool(roster_index.current, session)
        warmer = Warmer(md, web.state.results_cache) if warm_reports else None
        web.state.results_warmer = warmer
        if warmer is not None:
            warmer.start()
        yield
        if warmer is not None:
            await run_in_threadpool(warmer.stop)

    web = FastAPI(
        lifespan=lifespan,
        title="matchdesk",
        version="1",
        description="Run a creator LIVE match program: the roster, rounds, results, outreach.",
        docs_url=None,  # routes/docs.py serves it from the vendored Swagger UI
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    web.state.md = md
    web.state.roster_index = roster_index
    web.state.results_cache = ResultsCache()  # report and dashboard figures (results/cache.py)
    # Made here, not on first use: two first exports at once would each make their own.
    web.state.roster_exports = threading.BoundedSemaphore(roster.EXPORTS)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters["thousands"] = _thousands
    templates.env.filters["zoned"] = _zoned
    templates.env.filters["score_parts"] = parts_in_words
    templates.env.globals["score_weights"] = weights_in_words()
    install_i18n(templates.env)  # portal pages speak the creator's language (i18n/jinja.py)
    web.state.templates = templates
    web.add_middleware(
        SessionMiddleware,
        secret_key=md.settings.signing_key(),
        session_cookie="matchdesk_session",
        max_age=md.settings.session_hours * 3600,
        same_site="lax",
        https_only=md.settings.environment == "production",
    )
    # Client addresses locked out of signing in, per process (noted by the sign-in route).
    web.state.login_locks = {}
    web.add_middleware(LoginGate, locks=web.state.login_locks)
    web.add_middleware(HardeningMiddleware)  # outermost: runs before the session cookie
    redact_access_log()
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install_error_handlers(web)
    for router in ROUTERS:
        web.include_router(router)
    return web
