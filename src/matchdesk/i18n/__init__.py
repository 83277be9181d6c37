"""Messages in the creator's language: gettext catalogs (Babel) and dates in their locale.

The catalogs are `matchdesk/locale/<lang>/LC_MESSAGES/messages.po`, read at run time with
`babel.messages.pofile.read_po` (once per process and language) and turned into standard
`gettext` translations in memory. Reading the `.po` files themselves, rather than `.mo`
files compiled at install, means there is no build step to forget and no binary to keep
in step with its source: a fresh clone, an editable install and a wheel all work alike,
and the few hundred messages take milliseconds to read. Fuzzy entries are never used.

A creator gets the first of their `languages` (the roster's `hi;en`) that has a catalog,
else English, the language the messages are written in (`en` has no catalog).
"""

from __future__ import annotations

import gettext as gettext_module
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, get_day_names, match_skeleton, parse_pattern
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "mark for extraction")
    """Mark `message` for the catalogs without translating it here (it is translated
    where it is shown, in the reader's language)."""
    return message


def catalog_path(language: str) -> Path:
    """The `.po` file of `language`."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """The languages messages can be written in: English and every catalog's, sorted."""
    found = {p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(sorted(found | {SOURCE_LANGUAGE}))


@lru_cache(maxsize=1024)  # a roster holds few distinct language lists
def creator_language(codes: str | None) -> str:
    """The first of the `;`-separated language codes that has a catalog, else English."""
    known = languages()
    for code in (codes or "").split(";"):
        code = code.strip().lower()
        if code in known:
            return code
    return SOURCE_LANGUAGE


@lru_cache(maxsize=32)
def translations(language: str) -> gettext_module.NullTranslations:
    """The gettext translations of `language` (English, or a language without a catalog:
    the messages as written)."""
    path = catalog_path(language)
    if language == SOURCE_LANGUAGE or not path.is_file():
        return gettext_module.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class Messages:
    """Everything a message or a portal page needs to speak one language: its gettext
    and its way of writing dates and times (CLDR's, through Babel). English keeps the
    forms matchdesk has always written (`Tue 10 Mar 2026, 19:00`)."""

    language: str
    catalog: gettext_module.NullTranslations = field(repr=False)
    locale: Locale = field(repr=False)

    def gettext(self, message: str) -> str:
        """`message` in this language (as written when the catalog lacks it)."""
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of `singular`/`plural` for `n` in this language."""
        return self.catalog.ngettext(singular, plural, n)

    def moment(self, moment: datetime, timezone: str) -> str:
        """A day with its year and a time on `timezone`'s clock: `Tue 10 Mar 2026, 19:00`,
        `mar, 10 mar 2026, 19:00`."""
        return _written(self.language, "moment", _aware(moment), timezone)

    def short_moment(self, moment: datetime, timezone: str) -> str:
        """A day without its year and a time: `Tue 10 Mar, 19:00`, `mar, 10 mar, 19:00`."""
        return _written(self.language, "short_moment", _aware(moment), timezone)

    def long_moment(self, moment: datetime, timezone: str) -> str:
        """The day in full and a time: `Tuesday 10 March 2026, 19:00`."""
        return _written(self.language, "long_moment", _aware(moment), timezone)

    def day(self, moment: datetime, timezone: str) -> str:
        """A day without its year: `Tue 10 Mar`, `mar, 10 mar`."""
        return _written(self.language, "day", _aware(moment), timezone)

    def date_time(self, moment: datetime, timezone: str) -> str:
        """A date and a time: `05 Mar 2026, 19:00`, `5 mar 2026, 19:00`."""
        return _written(self.language, "date_time", _aware(moment), timezone)

    def date(self, moment: datetime, timezone: str) -> str:
        """A date: `10 Mar 2026`, `10 mar 2026`."""
        return _written(self.language, "date", _aware(moment), timezone)

    def clock(self, moment: datetime, timezone: str) -> str:
        """A time of day, 24-hour: `19:00`."""
        return f"{_aware(moment).astimezone(ZoneInfo(timezone)):%H:%M}"

    def weekday(self, english_abbreviation: str) -> str:
        """`Mon`..`Sun` (the availability syntax's days) in this language."""
        if self.language == SOURCE_LANGUAGE:
            return english_abbreviation
        index = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun").index(english_abbreviation)
        return str(get_day_names("abbreviated", locale=self.locale)[index])


# What each way of writing a moment is made of in CLDR's terms: a date (a skeleton the
# locale matches to its own pattern, or one of its date formats) and whether the time
# (24-hour) follows, joined as the locale joins a date and a time.
_KINDS = {
    "moment": ("yMMMEd", True),
    "short_moment": ("MMMEd", True),
    "long_moment": ("full", True),
    "day": ("MMMEd", False),
    "date_time": ("medium", True),
    "date": ("medium", False),
}


# English keeps the forms matchdesk has always written (strftime's English names).
_ENGLISH = {
    "moment": "%a {day} %b %Y, %H:%M",
    "short_moment": "%a %d %b, %H:%M",
    "long_moment": "%A %d %B %Y, %H:%M",
    "day": "%a {day} %b",
    "date_time": "%d %b %Y, %H:%M",
    "date": "%d %b %Y",
}


# A round's matches start on a few slots, so the same moment is written for thousands of
# creators of one language and zone: each is formatted once.
@lru_cache(maxsize=16_384)
def _written(language: str, kind: str, moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    if language == SOURCE_LANGUAGE:
        return local.strftime(_ENGLISH[kind].replace("{day}", str(local.day)))
    return str(_pattern(language, kind).apply(local, Locale.parse(language)))


@lru_cache(maxsize=256)
def _pattern(language: str, kind: str) -> DateTimePattern:
    """The CLDR pattern of `kind` in `language`, built and parsed once (formatting with a
    ready pattern costs a third of what `format_skeleton` does on each call)."""
    locale = Locale.parse(language)
    date_part, with_time = _KINDS[kind]
    if date_part in ("full", "medium"):
        date_pattern = str(locale.date_formats[date_part])
    else:
        date_pattern = str(
            locale.datetime_skeletons[match_skeleton(date_part, locale.datetime_skeletons)]
        )
    text = date_pattern
    if with_time:
        glue = str(locale.datetime_formats["medium"])
        text = glue.replace("{1}", date_pattern).replace("{0}", "HH:mm")
    return parse_pattern(text)


@lru_cache(maxsize=32)
def messages_in(language: str) -> Messages:
    """The `Messages` of a language code that has a catalog (or English)."""
    if language not in languages():
        language = SOURCE_LANGUAGE
    return Messages(language, translations(language), Locale.parse(language))


def messages_for(codes: str | None) -> Messages:
    """The `Messages` of a creator whose languages are `codes` (the roster's `es;en`)."""
    return messages_in(creator_language(codes))
