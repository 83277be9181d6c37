"""A check-in's messages in the creator's language (the first of their languages with a
catalog); the manager's stay English (issue 12, item 6)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from matchdesk.checkins.booking import cancel
from matchdesk.context import Matchdesk
from matchdesk.mail.models import OutboxMessage
from matchdesk.roster.models import Creator
from tests.checkins.test_booking import NOW, TUE_15, _creator, _world
from tests.checkins.test_messages import _book, _remind


def _spanish_anna(md: Matchdesk) -> None:
    _world(md)
    with md.transaction() as session:
        session.execute(update(Creator).where(Creator.handle == "anna").values(languages="es;en"))


def _sent(md: Matchdesk) -> list[tuple[str, str, str]]:
    with md.transaction() as session:
        return [
            (m.recipient, m.subject, m.body_text)
            for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def test_the_invitation_and_its_changes_in_the_creators_language(md: Matchdesk) -> None:
    _spanish_anna(md)
    _book(md, TUE_15)
    _book(md, TUE_15 + timedelta(minutes=30))
    with md.transaction() as session:
        cancel(session, md.program, _creator(session, "anna"), now=NOW, actor="c",
               settings=md.settings)  # fmt: skip
    sent = _sent(md)
    assert [(to, subject) for to, subject, _ in sent] == [
        (
            "anna@example.com",
            "Reunión de seguimiento con tu mánager mia@example.com, "
            "mar, 3 mar 2026, 10:00 (America/New_York)",
        ),
        ("mia@example.com", "Check-in with @anna, Tue 3 Mar 2026, 16:00 (Europe/Berlin)"),
        (
            "anna@example.com",
            "Cambio de hora: reunión de seguimiento con tu mánager mia@example.com, "
            "mar, 3 mar 2026, 10:30 (America/New_York)",
        ),
        ("mia@example.com", "Moved: Check-in with @anna, Tue 3 Mar 2026, 16:30 (Europe/Berlin)"),
        (
            "anna@example.com",
            "Cancelada: reunión de seguimiento con tu mánager mia@example.com, "
            "mar, 3 mar 2026, 10:30 (America/New_York)",
        ),
        (
            "mia@example.com",
            "Cancelled: check-in with @anna, Tue 3 Mar 2026, 16:30 (Europe/Berlin)",
        ),
    ]
    first = sent[0][2]
    assert first.startswith(
        "Hola, @anna:\n\n"
        "Reunión de seguimiento con tu mánager mia@example.com: 30 minutos, "
        "mar, 3 mar 2026, 10:00 (America/New_York).\n\n"
        "Elige otra hora o cancela (hasta 24 horas antes):\nhttp"
    )
    assert first.endswith(
        "/checkin\n\nLa invitación de calendario va adjunta.\n\nLIVE Match Program\n"
    )


def test_reminders_in_the_creators_language(md: Matchdesk) -> None:
    _spanish_anna(md)
    _book(md, TUE_15)
    assert _remind(md, TUE_15 - timedelta(hours=2)) == 2  # the 24-hour one, late
    (anna, mia) = [s for s in _sent(md) if "Recordatorio" in s[1] or "Reminder" in s[1]]
    assert (
        anna[1]
        == "Recordatorio: reunión de seguimiento con tu mánager mia@example.com dentro de 24 horas"
    )
    assert anna[2].startswith(
        "Hola, @anna:\n\n"
        "Recordatorio: tu reunión de seguimiento con tu mánager mia@example.com es dentro de "
        "24 horas: mar, 3 mar 2026, 10:00 (America/New_York).\n\n"
        "(Este recordatorio llega tarde: nuestro servicio de correo estaba en pausa cuando "
        "tocaba enviarlo.)\n\n"
        "Tu página de reuniones de seguimiento: http"
    )
    assert mia[1] == "Reminder: check-in with @anna in 24 hours"
