"""The application object: settings, program, engine and sessions, built once at start by
the CLI or the web app (nothing is built at import), so tests can make as many as they like."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from matchdesk.config import Settings
from matchdesk.db import make_engine, make_session_factory
from matchdesk.errors import InvalidInput
from matchdesk.program import Program, load_program
from matchdesk.program_store import startup_program


@dataclass
class Matchdesk:
    settings: Settings
    program: Program
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def build(cls, settings: Settings | None = None) -> Matchdesk:
        if settings is None:
            try:
                settings = Settings()
            except ValidationError as exc:
                raise InvalidInput(
                    "the settings are invalid",
                    [
                        f"MATCHDESK_{'_'.join(str(p) for p in e['loc']).upper() or '?'}: "
                        f"{e['msg'].removeprefix('Value error, ')}"
                        for e in exc.errors()
                    ],
                ) from None
        engine = make_engine(settings.database_url)
        # The program saved in Settings, if an admin saved one; else the file's.
        program = startup_program(engine, load_program(settings.program))
        return cls(settings, program, engine, make_session_factory(engine))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success, rolled back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()
