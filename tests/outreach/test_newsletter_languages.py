"""A newsletter's subject and body per language: each creator gets the first of their
languages the newsletter has, else its default (issue 12, item 6); from the CLI too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.errors import InvalidInput
from matchdesk.mail.models import OutboxMessage
from matchdesk.outreach import newsletters as nl
from matchdesk.outreach.models import Newsletter
from matchdesk.outreach.service import save_segment
from matchdesk.roster.models import Creator
from tests.mail.conftest import T0
from tests.outreach.samples import TODAY
from tests.web.conftest import csrf_of

EVERYONE = {"match": "all", "rules": []}
SPANISH = {
    "es": {"subject": "Noticias para {{ display_name }}", "body": "Hola {{ display_name }}."}
}


def roster(md: Matchdesk) -> None:
    with md.transaction() as session:
        for handle, languages in (("rosa", "es;en"), ("remy", "fr"), ("tia", "pt;es")):
            session.add(
                Creator(
                    handle=handle,
                    display_name=handle.title(),
                    email=f"{handle}@x.org",
                    timezone="UTC",
                    languages=languages,
                    followers=0,
                    revenue_30d=0,
                )
            )


def create(md: Matchdesk, translations: Any) -> int:
    with md.transaction() as session:
        return nl.create_newsletter(
            session,
            name="Spring news",
            segment=EVERYONE,
            subject="News for {{ display_name }}",
            body="Hi {{ display_name }}.",
            schedule=nl.Schedule(),
            actor="op@x.org",
            translations=translations,
        ).id


def sent(md: Matchdesk) -> dict[str, tuple[str, str]]:
    with md.transaction() as session:
        return {
            m.recipient: (m.subject, m.body_text.split("\n-- \n")[0])
            for m in session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "newsletter")
            )
        }


def send(md: Matchdesk, newsletter_id: int) -> None:
    with md.transaction() as session:
        assert nl.start_send(session, newsletter_id, today=TODAY, now=T0, actor="op@x.org") == 3
    assert nl.run_send(md, newsletter_id, today=TODAY, now=lambda: T0, chunk=2) == 3


def test_each_creator_gets_the_first_of_their_languages_the_newsletter_has(
    omd: Matchdesk,
) -> None:
    roster(omd)
    newsletter_id = create(omd, SPANISH)
    send(omd, newsletter_id)
    assert sent(omd) == {
        "rosa@x.org": ("Noticias para Rosa", "Hola Rosa.\n"),
        "remy@x.org": ("News for Remy", "Hi Remy.\n"),
        "tia@x.org": ("Noticias para Tia", "Hola Tia.\n"),  # no pt version: her second, es
    }
    footers = footer_labels(omd)
    assert footers["rosa@x.org"] == ("Darse de baja", "Darse de baja")  # text, HTML
    assert footers["remy@x.org"] == ("Unsubscribe", "Unsubscribe")


def footer_labels(md: Matchdesk) -> dict[str, tuple[str, str]]:
    """recipient -> the unsubscribe link's label in the text part and in the HTML part."""
    with md.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "newsletter"))
        return {
            m.recipient: (
                m.body_text.split("\n-- \n")[1].split(":")[0],
                (m.body_html or "").rsplit('">', 1)[1].removesuffix("</a></p>"),
            )
            for m in rows
        }


def test_a_language_without_its_own_subject_takes_the_default_one(omd: Matchdesk) -> None:
    roster(omd)
    newsletter_id = create(omd, {"ES": {"body": "Hola {{ display_name }}."}})
    with omd.transaction() as session:
        stored = session.get(Newsletter, newsletter_id)
        assert stored is not None
        assert stored.translations == {
            "es": {"subject": "News for {{ display_name }}", "body": "Hola {{ display_name }}."}
        }
    send(omd, newsletter_id)
    assert sent(omd)["rosa@x.org"] == ("News for Rosa", "Hola Rosa.\n")


@pytest.mark.parametrize(
    ("translations", "message"),
    [
        ({"spanish": {"body": "x"}}, "translations: 'spanish' is not an ISO 639-1 language code"),
        ({"es": {"subject": "x"}}, "translations: es needs a body"),
        ({"es": {"body": "{{ secret }}"}}, "secret"),
    ],
)
def test_a_bad_language_version_is_refused_naming_it(
    omd: Matchdesk, translations: Any, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create(omd, translations)
    assert message in refused.value.message + " ".join(refused.value.details)


def test_the_cli_takes_a_body_and_subject_per_language(
    omd: Matchdesk, run: Any, tmp_path: Path
) -> None:
    roster(omd)
    (tmp_path / "segment.json").write_text('{"match": "all", "rules": []}')
    (tmp_path / "body.md").write_text("Hi {{ display_name }}.")
    (tmp_path / "body.es.md").write_text("Hola {{ display_name }}.")
    done = run(
        "newsletters",
        "create",
        "--name",
        "Spring",
        "--segment",
        str(tmp_path / "segment.json"),
        "--subject",
        "News",
        "--body",
        str(tmp_path / "body.md"),
        "--body-in",
        f"es={tmp_path / 'body.es.md'}",
        "--subject-in",
        "es=Noticias",
    )
    assert done.code == 0, done.stderr
    newsletter_id = int(done.stdout.strip().splitlines()[-1])
    with omd.transaction() as session:
        stored = session.get(Newsletter, newsletter_id)
        assert stored is not None
        assert stored.translations == {
            "es": {"subject": "Noticias", "body": "Hola {{ display_name }}."}
        }


def test_the_newsletter_page_takes_and_shows_the_languages(
    md: Matchdesk, client_as: Callable[[str | None], TestClient]
) -> None:
    roster(md)
    with md.transaction() as session:
        save_segment(session, "everyone", EVERYONE, actor="op@x.org")
    manager = client_as("manager")
    form = manager.get("/outreach/newsletters/new").text
    assert form.count('name="lang_code"') == 3
    saved = manager.post(
        "/outreach/newsletters",
        data={
            "csrf_token": csrf_of(form),
            "name": "Spring",
            "segment": "everyone",
            "subject": "News for {{ display_name }}",
            "body": "Hi {{ display_name }}.",
            "when": "now",
            "lang_code": ["es", "", ""],
            "lang_subject": ["Noticias para {{ display_name }}", "", ""],
            "lang_body": ["Hola {{ display_name }}.", "", ""],
        },
    )
    assert saved.status_code == 200
    assert '<h3 class="newsletter-language" id="language-es">In es</h3>' in saved.text
    newsletter_id = int(saved.url.path.rsplit("/", 1)[1])
    preview = manager.get(f"/outreach/newsletters/{newsletter_id}/preview?handle=rosa").text
    assert "Noticias para Rosa" in preview
    assert "Hola Rosa." in preview
    assert (
        "News for Remy"
        in manager.get(f"/outreach/newsletters/{newsletter_id}/preview?handle=remy").text
    )
    refused = manager.post(
        "/outreach/newsletters",
        data={
            "csrf_token": csrf_of(form),
            "name": "Bad",
            "segment": "everyone",
            "subject": "News",
            "body": "Hi.",
            "when": "now",
            "lang_code": ["zz1"],
            "lang_subject": [""],
            "lang_body": ["Hola."],
        },
    )
    assert refused.status_code == 422
    assert "translations: &#39;zz1&#39; is not an ISO 639-1 language code" in refused.text
    assert 'value="zz1"' in refused.text  # the typed rows are kept
