"""`matchdesk newsletters create|send|show|pause|resume` (SPEC section 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matchdesk.context import Matchdesk
from matchdesk.mail.delivery import Courier, DeliverySettings
from tests.mail.conftest import Clock, SmtpServer
from tests.outreach.conftest import SECRET
from tests.outreach.samples import add_roster


def test_create_send_show(
    md: Matchdesk,
    run: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    smtp_server: SmtpServer,
    smtp_settings: DeliverySettings,
    clock: Clock,
) -> None:
    monkeypatch.setenv("MATCHDESK_SECRET_KEY", SECRET)
    monkeypatch.setenv("MATCHDESK_BASE_URL", "https://md.example")
    add_roster(md)
    segment = tmp_path / "music.json"
    segment.write_text(
        json.dumps({"match": "all", "rules": [{"field": "category", "op": "=", "value": "music"}]})
    )
    body = tmp_path / "body.md"
    body.write_text("Hello {{ display_name }}!\n")
    outcome = run(
        "newsletters", "create", "--name", "Music", "--segment", str(segment),
        "--subject", "For {{ handle }}", "--body", str(body),
    )  # fmt: skip
    assert outcome.code == 0, outcome.stderr
    newsletter_id = int(outcome.stdout.strip().splitlines()[-1])

    outcome = run("newsletters", "send", str(newsletter_id))
    assert outcome.code == 0, outcome.stderr
    assert outcome.stdout.strip().splitlines()[-1] == "2 messages queued for 2 recipients."
    outcome = run("newsletters", "show", str(newsletter_id), "--json")
    assert json.loads(outcome.stdout) == {
        "id": newsletter_id, "status": "sending", "recipients": 2, "sent": 0, "failed": 0,
        "suppressed": 0, "unsubscribed": 0,
    }  # fmt: skip
    outcome = run("newsletters", "send", str(newsletter_id))
    assert outcome.code == 1
    assert "started already" in outcome.stderr

    Courier(md, smtp_settings, "w1", clock=clock).deliver_due()
    received = sorted(r.rcpt_tos[0] for r in smtp_server.recorder.received)
    assert received == ["ana@x.org", "dee@x.org"]
    outcome = run("newsletters", "show", str(newsletter_id), "--json")
    assert json.loads(outcome.stdout)["status"] == "sent"
    assert json.loads(outcome.stdout)["sent"] == 2


def test_create_refuses_an_unknown_field(md: Matchdesk, run: Any, tmp_path: Path) -> None:
    segment = tmp_path / "all.json"
    segment.write_text('{"match": "all", "rules": []}')
    body = tmp_path / "body.md"
    body.write_text("Hi {{ nickname }}")
    outcome = run(
        "newsletters", "create", "--name", "N", "--segment", str(segment), "--subject", "S",
        "--body", str(body),
    )  # fmt: skip
    assert outcome.code == 2
    assert "body: unknown field 'nickname'" in outcome.stderr
