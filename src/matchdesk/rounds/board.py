"""The round board: the manager's edits to a round, each checked against the hard rules,
versioned (a stale edit is refused) and written to the audit log.

Draft rounds can be edited freely. In a published round an edit that changes who meets
whom cancels the old matches and invites the creators to the new ones (their calendar
event is updated in place: see invitations.py); re-optimising a published round is
refused, rematch is the tool there (lifecycle.py).
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from matchdesk import audit
from matchdesk.config import Settings
from matchdesk.errors import Conflict, InvalidInput, MatchdeskError, NotFound
from matchdesk.matching import solve
from matchdesk.matching.pairs import pair_violations
from matchdesk.program import Program
from matchdesk.roster.models import Creator
from matchdesk.rounds.invitations import Outgoing
from matchdesk.rounds.models import Bye, Match, Round
from matchdesk.rounds.pool import load_pool
from matchdesk.rounds.service import (
    aware,
    handles_of,
    in_round_pool,
    open_round,
    round_not_before,
    round_pool_ids,
    score_columns,
    store_result,
)

UNPAIRED = "unpaired by the manager"
EXCLUDED = "excluded"
PARTNER_EXCLUDED = "partner excluded"
WAITING = "waiting for re-optimise"
LIVE = ("proposed", "published", "confirmed")  # matches that still stand


# What each hard rule means, in the words a manager uses (the board says these; the
# command line and the API keep the rule's settings key, which scripts may match on).
PLAIN_RULES = {
    "require_shared_language": "these two share no language",
    "blocks": "one of them has blocked the other",
    "rematch_cooldown_rounds": "these two met too recently",
    "max_tier_distance": "their tiers are too far apart",
    "duration_minutes": "they have no free hour in common",
    "distinct": "that is the same creator twice",
}


def in_plain_words(error: MatchdeskError) -> str:
    """A refused edit as one sentence for the board: `@ali and @eve cannot be paired:
    these two share no language.`"""
    reasons = []
    for detail in error.details:
        rule, _, rest = detail.partition(": ")
        plain = PLAIN_RULES.get(rule)
        reasons.append(plain if plain and rest.startswith("the pair") else detail)
    sentence = error.message + (": " + "; ".join(reasons) if reasons else "")
    sentence = sentence[:1].upper() + sentence[1:]
    return sentence if sentence.endswith(".") else sentence + "."


@dataclass(frozen=True)
class Edit:
    """Who makes an edit, and the round version their page showed."""

    actor: str
    expected_version: int | None


def _creator(session: Session, handle: str) -> Creator:
    clean = handle.strip().lstrip("@").lower()
    creator = session.scalars(select(Creator).where(Creator.handle == clean)).one_or_none()
    if creator is None:
        raise NotFound(f"No creator with handle @{clean}.")
    return creator


def _log(session: Session, edit: Edit, action: str, round_id: int, **changes: Any) -> None:
    """Write the edit to the round's audit log (`changes`: before=..., after=...)."""
    audit.record(session, edit.actor, action, "round", round_id, **changes)


def _pair_of(session: Session, match: Match) -> tuple[Creator, Creator]:
    a, b = session.get(Creator, match.creator_a_id), session.get(Creator, match.creator_b_id)
    if a is None or b is None:  # foreign keys cascade: cannot happen
        raise NotFound(f"Match {match.id} lost a creator.")
    return a, b


def _match(session: Session, round_: Round, match_id: int) -> Match:
    match = session.get(Match, match_id)
    if match is None or match.round_id != round_.id:
        raise NotFound(f"No match {match_id} in round {round_.id}.")
    return match


def _open(session: Session, round_id: int, edit: Edit) -> Round:
    return open_round(
        session, round_id, edit.expected_version, ("draft", "published"), "it cannot be edited."
    )


def current_match(session: Session, round_id: int, creator_id: int) -> Match | None:
    """The standing match of a creator in a round, if any."""
    return session.scalars(
        select(Match)
        .where(Match.round_id == round_id)
        .where(Match.status.in_(LIVE))
        .where((Match.creator_a_id == creator_id) | (Match.creator_b_id == creator_id))
    ).one_or_none()


def _set_bye(session: Session, round_id: int, creator_id: int, reason: str) -> None:
    session.execute(delete(Bye).where(Bye.round_id == round_id).where(Bye.creator_id == creator_id))
    session.add(Bye(round_id=round_id, creator_id=creator_id, reason=reason))
    session.flush()


def _clear_bye(session: Session, round_id: int, creator_id: int) -> None:
    session.execute(delete(Bye).where(Bye.round_id == round_id).where(Bye.creator_id == creator_id))


def _bye_reason(session: Session, round_id: int, creator_id: int) -> str | None:
    return session.scalars(
        select(Bye.reason).where(Bye.round_id == round_id).where(Bye.creator_id == creator_id)
    ).one_or_none()


def _match_state(session: Session, match: Match) -> dict[str, Any]:
    a, b = _pair_of(session, match)
    return {
        "match_id": match.id,
        "creator_a": a.handle,
        "creator_b": b.handle,
        "starts_at": aware(match.starts_at).isoformat(),
        "status": match.status,
        "locked": match.locked,
    }


def _take_apart(
    session: Session, outgoing: Outgoing, round_: Round, match: Match, reasons: tuple[str, str]
) -> None:
    """End a standing match: deleted in a draft, cancelled (with a CANCEL to each
    creator) once published; both creators get a bye with their reason."""
    a, b = _pair_of(session, match)
    if match.status == "proposed":
        session.delete(match)
        session.flush()
    else:
        match.status = "cancelled"
        for creator, reason in ((a, reasons[0]), (b, reasons[1])):
            outgoing.cancel(creator, reason)
    _set_bye(session, round_.id, a.id, reasons[0])
    _set_bye(session, round_.id, b.id, reasons[1])


def _new_match(
    session: Session,
    settings: Settings,
    program: Program,
    outgoing: Outgoing,
    round_: Round,
    first: Creator,
    second: Creator,
    *,
    locked: bool,
    manual: bool,
) -> Match:
    """Check the pair against every hard rule (InvalidInput naming the broken rule), give
    it the engine's best slot and score, store it, and invite both in a published round."""
    pool = load_pool(
        session,
        program,
        cadence=round_.cadence,
        creator_ids=[first.id, second.id],
        period_start=aware(round_.period_start),
        period_end=aware(round_.period_end),
        not_before=round_not_before(round_),
    )
    broken = pair_violations(pool.problem, first.handle, second.handle)
    if broken:
        raise InvalidInput(
            f"@{first.handle} and @{second.handle} cannot be paired",
            [f"{v.rule}: the pair {v.message}" for v in broken],
        )
    result = solve(pool.problem)
    (found,) = result.matches  # the pair is feasible, so the two are matched
    a, b = (first, second) if first.handle < second.handle else (second, first)
    published = round_.status == "published"
    match = Match(
        round_id=round_.id,
        creator_a_id=a.id,
        creator_b_id=b.id,
        starts_at=found.start,
        ends_at=found.end,
        **score_columns(*astuple(found.parts)),
        status="published" if published else "proposed",
        locked=locked,
        manual=manual,
    )
    session.add(match)
    session.flush()
    _clear_bye(session, round_.id, a.id)
    _clear_bye(session, round_.id, b.id)
    if published:
        outgoing.request(match, a, b)
        outgoing.request(match, b, a)
    return match


def set_locked(session: Session, round_id: int, match_id: int, locked: bool, edit: Edit) -> Match:
    """Lock a pair (re-optimising keeps it) or unlock it."""
    round_ = _open(session, round_id, edit)
    match = _match(session, round_, match_id)
    if match.status not in LIVE:
        raise Conflict(f"Match {match_id} is {match.status}; only a standing match can be locked.")
    match.locked = locked
    _log(
        session,
        edit,
        "match.locked" if locked else "match.unlocked",
        round_id,
        after=_match_state(session, match),
    )
    return match


def unpair(
    session: Session,
    settings: Settings,
    program: Program,
    round_id: int,
    match_id: int,
    edit: Edit,
) -> None:
    """Take a pair apart; both creators get a bye "unpaired by the manager"."""
    round_ = _open(session, round_id, edit)
    match = _match(session, round_, match_id)
    if match.status not in LIVE:
        raise Conflict(f"Match {match_id} is {match.status}; it cannot be unpaired.")
    before = _match_state(session, match)
    outgoing = Outgoing.start(session, settings, program, round_)
    _take_apart(session, outgoing, round_, match, (UNPAIRED, UNPAIRED))
    outgoing.flush()
    _log(session, edit, "match.unpaired", round_id, before=before)


def pair(
    session: Session,
    settings: Settings,
    program: Program,
    round_id: int,
    first: str,
    second: str,
    edit: Edit,
) -> Match:
    """Pair two creators of the round who are both without a match, by hand. The pair is
    locked (re-optimising keeps it). Refused with the broken hard rule named."""
    round_ = _open(session, round_id, edit)
    a, b = _creator(session, first), _creator(session, second)
    for creator in (a, b):
        if not in_round_pool(session, round_id, creator.id):
            raise InvalidInput(
                "the pair cannot be made", [f"@{creator.handle} is not in round {round_id}'s pool"]
            )
        if current_match(session, round_id, creator.id) is not None:
            raise InvalidInput(
                "the pair cannot be made",
                [f"@{creator.handle} is already matched; unpair or swap instead"],
            )
        if _bye_reason(session, round_id, creator.id) == EXCLUDED:
            raise InvalidInput(
                "the pair cannot be made",
                [f"excluded: @{creator.handle} is excluded from the round; include them first"],
            )
    outgoing = Outgoing.start(session, settings, program, round_)
    match = _new_match(session, settings, program, outgoing, round_, a, b, locked=True, manual=True)
    outgoing.flush()
    _log(session, edit, "match.paired", round_id, after=_match_state(session, match))
    return match


def swap(
    session: Session,
    settings: Settings,
    program: Program,
    round_id: int,
    first: str,
    second: str,
    edit: Edit,
) -> tuple[Match, Match]:
    """Swap two creators of different matches: each takes the other's partner. Both new
    pairs must meet every hard rule (refused with the rule named, nothing changed); both
    are locked, as pairs made by hand are."""
    round_ = _open(session, round_id, edit)
    x, y = _creator(session, first), _creator(session, second)
    mx, my = current_match(session, round_id, x.id), current_match(session, round_id, y.id)
    problems = [f"@{c.handle} has no match to swap" for c, m in ((x, mx), (y, my)) if m is None]
    if not problems and mx is my:
        problems.append(f"@{x.handle} and @{y.handle} are partners already")
    if problems:
        raise InvalidInput("the swap cannot be made", problems)
    if mx is None or my is None:  # for the type checker: problems above covers it
        raise InvalidInput("the swap cannot be made", problems)
    for m in (mx, my):
        if m.locked:
            raise Conflict(f"Match {m.id} is locked; unlock it before swapping.")
    mx_pair, my_pair = _pair_of(session, mx), _pair_of(session, my)
    px = mx_pair[1] if mx_pair[0].id == x.id else mx_pair[0]
    py = my_pair[1] if my_pair[0].id == y.id else my_pair[0]
    before = [_match_state(session, mx), _match_state(session, my)]
    outgoing = Outgoing.start(session, settings, program, round_)
    for m in (mx, my):
        _take_apart(session, outgoing, round_, m, (UNPAIRED, UNPAIRED))
    # Pairs made by hand are locked, so a re-optimise keeps them (as the board says).
    first_new = _new_match(
        session, settings, program, outgoing, round_, y, px, locked=True, manual=True
    )
    second_new = _new_match(
        session, settings, program, outgoing, round_, x, py, locked=True, manual=True
    )
    outgoing.flush()
    _log(
        session,
        edit,
        "match.swapped",
        round_id,
        before={"matches": before},
        after={"matches": [_match_state(session, first_new), _match_state(session, second_new)]},
    )
    return first_new, second_new


def exclude(
    session: Session,
    settings: Settings,
    program: Program,
    round_id: int,
    handle: str,
    edit: Edit,
) -> None:
    """Leave a creator out of the round; their partner, if any, is freed."""
    round_ = _open(session, round_id, edit)
    creator = _creator(session, handle)
    if not in_round_pool(session, round_id, creator.id):
        raise InvalidInput(
            "cannot exclude", [f"@{creator.handle} is not in round {round_id}'s pool"]
        )
    match = current_match(session, round_id, creator.id)
    outgoing = Outgoing.start(session, settings, program, round_)
    if match is not None:
        if match.locked:
            raise Conflict(
                f"Match {match.id} is locked; unlock it before excluding @{creator.handle}."
            )
        reasons = (
            (EXCLUDED, PARTNER_EXCLUDED)
            if match.creator_a_id == creator.id
            else (PARTNER_EXCLUDED, EXCLUDED)
        )
        _take_apart(session, outgoing, round_, match, reasons)
    else:
        _set_bye(session, round_id, creator.id, EXCLUDED)
    outgoing.flush()
    _log(
        session,
        edit,
        "creator.excluded",
        round_id,
        after={"creator": creator.handle},
    )


def include(session: Session, round_id: int, handle: str, edit: Edit) -> None:
    """Bring an excluded creator back into the round (matched at the next re-optimise or
    rematch, or by hand)."""
    round_ = _open(session, round_id, edit)
    creator = _creator(session, handle)
    if _bye_reason(session, round_.id, creator.id) != EXCLUDED:
        raise InvalidInput("cannot include", [f"@{creator.handle} is not excluded from the round"])
    _set_bye(session, round_id, creator.id, WAITING)
    _log(
        session,
        edit,
        "creator.included",
        round_id,
        after={"creator": creator.handle},
    )


def reoptimise(session: Session, program: Program, round_id: int, edit: Edit) -> int:
    """Run the engine again on the draft round's pool, keeping locked pairs and leaving
    excluded creators out; every other match and bye is replaced. Returns the number of
    matches."""
    round_ = _open(session, round_id, edit)
    if round_.status != "draft":
        raise Conflict(
            f"Round {round_id} is published; re-optimising would move creators who have "
            "their invitations. Use rematch to pair the creators who are free."
        )
    locked = session.scalars(
        select(Match).where(Match.round_id == round_id).where(Match.locked.is_(True))
    ).all()
    ids = round_pool_ids(session, round_id)
    excluded_ids = set(
        session.scalars(
            select(Bye.creator_id).where(Bye.round_id == round_id).where(Bye.reason == EXCLUDED)
        )
    )
    handle = handles_of(session, ids)
    try:
        pool = load_pool(
            session,
            program,
            cadence=round_.cadence,
            creator_ids=ids,
            period_start=aware(round_.period_start),
            period_end=aware(round_.period_end),
            locked_pairs=[(handle[m.creator_a_id], handle[m.creator_b_id]) for m in locked],
            excluded=[handle[i] for i in excluded_ids],
            not_before=round_not_before(round_),
        )
    except ValueError as exc:  # a locked pair no longer meets the rules (roster changed)
        raise Conflict(
            f"A locked pair no longer meets the rules: {exc}. Unlock it first."
        ) from None
    result = solve(pool.problem, seed=round_.seed)
    # A pair the engine makes again keeps its match (and its number): only pairs that
    # changed are deleted and inserted.
    standing = {
        (a, b): match_id
        for match_id, a, b in session.execute(
            select(Match.id, Match.creator_a_id, Match.creator_b_id)
            .where(Match.round_id == round_id)
            .where(Match.locked.is_(False))
        )
    }
    pairs = store_result(session, round_, pool, result, reuse=standing)
    _log(
        session,
        edit,
        "round.reoptimised",
        round_id,
        after={
            "matches": len(pairs) + len(locked),
            "locked": len(locked),
            "excluded": len(excluded_ids),
        },
    )
    return len(pairs) + len(locked)
