"""Portal links: signing, expiry, tampering and scope (the database parts on SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer

from matchdesk.config import Settings
from matchdesk.context import Matchdesk
from matchdesk.errors import NotFound
from matchdesk.portal.links import (
    LinkClaims,
    LinkExpired,
    LinkInvalid,
    check_portal_csrf,
    issue_portal_link,
    make_portal_token,
    open_portal,
    portal_csrf,
    portal_url,
    read_portal_token,
)
from matchdesk.roster.editing import create_creator, delete_creator
from matchdesk.roster.service import get_creator
from tests.portal.samples import LUNA

KEY = "k" * 40
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def at(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


def test_round_trip_with_a_key_and_with_settings() -> None:
    token = make_portal_token(KEY, "luna.star", 7, clock=at(T0))
    claims = read_portal_token(KEY, token, clock=at(T0 + timedelta(hours=1)))
    assert claims == LinkClaims(creator_id=7, handle="luna.star", issued_at=T0)
    settings = Settings(secret_key=KEY, base_url="https://md.example/")
    url = portal_url(settings, "zed_99", 12, clock=at(T0))
    assert url.startswith("https://md.example/portal/")
    token = url.removeprefix("https://md.example/portal/")
    assert "/" not in token
    assert read_portal_token(settings, token, clock=at(T0)) == LinkClaims(12, "zed_99", T0)


def test_tampered_or_foreign_tokens_are_not_valid() -> None:
    token = make_portal_token(KEY, "luna.star", 7)
    payload, _, rest = token.partition(".")
    forged = make_portal_token(KEY, "zed_99", 8).partition(".")[0] + "." + rest
    # Change a character in the middle of the signature: the last base64 character
    # carries padding bits, so changing it does not always change the decoded bytes.
    signature_at = token.rindex(".") + 5
    other = "A" if token[signature_at] != "A" else "B"
    flipped = token[:signature_at] + other + token[signature_at + 1 :]
    other_salt = URLSafeTimedSerializer(KEY, salt="matchdesk-session").dumps({"id": 7, "h": "x"})
    bad_shape = URLSafeTimedSerializer(KEY, salt="matchdesk-portal").dumps(["luna.star", 7])
    for bad in (
        forged,
        flipped,
        make_portal_token("other" * 10, "luna.star", 7),
        other_salt,
        bad_shape,
        "",
        "not-a-token",
        payload,
    ):
        with pytest.raises(LinkInvalid) as refused:
            read_portal_token(KEY, bad)
        assert refused.value.message == "This link is not valid."
        assert refused.value.status == 403


def test_expiry_follows_the_settings_without_sleeping() -> None:
    token = make_portal_token(KEY, "luna.star", 7, clock=at(T0))
    assert read_portal_token(KEY, token, clock=at(T0 + timedelta(days=14))).creator_id == 7
    with pytest.raises(LinkExpired) as expired:
        read_portal_token(KEY, token, clock=at(T0 + timedelta(days=14, seconds=1)))
    assert expired.value.message == "This link has expired. Ask your program manager for a new one."
    assert expired.value.status == 410

    short = Settings(secret_key=KEY, portal_link_days=2)
    assert read_portal_token(short, token, clock=at(T0 + timedelta(days=2))).handle == "luna.star"
    with pytest.raises(LinkExpired):
        read_portal_token(short, token, clock=at(T0 + timedelta(days=2, seconds=1)))
    # A genuine token stamped in the future is refused as well.
    with pytest.raises(LinkExpired):
        read_portal_token(KEY, token, clock=at(T0 - timedelta(minutes=5)))
    # Expiry is only reported for genuine tokens: a forged old one is simply not valid.
    with pytest.raises(LinkInvalid):
        read_portal_token(KEY, token[:-2] + "xx", clock=at(T0 + timedelta(days=30)))


def test_csrf_value_is_bound_to_the_link_and_the_key() -> None:
    token = make_portal_token(KEY, "luna.star", 7)
    other = make_portal_token(KEY, "zed_99", 8)
    value = portal_csrf(KEY, token)
    assert len(value) == 64
    assert check_portal_csrf(KEY, token, value)
    assert not check_portal_csrf(KEY, other, value)
    assert not check_portal_csrf("other" * 10, token, value)
    assert not check_portal_csrf(KEY, token, "")


ZED = {
    "handle": "zed_99",
    "display_name": "Zed",
    "timezone": "America/Sao_Paulo",
    "languages": "pt",
    "followers": "40",
    "revenue_30d": "100",
    "availability": "Sat 10:00-12:00",
}


@pytest.fixture
def roster(md: Matchdesk, tmp_path: Path) -> Matchdesk:
    md.settings.secret_key_file = tmp_path / "secret"
    md.settings.base_url = "https://md.example"
    with md.transaction() as session:
        for fields in (LUNA, ZED):
            create_creator(session, md.program, fields, "operator:m@example.com")
    return md


def test_issued_link_opens_only_its_creator(roster: Matchdesk) -> None:
    md = roster
    with md.transaction() as session:
        luna = issue_portal_link(session, md.settings, "@Luna.Star", clock=at(T0))
        zed = issue_portal_link(session, md.settings, "zed_99", clock=at(T0))
    assert luna.handle == "luna.star"
    assert luna.expires_at == T0 + timedelta(days=14)
    assert luna.url.startswith("https://md.example/portal/")
    luna_token = luna.url.rsplit("/", 1)[1]
    zed_token = zed.url.rsplit("/", 1)[1]
    soon = at(T0 + timedelta(days=1))
    with md.transaction() as session:
        view = open_portal(session, md.settings, luna_token, clock=soon)
        other = open_portal(session, md.settings, zed_token, clock=soon)
    assert (view.handle, view.display_name, view.timezone) == ("luna.star", "Luna", "Asia/Kolkata")
    assert (view.tier, view.followers, view.revenue_30d) == ("S", 12_500, 250_000)
    assert view.availability == "Mon 19:00-23:00; Fri 22:00-02:00"
    assert view.windows == (("Mon", "19:00", "23:00", False), ("Fri", "22:00", "02:00", True))
    assert view.version == 1
    assert view.matches == ()
    assert view.link_expires_at == T0 + timedelta(days=14)
    assert (other.handle, other.tier, other.followers) == ("zed_99", "B", 40)
    assert other.revenue_30d == 100
    assert other.availability == "Sat 10:00-12:00"
    with md.transaction() as session, pytest.raises(LinkExpired):
        open_portal(session, md.settings, luna_token, clock=at(T0 + timedelta(days=15)))


def test_unknown_handle_gets_no_link(roster: Matchdesk) -> None:
    with roster.transaction() as session, pytest.raises(NotFound) as missing:
        issue_portal_link(session, roster.settings, "nobody")
    assert missing.value.message == "No creator with handle @nobody."


def test_link_of_a_deleted_creator_is_refused(roster: Matchdesk) -> None:
    md = roster
    with md.transaction() as session:
        token = issue_portal_link(session, md.settings, "zed_99").url.rsplit("/", 1)[1]
        zed_id = open_portal(session, md.settings, token).creator_id
        delete_creator(session, "zed_99", "operator:m@example.com")
    with md.transaction() as session, pytest.raises(LinkInvalid) as refused:
        open_portal(session, md.settings, token)
    assert refused.value.message == "This link is not valid."
    # Should the id come back for someone else, the handle in the token no longer matches.
    with md.transaction() as session:
        create_creator(session, md.program, {**ZED, "handle": "newcomer"}, "operator:m")
        luna = get_creator(session, "luna.star")
        assert luna is not None
        luna_id = luna.id
    impostor = make_portal_token(md.settings, "zed_99", luna_id)
    with md.transaction() as session, pytest.raises(LinkInvalid):
        open_portal(session, md.settings, impostor)
    assert zed_id != luna_id
