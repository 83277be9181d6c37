"""Segments (SPEC section 7): exact sets for every field and op, nesting, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, InvalidInput
from matchdesk.outreach.segments import parse_segment, preview_segment
from matchdesk.outreach.service import get_segment, save_segment, saved_rules
from tests.outreach.samples import TODAY, add_roster

EVERYONE = {"ana", "ben", "cai", "dee", "eli"}


def holds(md: Matchdesk, document: dict[str, Any]) -> set[str]:
    with md.transaction() as session:
        found = preview_segment(session, parse_segment(document), TODAY)
    assert found.count == len(found.handles)
    assert list(found.handles) == sorted(found.handles)
    return set(found.handles)


def rule(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"match": "all", "rules": [{"field": field, "op": op, "value": value}]}


CASES = [
    ("tier", "=", "B", {"ben", "cai"}),
    ("tier", "!=", "B", {"ana", "dee", "eli"}),  # the untiered creator too
    ("tier", "in", ["A", "C"], {"ana", "dee"}),
    ("tier", "not in", ["A", "C"], {"ben", "cai", "eli"}),
    ("status", "=", "paused", {"cai"}),
    ("status", "!=", "paused", {"ana", "ben", "dee", "eli"}),
    ("region", "in", ["BR", "ES"], {"ana", "dee"}),
    ("region", "not in", ["BR", "ES", ""], {"ben", "cai"}),
    ("category", "=", "music", {"ana", "dee"}),
    ("language", "has", "en", {"ana", "ben", "cai", "eli"}),
    ("language", "in", ["es", "id"], {"cai", "dee"}),
    ("language", "not in", ["en"], {"dee"}),
    ("followers", "=", 900, {"dee"}),
    ("followers", "!=", 900, {"ana", "ben", "cai", "eli"}),
    ("followers", "<", 3_000, {"dee", "eli"}),
    ("followers", "<=", 3_000, {"cai", "dee", "eli"}),
    ("followers", ">", 8_000, {"ana"}),
    ("followers", ">=", 8_000, {"ana", "ben"}),
    ("followers", "in", [0, 900], {"dee", "eli"}),
    ("followers", "not in", [0, 900], {"ana", "ben", "cai"}),
    ("revenue_30d", ">=", 5_000, {"ana", "ben", "cai"}),
    # ana: 10,000 + 5,000 + 1,000 within the 30 days (the 7,777 of day 30 is outside)
    ("diamonds_30d", "=", 16_000, {"ana"}),
    ("diamonds_30d", ">", 0, {"ana", "ben"}),
    ("diamonds_30d", "<", 1_000, {"cai", "dee", "eli"}),  # no rows counts as 0
    ("diamonds_30d", "<=", 1_000, {"ben", "cai", "dee", "eli"}),
    ("diamonds_30d", "!=", 0, {"ana", "ben"}),
    ("diamonds_30d", "in", [0, 1_000], {"ben", "cai", "dee", "eli"}),
    ("diamonds_30d", "not in", [0], {"ana", "ben"}),
    ("live_days_30d", "=", 3, {"ana"}),
    ("live_days_30d", ">=", 1, {"ana", "ben", "dee"}),
    ("live_days_30d", "=", 0, {"cai", "eli"}),
    ("days_since_live", "=", 0, {"ana"}),
    ("days_since_live", "<=", 2, {"ana", "ben"}),
    ("days_since_live", "<", 5, {"ana", "ben"}),
    ("days_since_live", ">", 5, {"cai", "eli"}),  # never LIVE: longer than any number
    ("days_since_live", ">=", 5, {"cai", "dee", "eli"}),
    ("days_since_live", "!=", 5, {"ana", "ben", "cai", "eli"}),
    ("days_since_live", "in", [2, 40], {"ben", "cai"}),
    ("days_since_live", "not in", [2, 40], {"ana", "dee", "eli"}),
    # cai's latest round (the older one) had a match; dee's latest was a bye; eli's
    # only match is in a draft.
    ("matched_last_round", "=", True, {"ana", "ben", "cai"}),
    ("matched_last_round", "=", False, {"dee", "eli"}),
    ("matched_last_round", "!=", True, {"dee", "eli"}),
    ("manager", "=", "m1@x.org", {"ana", "cai"}),
    ("manager", "=", "", {"eli"}),
    ("subscribed", "=", True, {"ana", "dee", "eli"}),  # cai opted out, ben suppressed
    ("subscribed", "=", False, {"ben", "cai"}),
    ("subscribed", "!=", False, {"ana", "dee", "eli"}),
]


@pytest.mark.parametrize(("field", "op", "value", "expected"), CASES)
def test_every_field_and_op(
    md: Matchdesk, field: str, op: str, value: Any, expected: set[str]
) -> None:
    add_roster(md)
    assert holds(md, rule(field, op, value)) == expected


def test_nested_segments_and_any(md: Matchdesk) -> None:
    add_roster(md)
    document = {
        "match": "any",
        "rules": [
            {"field": "tier", "op": "=", "value": "A"},
            {
                "match": "all",
                "rules": [
                    {"field": "language", "op": "has", "value": "en"},
                    {"match": "any", "rules": [{"field": "status", "op": "=", "value": "paused"}]},
                ],
            },
        ],
    }
    assert holds(md, document) == {"ana", "cai"}
    assert holds(md, {"match": "all", "rules": []}) == EVERYONE
    assert holds(md, {"match": "any", "rules": []}) == set()


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        (
            rule("tierz", "=", "A"),
            'rules[0] {"field": "tierz", "op": "=", "value": "A"}: unknown field \'tierz\'',
        ),
        (
            rule("tier", "<", "A"),
            'rules[0] {"field": "tier", "op": "<", "value": "A"}: op \'<\' does not apply to tier',
        ),
        (rule("followers", ">", "10"), 'value "10" is not a whole number'),
        (rule("followers", ">", True), "value true is not a whole number"),
        (rule("subscribed", "=", "yes"), 'value "yes" is not true or false'),
        (rule("tier", "in", []), "'in' needs a non-empty list of values"),
        (rule("language", "has", ["en"]), 'value ["en"] is not text'),
        ({"match": "most", "rules": []}, 'segment: match must be "all" or "any"'),
        ({"match": "all", "rules": [{"field": "tier", "op": "="}]}, "value is missing"),
        (
            {"match": "all", "rules": [{"match": "any", "rules": [rule("x", "=", 1)["rules"][0]]}]},
            'rules[0].rules[0] {"field": "x", "op": "=", "value": 1}: unknown field \'x\'',
        ),
    ],
)
def test_a_bad_segment_is_refused_naming_the_rule(document: Any, problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_segment(document)
    assert refused.value.message == "the segment is invalid"
    assert len(refused.value.details) == 1
    assert problem in refused.value.details[0]


def test_saved_segments_are_versioned(md: Matchdesk) -> None:
    add_roster(md)
    with md.transaction() as session:
        saved = save_segment(session, "Tier B", rule("tier", "=", "B"), actor="op@x.org")
        assert saved.version == 1
    with md.transaction() as session, pytest.raises(Conflict, match="exists already"):
        save_segment(session, "Tier B", rule("tier", "=", "C"), actor="op@x.org")
    with md.transaction() as session:
        save_segment(
            session, "Tier B", rule("tier", "in", ["B", "C"]), actor="a@x.org", expected_version=1
        )
    with md.transaction() as session, pytest.raises(Conflict, match="changed by someone else"):
        save_segment(session, "Tier B", rule("tier", "=", "A"), actor="b@x.org", expected_version=1)
    with md.transaction() as session:
        assert get_segment(session, "Tier B").version == 2
        found = preview_segment(session, saved_rules(session, "Tier B"), TODAY)
    assert found.handles == ("ben", "cai", "dee")
