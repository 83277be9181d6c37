"""How fast messages go out: a token bucket per worker, and the delay before a retry."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta


class TokenBucket:
    """At most `rate` messages a second on average, with bursts of up to `burst` (one
    second's worth by default). A rate of 0 means no limit."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate)
        self.tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the seconds slept."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
            self._last = now
            self.tokens -= 1.0
            wait = -self.tokens / self.rate if self.tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait


def retry_delay(
    attempts: int,
    *,
    base_seconds: float,
    max_seconds: float = 6 * 3600,
    jitter: float | None = None,
) -> timedelta:
    """The wait before the next attempt after `attempts` failed ones: `base_seconds`
    doubled per failure, capped at `max_seconds`, plus up to 25% random jitter so that
    messages that failed together do not all come back at the same moment. `jitter`
    (0 to 1) fixes the random part, for tests."""
    exponent = min(max(attempts - 1, 0), 30)
    delay = min(base_seconds * 2**exponent, max_seconds)
    share = random.random() if jitter is None else jitter
    return timedelta(seconds=delay * (1 + 0.25 * share))
