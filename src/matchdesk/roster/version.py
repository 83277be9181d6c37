"""The roster's version: a token that changes whenever any creator changes, so that
figures derived from the whole roster (counts, filter choices) can be cached per process
and still never be stale."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from matchdesk.roster.models import ProgramState

_KEY = "roster_version"


def roster_version(session: Session) -> str:
    state = session.get(ProgramState, _KEY)
    return state.value if state is not None else ""


def roster_changed(session: Session) -> None:
    """Call in the transaction of every roster write (a fresh random token, so concurrent
    writers never need to read-modify-write)."""
    token = secrets.token_hex(16)
    state = session.get(ProgramState, _KEY)
    if state is None:
        session.add(ProgramState(key=_KEY, value=token))
    else:
        state.value = token
    session.flush()
