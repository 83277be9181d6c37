"""A small hand-made roster for the outreach tests: creators with known fields, ledger
days, rounds, subscriptions and suppressions, so every segment has an exact answer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from matchdesk.context import Matchdesk
from matchdesk.outreach.models import Subscription, Suppression
from matchdesk.results.models import LedgerDay
from matchdesk.roster.models import Creator, CreatorLanguage
from matchdesk.rounds.models import Bye, Match, Round

TODAY = date(2026, 3, 20)

# handle: (tier, status, region, category, languages, followers, revenue_30d, manager, zone)
CREATORS: dict[str, tuple[str | None, str, str, str, str, int, int, str, str]] = {
    "ana": ("A", "active", "BR", "music", "pt;en", 50_000, 90_000, "m1@x.org", "America/Sao_Paulo"),
    "ben": ("B", "active", "US", "gaming", "en", 8_000, 12_000, "m2@x.org", "America/New_York"),
    "cai": ("B", "paused", "ID", "talk", "id;en", 3_000, 5_000, "m1@x.org", "Asia/Jakarta"),
    "dee": ("C", "active", "ES", "music", "es", 900, 300, "m2@x.org", "Europe/Madrid"),
    "eli": (None, "active", "", "", "en", 0, 0, "", "UTC"),
}

# handle: [(days before TODAY, sessions, diamonds)]
LEDGER: dict[str, list[tuple[int, int, int]]] = {
    "ana": [(0, 2, 10_000), (3, 1, 5_000), (29, 1, 1_000), (30, 1, 7_777)],  # 30: outside
    "ben": [(2, 1, 400), (10, 1, 600)],
    "cai": [(40, 1, 50_000)],  # LIVE long ago only
    "dee": [(5, 1, 0)],  # LIVE, no diamonds
}


def add_roster(md: Matchdesk) -> dict[str, int]:
    """The creators above (their ids by handle) with ledger days, a published round in
    which ana and ben were matched and dee had a bye, and an older one in which dee was
    matched; cai opted out of newsletters in the portal; ben's address is suppressed."""
    with md.transaction() as session:
        for handle, (
            tier,
            status,
            region,
            category,
            langs,
            fol,
            rev,
            manager,
            zone,
        ) in CREATORS.items():
            session.add(
                Creator(
                    handle=handle,
                    display_name=handle.title(),
                    email=f"{handle}@x.org" if handle != "ben" else "Ben@X.org",
                    timezone=zone,
                    languages=langs,
                    region=region,
                    category=category,
                    followers=fol,
                    revenue_30d=rev,
                    tier=tier,
                    status=status,
                    manager=manager,
                )
            )
        session.flush()
        ids = dict(session.execute(select(Creator.handle, Creator.id)).all())
        for handle, (*_, langs, _f, _r, _m, _z) in CREATORS.items():
            for language in langs.split(";"):
                session.add(CreatorLanguage(creator_id=ids[handle], language=language))
        for handle, days in LEDGER.items():
            for before, sessions, diamonds in days:
                session.add(
                    LedgerDay(
                        creator_id=ids[handle],
                        day=TODAY - timedelta(days=before),
                        sessions=sessions,
                        live_minutes=60 * sessions,
                        diamonds=diamonds,
                        new_followers=0,
                        match_sessions=0,
                    )
                )
        older = _round(session, datetime(2026, 3, 2, tzinfo=UTC))
        latest = _round(session, datetime(2026, 3, 9, tzinfo=UTC))
        draft = _round(session, datetime(2026, 3, 16, tzinfo=UTC), status="draft")
        _match(session, older, ids["dee"], ids["cai"])
        _match(session, latest, ids["ana"], ids["ben"])
        session.add(Bye(round_id=latest, creator_id=ids["dee"], reason="no partner"))
        _match(session, draft, ids["dee"], ids["eli"])  # a draft does not count
        session.add(Subscription(creator_id=ids["cai"], topic="newsletters", subscribed=False))
        session.add(Subscription(creator_id=ids["dee"], topic="newsletters", subscribed=True))
        session.add(Suppression(email="ben@x.org", reason="hard_bounce"))
    return ids


def _round(session: object, start: datetime, status: str = "published") -> int:
    round_ = Round(
        cadence="weekly", period_start=start, period_end=start + timedelta(days=7), status=status
    )
    session.add(round_)  # type: ignore[attr-defined]
    session.flush()  # type: ignore[attr-defined]
    return round_.id


def _match(session: object, round_id: int, a: int, b: int) -> None:
    starts = datetime(2026, 3, 10, 20, tzinfo=UTC)
    session.add(  # type: ignore[attr-defined]
        Match(
            round_id=round_id,
            creator_a_id=min(a, b),
            creator_b_id=max(a, b),
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            score=1.0,
            status="published",
        )
    )
