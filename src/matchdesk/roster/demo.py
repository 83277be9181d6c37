"""A realistic synthetic roster, reproducible from a seed.

Used by `matchdesk demo`, the tests and the benchmarks, so all three see the same kind of
pool: heavy-tailed followers and revenue (log-normal, revenue correlated with audience),
time zones weighted like a global LIVE platform's creators, languages tied to regions,
evening-heavy weekly availability, a few block lists and paused creators.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matchdesk.roster.availability import Window
from matchdesk.roster.records import CreatorRecord


@dataclass(frozen=True)
class Region:
    code: str
    weight: float
    zones: tuple[tuple[str, float], ...]
    languages: tuple[tuple[str, ...], ...]  # possible language lists, the first most likely
    names: tuple[str, ...]


REGIONS = (
    Region(
        "US",
        18,
        (
            ("America/New_York", 0.45),
            ("America/Chicago", 0.25),
            ("America/Denver", 0.08),
            ("America/Los_Angeles", 0.22),
        ),
        (("en",), ("en", "es")),
        ("Jordan", "Avery", "Maya", "Tyler", "Kayla", "Marcus"),
    ),
    Region(
        "MX",
        5,
        (("America/Mexico_City", 1.0),),
        (("es",), ("es", "en")),
        ("Sofía", "Diego", "Valeria", "Mateo", "Ximena"),
    ),
    Region(
        "BR",
        8,
        (("America/Sao_Paulo", 1.0),),
        (("pt",), ("pt", "en")),
        ("João", "Larissa", "Gabriel", "Beatriz", "Thiago"),
    ),
    Region("CO", 2, (("America/Bogota", 1.0),), (("es",),), ("Camila", "Santiago")),
    Region("AR", 2, (("America/Argentina/Buenos_Aires", 1.0),), (("es",),), ("Lucía", "Tomás")),
    Region(
        "CA",
        2,
        (("America/Toronto", 0.7), ("America/Vancouver", 0.3)),
        (("en",), ("en", "fr")),
        ("Liam", "Chloé", "Noah"),
    ),
    Region("GB", 4, (("Europe/London", 1.0),), (("en",),), ("Oliver", "Amelia", "Harry")),
    Region("DE", 3, (("Europe/Berlin", 1.0),), (("de",), ("de", "en")), ("Lena", "Jonas", "Mia")),
    Region("FR", 3, (("Europe/Paris", 1.0),), (("fr",), ("fr", "en")), ("Léa", "Hugo", "Manon")),
    Region("ES", 2, (("Europe/Madrid", 1.0),), (("es",), ("es", "en")), ("Lucía", "Pablo")),
    Region("IT", 2, (("Europe/Rome", 1.0),), (("it",),), ("Giulia", "Marco", "Chiara")),
    Region(
        "TR", 4, (("Europe/Istanbul", 1.0),), (("tr",), ("tr", "en")), ("Elif", "Emir", "Zeynep")
    ),
    Region("PL", 1, (("Europe/Warsaw", 1.0),), (("pl",),), ("Zuzanna", "Jakub")),
    Region(
        "IN",
        9,
        (("Asia/Kolkata", 1.0),),
        (("hi", "en"), ("en",), ("ta", "en"), ("bn",)),
        ("Aarav", "Priya", "Ananya", "Rohan", "Ishaan"),
    ),
    Region("PK", 3, (("Asia/Karachi", 1.0),), (("ur", "en"), ("ur",)), ("Ayesha", "Hamza")),
    Region("BD", 2, (("Asia/Dhaka", 1.0),), (("bn",), ("bn", "en")), ("Nusrat", "Rahim")),
    Region("NP", 0.5, (("Asia/Kathmandu", 1.0),), (("ne", "hi"), ("ne",)), ("Sita", "Bikash")),
    Region(
        "ID",
        8,
        (("Asia/Jakarta", 0.8), ("Asia/Makassar", 0.2)),
        (("id",), ("id", "en")),
        ("Putri", "Rizky", "Dewi", "Bayu"),
    ),
    Region("PH", 5, (("Asia/Manila", 1.0),), (("tl", "en"), ("en",)), ("Andrea", "Paolo", "Bea")),
    Region("VN", 4, (("Asia/Ho_Chi_Minh", 1.0),), (("vi",),), ("Linh", "Minh", "Trang")),
    Region("TH", 3, (("Asia/Bangkok", 1.0),), (("th",),), ("Ploy", "Nattapong")),
    Region("MY", 2, (("Asia/Kuala_Lumpur", 1.0),), (("ms", "en"), ("ms",)), ("Aisyah", "Haziq")),
    Region("SA", 3, (("Asia/Riyadh", 1.0),), (("ar",),), ("Noura", "Faisal", "Lama")),
    Region("AE", 1.5, (("Asia/Dubai", 1.0),), (("ar", "en"), ("en",)), ("Mariam", "Omar")),
    Region("EG", 3, (("Africa/Cairo", 1.0),), (("ar",),), ("Yasmin", "Karim")),
    Region("IR", 1, (("Asia/Tehran", 1.0),), (("fa",),), ("Shirin", "Arash")),
    Region("JP", 2, (("Asia/Tokyo", 1.0),), (("ja",),), ("さくら", "Haruto", "Yui")),
    Region("KR", 1.5, (("Asia/Seoul", 1.0),), (("ko",),), ("Jiwoo", "Minjun")),
    Region(
        "AU",
        1.5,
        (("Australia/Sydney", 0.7), ("Australia/Perth", 0.2), ("Australia/Lord_Howe", 0.1)),
        (("en",),),
        ("Charlotte", "Jack"),
    ),
    Region("NG", 2, (("Africa/Lagos", 1.0),), (("en",), ("en", "yo")), ("Chioma", "Tunde")),
)

CATEGORIES = (
    "music",
    "gaming",
    "talk",
    "dance",
    "beauty",
    "fitness",
    "cooking",
    "comedy",
    "education",
    "outdoor",
)
CATEGORY_WEIGHTS = (0.22, 0.2, 0.15, 0.1, 0.08, 0.06, 0.06, 0.06, 0.04, 0.03)

_SYLLABLES = (
    "lu",
    "na",
    "ka",
    "ri",
    "mo",
    "zen",
    "vi",
    "ra",
    "ko",
    "ta",
    "mi",
    "sol",
    "ny",
    "xo",
    "be",
    "la",
    "dro",
    "fi",
    "ge",
    "jo",
    "pa",
    "qu",
    "sa",
    "ty",
    "vo",
    "wu",
    "el",
)
_WORDS = (
    "star",
    "beats",
    "live",
    "vibes",
    "play",
    "glow",
    "wave",
    "dash",
    "nova",
    "echo",
    "pixel",
    "storm",
    "luna",
    "spark",
    "tune",
    "craft",
    "flow",
    "mint",
)


def _handles(rng: np.random.Generator, n: int) -> list[str]:
    """Unique, readable handles such as `lunaka_star4821` (2-24 chars of a-z 0-9 _ .)."""
    syllables = rng.integers(0, len(_SYLLABLES), size=(n, 3))
    stem_length = rng.integers(2, 4, size=n)
    words = rng.integers(0, len(_WORDS), size=n)
    seps = rng.integers(0, 3, size=n)
    numbers = rng.integers(0, 10_000, size=n)
    taken: set[str] = set()
    handles = []
    for i in range(n):
        stem = "".join(_SYLLABLES[s] for s in syllables[i, : stem_length[i]])
        base = f"{stem}{'_.'[seps[i] - 1] if seps[i] else ''}{_WORDS[words[i]]}"
        handle = f"{base}{numbers[i]}"
        suffix = 0
        while handle in taken:  # rare: extend the number until it is free
            suffix += 1
            handle = f"{base}{numbers[i]}{suffix}"[-24:]
        taken.add(handle)
        handles.append(handle)
    return handles


def _availabilities(rng: np.random.Generator, n: int) -> list[tuple[Window, ...]]:
    """Weekly habits: the same evening slot on a few days, now and then an extra weekend
    afternoon; a few creators have not given their availability yet."""
    none_given = rng.random(n) < 0.03
    day_order = np.argsort(rng.random((n, 7)), axis=1)
    day_count = rng.integers(2, 6, size=n)
    centre = np.where(rng.random(n) < 0.12, 15.0, 20.5)
    start = np.clip(np.round(rng.normal(centre, 1.3) * 2), 0, 47).astype(np.int64)
    length = rng.integers(3, 9, size=n) * 30  # 1.5 to 4 hours
    jitter = rng.integers(-1, 2, size=(n, 7))
    extra = rng.random(n) < 0.2
    extra_day = rng.integers(5, 7, size=n)
    extra_start = rng.integers(22, 30, size=n) * 30
    out: list[tuple[Window, ...]] = []
    for i in range(n):
        if none_given[i]:
            out.append(())
            continue
        windows = set()
        for k in range(day_count[i]):
            begin = int((start[i] + jitter[i, k]) % 48 * 30)
            end = (begin + int(length[i])) % 1440 or 1440
            windows.add(Window(int(day_order[i, k]), begin, end))
        if extra[i]:
            windows.add(Window(int(extra_day[i]), int(extra_start[i]), int(extra_start[i]) + 120))
        out.append(tuple(sorted(windows)))
    return out


def _pick(rng: np.random.Generator, weights: list[np.ndarray], which: np.ndarray) -> np.ndarray:
    """For each item, an index drawn from `weights[which[i]]` (vectorised inverse CDF)."""
    u = rng.random(len(which))
    picks = np.zeros(len(which), dtype=np.int64)
    for group, w in enumerate(weights):
        mask = which == group
        cdf = np.cumsum(w) / w.sum()
        picks[mask] = np.minimum(np.searchsorted(cdf, u[mask], side="right"), len(w) - 1)
    return picks


def generate_creators(n: int, seed: int = 0) -> list[CreatorRecord]:
    """`n` synthetic creators; the same `n` and `seed` always give the same roster."""
    if n < 0:
        raise ValueError("n must be >= 0")
    rng = np.random.default_rng(seed)
    weights = np.array([r.weight for r in REGIONS])
    region_index = rng.choice(len(REGIONS), size=n, p=weights / weights.sum())
    zone_index = _pick(rng, [np.array([w for _, w in r.zones]) for r in REGIONS], region_index)
    language_index = np.where(
        rng.random(n) < 0.7,
        0,
        (rng.random(n) * np.array([len(r.languages) for r in REGIONS])[region_index]).astype(
            np.int64
        ),
    )
    name_index = (rng.random(n) * np.array([len(r.names) for r in REGIONS])[region_index]).astype(
        np.int64
    )
    followers = np.round(rng.lognormal(np.log(8_000), 1.6, size=n)).astype(np.int64)
    revenue = np.round(np.maximum(followers, 1) * 0.8 * rng.lognormal(0.0, 1.0, size=n)).astype(
        np.int64
    )
    revenue[rng.random(n) < 0.05] = 0  # new creators with no gifts yet
    categories = rng.choice(len(CATEGORIES), size=n, p=np.array(CATEGORY_WEIGHTS))
    no_email = rng.random(n) < 0.1
    paused = rng.random(n) < 0.04
    blocks = rng.random(n) < 0.04
    block_picks = rng.random((n, 3))
    block_count = rng.integers(1, 4, size=n)
    handles = _handles(rng, n)
    availabilities = _availabilities(rng, n)
    members: dict[int, np.ndarray] = {
        r: np.flatnonzero(region_index == r) for r in range(len(REGIONS))
    }

    creators = []
    for i in range(n):
        r = int(region_index[i])
        region = REGIONS[r]
        blocked: tuple[str, ...] = ()
        if blocks[i]:  # a few creators block peers from their own region
            peers = members[r]
            picks = {int(peers[int(u * len(peers))]) for u in block_picks[i, : block_count[i]]}
            blocked = tuple(handles[j] for j in sorted(picks) if j != i)
        handle = handles[i]
        creators.append(
            CreatorRecord(
                handle=handle,
                display_name=f"{region.names[name_index[i]]} {handle[0].upper()}.",
                email="" if no_email[i] else f"{handle}@example.com",
                timezone=region.zones[zone_index[i]][0],
                languages=region.languages[language_index[i]],
                region=region.code,
                category=CATEGORIES[categories[i]],
                followers=int(followers[i]),
                revenue_30d=int(revenue[i]),
                availability=availabilities[i],
                blocked=blocked,
                status="paused" if paused[i] else "active",
            )
        )
    return creators
