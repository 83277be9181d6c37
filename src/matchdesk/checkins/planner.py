"""Planning a week of check-ins: every due creator given a slot with their manager at
once, not one first fit after another.

Each manager's week is one small integer program (creators x that manager's candidate
slots), solved by HiGHS through `scipy.optimize.milp`:

* x[c, s] = 1 books creator c at slot s (only the slots `find_slots` found for c);
* each creator at most once;
* no two check-ins of the manager closer than `duration + buffer`: for every candidate
  start t, the slots starting in [t, t + gap) hold at most one booking. Two slots
  conflict exactly when their starts are less than `gap` apart, and every such pair lies
  in the window of the earlier one, so these cliques are all the conflicts;
* at most `max_per_day` check-ins on each of the manager's days (their own clock),
  counting those already booked;
* the objective books as many as possible first (a weight no preference can outweigh),
  then spreads each manager's load over the week (the k-th check-in of a day costs
  `SPREAD * (k - 1)`: a convex cost, so the solver fills the emptier days first), then
  prefers slots in the middle of both people's hours.

The optimum books at least as many as first-fit in due order (that plan is one of the
feasible solutions and the count dominates the objective). If HiGHS stops at its time
limit with a worse plan, the first-fit plan is kept for that manager, so the guarantee
holds whatever the time limit.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from matchdesk.checkins.slots import Slot, SlotRules, manager_day

# Weights of the objective: one more booking beats any spread or preference gain (a
# week has at most a few hundred bookings per manager, each worth < BOOKING in total).
BOOKING = 1000.0
SPREAD = 0.3
PREFERENCE = 1.0

MANAGER_FULL = "the manager's free slots that the creator can make are taken"
DAY_FULL = "the manager's days that the creator can make are full (max_per_day)"


@dataclass(frozen=True)
class Request:
    """A due creator: who, with whom, and the slots `find_slots` found for them."""

    creator: Hashable
    manager: Hashable
    slots: tuple[Slot, ...]
    reason: str = ""  # why `slots` is empty, from find_slots


@dataclass
class Plan:
    """Bookings by creator, and the creators left out with the reason."""

    booked: dict[Hashable, Slot] = field(default_factory=dict)
    unbooked: dict[Hashable, str] = field(default_factory=dict)
    solver: dict[Hashable, str] = field(default_factory=dict)  # manager -> "milp"/"first-fit"


@dataclass(frozen=True)
class ManagerWeek:
    """What is already fixed for a manager in the week: their zone, and the starts of the
    check-ins already booked (the planner keeps away from them and counts them per day)."""

    timezone: str
    booked: tuple[datetime, ...] = ()


def _day_counts(week: ManagerWeek) -> dict[date, int]:
    counts: dict[date, int] = defaultdict(int)
    for start in week.booked:
        counts[manager_day(start, week.timezone)] += 1
    return counts


def _free(start: datetime, taken: Sequence[datetime], rules: SlotRules) -> bool:
    """Whether `start` keeps `gap` from every start in the sorted list `taken`."""
    i = bisect.bisect_left(taken, start)
    if i < len(taken) and taken[i] - start < rules.gap:
        return False
    return not (i > 0 and start - taken[i - 1] < rules.gap)


def first_fit(
    requests: Sequence[Request], weeks: Mapping[Any, ManagerWeek], rules: SlotRules
) -> Plan:
    """The baseline: creators in the given (due) order, each at the earliest slot still
    free with their manager on a day that is not full."""
    plan = Plan()
    taken: dict[Hashable, list[datetime]] = {m: sorted(w.booked) for m, w in weeks.items()}
    per_day = {m: _day_counts(w) for m, w in weeks.items()}
    for request in requests:
        if not request.slots:
            plan.unbooked[request.creator] = request.reason
            continue
        week = weeks[request.manager]
        chosen, day_full = None, False
        for slot in request.slots:
            if not _free(slot.start, taken[request.manager], rules):
                continue
            day = manager_day(slot.start, week.timezone)
            if per_day[request.manager][day] >= rules.max_per_day:
                day_full = True
                continue
            chosen = slot
            break
        if chosen is None:
            plan.unbooked[request.creator] = DAY_FULL if day_full else MANAGER_FULL
            continue
        plan.booked[request.creator] = chosen
        bisect.insort(taken[request.manager], chosen.start)
        per_day[request.manager][manager_day(chosen.start, week.timezone)] += 1
    for manager in {r.manager for r in requests}:
        plan.solver[manager] = "first-fit"
    return plan


def _solve_manager(
    requests: Sequence[Request], week: ManagerWeek, rules: SlotRules, time_limit: float
) -> dict[Hashable, Slot] | None:
    """The manager's optimal plan as {creator: slot}, or None if HiGHS found none."""
    pairs = [
        (r, s) for r in requests for s in r.slots if _free(s.start, sorted(week.booked), rules)
    ]
    if not pairs:
        return {}
    n = len(pairs)
    existing = _day_counts(week)
    days = sorted({manager_day(s.start, week.timezone) for _, s in pairs})
    caps = [max(0, rules.max_per_day - existing.get(d, 0)) for d in days]
    day_index = {d: i for i, d in enumerate(days)}
    # Variables: the n pairs, then for each day its cap's worth of "k-th booking" slacks.
    slack_start = np.concatenate([[0], np.cumsum(caps)])[:-1] + n
    n_vars = n + int(sum(caps))
    cost = np.zeros(n_vars)
    cost[:n] = [-(BOOKING + PREFERENCE * s.preference) for _, s in pairs]
    for i, cap in enumerate(caps):
        cost[slack_start[i] : slack_start[i] + cap] = SPREAD * np.arange(cap)

    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []

    def add_row(columns: Sequence[int], values: Sequence[float], lo: float, hi: float) -> None:
        row = len(lower)
        rows.extend([row] * len(columns))
        cols.extend(columns)
        vals.extend(values)
        lower.append(lo)
        upper.append(hi)

    by_creator: dict[Hashable, list[int]] = defaultdict(list)
    for k, (request, _) in enumerate(pairs):
        by_creator[request.creator].append(k)
    for members in by_creator.values():
        if len(members) > 1:
            add_row(members, [1.0] * len(members), 0, 1)
    order = sorted(range(n), key=lambda k: pairs[k][1].start)
    starts = [pairs[k][1].start for k in order]
    seen: set[datetime] = set()
    for position, start in enumerate(starts):
        if start in seen:
            continue
        seen.add(start)
        stop = bisect.bisect_left(starts, start + rules.gap)
        members = order[position:stop]
        # A clique of one creator's slots is already held by that creator's row.
        if len({pairs[k][0].creator for k in members}) > 1:
            add_row(members, [1.0] * len(members), 0, 1)
    on_day: dict[int, list[int]] = defaultdict(list)
    for k, (_, slot) in enumerate(pairs):
        on_day[day_index[manager_day(slot.start, week.timezone)]].append(k)
    for i, members in on_day.items():
        slacks = list(range(slack_start[i], slack_start[i] + caps[i]))
        add_row([*members, *slacks], [1.0] * len(members) + [-1.0] * len(slacks), 0, 0)

    integrality = np.zeros(n_vars)
    integrality[:n] = 1
    matrix = coo_array((vals, (rows, cols)), shape=(len(lower), n_vars)).tocsr()
    result = milp(
        cost,
        integrality=integrality,
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(matrix, lower, upper),
        options={"time_limit": time_limit, "disp": False},
    )
    if result.x is None:
        return None
    chosen = np.flatnonzero(result.x[:n] > 0.5)
    return {pairs[k][0].creator: pairs[k][1] for k in chosen}


def plan_week(
    requests: Sequence[Request],
    weeks: Mapping[Any, ManagerWeek],
    rules: SlotRules,
    *,
    time_limit_per_manager: float = 5.0,
) -> Plan:
    """Book every request the hard rules allow, manager by manager (see the module
    docstring); `requests` in due order (first-fit's order). Never books fewer than
    `first_fit` on the same input."""
    baseline = first_fit(requests, weeks, rules)
    plan = Plan()
    by_manager: dict[Hashable, list[Request]] = defaultdict(list)
    for request in requests:
        by_manager[request.manager].append(request)
    for manager, mine in by_manager.items():
        fallback = {
            r.creator: baseline.booked[r.creator] for r in mine if r.creator in baseline.booked
        }
        solved = _solve_manager(mine, weeks[manager], rules, time_limit_per_manager)
        if solved is None or len(solved) < len(fallback):
            solved, plan.solver[manager] = fallback, "first-fit"
        else:
            plan.solver[manager] = "milp"
        plan.booked.update(solved)
        for request in mine:
            if request.creator not in solved:
                plan.unbooked[request.creator] = (
                    request.reason
                    if not request.slots
                    else baseline.unbooked.get(request.creator, MANAGER_FULL)
                )
    return plan
