"""Portal links signed in bulk (publishing a big round) are the links `make_portal_token`
makes, and the portal reads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matchdesk.portal.bulk_links import PortalLinks
from matchdesk.portal.links import LinkClaims, make_portal_token, read_portal_token

KEY = "k" * 40
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_the_same_tokens_as_make_portal_token() -> None:
    links = PortalLinks(KEY, T0, "https://md.example")
    for handle, creator_id, version in (
        ("luna.star", 7, 0),
        ("zed_99", 123_456, 3),
        ("ñandú", 5, 0),  # not plain ASCII: written by json, as itsdangerous does
        ('a"b\\c', 9, 1),
    ):
        expected = make_portal_token(
            KEY, handle, creator_id, clock=lambda: T0, link_version=version
        )
        assert links.token(handle, creator_id, version) == expected
        assert links.url(handle, creator_id, version) == f"https://md.example/portal/{expected}"


def test_the_portal_reads_them_even_where_itsdangerous_would_compress() -> None:
    links = PortalLinks(KEY, T0)
    handle = "a" * 30  # itsdangerous would zlib-compress this payload; ours is plain
    token = links.token(handle, 1, 2)
    assert token != make_portal_token(KEY, handle, 1, clock=lambda: T0, link_version=2)
    claims = read_portal_token(KEY, token, clock=lambda: T0 + timedelta(days=1))
    assert claims == LinkClaims(creator_id=1, handle=handle, issued_at=T0, link_version=2)
