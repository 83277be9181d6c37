"""Planning a week of check-ins: the planner (one integer program per manager, HiGHS)
against first-fit in due order, side by side on the same week.

Prints, for each: seconds, check-ins booked (fill rate), and the spread of each
manager's load over their days (mean of the per-manager standard deviation of bookings
per working day). Also the time to find one creator's free slots (the portal's query,
without the database). Target (issue 11): 10,000 due check-ins over 100 managers planned
in at most 10 s, booking at least as many as first-fit; a creator's slots in <= 50 ms.
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


if __name__ == "__main__":
    main()
