"""Planning a week of check-ins: the planner (one integer program per manager, HiGHS)
against first-fit in due order, side by side on the same week.

Prints, for each: seconds, check-ins booked (fill rate), and the spread of each
manager's load over their days (mean of the per-manager standard deviation of bookings
per working day). Also the time to find one creator's free slots (the portal's query,
without the database). Target (issue 11): 10,000 due check-ins over 100 managers planned
in at most 10 s, booking at least as many as first-fit; a creator's slots in <= 50 ms.

With `--database sqlite|postgresql` it also runs the whole service on a real database of
that size: `schedule_week` end to end (due list, slots, planner, bookings, invitations
queued), then the portal's free-slots query (`booking.free_slots`, database included)
for creators whose manager's week is now full of bookings.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

from matchdesk.checkins.planner import ManagerWeek, Plan, Request, first_fit, plan_week
from matchdesk.checkins.slots import Hours, SlotRules, find_slots, manager_day
from matchdesk.roster.availability import Window

ZONES = [
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Europe/Madrid",
]
RULES = SlotRules(duration_minutes=30, buffer_minutes=10, step_minutes=30, max_per_day=8)


def make_week(
    creators: int, managers: int, seed: int
) -> tuple[list[Request], dict[str, ManagerWeek], float]:
    rng = random.Random(seed)
    start = datetime(2026, 3, 30, tzinfo=UTC)
    end = start + timedelta(days=7)
    manager_hours = {
        f"m{m}": Hours(tuple(Window(d, 9 * 60, 17 * 60) for d in range(5)), rng.choice(ZONES))
        for m in range(managers)
    }
    requests = []
    slot_seconds = 0.0
    for c in range(creators):
        manager = f"m{c % managers}"
        days = rng.sample(range(7), 3)
        begin = rng.randrange(8, 18) * 60
        creator = Hours(tuple(Window(d, begin, begin + 240) for d in days), rng.choice(ZONES))
        match = start + timedelta(minutes=rng.randrange(0, 7 * 48) * 30)
        began = time.perf_counter()
        search = find_slots(
            manager_hours[manager],
            creator,
            start,
            end,
            RULES,
            busy=[(match, match + timedelta(hours=1))],
            not_before=start,
        )
        slot_seconds += time.perf_counter() - began
        requests.append(Request(f"c{c}", manager, search.slots, search.reason))
    weeks = {m: ManagerWeek(h.timezone) for m, h in manager_hours.items()}
    return requests, weeks, slot_seconds / creators


def spread(plan: Plan, requests: list[Request], weeks: dict[str, ManagerWeek]) -> float:
    manager_of = {r.creator: r.manager for r in requests}
    per_day: dict[str, Counter[object]] = defaultdict(Counter)
    for creator, slot in plan.booked.items():
        manager = str(manager_of[creator])
        per_day[manager][manager_day(slot.start, weeks[manager].timezone)] += 1
    deviations = []
    for counts in per_day.values():
        values = list(counts.values()) + [0] * max(0, 5 - len(counts))
        deviations.append(statistics.pstdev(values))
    return statistics.mean(deviations) if deviations else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--managers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database", choices=("none", "sqlite", "postgresql"), default="none",
        help="also run the service end to end on this backend",
    )  # fmt: skip
    args = parser.parse_args()
    requests, weeks, per_creator = make_week(args.creators, args.managers, args.seed)
    print(
        f"{args.creators:,} due check-ins, {args.managers} managers "
        f"(one creator's free slots: {per_creator * 1000:.2f} ms; target <= 50 ms)"
    )
    rows = []
    for name in ("first-fit", "planner"):
        began = time.perf_counter()
        plan = (first_fit if name == "first-fit" else plan_week)(requests, weeks, RULES)
        seconds = time.perf_counter() - began
        rows.append((name, seconds, len(plan.booked), spread(plan, requests, weeks), plan))
    print(f"{'method':<10} {'seconds':>8} {'booked':>8} {'fill':>7} {'load spread (sd/day)':>22}")
    for name, seconds, count, deviation, _ in rows:
        print(
            f"{name:<10} {seconds:>8.2f} {count:>8,} {count / args.creators:>7.1%} "
            f"{deviation:>22.2f}"
        )
    planner = rows[1][4]
    fallbacks = sum(1 for s in planner.solver.values() if s == "first-fit")
    print(
        f"planner: {rows[1][2] - rows[0][2]:+,} against first-fit; managers kept on "
        f"first-fit (time limit): {fallbacks}; target <= 10 s and never fewer"
    )
    if args.database != "none":
        end_to_end(args.database, args.creators, args.managers, args.seed)


def end_to_end(backend: str, creators: int, managers: int, seed: int) -> None:
    """The service on a real database: plan the week, then time the portal's query."""
    import tempfile
    from pathlib import Path

    from sqlalchemy import select, update

    from databases import drop_schema, fresh_database
    from matchdesk.accounts.models import Operator
    from matchdesk.checkins.booking import free_slots
    from matchdesk.checkins.due import program_week
    from matchdesk.checkins.service import schedule_week
    from matchdesk.config import Settings
    from matchdesk.context import Matchdesk
    from matchdesk.roster.availability import format_availability
    from matchdesk.roster.models import Creator
    from matchdesk.roster.records import CreatorRecord
    from matchdesk.roster.service import save_records

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as workdir:
        url, schema = fresh_database(backend, Path(workdir))
        settings = Settings(database_url=url, program=Path(workdir) / "none.toml")
        settings.secret_key_file = Path(workdir) / "secret"
        md = Matchdesk.build(settings)
        try:
            hours = format_availability([Window(d, 9 * 60, 17 * 60) for d in range(5)])
            with md.transaction() as session:
                for m in range(managers):
                    session.add(
                        Operator(
                            email=f"m{m}@example.com", password_hash="!", role="manager",
                            timezone=rng.choice(ZONES), working_hours=hours,
                        )
                    )  # fmt: skip
                records = []
                for c in range(creators):
                    days = rng.sample(range(7), 3)
                    begin = rng.randrange(8, 18) * 60
                    windows = tuple(Window(d, begin, begin + 240) for d in days)
                    manager = f"m{c % managers}@example.com"
                    records.append(
                        CreatorRecord(
                            handle=f"c{c}", timezone=rng.choice(ZONES), languages=("en",),
                            followers=1000, revenue_30d=30_000, manager=manager,
                            checkin_hours=windows, email=f"c{c}@example.com",
                        )
                    )  # fmt: skip
                save_records(session, md.program, records)
                session.execute(update(Creator).values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
            week = program_week("2026-03-30", md.program.program.timezone)
            now = datetime(2026, 3, 27, tzinfo=UTC)
            began = time.perf_counter()
            with md.transaction() as session:
                result = schedule_week(
                    session, md.program, week, now=now, actor="bench", settings=md.settings
                )
            seconds = time.perf_counter() - began
            print(
                f"{backend}: schedule_week end to end {seconds:.2f} s, "
                f"{len(result.booked):,} booked ({len(result.booked) / creators:.1%}), "
                f"{len(result.unbooked):,} listed with a reason"
            )
            timings = []
            with md.transaction() as session:
                sample = list(session.scalars(select(Creator).order_by(Creator.id).limit(200)))
                for creator in sample:
                    began = time.perf_counter()
                    free_slots(session, md.program, creator, now)
                    timings.append(time.perf_counter() - began)
            timings.sort()
            print(
                f"{backend}: a creator's free slots in the portal (database included, 200 "
                f"creators): median {statistics.median(timings) * 1000:.1f} ms, "
                f"p95 {timings[int(len(timings) * 0.95)] * 1000:.1f} ms; target <= 50 ms"
            )
        finally:
            md.close()
            drop_schema(schema)


if __name__ == "__main__":
    main()
