"""The token bucket and the retry delays, exactly."""

from __future__ import annotations

from datetime import timedelta

from matchdesk.mail.pacing import TokenBucket, retry_delay


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    bucket = TokenBucket(10, clock=lambda: now[0], sleep=sleep)
    waits = [round(bucket.acquire(), 6) for _ in range(13)]
    assert waits == [0.0] * 10 + [0.1, 0.1, 0.1]
    assert slept == [0.1, 0.1, 0.1]


def test_no_limit_never_waits() -> None:
    bucket = TokenBucket(0, sleep=lambda s: (_ for _ in ()).throw(AssertionError))
    assert [bucket.acquire() for _ in range(1000)] == [0.0] * 1000


def test_retry_delays_double_with_jitter_and_a_cap() -> None:
    assert retry_delay(1, base_seconds=60, jitter=0) == timedelta(seconds=60)
    assert retry_delay(2, base_seconds=60, jitter=0) == timedelta(seconds=120)
    assert retry_delay(3, base_seconds=60, jitter=1) == timedelta(seconds=300)
    assert retry_delay(20, base_seconds=60, jitter=0) == timedelta(hours=6)
    assert timedelta(seconds=60) <= retry_delay(1, base_seconds=60) <= timedelta(seconds=75)
