"""What writing invitations in the creators' languages costs: `Outgoing.request` (the
text, the portal link, the calendar) for N invitations to creators of each language,
side by side with English (the untranslated path: the same f-string shapes as before
the catalogs, plus one dictionary lookup of the creator's language).

Pure Python, no database (the collector is given the whole round's invitations, empty):
the figure is the per-message cost publishing adds on top of its reads and writes. The
matches start on 56 slots of a week, creators live in four zones, as in a round (a
moment is written once per language and zone, then reused).

    python benchmarks/bench_i18n.py [--invitations 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from pydantic import SecretStr

from matchdesk.config import Settings
from matchdesk.program import Program
from matchdesk.rounds.invitations import Outgoing, Sender

LANGUAGES = ("en", "es;en", "pt", "id;en")
START = datetime(2026, 3, 9, 18, tzinfo=UTC)


def people(n: int, languages: str) -> list[Any]:
    zones = ("America/Sao_Paulo", "Europe/Madrid", "Asia/Jakarta", "UTC")
    return [
        SimpleNamespace(
            id=i + 1,
            handle=f"creator{i}",
            display_name=f"Creator {i}",
            email=f"creator{i}@example.com",
            timezone=zones[i % len(zones)],
            portal_link_version=0,
            languages=languages,
        )
        for i in range(n)
    ]


def run(n: int, languages: str) -> float:
    """Seconds to invite `n` creators speaking `languages` (pairs: i with i+1)."""
    settings = Settings(secret_key=SecretStr("bench-i18n-secret-key-0123456789abcdef"))
    program = Program.model_validate({})
    round_ = SimpleNamespace(id=1, period_start=START)
    outgoing = Outgoing(
        None,  # type: ignore[arg-type]  # never read: whole_round with its invitations
        settings,
        program,
        round_,  # type: ignore[arg-type]
        Sender("matchdesk@example.com", "matchdesk", "example.com"),
        [],
        {},
        whole_round=True,
    )
    creators = people(n, languages)
    # As in a round: every match starts on one of the week's slots (here 56 of them).
    starts = [START + timedelta(hours=3 * ((i // 2) % 56)) for i in range(n)]
    matches = [
        SimpleNamespace(id=i // 2 + 1, starts_at=at, ends_at=at + timedelta(hours=1))
        for i, at in enumerate(starts)
    ]
    began = time.perf_counter()
    for i, creator in enumerate(creators):
        partner = creators[i + 1 if i % 2 == 0 else i - 1]
        outgoing.request(matches[i], creator, partner)
    elapsed = time.perf_counter() - began
    assert len(outgoing.messages) == n
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitations", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.invitations
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} (start)")
    best: dict[str, float] = {}
    for _ in range(args.repeat):  # interleaved, so a busy spell hits every language alike
        for languages in LANGUAGES:
            seconds = run(n, languages)
            best[languages] = min(best.get(languages, seconds), seconds)
    english = best["en"]
    print(f"{n:,} invitations (Outgoing.request: text, portal link, calendar), best of "
          f"{args.repeat}:")  # fmt: skip
    print(f"{'languages':<10} {'seconds':>8} {'us/message':>11} {'vs English':>11}")
    for languages in LANGUAGES:
        seconds = best[languages]
        print(f"{languages:<10} {seconds:8.2f} {seconds / n * 1e6:11.1f} "
              f"{seconds / english:10.2f}x")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} (end)")


if __name__ == "__main__":
    main()
