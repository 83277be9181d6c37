"""Problems the domain writes in English that a creator meets in the portal, in the
creator's language: the availability parser's (roster/availability.py, also read by
operators and in files) and the check-in booking's (checkins/booking.py).

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
    # checkins/booking.py
    N_("Someone else just took that time. Here are the next free ones."),
    N_(
        "your check-in is less than %(hours)s hours away and can no longer be moved; "
        "ask your manager"
    ),
    N_(
        "your check-in is less than %(hours)s hours away and can no longer be cancelled "
        "here; ask your manager"
    ),
    N_("there is no check-in to cancel"),
    N_("check-ins cannot be booked yet"),
    N_("your program manager has not set up check-in times yet; they will contact you"),
    N_("That is not a time to book."),
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


def translate_problems(problems: str, messages: Messages) -> str:
    """`translate_problem` of `problems`, or of each of them when they are `; `-joined
    (a problem may hold `; ` itself: the whole is tried first)."""
    whole = translate_problem(problems, messages)
    if whole != problems:
        return whole
    return "; ".join(translate_problem(p, messages) for p in problems.split("; "))


def translate_problem(problem: str, messages: Messages) -> str:
    """`problem` in `messages`' language when it has a known shape, else as it is."""
    if messages.language == "en":
        return problem
    for pattern, shape in _patterns():
        found = pattern.match(problem)
        if found:
            return messages.gettext(shape) % found.groupdict()
    return problem
