"""The bounce webhook, on both backends: an e-mail provider's JSON events (Amazon SES
through SNS, SendGrid, Mailgun, Postmark, matchdesk's own) recorded once each; hard
bounces and complaints suppress the address, soft bounces are counted; a wrong token is
refused before anything is read."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail.outbox import enqueue
from matchdesk.outreach import newsletters as nl
from matchdesk.outreach.bounces import webhook_token
from matchdesk.outreach.models import Bounce, Suppression
from matchdesk.web.app import create_app
from tests.outreach.conftest import SECRET

SES = {
    "Type": "Notification",
    "MessageId": "sns-1",
    "Message": json.dumps(
        {
            "notificationType": "Bounce",
            "bounce": {
                "bounceType": "Permanent",
                "bouncedRecipients": [{"emailAddress": "Gone@Example.com"}],
            },
            "mail": {"commonHeaders": {"messageId": "<abc@example.org>"}},
        }
    ),
}
SES_COMPLAINT = {
    "notificationType": "Complaint",
    "complaint": {"complainedRecipients": [{"emailAddress": "angry@example.com"}]},
    "mail": {},
}
SENDGRID = [
    {"email": "full@example.com", "event": "bounce", "type": "blocked", "sg_event_id": "s1"},
    {"email": "spam@example.com", "event": "spamreport", "sg_event_id": "s2"},
    {"email": "fine@example.com", "event": "delivered", "sg_event_id": "s3"},
]
MAILGUN = {
    "signature": {"token": "t", "timestamp": "1", "signature": "x"},
    "event-data": {
        "event": "failed",
        "severity": "permanent",
        "recipient": "nobody@example.net",
        "id": "mg-1",
        "message": {"headers": {"message-id": "n1@example.org"}},
    },
}
POSTMARK = {"RecordType": "Bounce", "Type": "SoftBounce", "Email": "later@example.com", "ID": 7}
OWN = {"events": [{"id": "e1", "email": "own@example.com", "kind": "hard"}]}


def post(client: TestClient, body: Any, token: str | None = None) -> Any:
    return client.post(
        f"/webhooks/bounces/{token or webhook_token(SECRET)}",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )


def test_each_providers_events_are_recorded_once(omd: Matchdesk) -> None:
    with omd.transaction() as session:
        newsletter_id = nl.create_newsletter(
            session,
            name="News",
            segment={"match": "all", "rules": []},
            subject="News",
            body="Hi",
            schedule=nl.Schedule(),
            actor="op@x.org",
        ).id
        key = f"newsletter:{newsletter_id}:1"
        row = enqueue(session, kind="newsletter", recipient="nobody@example.net",
                      subject="s", text="t", idempotency_key=key)  # fmt: skip
        row.message_id = "<n1@example.org>"
    client = TestClient(create_app(omd), base_url="https://md.example")
    answers = [post(client, body).json() for body in (SES, SES_COMPLAINT, SENDGRID, MAILGUN)]
    answers.append(post(client, POSTMARK).json())
    answers.append(post(client, OWN).json())
    assert answers == [
        {"hard": 1, "soft": 0, "complaints": 0, "suppressed": 1, "ignored": 0},
        {"hard": 0, "soft": 0, "complaints": 1, "suppressed": 1, "ignored": 0},
        {"hard": 0, "soft": 1, "complaints": 1, "suppressed": 1, "ignored": 1},
        {"hard": 1, "soft": 0, "complaints": 0, "suppressed": 1, "ignored": 0},
        {"hard": 0, "soft": 1, "complaints": 0, "suppressed": 0, "ignored": 0},
        {"hard": 1, "soft": 0, "complaints": 0, "suppressed": 1, "ignored": 0},
    ]
    # A provider's retry of the same events records nothing new.
    again = post(client, SENDGRID).json()
    assert again == {"hard": 0, "soft": 0, "complaints": 0, "suppressed": 0, "ignored": 1}
    with omd.transaction() as session:
        bounces = {
            b.email: (b.source, b.kind, b.newsletter_id) for b in session.scalars(select(Bounce))
        }
        suppressed = dict(session.execute(select(Suppression.email, Suppression.reason)).all())
    # An event without an id of its own is named by its content's hash.
    angry = bounces["angry@example.com"][0]
    assert angry.startswith("webhook:ses:")
    assert len(angry) == len("webhook:ses:") + 32
    assert bounces == {
        "own@example.com": ("webhook:e1", "hard", None),
        "nobody@example.net": ("webhook:mailgun:mg-1", "hard", newsletter_id),
        "later@example.com": ("webhook:postmark:7", "soft", None),
        "full@example.com": ("webhook:sendgrid:s1", "soft", None),
        "spam@example.com": ("webhook:sendgrid:s2", "complaint", None),
        "gone@example.com": ("webhook:ses:sns-1", "hard", None),
        "angry@example.com": (angry, "complaint", None),
    }
    assert suppressed == {
        "gone@example.com": "hard_bounce",
        "angry@example.com": "complaint",
        "spam@example.com": "complaint",
        "nobody@example.net": "hard_bounce",
        "own@example.com": "hard_bounce",
    }


def test_a_wrong_token_or_a_body_that_is_not_json_is_refused(omd: Matchdesk) -> None:
    client = TestClient(create_app(omd), base_url="https://md.example")
    refused = post(client, OWN, token="not-the-token")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "webhook_refused"
    bad = client.post(f"/webhooks/bounces/{webhook_token(SECRET)}", content=b"{nope")
    assert bad.status_code == 422
    assert bad.json()["error"]["message"] == "the webhook body is not JSON"
    with omd.transaction() as session:
        assert session.scalars(select(Bounce)).all() == []
        assert session.scalars(select(Suppression)).all() == []


def test_admins_find_the_webhook_address_on_the_outreach_page(
    web: Any, client_as: Callable[[str | None], TestClient]
) -> None:
    page = client_as("admin").get("/outreach").text
    found = re.search(r"https?://[^<\s]+(/webhooks/bounces/[A-Za-z0-9_=-]+)", page)
    assert found is not None
    answer = TestClient(web).post(found.group(1), json=OWN)
    assert answer.json() == {"hard": 1, "soft": 0, "complaints": 0, "suppressed": 1, "ignored": 0}
    assert "bounce-webhook" not in client_as("manager").get("/outreach").text
