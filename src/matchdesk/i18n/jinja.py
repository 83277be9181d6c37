"""The templates' gettext: Jinja's i18n extension, speaking the language of the page.

A page in a creator's language passes `i18n` (their `Messages`) in its context; the
extension's `gettext`/`ngettext` (and `_`) read it from there, so one environment serves
every language at once, each render its own (a page without `i18n`, every operator page,
is English). Newstyle gettext: `{% trans %}` and `_()` escape and fill `%(name)s` as Jinja
does, so a literal percent sign is written `%%`.
"""

from __future__ import annotations

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from matchdesk.i18n import Messages


def _messages(context: Context) -> Messages | None:
    found = context.get("i18n")
    return found if isinstance(found, Messages) else None


@pass_context
def _gettext(context: Context, message: str) -> str:
    messages = _messages(context)
    return messages.gettext(message) if messages else message


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    messages = _messages(context)
    if messages:
        return messages.ngettext(singular, plural, n)
    return singular if n == 1 else plural


@pass_context
def _translated(context: Context, text: str) -> str:
    """`text` in the page's language when the catalog has it, else as it is (never
    %-formatted, unlike `_`: for messages made elsewhere, e.g. an error's)."""
    messages = _messages(context)
    return messages.gettext(str(text)) if messages else str(text)


def install_i18n(env: Environment) -> None:
    """Add the i18n extension to `env`, its gettext reading each render's `i18n`, and
    the `translated` filter."""
    env.add_extension("jinja2.ext.i18n")
    env.filters["translated"] = _translated
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
