"""The pool as columns: one numpy array per field, creators sorted by id.

Sorting by id at construction gives every later step a canonical order, so the result
does not depend on the order the caller listed the creators in. Variable-length fields
(languages, availability, offset changes) are stored as CSR: a pointer array of n + 1
offsets into one flat value array.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matchdesk.matching.problem import Creator

IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]


def _fail(name: str, message: str) -> ValueError:
    return ValueError(f"{name}: {message}")


def _csr_take(
    ptr: IntArray, values: npt.NDArray[np.int64], order: IntArray
) -> tuple[IntArray, npt.NDArray[np.int64]]:
    """Rows `order` of a CSR structure, as a new (ptr, values)."""
    lengths = np.diff(ptr)[order]
    new_ptr = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_ptr[1:])
    gather = np.repeat(ptr[:-1][order] - new_ptr[:-1], lengths) + np.arange(
        int(new_ptr[-1]), dtype=np.int64
    )
    return new_ptr, values[gather]


def _check_ptr(name: str, ptr: IntArray, n: int, size: int) -> None:
    if ptr.shape != (n + 1,) or ptr[0] != 0 or ptr[-1] != size or np.any(np.diff(ptr) < 0):
        raise _fail(name, "pointer array must have n + 1 non-decreasing entries from 0 to size")


@dataclass(frozen=True, eq=False)
class CreatorTable:
    """Columns of a pool, sorted by id. Build with `from_creators` or `from_arrays`.

    languages are indices into `vocabulary` (sorted codes). availability: intervals in
    minutes from the period start, `avail_start[avail_ptr[i]:avail_ptr[i+1]]`.
    offset changes: `(change_at, change_offset)` rows of `change_ptr`.
    """

    ids: StrArray
    tier: IntArray
    vocabulary: tuple[str, ...]
    lang_ptr: IntArray
    lang_code: IntArray
    followers: IntArray
    revenue: IntArray
    avail_ptr: IntArray
    avail_start: IntArray
    avail_end: IntArray
    utc_offset: IntArray
    change_ptr: IntArray
    change_at: IntArray
    change_offset: IntArray
    recent_byes: IntArray

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def from_arrays(
        cls,
        *,
        ids: Sequence[str] | StrArray,
        tier: npt.ArrayLike,
        vocabulary: Sequence[str],
        lang_ptr: npt.ArrayLike,
        lang_code: npt.ArrayLike,
        followers: npt.ArrayLike,
        revenue: npt.ArrayLike,
        avail_ptr: npt.ArrayLike,
        avail_start: npt.ArrayLike,
        avail_end: npt.ArrayLike,
        utc_offset: npt.ArrayLike,
        change_ptr: npt.ArrayLike | None = None,
        change_at: npt.ArrayLike | None = None,
        change_offset: npt.ArrayLike | None = None,
        recent_byes: npt.ArrayLike | None = None,
    ) -> CreatorTable:
        """A table from columns in any order; validates them and sorts by id."""
        id_array = np.asarray(ids, dtype=np.str_)
        n = int(id_array.shape[0])

        def column(name: str, values: npt.ArrayLike | None, size: int) -> IntArray:
            if values is None:
                return np.zeros(size, dtype=np.int64)
            array = np.asarray(values)
            if array.shape != (size,) or (array.size and array.dtype.kind not in "iub"):
                raise _fail(name, f"must be {size} integers")
            return array.astype(np.int64)

        tiers = column("tier", tier, n)
        vocab = tuple(vocabulary)
        lptr = column("lang_ptr", lang_ptr, n + 1)
        lcode = column("lang_code", lang_code, int(lptr[-1]) if n + 1 == lptr.size else 0)
        aptr = column("avail_ptr", avail_ptr, n + 1)
        size = int(aptr[-1])
        astart, aend = (
            column("avail_start", avail_start, size),
            column("avail_end", avail_end, size),
        )
        if change_ptr is None:
            cptr = np.zeros(n + 1, dtype=np.int64)
        else:
            cptr = column("change_ptr", change_ptr, n + 1)
        csize = int(cptr[-1])
        cat, coff = (
            column("change_at", change_at, csize),
            column("change_offset", change_offset, csize),
        )
        table = cls(
            ids=id_array,
            tier=tiers,
            vocabulary=vocab,
            lang_ptr=lptr,
            lang_code=lcode,
            followers=column("followers", followers, n),
            revenue=column("revenue_30d", revenue, n),
            avail_ptr=aptr,
            avail_start=astart,
            avail_end=aend,
            utc_offset=column("utc_offset_minutes", utc_offset, n),
            change_ptr=cptr,
            change_at=cat,
            change_offset=coff,
            recent_byes=column("recent_byes", recent_byes, n),
        )
        table._validate()
        return table._sorted()

    @classmethod
    def from_creators(cls, creators: Sequence[Creator]) -> CreatorTable:
        """A table from `Creator` objects (each already validated)."""
        vocabulary = sorted({code for c in creators for code in c.languages})
        code_of = {code: i for i, code in enumerate(vocabulary)}
        lang_lists = [sorted({code_of[x] for x in c.languages}) for c in creators]
        lengths = [len(x) for x in lang_lists]
        avail = [c.availability for c in creators]
        changes = [c.offset_changes for c in creators]
        return cls.from_arrays(
            ids=[c.id for c in creators],
            tier=[c.tier for c in creators],
            vocabulary=vocabulary,
            lang_ptr=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]),
            lang_code=np.array([x for row in lang_lists for x in row], dtype=np.int64),
            followers=[c.followers for c in creators],
            revenue=[c.revenue_30d for c in creators],
            avail_ptr=np.concatenate([[0], np.cumsum([len(a) for a in avail], dtype=np.int64)]),
            avail_start=np.array([s for a in avail for s, _ in a], dtype=np.int64),
            avail_end=np.array([e for a in avail for _, e in a], dtype=np.int64),
            utc_offset=[c.utc_offset_minutes for c in creators],
            change_ptr=np.concatenate([[0], np.cumsum([len(x) for x in changes], dtype=np.int64)]),
            change_at=np.array([m for x in changes for m, _ in x], dtype=np.int64),
            change_offset=np.array([o for x in changes for _, o in x], dtype=np.int64),
            recent_byes=[c.recent_byes for c in creators],
        )

    def _validate(self) -> None:
        n = len(self)
        if n and (np.any(np.char.str_len(self.ids) == 0)):
            raise _fail("id", "must be a non-empty string")
        if n > 1:
            ordered = np.sort(self.ids)
            duplicate = ordered[1:] == ordered[:-1]
            if np.any(duplicate):
                raise _fail("id", f"duplicate id {str(ordered[1:][duplicate][0])!r}")
        if list(self.vocabulary) != sorted(set(self.vocabulary)) or any(
            not v for v in self.vocabulary
        ):
            raise _fail("vocabulary", "must be sorted, distinct, non-empty codes")
        _check_ptr("lang_ptr", self.lang_ptr, n, self.lang_code.size)
        _check_ptr("avail_ptr", self.avail_ptr, n, self.avail_start.size)
        _check_ptr("change_ptr", self.change_ptr, n, self.change_at.size)
        if np.any((self.lang_code < 0) | (self.lang_code >= len(self.vocabulary))):
            raise _fail("languages", "language index outside the vocabulary")
        for name, values in (
            ("tier", self.tier),
            ("followers", self.followers),
            ("revenue_30d", self.revenue),
            ("recent_byes", self.recent_byes),
        ):
            if np.any(values < 0):
                raise _fail(name, "must be >= 0")
        if np.any(self.avail_start >= self.avail_end):
            raise _fail("availability", "every interval must have start < end")
        for name, offsets in (
            ("utc_offset_minutes", self.utc_offset),
            ("offset_changes", self.change_offset),
        ):
            if np.any(np.abs(offsets) >= 1440):
                raise _fail(name, "offsets must be within a day")

    def _sorted(self) -> CreatorTable:
        order = np.argsort(self.ids, kind="stable").astype(np.int64)
        if np.all(order == np.arange(order.size)):
            return self
        lptr, lcode = _csr_take(self.lang_ptr, self.lang_code, order)
        aptr, astart = _csr_take(self.avail_ptr, self.avail_start, order)
        _, aend = _csr_take(self.avail_ptr, self.avail_end, order)
        cptr, cat = _csr_take(self.change_ptr, self.change_at, order)
        _, coff = _csr_take(self.change_ptr, self.change_offset, order)
        return CreatorTable(
            ids=self.ids[order],
            tier=self.tier[order],
            vocabulary=self.vocabulary,
            lang_ptr=lptr,
            lang_code=lcode,
            followers=self.followers[order],
            revenue=self.revenue[order],
            avail_ptr=aptr,
            avail_start=astart,
            avail_end=aend,
            utc_offset=self.utc_offset[order],
            change_ptr=cptr,
            change_at=cat,
            change_offset=coff,
            recent_byes=self.recent_byes[order],
        )

    def check_inside(self, period_minutes: int) -> None:
        """Refuse availability or offset changes outside `[0, period_minutes]`."""
        if np.any(self.avail_start < 0) or np.any(self.avail_end > period_minutes):
            raise _fail("availability", "intervals must lie inside the round's period")
        if np.any(self.change_at <= 0) or np.any(self.change_at >= period_minutes):
            raise _fail("offset_changes", "changes must fall strictly inside the period")

    def index_of(self, creator_id: str) -> int:
        """Row of `creator_id`; KeyError if absent."""
        row = int(np.searchsorted(self.ids, creator_id))
        if row >= len(self) or self.ids[row] != creator_id:
            raise KeyError(creator_id)
        return row

    def indices_of(self, creator_ids: Sequence[str]) -> IntArray:
        """Rows of many ids at once (all must exist)."""
        if not creator_ids:
            return np.zeros(0, dtype=np.int64)
        wanted = np.asarray(creator_ids, dtype=np.str_)
        rows = np.searchsorted(self.ids, wanted).astype(np.int64)
        rows = np.minimum(rows, len(self) - 1)
        if np.any(self.ids[rows] != wanted):
            raise KeyError(str(wanted[self.ids[rows] != wanted][0]))
        return rows

    def has(self, creator_id: str) -> bool:
        """Whether `creator_id` is in the pool."""
        try:
            self.index_of(creator_id)
        except KeyError:
            return False
        return True

    def languages_of(self, row: int) -> tuple[str, ...]:
        """Language codes of creator `row`."""
        codes = self.lang_code[self.lang_ptr[row] : self.lang_ptr[row + 1]]
        return tuple(self.vocabulary[int(c)] for c in codes)

    def availability_of(self, row: int) -> list[tuple[int, int]]:
        """Availability intervals of creator `row` (minutes from the period start)."""
        lo, hi = int(self.avail_ptr[row]), int(self.avail_ptr[row + 1])
        return [
            (int(s), int(e))
            for s, e in zip(self.avail_start[lo:hi], self.avail_end[lo:hi], strict=True)
        ]

    def creator(self, row: int) -> Creator:
        """Creator `row` as a `Creator` object."""
        from matchdesk.matching.problem import Creator

        lo, hi = int(self.change_ptr[row]), int(self.change_ptr[row + 1])
        return Creator(
            id=str(self.ids[row]),
            tier=int(self.tier[row]),
            languages=self.languages_of(row),
            followers=int(self.followers[row]),
            revenue_30d=int(self.revenue[row]),
            availability=tuple(self.availability_of(row)),
            utc_offset_minutes=int(self.utc_offset[row]),
            offset_changes=tuple(
                (int(m), int(o))
                for m, o in zip(self.change_at[lo:hi], self.change_offset[lo:hi], strict=True)
            ),
            recent_byes=int(self.recent_byes[row]),
        )

    def offset_at(self, row: int, minute: int) -> int:
        """Local time minus UTC for creator `row` at `minute` from the period start."""
        offset = int(self.utc_offset[row])
        for at, value in zip(
            self.change_at[self.change_ptr[row] : self.change_ptr[row + 1]],
            self.change_offset[self.change_ptr[row] : self.change_ptr[row + 1]],
            strict=True,
        ):
            if minute >= at:
                offset = int(value)
        return offset
