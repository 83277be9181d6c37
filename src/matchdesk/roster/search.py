"""What a search box matches: text folded the same way on every backend.

SQLite's `lower()` folds ASCII only and PostgreSQL's depends on its collation, so folding
is done here, in Python, for the query and for the text it searches: case folded, accents
taken off (`Sofía` and `SOFIA` are both `sofia`), a leading `@` of a handle ignored.
"""

from __future__ import annotations

import unicodedata

# Letters NFKD does not take apart into a base letter and a mark.
_SPECIAL = str.maketrans({"ø": "o", "đ": "d", "ħ": "h", "ł": "l", "ŧ": "t", "ı": "i", "æ": "ae"})


def fold(text: str) -> str:
    """`text` case-folded and without accents, for matching (never for display)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_SPECIAL)


def search_term(q: str) -> str:
    """The folded term of a search box: trimmed, a leading `@` dropped."""
    return fold(q.strip().removeprefix("@").strip())


def matches(term: str, *texts: str) -> bool:
    """Whether the folded `term` occurs inside any of `texts` (folded)."""
    return any(term in fold(text) for text in texts)
