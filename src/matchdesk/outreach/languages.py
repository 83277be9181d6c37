"""A newsletter's subject and body per language (optional): each creator gets the first of
their languages (the roster's `es;en`) that the newsletter has, else its default.

Stored on the newsletter as `{"es": {"subject": ..., "body": ...}, ...}`; a language may
give only a body (its subject is then the default one)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from matchdesk.errors import InvalidInput
from matchdesk.outreach.templates import check_template

_CODE = re.compile(r"[a-z]{2}")


def parse_translations(document: Any, default_subject: str) -> dict[str, dict[str, str]]:
    """The checked per-language versions of `document` (`{"es": {"subject", "body"}}`):
    ISO 639-1 codes, a body each, every template checked like the default one."""
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise InvalidInput("translations: a mapping of language code to subject and body")
    out: dict[str, dict[str, str]] = {}
    for code, version in document.items():
        language = str(code).strip().lower()
        if not _CODE.fullmatch(language):
            raise InvalidInput(f"translations: {code!r} is not an ISO 639-1 language code")
        if not isinstance(version, Mapping) or not isinstance(version.get("body"), str):
            raise InvalidInput(f"translations: {language} needs a body")
        subject = version.get("subject") or default_subject
        if not isinstance(subject, str) or not subject.strip() or len(subject) > 300:
            raise InvalidInput(f"translations: {language}: subject 1 to 300 characters")
        check_template(subject, version["body"])
        out[language] = {"subject": subject.strip(), "body": version["body"]}
    return out


def version_for(
    languages: str | None, translations: Mapping[str, Mapping[str, str]] | None
) -> str | None:
    """The language of `translations` a creator with `languages` gets (None: the default)."""
    if not translations:
        return None
    for code in (languages or "").split(";"):
        code = code.strip().lower()
        if code in translations:
            return code
    return None
