"""Newsletter templates: a subject and a Markdown body with `{{ personal fields }}`, run in
Jinja's sandbox and rendered to a plain-text part and an HTML part.

The sandbox has no globals (no `range`, `lipsum`, `cycler`...), StrictUndefined, and
the personal fields are plain strings and numbers: a template can reach those and
nothing else (an attribute such as `__class__` is refused by the sandbox). A field the
template names that is not offered is refused when the draft is saved, by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt

from matchdesk.errors import InvalidInput

# The personal fields a newsletter may use, with what they hold.
FIELDS: dict[str, str] = {
    "display_name": "the creator's display name (their handle when they have none)",
    "handle": "the creator's handle",
    "tier": "their tier (empty when untiered)",
    "diamonds_30d": "their diamonds over the last 30 program days",
    "live_days_30d": "their LIVE days over the last 30 program days",
    "next_match": "their next match's time on their own clock (empty when none)",
    "next_partner": "their next match's partner (empty when none)",
    "next_checkin": "their next check-in's time on their own clock (empty when none)",
    "campaign_rank": "their rank in the running campaign (empty when none)",
    "unsubscribe_url": "the link that unsubscribes them (also in every footer)",
}

SAMPLE_VALUES: dict[str, Any] = {
    "display_name": "Luna",
    "handle": "luna",
    "tier": "A",
    "diamonds_30d": 12_345,
    "live_days_30d": 12,
    "next_match": "Tue 10 Mar 2026, 20:00",
    "next_partner": "Kai",
    "next_checkin": "Thu 12 Mar 2026, 15:00",
    "campaign_rank": 3,
    "unsubscribe_url": "https://matchdesk.example/unsubscribe/sample",
}


def _thousands(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _environment(autoescape: bool = False) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape)
    env.globals.clear()
    env.filters["thousands"] = _thousands
    return env


ENV = _environment()
HTML_ENV = _environment(autoescape=True)
MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@dataclass(frozen=True)
class Rendered:
    """One recipient's message: subject, plain text and HTML."""

    subject: str
    text: str
    html: str


def check_template(subject: str, body: str) -> None:
    """Refuse a subject or body that does not parse, names a field that is not offered
    (naming it), or fails in the sandbox on sample values."""
    problems: list[str] = []
    for part, source in (("subject", subject), ("body", body)):
        try:
            parsed = ENV.parse(source)
        except TemplateSyntaxError as exc:
            problems.append(f"{part}, line {exc.lineno}: {exc.message}")
            continue
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(FIELDS))
        for name in unknown:
            problems.append(f"{part}: unknown field {name!r} (the fields are {', '.join(FIELDS)})")
        if unknown:
            continue
        try:
            ENV.from_string(source).render(SAMPLE_VALUES)
            if part == "body":
                _html_template(source).render(SAMPLE_VALUES)
        except SecurityError as exc:
            problems.append(f"{part}: not allowed in a newsletter: {exc}")
        except UndefinedError as exc:
            problems.append(f"{part}: not allowed in a newsletter: {exc.message}")
        except Exception as exc:  # a filter given a wrong value, a division by zero...
            problems.append(f"{part}: cannot be rendered: {exc}")
    if "\n" in subject or "\r" in subject:
        problems.append("subject: must be one line")
    if problems:
        raise InvalidInput("the newsletter cannot be saved", problems)


@lru_cache(maxsize=64)
def _compiled(source: str) -> Any:
    return ENV.from_string(source)


_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_MARK = re.compile(r"zqjx(\d+)xjqz")


@lru_cache(maxsize=64)
def _html_template(body: str) -> Any:
    """The body's Markdown rendered to HTML once, its Jinja tags kept (set aside as
    plain words while Markdown runs, put back after), compiled in the autoescaping
    sandbox: each recipient costs a template render, not a Markdown parse, and a value
    is always text in the HTML (a name with `*` or `<` in it stays as written)."""
    kept: list[str] = []

    def set_aside(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"zqjx{len(kept) - 1}xjqz"

    html = MARKDOWN.render(_TAG.sub(set_aside, body))
    return HTML_ENV.from_string(_MARK.sub(lambda m: kept[int(m.group(1))], html))


def render(
    subject: str, body: str, values: Mapping[str, Any], unsubscribe_label: str = "Unsubscribe"
) -> Rendered:
    """The message for one recipient. The text part is the Markdown with the values as
    they are; the HTML part is the Markdown rendered to HTML with the values escaped,
    raw HTML in the body shown as text. The footer's link reads `unsubscribe_label` (in
    the language of the version sent)."""
    unsubscribe = str(values.get("unsubscribe_url", ""))
    text = _compiled(body).render(values)
    html_body = _html_template(body).render(values).rstrip("\n") + "\n"
    line = subject.strip()
    rendered_subject = " ".join(_compiled(line).render(values).split())
    footer_text = f"\n-- \n{unsubscribe_label}: {unsubscribe}\n" if unsubscribe else ""
    footer_html = (
        f'<hr><p class="footer"><a href="{_attribute(unsubscribe)}">'
        f"{_attribute(unsubscribe_label)}</a></p>"
        if unsubscribe
        else ""
    )
    return Rendered(rendered_subject, text.rstrip() + "\n" + footer_text, html_body + footer_html)


def _attribute(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )
