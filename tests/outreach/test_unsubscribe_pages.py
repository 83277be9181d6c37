"""Unsubscribing without a sign-in: RFC 8058's one-click POST and the footer link's page;
a forged token is refused; portal-free and cookie-free."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.outreach.consent import unsubscribe, unsubscribe_token
from matchdesk.outreach.models import Subscription, Suppression
from matchdesk.web.app import create_app
from tests.outreach.conftest import SECRET
from tests.outreach.samples import add_roster


def test_one_click_post_and_the_footer_page(omd: Matchdesk, tmp_path: Any) -> None:
    ids = add_roster(omd)
    client = TestClient(create_app(omd), base_url="https://md.example")
    token = unsubscribe_token(SECRET, ids["ana"], None)

    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Cancelar a inscrição nos boletins?" in page.text  # ana's languages: pt;en
    with omd.transaction() as session:  # a GET changes nothing (mail scanners follow links)
        assert session.get(Suppression, "ana@x.org") is None

    # What a mail client sends (RFC 8058 section 3.2): no cookie, no CSRF token.
    answer = client.post(
        f"/unsubscribe/{token}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200
    assert "Sua inscrição foi cancelada" in answer.text
    with omd.transaction() as session:
        suppression = session.get(Suppression, "ana@x.org")
        assert suppression is not None
        assert (suppression.reason, suppression.newsletter_id) == ("unsubscribe", None)
        choice = session.scalars(
            select(Subscription.subscribed).where(
                Subscription.creator_id == ids["ana"], Subscription.topic == "newsletters"
            )
        ).one()
        assert choice is False
    # Twice is harmless.
    assert client.post(f"/unsubscribe/{token}", data={}).status_code == 200

    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.post(f"/unsubscribe/{forged}").status_code == 403
    assert client.get(f"/unsubscribe/{forged}").status_code == 403


def test_portal_subscriptions(omd: Matchdesk) -> None:
    import re

    from matchdesk.outreach.consent import subscriptions
    from matchdesk.portal.links import issue_portal_link

    ids = add_roster(omd)
    client = TestClient(create_app(omd), base_url="https://md.example")
    with omd.transaction() as session:
        token = issue_portal_link(session, omd.settings, "ana").url.rsplit("/", 1)[1]
        unsubscribe(session, SECRET, unsubscribe_token(SECRET, ids["ana"], None))
    page = client.get(f"/portal/{token}/subscriptions")
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # Unsubscribed: newsletters unchecked, campaign updates checked.
    assert 'id="topic-newsletters" >' in page.text
    assert 'id="topic-campaigns" checked>' in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    # Without the link's CSRF value: refused.
    assert client.post(f"/portal/{token}/subscriptions", data={"topic": "x"}).status_code == 403
    answer = client.post(
        f"/portal/{token}/subscriptions",
        data={"csrf_token": csrf.group(1), "topic": ["newsletters"]},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with omd.transaction() as session:
        assert subscriptions(session, ids["ana"]) == {"newsletters": True, "campaigns": False}
        # Subscribing again lifts her unsubscribe (not a bounce: ben stays suppressed).
        assert session.get(Suppression, "ana@x.org") is None
        assert session.get(Suppression, "ben@x.org") is not None
    assert client.get("/portal/forged/subscriptions").status_code == 403
