"""The catalogs: every message of the source translated in each language, none fuzzy,
the same placeholders as the English; the catalogs up to date with the source; a
creator's language chosen as the roster says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from matchdesk.i18n import LOCALE_DIR, catalog_path, creator_language, languages, messages_for

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("es", "id", "pt")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def test_the_languages_are_english_and_the_catalogs() -> None:
    assert languages() == ("en", "es", "id", "pt")


@pytest.mark.parametrize("language", REQUIRED)
def test_every_message_is_translated_and_none_is_fuzzy(language: str) -> None:
    with catalog_path(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    with (LOCALE_DIR / "messages.pot").open("rb") as pot:
        template = read_po(pot)
    ids = {m.id for m in template if m.id}
    assert {m.id for m in catalog if m.id} == ids
    assert not catalog.obsolete
    for message in catalog:
        if not message.id:
            continue
        assert message.string, f"{language}: {message.id!r} is not translated"
        assert not message.fuzzy, f"{language}: {message.id!r} is fuzzy"
        assert sorted(PLACEHOLDER.findall(str(message.string))) == sorted(
            PLACEHOLDER.findall(str(message.id))
        ), f"{language}: {message.id!r} has other placeholders"


def test_the_template_holds_every_message_of_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pybabel extract` (babel.cfg) finds exactly the messages of messages.pot: a
    message added to the code or the templates without refreshing the catalogs fails."""
    fresh = tmp_path / "messages.pot"
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", "babel.cfg", "--no-location", "-o", str(fresh), "."]
    )
    with fresh.open("rb") as new, (LOCALE_DIR / "messages.pot").open("rb") as old:
        assert {m.id for m in read_po(new) if m.id} == {m.id for m in read_po(old) if m.id}


@pytest.mark.parametrize(
    ("codes", "language"),
    [("es;en", "es"), ("xx;pt", "pt"), ("fr", "en"), ("hi;en", "en"), ("ID", "id"), ("", "en")],
)
def test_a_creator_gets_the_first_of_their_languages_with_a_catalog(
    codes: str, language: str
) -> None:
    assert creator_language(codes) == language


def test_dates_are_written_in_the_creators_locale() -> None:
    moment = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    zone = "Europe/Madrid"  # 19:00 there
    assert messages_for("en").moment(moment, zone) == "Tue 10 Mar 2026, 19:00"
    assert messages_for("es").moment(moment, zone) == "mar, 10 mar 2026, 19:00"
    assert messages_for("pt").moment(moment, zone) == "ter., 10 de mar. de 2026 19:00"
    assert messages_for("id").moment(moment, zone) == "Sel, 10 Mar 2026 19:00"
    assert messages_for("es").long_moment(moment, zone) == "martes, 10 de marzo de 2026, 19:00"
    assert messages_for("id").weekday("Sun") == "Min"
    assert messages_for("pt").gettext("Save") == "Salvar"
