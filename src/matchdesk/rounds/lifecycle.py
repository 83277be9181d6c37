"""A round after the board: publish, the creators' answers, rematch, and how each match
ended (completed, no-show), with each creator's reliability.

Every change here writes its messages to the outbox in the same transaction (see
invitations.py), so a change and its messages exist together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk import clock as wall_clock
from matchdesk.config import Settings
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.matching import solve
from matchdesk.program import Program
from matchdesk.roster.models import AvailabilityWindow, Creator, utcnow
from matchdesk.rounds.board import LIVE, WAITING, Edit
from matchdesk.rounds.invitations import PERSON_COLUMNS, Outgoing, Person
from matchdesk.rounds.models import Bye, Match
from matchdesk.rounds.pool import load_pool
from matchdesk.rounds.service import (
    aware,
    bump_version,
    get_round,
    open_round,
    round_not_before,
    store_result,
)

DECLINED = "declined"
PARTNER_DECLINED = "partner declined"
NOT_REMATCHED = ("excluded", DECLINED)  # byes a rematch leaves alone

Clock = Callable[[], datetime]


def _now() -> datetime:
    return wall_clock.now()


def _creators(session: Session, ids: set[int]) -> dict[int, Person]:
    """The creators `ids` as plain rows (what an invitation needs), by id."""
    ordered = sorted(ids)
    out: dict[int, Person] = {}
    for i in range(0, len(ordered), 20_000):
        for creator in session.execute(
            select(*PERSON_COLUMNS).where(Creator.id.in_(ordered[i : i + 20_000]))
        ):
            out[creator.id] = creator
    return out


_MATCH_COLUMNS = (Match.id, Match.creator_a_id, Match.creator_b_id, Match.starts_at, Match.ends_at)


def _invite(
    session: Session,
    outgoing: Outgoing,
    matches: Sequence[Any],
    people: dict[int, Person] | None = None,
) -> None:
    """Invite both creators of each of `matches` (rows of `_MATCH_COLUMNS` or matches);
    `people` holds them already when given."""
    if people is None:
        people = _creators(
            session, {m.creator_a_id for m in matches} | {m.creator_b_id for m in matches}
        )
    # Held for the loop: ZoneInfo keeps only its 8 latest zones alive by itself, so with
    # more zones than that every local time would read its zone file again.
    zones = {zone: ZoneInfo(zone) for zone in {p.timezone for p in people.values()}}
    for match in matches:
        a, b = people[match.creator_a_id], people[match.creator_b_id]
        outgoing.request(match, a, b)
        outgoing.request(match, b, a)
    zones.clear()


def publish(
    session: Session, settings: Settings, program: Program, round_id: int, edit: Edit
) -> int:
    """Publish a draft round: every proposed match becomes published and both creators
    get an invitation (message, ICS REQUEST, portal link). Returns the messages queued
    (creators without an e-mail address get none; the board lists them)."""
    round_ = open_round(
        session, round_id, edit.expected_version, ("draft",), "only a draft can be published."
    )
    proposed = (Match.round_id == round_id, Match.status == "proposed")
    # Rows, and one UPDATE: tens of thousands of ORM objects cost more than the invitations.
    matches = session.execute(select(*_MATCH_COLUMNS).where(*proposed).order_by(Match.id)).all()
    # The matched creators by a join on each side (two reads of the round's matches), not
    # 90,000 ids sent back in lists of bound parameters.
    people: dict[int, Person] = {}
    for side in (Match.creator_a_id, Match.creator_b_id):
        for creator in session.execute(
            select(*PERSON_COLUMNS).join(Match, side == Creator.id).where(*proposed)
        ):
            people[creator.id] = creator
    session.execute(
        update(Match).where(*proposed).values(status="published"),
        execution_options={"synchronize_session": "evaluate"},
    )
    round_.status = "published"
    round_.published_at = utcnow()
    outgoing = Outgoing.start(session, settings, program, round_, whole_round=True)
    _invite(session, outgoing, matches, people)
    queued = outgoing.flush()
    audit.record(
        session,
        edit.actor,
        "round.published",
        "round",
        round_id,
        after={"matches": len(matches), "messages": queued},
    )
    return queued


@dataclass(frozen=True)
class Answer:
    """What a creator's answer did."""

    match: Match
    status: str  # the match's status after the answer


def respond(
    session: Session,
    settings: Settings,
    program: Program,
    creator: Creator,
    match_id: int,
    answer: str,
    *,
    clock: Clock = _now,
) -> Answer:
    """A creator confirms or declines their match (from their portal link). A decline
    frees both: the decliner's event is cancelled, the partner waits for the rematch (a
    bye "partner declined"). Answers are accepted until the match starts; answering the
    same way twice changes nothing."""
    if answer not in ("confirm", "decline"):
        raise InvalidInput("unknown answer", [f"answer: {answer!r} is not confirm or decline"])
    match = session.get(Match, match_id)
    if match is None or creator.id not in (match.creator_a_id, match.creator_b_id):
        raise NotFound("This match is not yours.")
    side = "a" if match.creator_a_id == creator.id else "b"
    mine = f"{side}_response"
    if answer == "confirm" and getattr(match, mine) == "confirmed" and match.status in LIVE:
        return Answer(match, match.status)
    if match.status not in ("published", "confirmed"):
        raise Conflict(f"This match is {match.status}; it can no longer be answered.")
    if aware(match.starts_at) <= clock():
        raise Conflict("This match has started; it can no longer be answered.")
    # A creator's answer does not raise the round's version: the version guards managers'
    # edits against each other, and an answer (many arrive after publishing) would
    # otherwise make every open board stale. Edits re-check the match's status instead.
    round_ = get_round(session, match.round_id)
    partner_id = match.creator_b_id if side == "a" else match.creator_a_id
    if answer == "confirm":
        setattr(match, mine, "confirmed")
        if match.a_response == match.b_response == "confirmed":
            match.status = "confirmed"
    else:
        setattr(match, mine, "declined")
        match.status = "declined"
        outgoing = Outgoing.start(session, settings, program, round_)
        outgoing.cancel(creator, "you declined it")
        outgoing.flush()
        for creator_id, reason in ((creator.id, DECLINED), (partner_id, PARTNER_DECLINED)):
            session.execute(
                delete(Bye).where(Bye.round_id == round_.id).where(Bye.creator_id == creator_id)
            )
            session.add(Bye(round_id=round_.id, creator_id=creator_id, reason=reason))
    audit.record(
        session,
        f"creator:{creator.handle}",
        f"match.{answer}ed" if answer == "confirm" else "match.declined",
        "round",
        round_.id,
        after={"match_id": match.id, "status": match.status},
    )
    return Answer(match, match.status)


def rematch(
    session: Session, settings: Settings, program: Program, round_id: int, edit: Edit
) -> int:
    """Pair the published round's free creators (freed by a decline or by the manager,
    and the byes) with each other under the same rules; creators who declined or are
    excluded stay out, and no pair that declined each other meets again. The newly
    matched get an invitation (an update of their event when they had one), the freed
    who stay unmatched get a cancellation. Returns the number of new matches."""
    refusal = "rematch is for a published round."
    round_ = open_round(session, round_id, edit.expected_version, ("published",), refusal)
    # A free creator without a single weekly window cannot be paired: the engine is not
    # given them (their bye and its reason stay as they are), so a round whose byes are
    # mostly such creators rematches its few others, not thousands.
    has_windows = (
        select(AvailabilityWindow.id)
        .where(AvailabilityWindow.creator_id == Bye.creator_id)
        .exists()
    )
    reasons_before: dict[int, str] = {}
    candidates: list[int] = []
    free_bye = (Bye.round_id == round_id, Bye.reason.not_in(NOT_REMATCHED))
    free_now = select(Bye.creator_id).where(*free_bye)
    for creator_id, reason, can_meet in session.execute(
        select(Bye.creator_id, Bye.reason, has_windows).where(*free_bye)
    ):
        reasons_before[creator_id] = reason
        if can_meet or reason == WAITING:  # one waiting takes the engine's reason
            candidates.append(creator_id)
    free = set(reasons_before)
    declined_pairs = [
        (m.creator_a_id, m.creator_b_id)
        for m in session.scalars(
            select(Match).where(Match.round_id == round_id).where(Match.status == "declined")
        )
    ]
    people = _creators(session, {c for p in declined_pairs for c in p})
    pool = load_pool(
        session,
        program,
        cadence=round_.cadence,
        creator_ids=candidates,
        period_start=aware(round_.period_start),
        period_end=aware(round_.period_end),
        not_before=round_not_before(round_),
        extra_blocks=[
            (people[a].handle, people[b].handle)
            for a, b in declined_pairs
            if a in free and b in free
        ],
    )
    # Everyone the rematch may invite or cancel, read before the byes change: the free
    # creators are those with such a bye now (one query, not 3,000 ids sent).
    outgoing = Outgoing.start(session, settings, program, round_)
    outgoing.read(free, among=free_now)
    result = solve(pool.problem, seed=round_.seed)
    pairs = store_result(session, round_, pool, result, status="published")
    session.flush()
    new_matches = list(
        session.scalars(
            select(Match)
            .where(Match.round_id == round_id)
            .where(Match.status == "published")
            .where(Match.creator_a_id.in_([a for a, _ in pairs]))
        )
    )
    _invite(session, outgoing, new_matches)
    matched = {c for pair in pairs for c in pair}
    # Those still without a partner keep the reason they had ("partner declined", "unpaired
    # by the manager", the first build's own reason): the rematch's small pool would call
    # them all "no feasible partner". Only a creator brought back in takes the new reason.
    # Only the engine's creators had their byes rewritten (the others' stand untouched).
    restore = [
        {"bye_creator": creator_id, "bye_reason": reasons_before[creator_id]}
        for creator_id in sorted(set(candidates) - matched)
        if reasons_before[creator_id] != WAITING
    ]
    if restore:  # one executemany, not a statement per creator
        byes = cast(Table, Bye.__table__)
        session.execute(
            update(byes)
            .where(byes.c.round_id == round_id)
            .where(byes.c.creator_id == bindparam("bye_creator"))
            .values(reason=bindparam("bye_reason")),
            restore,
        )
    # Only a creator whose invitation stands has anything to cancel (the others were
    # never invited, or were told already): read just those.
    standing = [
        creator_id
        for creator_id in sorted(free - matched)
        if (sent := outgoing.invitations.get(creator_id)) is not None and sent.state == "request"
    ]
    people = _creators(session, set(standing))
    for creator_id in standing:
        outgoing.cancel(people[creator_id], "no new partner could be found this round")
    queued = outgoing.flush()
    audit.record(
        session,
        edit.actor,
        "round.rematched",
        "round",
        round_id,
        after={"free": len(free), "matches": len(pairs), "messages": queued},
    )
    return len(pairs)


def mark_no_show(
    session: Session,
    round_id: int,
    match_id: int,
    handles: list[str],
    edit: Edit,
    *,
    clock: Clock = _now,
) -> Match:
    """Mark that the creators `handles` of a match did not turn up (the match is past
    its slot). The match becomes a no-show; it counts against their reliability."""
    round_ = get_round(session, round_id)
    match = session.get(Match, match_id)
    if match is None or match.round_id != round_id:
        raise NotFound(f"No match {match_id} in round {round_id}.")
    if match.status not in ("published", "confirmed"):
        raise Conflict(f"Match {match_id} is {match.status}; it cannot be marked a no-show.")
    if aware(match.ends_at) > clock():
        raise Conflict(f"Match {match_id} has not ended yet; mark a no-show after its slot.")
    a, b = session.get(Creator, match.creator_a_id), session.get(Creator, match.creator_b_id)
    names = {c.handle: side for c, side in ((a, "a"), (b, "b")) if c is not None}
    chosen = [h.strip().lstrip("@").lower() for h in handles]
    unknown = [h for h in chosen if h not in names]
    if not chosen or unknown:
        raise InvalidInput(
            "cannot mark a no-show",
            [f"@{h} is not in match {match_id}" for h in unknown] or ["name who did not turn up"],
        )
    bump_version(session, round_, edit.expected_version)
    for handle in chosen:
        setattr(match, f"{names[handle]}_no_show", True)
    match.status = "no_show"
    audit.record(
        session,
        edit.actor,
        "match.no_show",
        "round",
        round_id,
        after={"match_id": match_id, "no_show": sorted(chosen)},
    )
    return match


def complete(session: Session, match: Match, *, actor: str) -> None:
    """A session result arrived for `match`: it is completed (the results import calls
    this)."""
    if match.status in ("published", "confirmed"):  # completed already: nothing to do
        match.status = "completed"
        audit.record(
            session, actor, "match.completed", "round", match.round_id, after={"match_id": match.id}
        )


@dataclass(frozen=True)
class Reliability:
    """How a creator answers and turns up, over every published match they had."""

    invited: int
    confirmed: int
    declined: int
    no_shows: int
    pending: int = 0  # published matches still waiting for their answer

    @property
    def answered(self) -> int:
        return self.confirmed + self.declined

    @property
    def confirm_rate(self) -> float | None:
        """Of the invitations answered (a pending one is no "0% confirmed"); None before
        the first answer."""
        return None if self.answered == 0 else self.confirmed / self.answered

    @property
    def decline_rate(self) -> float | None:
        return None if self.answered == 0 else self.declined / self.answered


def reliability(session: Session, creator_ids: list[int]) -> dict[int, Reliability]:
    """Reliability of each creator (every id gets an entry)."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    invited_statuses = ("published", "confirmed", "declined", "completed", "no_show", "cancelled")
    for side in ("a", "b"):
        creator = getattr(Match, f"creator_{side}_id")
        response = getattr(Match, f"{side}_response")
        no_show = getattr(Match, f"{side}_no_show")
        rows = session.execute(
            select(
                creator,
                func.count(),
                func.sum((response == "confirmed").cast(Integer)),
                func.sum((response == "declined").cast(Integer)),
                func.sum(no_show.cast(Integer)),
                func.sum(((Match.status == "published") & (response == "pending")).cast(Integer)),
            )
            .where(creator.in_(creator_ids))
            .where(Match.status.in_(invited_statuses))
            .group_by(creator)
        )
        for creator_id, invited, confirmed, declined, no_shows, pending in rows:
            total = counts[creator_id]
            for i, value in enumerate((invited, confirmed, declined, no_shows, pending)):
                total[i] += int(value or 0)
    return {cid: Reliability(*counts[cid]) for cid in creator_ids}
