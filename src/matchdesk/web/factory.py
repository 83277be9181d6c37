"""`uvicorn --factory matchdesk.web.factory:app`: the app built from the environment's
settings, once per worker process (used by `matchdesk serve --workers N`)."""

from __future__ import annotations

from fastapi import FastAPI

from matchdesk.context import Matchdesk
from matchdesk.web.app import create_app


def app() -> FastAPI:
    return create_app(Matchdesk.build(), warm_reports=True)
