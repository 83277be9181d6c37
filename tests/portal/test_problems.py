"""The availability parser's problems in the creator's language: every shape the parser
writes is known (a new one would be shown in English: this test names it)."""

from __future__ import annotations

import pytest

from matchdesk.i18n import messages_for
from matchdesk.portal.problems import translate_problem
from matchdesk.roster.availability import AvailabilityError, parse_availability

BAD = [
    "Mon 7pm-23:00",
    "Mon 24:00-02:00",
    "Mon 25:00-26:00",
    "Mon 19:61-20:00",
    "19:00-23:00",
    "Funday 10:00-11:00",
    "Mon",
    "Mon 19:00-20:00 21:00-22:00",
    "Mon 19:00-19:00",
    "Mon 19:00-20:00;" * 5000,
    "; ".join(f"Mon {h:02d}:00-{h:02d}:30" for h in range(24)) * 10,
]


def problem(text: str) -> str:
    with pytest.raises(AvailabilityError) as refused:
        parse_availability(text)
    return str(refused.value)


@pytest.mark.parametrize("text", BAD)
def test_every_problem_of_the_parser_has_a_known_shape(text: str) -> None:
    english = problem(text)
    assert translate_problem(english, messages_for("es")) != english, english


def test_exact_translations() -> None:
    spanish, portuguese = messages_for("es"), messages_for("pt")
    assert translate_problem(problem("Mon 25:00-26:00"), spanish) == (
        "'Mon 25:00-26:00': la hora 25 no está entre 00 y 23"
    )
    assert translate_problem(problem("Funday 10:00-11:00"), portuguese) == (
        "'Funday 10:00-11:00': dia desconhecido 'Funday' (use Mon..Sun)"
    )
    assert translate_problem("something else", spanish) == "something else"
    assert translate_problem(problem("Mon"), messages_for("en")) == problem("Mon")
