"""The engine's clock: every time-limit check reads `now()`.

One function, so a test can replace it (monkeypatch `clock.now`) and decide exactly
when the limit passes, instead of depending on the machine's speed.
"""

from __future__ import annotations

import time


def now() -> float:
    """Seconds on a monotonic clock (time.perf_counter)."""
    return time.perf_counter()
