"""Segments (SPEC section 7): a JSON rule tree, checked once, evaluated in SQL when used.

`{"match": "all" | "any", "rules": [rule or nested segment, ...]}`, a rule being
`{"field": F, "op": OP, "value": V}`. Parsing refuses an unknown field or op and a value
of the wrong type, naming the rule by its place in the tree (`rules[1].rules[0]`).
Evaluation builds one WHERE clause over `creators`. The fields that come from results
(`diamonds_30d`, `live_days_30d`, `days_since_live`) read `creator_results`, the figures
kept as results are imported (`results.creator_stats`), made current for the day first
(`segment_condition`: recomputed in one statement when the program day moved on); given
`stats=False`, `creator_condition` groups the ledger instead (any day; the reference).
`matched_last_round` is a grouped subquery over the rounds. Never row by row in Python.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from matchdesk.errors import InvalidInput
from matchdesk.outreach.models import Subscription, Suppression
from matchdesk.results import creator_stats
from matchdesk.results.ledger import revenue_window
from matchdesk.results.models import CreatorResults, LedgerDay
from matchdesk.roster.models import Creator, CreatorLanguage
from matchdesk.rounds.models import Bye, Match, Round

Kind = Literal["text", "number", "bool", "list", "campaign"]

FIELDS: dict[str, Kind] = {
    "tier": "text",
    "status": "text",
    "region": "text",
    "category": "text",
    "language": "list",
    "followers": "number",
    "revenue_30d": "number",
    "diamonds_30d": "number",
    "live_days_30d": "number",
    "days_since_live": "number",
    "matched_last_round": "bool",
    "manager": "text",
    "subscribed": "bool",
    # Beyond SPEC section 7: the participants of a campaign (its id), for the campaign's
    # progress newsletters.
    "campaign": "campaign",
}
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
OPS: dict[Kind, tuple[str, ...]] = {
    "text": ("=", "!=", "in", "not in"),
    "number": (*COMPARISONS, "in", "not in"),
    "bool": ("=", "!="),
    "list": ("has", "in", "not in"),
    "campaign": ("=", "!=", "in", "not in"),
}
MAX_DEPTH = 8


@dataclass(frozen=True)
class Rule:
    """One condition: `field op value` (`value` a list for `in` / `not in`)."""

    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Segment:
    """A checked rule tree: all (or any) of its rules and nested segments hold."""

    match: Literal["all", "any"]
    rules: tuple[Rule | Segment, ...]

    def as_json(self) -> dict[str, Any]:
        """The JSON document this segment was parsed from (normalised)."""
        return {
            "match": self.match,
            "rules": [
                r.as_json()
                if isinstance(r, Segment)
                else {"field": r.field, "op": r.op, "value": r.value}
                for r in self.rules
            ],
        }


def load_segment_text(text: str, where: str = "the segment") -> Segment:
    """Parse a segment from JSON text (a file's or a form's)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{where} is not valid JSON", [f"line {exc.lineno}, column {exc.colno}: {exc.msg}"]
        ) from None
    return parse_segment(document)


def parse_segment(document: Any) -> Segment:
    """The segment `document` describes, or `InvalidInput` listing every bad rule."""
    problems: list[str] = []
    segment = _group(document, "segment", problems, 0)
    if problems or segment is None:
        raise InvalidInput("the segment is invalid", problems)
    return segment


def _describe(node: Any) -> str:
    text = json.dumps(node, ensure_ascii=False, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _group(node: Any, where: str, problems: list[str], depth: int) -> Segment | None:
    if not isinstance(node, dict):
        problems.append(f"{where}: must be an object with match and rules, got {_describe(node)}")
        return None
    if depth > MAX_DEPTH:
        problems.append(f"{where}: segments nest at most {MAX_DEPTH} deep")
        return None
    unknown = sorted(set(node) - {"match", "rules"})
    if unknown:
        problems.append(f"{where}: unknown key {unknown[0]!r} (a segment has match and rules)")
    match = node.get("match", "all")
    if match not in ("all", "any"):
        problems.append(f'{where}: match must be "all" or "any", got {_describe(match)}')
    rules = node.get("rules")
    if not isinstance(rules, list):
        problems.append(f"{where}: rules must be a list")
        return None
    parsed: list[Rule | Segment] = []
    for index, child in enumerate(rules):
        place = f"{where}.rules[{index}]" if where != "segment" else f"rules[{index}]"
        item: Rule | Segment | None
        if isinstance(child, dict) and "rules" in child:
            item = _group(child, place, problems, depth + 1)
        else:
            item = _rule(child, place, problems)
        if item is not None:
            parsed.append(item)
    if match not in ("all", "any"):
        return None
    return Segment(match, tuple(parsed))


def _rule(node: Any, where: str, problems: list[str]) -> Rule | None:
    start = len(problems)
    if not isinstance(node, dict):
        problems.append(f"{where}: must be a rule (field, op, value), got {_describe(node)}")
        return None
    named = f"{where} {_describe(node)}"
    unknown = sorted(set(node) - {"field", "op", "value"})
    if unknown:
        problems.append(f"{named}: unknown key {unknown[0]!r} (a rule has field, op and value)")
    field, op = node.get("field"), node.get("op")
    if field not in FIELDS:
        problems.append(f"{named}: unknown field {field!r} (fields: {', '.join(FIELDS)})")
        return None
    kind = FIELDS[field]
    if op not in OPS[kind]:
        ops = ", ".join(OPS[kind])
        problems.append(f"{named}: op {op!r} does not apply to {field} (ops: {ops})")
        return None
    if "value" not in node:
        problems.append(f"{named}: value is missing")
        return None
    value = node["value"]
    if op in ("in", "not in"):
        if not isinstance(value, list) or not value:
            problems.append(f"{named}: {op!r} needs a non-empty list of values")
        else:
            for item in value:
                problem = _value_problem(kind, item)
                if problem:
                    problems.append(f"{named}: {problem}")
                    break
    else:
        problem = _value_problem(kind, value)
        if problem:
            problems.append(f"{named}: {problem}")
    if len(problems) > start:
        return None
    return Rule(field, op, value)


def _value_problem(kind: Kind, value: Any) -> str | None:
    if kind in ("number", "campaign"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"value {_describe(value)} is not a whole number"
    elif kind == "bool":
        if not isinstance(value, bool):
            return f"value {_describe(value)} is not true or false"
    elif not isinstance(value, str):
        return f"value {_describe(value)} is not text"
    return None


# --- evaluation --------------------------------------------------------------------------


def creator_condition(segment: Segment, today: date, *, stats: bool = False) -> ColumnElement[bool]:
    """The WHERE clause over `creators` that holds for the creators in `segment`, with
    the results fields measured over the 30 program days ending `today`: with `stats`,
    on the columns of `creator_results` (only inside `segment_condition`'s join, for
    figures current for `today`), else grouped from the ledger."""
    parts = [
        creator_condition(r, today, stats=stats)
        if isinstance(r, Segment)
        else _rule_condition(r, today, stats)
        for r in segment.rules
    ]
    if segment.match == "all":
        return and_(true(), *parts)
    return or_(false(), *parts)


def segment_condition(
    session: Session, segment: Segment, today: date, *, recompute: bool = True
) -> ColumnElement[bool]:
    """`creator_condition` reading the maintained results figures when `segment` has a
    results field: made current for `today` first (recomputed whole if they are for
    another day), or with `recompute=False` read only if they are `today`'s already
    (else the ledger is grouped: for a one-off day, e.g. a campaign's start)."""
    if not _results_fields(segment):
        return creator_condition(segment, today)
    if recompute:
        creator_stats.ensure_current(session, today)
    elif not creator_stats.is_current(session, today):
        return creator_condition(segment, today)
    # The creators with their kept figures joined once (LEFT JOIN: a creator without a
    # row has 0, 0, never LIVE) and the rules tested on the joined columns, as a set of
    # ids: one hash join, never a subquery per rule tested row by row (which a rule
    # inside an `any` would be).
    matching = (
        select(Creator.id)
        .select_from(_kept())
        .where(creator_condition(segment, today, stats=True))
        .correlate(None)  # its own `creators`, not the enclosing query's
    )
    return Creator.id.in_(matching)


def segment_ids(segment: Segment, today: date, *, stats: bool = False) -> Select[Any]:
    """`SELECT creators.id` of the creators in `segment` (`stats`: the kept figures,
    current for `today`, joined; else the ledger grouped)."""
    if stats:
        return (
            select(Creator.id)
            .select_from(_kept())
            .where(creator_condition(segment, today, stats=True))
        )
    return select(Creator.id).where(creator_condition(segment, today))


def _kept() -> Any:
    """`creators` with their kept results figures (`creator_results`), if any."""
    return Creator.__table__.outerjoin(
        CreatorResults.__table__, CreatorResults.creator_id == Creator.id
    )


@dataclass(frozen=True)
class Preview:
    """How many creators a segment holds now, and their handles (sorted; a sample when
    `limit` was given)."""

    count: int
    handles: tuple[str, ...]


def preview_segment(
    session: Session, segment: Segment, today: date, limit: int | None = None, *, kept: bool = True
) -> Preview:
    """Evaluate `segment` now: its count and (the first `limit` of) its sorted handles
    (`kept=False`: the results fields grouped from the ledger, the reference)."""
    source: Any = Creator.__table__
    if kept and _results_fields(segment):
        # The kept figures, made current for `today`, joined: plain columns.
        creator_stats.ensure_current(session, today)
        source = _kept()
        condition = creator_condition(segment, today, stats=True)
        grouped = _grouped_fields(segment, _RESULTS)
    else:
        condition = creator_condition(segment, today)
        grouped = _grouped_fields(segment)
    if limit is None:
        found = tuple(
            session.scalars(
                select(Creator.handle).select_from(source).where(condition).order_by(Creator.handle)
            )
        )
        return Preview(len(found), found)
    if limit <= 0 or not grouped:
        # On columns (the roster's, the kept figures'): two cheap queries (the handles by
        # their index, stopping at `limit`).
        count = session.scalar(select(func.count()).select_from(source).where(condition)) or 0
        if limit <= 0:
            return Preview(int(count), ())
        handles = (
            select(Creator.handle)
            .select_from(source)
            .where(condition)
            .order_by(Creator.handle)
            .limit(limit)
        )
        return Preview(int(count), tuple(session.scalars(handles)))
    # A segment with grouped fields (the ledger's, the rounds'): one evaluation for both,
    # the window's count taken over every matching row before the LIMIT keeps the first
    # handles, so the grouping runs once.
    rows = session.execute(
        select(Creator.handle, func.count().over())
        .select_from(source)
        .where(condition)
        .order_by(Creator.handle)
        .limit(limit)
    ).all()
    return Preview(int(rows[0][1]) if rows else 0, tuple(handle for handle, _ in rows))


_RESULTS = frozenset({"diamonds_30d", "live_days_30d", "days_since_live"})
_GROUPED = _RESULTS | {"matched_last_round"}


def _results_fields(segment: Segment) -> bool:
    """Whether a rule of `segment` (or of a nested one) reads the results figures."""
    return any(
        _results_fields(r) if isinstance(r, Segment) else r.field in _RESULTS for r in segment.rules
    )


def _grouped_fields(segment: Segment, columns: frozenset[str] = frozenset()) -> bool:
    """Whether a rule of `segment` (or of a nested one) reads a grouped subquery (the
    fields in `columns` being read as columns)."""
    return any(
        _grouped_fields(r, columns)
        if isinstance(r, Segment)
        else r.field in _GROUPED and r.field not in columns
        for r in segment.rules
    )


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "=":
        return column == value  # type: ignore[no-any-return]
    if op == "!=":
        return column.is_distinct_from(value)  # type: ignore[no-any-return]
    if op == "<":
        return column < value  # type: ignore[no-any-return]
    if op == "<=":
        return column <= value  # type: ignore[no-any-return]
    if op == ">":
        return column > value  # type: ignore[no-any-return]
    if op == ">=":
        return column >= value  # type: ignore[no-any-return]
    if op == "in":
        return column.in_(value)  # type: ignore[no-any-return]
    return or_(column.not_in(value), column.is_(None))


def _holds(op: str, left: Any, value: Any) -> bool:
    """`left op value` in Python (for the figure a creator without rows has)."""
    if op == "in":
        return left in value
    if op == "not in":
        return left not in value
    return bool(
        {
            "=": left == value,
            "!=": left != value,
            "<": left < value,
            "<=": left <= value,
            ">": left > value,
            ">=": left >= value,
        }[op]
    )


_COLUMNS = {
    "tier": Creator.tier,
    "status": Creator.status,
    "region": Creator.region,
    "category": Creator.category,
    "followers": Creator.followers,
    "revenue_30d": Creator.revenue_30d,
    "manager": Creator.manager,
}


def _rule_condition(rule: Rule, today: date, stats: bool = False) -> ColumnElement[bool]:
    if rule.field in _COLUMNS:
        return _compare(_COLUMNS[rule.field], rule.op, rule.value)
    if rule.field == "language":
        values = [rule.value] if rule.op == "has" else rule.value
        speakers = select(CreatorLanguage.creator_id).where(CreatorLanguage.language.in_(values))
        if rule.op == "not in":
            return Creator.id.not_in(speakers)
        return Creator.id.in_(speakers)
    if rule.field in ("diamonds_30d", "live_days_30d"):
        return _stored_window(rule) if stats else _ledger_window(rule, today)
    if rule.field == "days_since_live":
        return _stored_since_live(rule, today) if stats else _days_since_live(rule, today)
    if rule.field == "matched_last_round":
        wanted = rule.value if rule.op == "=" else not rule.value
        return (
            Creator.id.in_(_matched_last_round())
            if wanted
            else Creator.id.not_in(_matched_last_round())
        )
    if rule.field == "subscribed":
        wanted = rule.value if rule.op == "=" else not rule.value
        return subscribed_condition() if wanted else ~subscribed_condition()
    if rule.field == "campaign":
        from matchdesk.outreach.models import Enrolment

        ids = rule.value if isinstance(rule.value, list) else [rule.value]
        enrolled = select(Enrolment.creator_id).where(Enrolment.campaign_id.in_(ids))
        if rule.op in ("=", "in"):
            return Creator.id.in_(enrolled)
        return Creator.id.not_in(enrolled)
    raise AssertionError(rule.field)  # parse_segment admits no other field


def _grouped(
    having: ColumnElement[bool], zero_matches: bool, *where: ColumnElement[bool]
) -> ColumnElement[bool]:
    """Creators by a figure grouped over their ledger rows: those whose group satisfies
    `having`, plus (when `zero_matches`: the figure of a creator without rows satisfies
    the rule) every creator without rows, i.e. everyone but the groups that fail it."""
    if zero_matches:
        failing = select(LedgerDay.creator_id).where(*where).group_by(LedgerDay.creator_id)
        return Creator.id.not_in(failing.having(~having))
    passing = select(LedgerDay.creator_id).where(*where).group_by(LedgerDay.creator_id)
    return Creator.id.in_(passing.having(having))


def _ledger_window(rule: Rule, today: date) -> ColumnElement[bool]:
    first, last = revenue_window(today)
    figure: Any
    if rule.field == "diamonds_30d":
        figure = func.sum(LedgerDay.diamonds)
    else:
        figure = func.sum(case((LedgerDay.sessions > 0, 1), else_=0))
    return _grouped(
        _compare(figure, rule.op, rule.value),
        _holds(rule.op, 0, rule.value),
        LedgerDay.day >= first,
        LedgerDay.day <= last,
    )


_MIRROR = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _days_since_live(rule: Rule, today: date) -> ColumnElement[bool]:
    """Days from a creator's last LIVE day to `today`; a creator never LIVE counts as
    infinitely long ago (so `> 14` holds for them and `< 14` does not)."""
    last_live = func.max(LedgerDay.day)
    if rule.op in ("in", "not in"):
        days = [today - timedelta(days=int(v)) for v in rule.value]
        having: ColumnElement[bool] = (
            last_live.in_(days) if rule.op == "in" else last_live.not_in(days)
        )
        never = rule.op == "not in"
    else:
        # days op V  <=>  last_live (mirrored op) today - V
        having = _compare(last_live, _MIRROR[rule.op], today - timedelta(days=int(rule.value)))
        never = rule.op in (">", ">=", "!=")
    return _grouped(having, never, LedgerDay.sessions > 0, LedgerDay.day <= today)


# The kept figures, read as columns of `creator_results` joined to `creators` (see
# `segment_condition`): a creator without a row has 0 diamonds, 0 days, never LIVE.


def _stored_window(rule: Rule) -> ColumnElement[bool]:
    stored = CreatorResults
    column = stored.diamonds_30d if rule.field == "diamonds_30d" else stored.live_days_30d
    return _compare(func.coalesce(column, 0), rule.op, rule.value)


def _stored_since_live(rule: Rule, today: date) -> ColumnElement[bool]:
    """`_days_since_live` on the joined last LIVE day (none: never LIVE, which counts
    as infinitely long ago)."""
    last_live = CreatorResults.last_live_day
    condition: ColumnElement[bool]
    if rule.op in ("in", "not in"):
        days = [today - timedelta(days=int(v)) for v in rule.value]
        condition = last_live.in_(days) if rule.op == "in" else last_live.not_in(days)
        never = rule.op == "not in"
    else:
        condition = _compare(last_live, _MIRROR[rule.op], today - timedelta(days=int(rule.value)))
        never = rule.op in (">", ">=", "!=")
    if never:
        return or_(last_live.is_(None), condition)
    return and_(last_live.is_not(None), condition)


def _matched_last_round() -> Select[Any]:
    """The creators who had a match in the latest published round they took part in
    (with a match or a bye)."""
    published = Round.status != "draft"
    taking_part = union_all(
        select(Match.creator_a_id.label("creator_id"), Round.period_start, literal(1).label("m"))
        .join(Round, Round.id == Match.round_id)
        .where(published),
        select(Match.creator_b_id, Round.period_start, literal(1))
        .join(Round, Round.id == Match.round_id)
        .where(published),
        select(Bye.creator_id, Round.period_start, literal(0))
        .join(Round, Round.id == Bye.round_id)
        .where(published),
    ).subquery()
    latest_match = func.max(case((taking_part.c.m == 1, taking_part.c.period_start)))
    return (
        select(taking_part.c.creator_id)
        .group_by(taking_part.c.creator_id)
        .having(latest_match == func.max(taking_part.c.period_start))
    )


def subscribed_condition() -> ColumnElement[bool]:
    """Subscribed to newsletters: not opted out in the portal, address not suppressed."""
    opted_out = select(Subscription.creator_id).where(
        Subscription.topic == "newsletters", Subscription.subscribed.is_(False)
    )
    suppressed = select(Suppression.email)
    return and_(Creator.id.not_in(opted_out), func.lower(Creator.email).not_in(suppressed))


def describe_rules(segment: Segment) -> Sequence[str]:
    """One line per rule, indented by nesting (for pages and the CLI)."""
    lines: list[str] = []

    def walk(group: Segment, depth: int) -> None:
        lines.append("  " * depth + f"{group.match} of:")
        for rule in group.rules:
            if isinstance(rule, Segment):
                walk(rule, depth + 1)
            else:
                lines.append("  " * (depth + 1) + f"{rule.field} {rule.op} {rule.value!r}")

    walk(segment, 0)
    return lines


def document_from_rows(match: str, rows: Sequence[tuple[str, str, str]]) -> dict[str, Any]:
    """The JSON document of a segment built in the page from rule rows `(field, op,
    text)`: the text read by the field's kind (a whole number, true/false, or for `in`
    and `not in` a comma-separated list). A row without a value is left out (a rule
    being written; an empty value is written as JSON); the result still goes through
    `parse_segment`, which names any bad row."""
    rules: list[dict[str, Any]] = []
    for field, op, text in rows:
        if not text.strip():
            continue
        kind = FIELDS.get(field, "text")
        if kind == "campaign":
            kind = "number"
        if op in ("in", "not in"):
            value: Any = [_typed(kind, part) for part in text.split(",") if part.strip()]
        else:
            value = _typed(kind, text)
        rules.append({"field": field, "op": op, "value": value})
    return {"match": match, "rules": rules}


def _typed(kind: Kind, text: str) -> Any:
    text = text.strip()
    if kind == "number":
        try:
            return int(text.replace(",", "").replace("_", ""))
        except ValueError:
            return text  # refused by parse_segment, naming the rule
    if kind == "bool":
        return {"true": True, "yes": True, "false": False, "no": False}.get(text.lower(), text)
    return text
