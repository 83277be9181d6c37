"""Single-creator edits: validation, audit, optimistic locking (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from matchdesk.audit import entries_for
from matchdesk.context import Matchdesk
from matchdesk.errors import Conflict, InvalidInput, NotFound
from matchdesk.roster.editing import (
    create_creator,
    creator_state,
    delete_creator,
    set_availability,
    update_creator,
)
from matchdesk.roster.models import AvailabilityWindow, CreatorBlock, CreatorLanguage
from matchdesk.roster.service import get_creator

ANNA = {
    "handle": "@Anna",
    "timezone": "Europe/Berlin",
    "languages": "de;en",
    "followers": "12k",
    "revenue_30d": "25000",
    "availability": "Mon 19:00-23:00",
}


def make(md: Matchdesk, **extra: str) -> None:
    with md.transaction() as session:
        create_creator(session, md.program, {**ANNA, **extra}, "operator:m@example.com")


def test_create_validates_like_the_import_and_audits(md: Matchdesk) -> None:
    make(md)
    with md.transaction() as session:
        anna = get_creator(session, "anna")
        assert anna is not None
        assert creator_state(session, anna) == {
            "handle": "anna",
            "display_name": "",
            "email": "",
            "timezone": "Europe/Berlin",
            "languages": "de;en",
            "region": "",
            "category": "",
            "followers": 12000,
            "revenue_30d": 25000,
            "availability": "Mon 19:00-23:00",
            "blocked": "",
            "status": "active",
            "tier": "A",
            "version": 1,
        }
        assert [e.action for e in entries_for(session, "creator", "anna")] == ["creator_created"]
    with pytest.raises(Conflict, match="already exists"), md.transaction() as session:
        create_creator(session, md.program, ANNA, "x")
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        create_creator(
            session, md.program, {"handle": "b", "timezone": "Nope", "followers": "-1"}, "x"
        )
    assert caught.value.details == [
        "languages: a value is required",
        "revenue_30d: a value is required",
    ]


def test_update_changes_tier_children_and_records_before_after(md: Matchdesk) -> None:
    make(md)
    make(md, handle="bob")
    with md.transaction() as session:
        update_creator(
            session,
            md.program,
            "anna",
            {"revenue_30d": "5", "languages": "en", "blocked": "bob", "availability": ""},
            "operator:m@example.com",
            expected_version=1,
        )
    with md.transaction() as session:
        anna = get_creator(session, "anna")
        assert anna is not None
        state = creator_state(session, anna)
        assert (
            state["tier"],
            state["languages"],
            state["blocked"],
            state["availability"],
            state["version"],
        ) == (
            "B",
            "en",
            "bob",
            "",
            2,
        )
        entry = entries_for(session, "creator", "anna")[0]
        assert entry.action == "creator_updated"
        assert entry.before == {
            "languages": "de;en",
            "revenue_30d": 25000,
            "availability": "Mon 19:00-23:00",
            "blocked": "",
            "tier": "A",
        }
        assert entry.after == {
            "languages": "en",
            "revenue_30d": 5,
            "availability": "",
            "blocked": "bob",
            "tier": "B",
        }


def test_a_stale_edit_is_refused_and_nothing_is_lost(md: Matchdesk) -> None:
    make(md)
    with md.transaction() as session:
        set_availability(
            session, md.program, "anna", "Tue 10:00-12:00", "creator:anna", expected_version=1
        )
    with pytest.raises(Conflict) as caught, md.transaction() as session:
        set_availability(
            session, md.program, "anna", "Wed 10:00-12:00", "operator:x", expected_version=1
        )
    assert caught.value.message == (
        "@anna was changed by someone else since you loaded it (your version 1, now 2); "
        "reload and try again."
    )
    with md.transaction() as session:
        anna = get_creator(session, "anna")
        assert anna is not None
        assert creator_state(session, anna)["availability"] == "Tue 10:00-12:00"


def test_bad_fields_are_named(md: Matchdesk) -> None:
    make(md)
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        update_creator(
            session,
            md.program,
            "anna",
            {"availability": "Mon 25:00-26:00", "colour": "red", "handle": "other"},
            "x",
        )
    assert caught.value.details == ["handle: a handle cannot be changed"]
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        update_creator(
            session, md.program, "anna", {"availability": "Mon 25:00-26:00", "colour": "red"}, "x"
        )
    assert caught.value.details == [
        "availability: 'Mon 25:00-26:00': hour 25 is not 00-23",
        "colour: unknown field",
    ]
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        update_creator(session, md.program, "anna", {"blocked": "anna;ghost"}, "x")
    assert caught.value.details == ["blocked: 'anna' cannot block itself"]


def test_delete_removes_children_and_blocks_both_ways(md: Matchdesk) -> None:
    make(md)
    make(md, handle="bob", blocked="anna")
    with md.transaction() as session:
        delete_creator(session, "anna", "operator:x")
    with md.transaction() as session:
        assert get_creator(session, "anna") is None
        assert session.scalar(select(func.count()).select_from(CreatorBlock)) == 0
        assert session.scalar(select(func.count()).select_from(CreatorLanguage)) == 2
        assert session.scalar(select(func.count()).select_from(AvailabilityWindow)) == 1
        assert entries_for(session, "creator", "anna")[0].before["handle"] == "anna"  # type: ignore[index]
    with pytest.raises(NotFound), md.transaction() as session:
        delete_creator(session, "anna", "x")


def test_nul_characters_and_empty_edits(md: Matchdesk) -> None:
    make(md)
    with pytest.raises(InvalidInput) as caught, md.transaction() as session:
        update_creator(session, md.program, "anna", {"display_name": "A\x00B"}, "x")
    assert caught.value.details == [
        "display_name: contains a control character (such as NUL or a tab)"
    ]
    with md.transaction() as session:
        update_creator(session, md.program, "anna", {}, "x", expected_version=1)
        anna = get_creator(session, "anna")
        assert anna is not None
        assert anna.version == 1
        assert [e.action for e in entries_for(session, "creator", "anna")] == ["creator_created"]
