"""Invitations, cancellations and reminders in each creator's language: the first of
their languages that has a catalog, else English (issue 12, item 6)."""

from __future__ import annotations

from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.rounds import board
from matchdesk.rounds.lifecycle import publish
from matchdesk.rounds.reminders import remind_unanswered
from tests.rounds.conftest import MANAGER, add_roster, build, creator, document, pairs

MON = "2026-11-30T18:00:00Z"


def messages(md: Matchdesk) -> dict[str, tuple[str, str]]:
    """recipient -> (subject, text) of the last message to each."""
    with md.transaction() as session:
        return {
            m.recipient: (m.subject, m.body_text)
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        }


def six(md: Matchdesk) -> int:
    add_roster(
        md,
        creator("ana", languages="es;en", timezone="Europe/Madrid", availability="Mon 19:00-20:00"),
        creator("bob", languages="es"),
        creator(
            "cai", languages="xx;pt", timezone="America/Sao_Paulo", availability="Mon 15:00-16:00"
        ),
        creator("dan", languages="pt"),
        creator("eve", languages="fr"),
        creator("fay", languages="fr"),
    )
    round_id = build(md)
    assert pairs(md, round_id) == [
        ("ana", "bob", MON, "proposed"),
        ("cai", "dan", MON, "proposed"),
        ("eve", "fay", MON, "proposed"),
    ]
    with md.transaction() as session:
        assert publish(session, md.settings, md.program, round_id, MANAGER) == 6
    return round_id


def test_invitations_speak_the_first_language_with_a_catalog(md: Matchdesk) -> None:
    six(md)
    sent = messages(md)
    subject, text = sent["ana@example.com"]
    assert subject == "Tu partida LIVE con @bob, lun, 30 nov 2026, 19:00 (Europe/Madrid)"
    assert text.startswith(
        "Hola, Ana:\n\n"
        "Te hemos emparejado con @bob (Bob) para una partida LIVE de 60 minutos.\n\n"
        "Cuándo: lun, 30 nov 2026, 19:00 (Europe/Madrid)\n\n"
        "Confirma o rechaza aquí:\nhttp"
    )
    assert text.endswith("La invitación de calendario va adjunta.\n\nLIVE Match Program\n")
    subject, text = sent["cai@example.com"]
    assert subject == (
        "Sua partida LIVE com @dan, seg., 30 de nov. de 2026 15:00 (America/Sao_Paulo)"
    )
    assert text.startswith("Olá, Cai,\n\nVocê foi pareado com @dan (Dan) para uma partida LIVE")
    subject, text = sent["eve@example.com"]
    assert subject == "Your LIVE match with @fay, Mon 30 Nov 2026, 18:00 (UTC)"
    assert text.startswith("Hi Eve,\n\nYou are matched with @fay (Fay) for a LIVE match")


def test_a_cancellation_gives_its_reason_in_the_creators_language(md: Matchdesk) -> None:
    round_id = six(md)
    match = next(m for m in document(md, round_id)["matches"] if m["creator_a"] == "ana")
    with md.transaction() as session:
        board.unpair(session, md.settings, md.program, round_id, match["match_id"], MANAGER)
    subject, text = messages(md)["ana@example.com"]
    assert subject == "Cancelada: tu partida LIVE en LIVE Match Program"
    assert text == (
        "Hola, Ana:\n\n"
        "Tu partida LIVE de esta ronda está cancelada: el mánager ha deshecho la pareja.\n\n"
        "LIVE Match Program\n"
    )


def test_reminders_speak_the_creators_language(md: Matchdesk) -> None:
    round_id = six(md)
    with md.transaction() as session:
        assert remind_unanswered(session, md.settings, md.program, round_id).queued == 6
    sent = messages(md)
    assert sent["dan@example.com"][0] == (
        "Lembrete: responda à sua partida LIVE com @cai, seg., 30 de nov. de 2026 18:00 (UTC)"
    )
    assert sent["ana@example.com"][1].startswith(
        "Hola, Ana:\n\nTodavía no has respondido a tu partida LIVE con @bob.\n\n"
        "Cuándo: lun, 30 nov 2026, 19:00 (Europe/Madrid)\n\nConfirma o rechaza aquí:\nhttp"
    )
    assert sent["fay@example.com"][0] == (
        "Reminder: please answer your LIVE match with @eve, Mon 30 Nov 2026, 18:00 (UTC)"
    )
