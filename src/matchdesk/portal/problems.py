"""The availability parser's problems (roster/availability.py, written in English for
operators and files) in the creator's language, for the portal's forms.

Each problem has one of a few fixed shapes; each shape is a message of the catalogs
with its variable parts as placeholders. A problem of no known shape is shown as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache

from matchdesk.i18n import N_, Messages

SHAPES = (
    N_("'%(part)s': time '%(time)s' is not HH:MM"),
    N_("'%(part)s': 24:00 can only end a window"),
    N_("'%(part)s': hour %(hour)s is not 00-23"),
    N_("'%(part)s': minute %(minute)s is not 00-59"),
    N_("'%(part)s': expected a day first, like Mon 19:00-23:00"),
    N_("'%(part)s': unknown day '%(day)s' (use Mon..Sun)"),
    N_("'%(part)s': expected a time range after the day, like 19:00-23:00"),
    N_("'%(part)s': expected one time range like 19:00-23:00 (separate windows with ';')"),
    N_("'%(part)s': start and end are the same (empty window)"),
    N_("text is too long (%(length)s characters; at most %(most)s)"),
    N_("too many windows (%(count)s; at most %(most)s)"),
)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for shape in SHAPES:
        pieces = _PLACEHOLDER.split(shape)  # text, name, text, name, ..., text
        regex = "".join(
            re.escape(piece) if i % 2 == 0 else f"(?P<{piece}>.*?)"
            for i, piece in enumerate(pieces)
        )
        out.append((re.compile(f"^{regex}$", re.S), shape))
    return tuple(out)


def translate_problem(problem: str, messages: Messages) -> str:
    """`problem` in `messages`' language when it has a known shape, else as it is."""
    if messages.language == "en":
        return problem
    for pattern, shape in _patterns():
        found = pattern.match(problem)
        if found:
            return messages.gettext(shape) % found.groupdict()
    return problem
