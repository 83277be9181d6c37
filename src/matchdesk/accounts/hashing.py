"""Where password hashing runs: one thread per process, at the lowest CPU priority.

argon2 is slow on purpose (about 0.2 s and 64 MiB a hash here, on 4 lanes that take every
core). Run on the request threads, a storm of wrong passwords made every other request
wait its turn for the CPU: with the reader of a roster page at p95 9 ms quiet, 178 ms during
20 wrong-password clients (issue 15). Here hashes run one at a time per process, in a
thread whose Linux nice value is 19 (argon2's own lane threads inherit it), so the
scheduler gives the cores to page requests first and a storm only slows the storm.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
NICE = 19
# Half the server's request threads (anyio's pool has 40 a process): a storm's checks queue
# here rather than spin through quick refusals (which cost the pages more: measured), yet
# cannot take every thread.
MAX_WAITING = 20


def _lower_priority() -> None:
    # On Linux the nice value is per thread (setpriority on the thread's id), and threads
    # this one starts (argon2's lanes) inherit it. Elsewhere: no change, still one a time.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)


class HashingBusy(Exception):
    """More hashes are waiting in this process than it lets wait."""


class HashingThread:
    """Runs functions one at a time in a low-priority thread of its own, started on first
    use (nothing runs at import); `run` waits for the answer. With `busy_refused`, a call
    finding `max_waiting` calls waiting already (each holds a request thread of the
    server's pool) raises `HashingBusy` at once, so a sign-in storm cannot take every
    request thread; other calls (a new operator's password) always wait their turn."""

    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self.max_waiting = max_waiting
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Calls waiting for (or in) the thread now."""
        return self._waiting

    def run(self, function: Callable[..., T], *args: object, busy_refused: bool = False) -> T:
        with self._lock:
            if busy_refused and self._waiting >= self.max_waiting:
                raise HashingBusy(f"{self._waiting} password checks are waiting")
            # A forked process (a server worker) does not inherit the parent's thread.
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(
                    max_workers=1,
                    thread_name_prefix="password-hashing",
                    initializer=_lower_priority,
                )
                self._pid = os.getpid()
                self._waiting = 0
            executor = self._executor
            self._waiting += 1
        try:
            return executor.submit(function, *args).result()
        finally:
            with self._lock:
                self._waiting -= 1


HASHING = HashingThread()
