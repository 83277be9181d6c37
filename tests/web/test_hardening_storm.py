"""Issue 15, the login storm: argon2 runs one hash at a time per process in a thread of the
lowest CPU priority, and a client address that is locked out is refused at the door,
before the form, the session, the database or argon2 (both backends)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.accounts import hashing
from matchdesk.accounts.hashing import HashingBusy, HashingThread
from matchdesk.accounts.models import LoginThrottle
from matchdesk.context import Matchdesk
from tests.web.conftest import PASSWORD
from tests.web.test_hardening import attempt

Client = Callable[[str | None], TestClient]


def test_hashes_run_one_at_a_time_in_one_thread_of_the_lowest_priority() -> None:
    hasher = HashingThread()
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: list[tuple[int, int]] = []
    inside, most = 0, 0
    count = threading.Lock()

    def work(n: int) -> int:
        nonlocal inside, most
        with count:
            inside += 1
            most = max(most, inside)
        tid = threading.get_native_id()
        seen.append((tid, os.getpriority(os.PRIO_PROCESS, tid)))
        with count:
            inside -= 1
        return n * n

    answers: list[int] = []
    callers = [
        threading.Thread(target=lambda n=n: answers.append(hasher.run(work, n))) for n in range(8)
    ]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert sorted(answers) == [n * n for n in range(8)]
    assert most == 1
    assert len({tid for tid, _ in seen}) == 1
    assert {priority for _, priority in seen} == {19}
    assert threading.get_native_id() not in {tid for tid, _ in seen}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # callers keep theirs


def test_a_password_is_checked_in_the_hashing_thread_holding_no_connection(
    md: Matchdesk, client_as: Client, operators: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[tuple[str, int]] = []  # (thread, database connections checked out)
    real = hashing.HASHING.run

    def watched(function: Any, *args: Any, **options: Any) -> Any:
        def run(*a: Any) -> Any:
            checks.append((threading.current_thread().name, md.engine.pool.checkedout()))  # type: ignore[attr-defined]
            return function(*a)

        return real(run, *args, **options)

    monkeypatch.setattr(hashing.HASHING, "run", watched)
    assert attempt(client_as(None), operators["viewer"], "a wrong guess").status_code == 401
    assert attempt(client_as(None), "ghost@example.com", "a wrong guess").status_code == 401
    signed_in = attempt(client_as(None), operators["viewer"], PASSWORD)
    assert signed_in.status_code == 303
    assert [(name.rsplit("_", 1)[0], held) for name, held in checks] == [
        ("password-hashing", 0)
    ] * 3


def test_a_locked_client_address_is_refused_at_the_door(
    md: Matchdesk,
    web: Any,
    client_as: Client,
    operators: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = client_as(None)
    for n in range(20):
        assert attempt(client, f"guess{n}@example.com", "a wrong guess").status_code == 401
    assert set(web.state.login_locks) == {"testclient"}
    with md.transaction() as session:
        before = [
            (t.key, t.failures, t.locked_until) for t in session.scalars(select(LoginThrottle))
        ]

    def no_hashing(*_: Any) -> Any:
        raise AssertionError("argon2 ran for a locked client address")

    monkeypatch.setattr(hashing.HASHING, "run", no_hashing)
    refused = attempt(client, operators["viewer"], PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-ins from your address; try again in 15 minutes." in refused.text
    assert 'name="csrf_token"' not in refused.text  # the door's answer, not the form
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60 + 1  # the lock's time left
    assert refused.headers["x-frame-options"] == "DENY"
    with md.transaction() as session:
        after = [
            (t.key, t.failures, t.locked_until) for t in session.scalars(select(LoginThrottle))
        ]
    assert after == before  # the database was not touched

    # A browser holding a known-device cookie goes on to the full check (it may pass a lock):
    # a forged one gets the sign-in form's refusal, still without argon2.
    client.cookies.set("matchdesk_device", "forged")
    checked = attempt(client, operators["viewer"], PASSWORD)
    assert checked.status_code == 429
    assert "too many failed attempts; try again in 15 minutes" in checked.text
    assert 'name="csrf_token"' in checked.text


def test_past_max_waiting_a_sign_in_check_is_refused_at_once_and_others_wait() -> None:
    hasher = HashingThread(max_waiting=2)
    release = threading.Event()
    answers: list[str] = []  # in the order the hashing thread ran the checks

    def check(name: str, wait: threading.Event | None = None) -> Callable[[], None]:
        return lambda: hasher.run(lambda: (wait.wait() if wait else True, answers.append(name)))

    first = threading.Thread(target=check("first", release))
    second = threading.Thread(target=check("second"))
    pause = threading.Event()  # never set: a wait of 10 ms between looks at the count

    def until_waiting(count: int) -> None:
        for _ in range(6000):  # a safety net of 60 s, not a timing
            if hasher.waiting == count:
                return
            pause.wait(0.01)
        raise AssertionError(f"{hasher.waiting} waiting, not {count}")

    first.start()
    until_waiting(1)
    second.start()  # queued behind the first
    until_waiting(2)
    with pytest.raises(HashingBusy, match="2 password checks are waiting"):
        hasher.run(lambda: "third", busy_refused=True)
    third = threading.Thread(target=check("third"))
    third.start()  # without busy_refused (a new operator's password): waits its turn
    release.set()
    for caller in (first, second, third):
        caller.join()
    assert answers == ["first", "second", "third"]
    assert hasher.waiting == 0


def test_a_sign_in_finding_the_hashing_thread_busy_is_refused_and_not_counted(
    md: Matchdesk, client_as: Client, operators: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def busy(*_: Any, busy_refused: bool = False) -> Any:
        assert busy_refused
        raise HashingBusy("20 password checks are waiting")

    monkeypatch.setattr(hashing.HASHING, "run", busy)
    refused = attempt(client_as(None), operators["viewer"], PASSWORD)
    assert refused.status_code == 429
    assert "too many sign-ins at once; try again in a minute" in refused.text
    with md.transaction() as session:
        assert session.scalars(select(LoginThrottle)).all() == []
