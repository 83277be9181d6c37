"""Keeping the web app's results cache warm, so that no request pays for a cold one.

The dashboard and the program report's default period (the last four weeks) read figures
that cost seconds at a platform's size when computed (creators gone dark, the tier
review, the totals and movers, the charts' specs). `warm` computes them into the app's
cache; `Warmer` does so, on a thread of its own, as soon as the app starts and again
whenever the results' or the roster's version changes (an import, the daily refresh, a
creator edit; in this process or any other) or the program day turns.
The cache stays exact (every entry keyed by those versions): the warmer only makes sure
the entries the next requests ask for exist already. A request arriving in the moment
between an import's commit and the warmer's next look (`every` seconds), or in the
first seconds after the app starts, waits for the one computation, as the cache always
had it (it is not made to wait before the app takes requests: a server that takes half a
minute to answer at all, and as long to stop, is worse).
"""

from __future__ import annotations

import logging
import threading
from contextlib import suppress
from datetime import date, timedelta

from matchdesk.context import Matchdesk
from matchdesk.results.cache import ResultsCache, results_version
from matchdesk.results.staging import today_in
from matchdesk.roster.version import roster_version

log = logging.getLogger("matchdesk.web")
DEFAULT_DAYS = 28  # the program report's default period, up to today


def default_period(today: date) -> tuple[date, date]:
    """The program report's period when none is asked for: the last four weeks."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def warm(md: Matchdesk, cache: ResultsCache) -> tuple[str, str, date]:
    """Compute the dashboard's and the default program report's cached figures into
    `cache`; returns the versions and day they were computed for."""
    from matchdesk.results.dashboard import attention, roster_counts
    from matchdesk.results.report_tables import program_page

    today = today_in(md.program.program.timezone)
    with md.transaction() as session:
        seen = (results_version(session), roster_version(session), today)
        roster_counts(session, cache)
        attention(session, md.program, cache)
        first, last = default_period(today)
        program_page(session, md.program, first, last, today, cache)
    return seen


class Warmer:
    """Warms `cache` at `start` and whenever the data's versions or the day change
    (looked at every `every` seconds), until `stop`."""

    def __init__(self, md: Matchdesk, cache: ResultsCache, every: float = 1.0) -> None:
        self.md = md
        self.cache = cache
        self.every = every
        self.rounds = 0  # warm-ups done (tests wait on `warmed`)
        self.warmed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: tuple[str, str, date] | None = None

    def start(self) -> None:
        """Warm at once and keep watching, on a daemon thread: the app starts serving
        meanwhile (a request for a figure being computed waits for that computation; it
        never starts a second one)."""
        self._thread = threading.Thread(target=self._run, name="results-warmer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop watching; a warm-up under way is not waited for long (the thread is a
        daemon: it ends with the process)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def wait(self, rounds: int = 1, timeout: float = 120) -> bool:
        """Wait until `rounds` warm-ups are done (for tests); whether they are."""
        with self.warmed:
            return self.warmed.wait_for(lambda: self.rounds >= rounds, timeout=timeout)

    def _current(self) -> tuple[str, str, date]:
        today = today_in(self.md.program.program.timezone)
        with self.md.transaction() as session:
            return results_version(session), roster_version(session), today

    def _warm(self) -> None:
        try:
            self._seen = warm(self.md, self.cache)
        except Exception:  # a warm-up that fails leaves the cache to the requests
            log.exception("warming the report cache failed")
            with suppress(Exception):  # tried again at the next change, not every second
                self._seen = self._current()
        with self.warmed:
            self.rounds += 1
            self.warmed.notify_all()

    def _run(self) -> None:
        self._warm()
        while not self._stop.wait(self.every):
            try:
                changed = self._current() != self._seen
            except Exception:
                log.exception("reading the results' version failed")
                continue
            if changed:
                self._warm()
