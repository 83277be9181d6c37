"""One process's cache of the figures the report pages and the dashboard derive from
results (creators gone dark, the tier review's proposals, top movers, totals), so that
twenty operators opening the same page do not each scan the ledger.

Never stale: every entry is keyed by the results' version (a token each import and each
daily refresh changes, in its own transaction), the roster's version (every creator
change, tier moves included) and whatever the caller adds (the period, today). The web
app holds one cache (built with the app, never at import time); a miss is computed once
while concurrent requests for the same key wait for it.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from matchdesk.roster.models import ProgramState
from matchdesk.roster.version import roster_version

T = TypeVar("T")
_KEY = "results_version"


def results_version(session: Session) -> str:
    state = session.get(ProgramState, _KEY)
    return state.value if state is not None else ""


def results_changed(session: Session) -> None:
    """Call in the transaction of every write to sessions or the ledger (a fresh random
    token: concurrent writers never read-modify-write)."""
    token = secrets.token_hex(16)
    state = session.get(ProgramState, _KEY)
    if state is None:
        session.add(ProgramState(key=_KEY, value=token))
    else:
        state.value = token
    session.flush()


def data_versions(session: Session) -> tuple[str, str]:
    """The results' and the roster's versions: what every cached figure is keyed by (a
    page that keeps several figures reads them once: two look-ups each cost ~1 ms on
    PostgreSQL)."""
    return results_version(session), roster_version(session)


class ResultsCache:
    """A small LRU of derived figures, keyed by the data's versions and the caller's key."""

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self._computing: dict[tuple[Hashable, ...], threading.Lock] = {}

    def __len__(self) -> int:
        """How many entries the cache holds."""
        with self._lock:
            return len(self._items)

    def get(
        self,
        session: Session,
        key: tuple[Hashable, ...],
        compute: Callable[[], T],
        versions: tuple[str, str] | None = None,
    ) -> T:
        """The cached value for `key` at the data's current versions (`versions`, when the
        caller read them already in this transaction), computed (once, by one request)
        when missing."""
        full = (*(versions or data_versions(session)), *key)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                return self._items[full]  # type: ignore[no-any-return]
            flight = self._computing.setdefault(full, threading.Lock())
        with flight:
            with self._lock:
                if full in self._items:
                    return self._items[full]  # type: ignore[no-any-return]
            value = compute()
            with self._lock:
                self._items[full] = value
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
                self._computing.pop(full, None)
            return value


def cached(
    cache: ResultsCache | None,
    session: Session,
    key: tuple[Hashable, ...],
    compute: Callable[[], T],
    versions: tuple[str, str] | None = None,
) -> T:
    """`cache.get(...)`, or `compute()` when there is no cache (the CLI, tests)."""
    return compute() if cache is None else cache.get(session, key, compute, versions)
