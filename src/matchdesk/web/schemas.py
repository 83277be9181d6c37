"""The REST API's request and response bodies (`Create` / `Update` / `Public` families).

Types and shapes are checked here; what a value means (a known time zone, an ISO language
code, availability windows, a handle on the roster) is checked by `roster.editing`, exactly
as the roster file's cells are, so the API and the import accept and refuse the same things.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from matchdesk.program import Cadence, Program
from matchdesk.roster.models import Creator
from matchdesk.roster.queries import MAX_PER_PAGE, CreatorRow, SortKey

Status = Literal["active", "paused"]
# Far above any real audience or revenue, and well inside the database's 64-bit integers.
MAX_COUNT = 10**15


def _printable(value: str) -> str:
    # PostgreSQL refuses NUL in text, and no field of a creator needs control characters.
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise PydanticCustomError("control_characters", "control characters are not allowed")
    return value


Printable = AfterValidator(_printable)
Timezone = Annotated[str, Field(max_length=64, examples=["Asia/Kolkata"]), Printable]
DisplayName = Annotated[str, Field(max_length=100), Printable]
Email = Annotated[str, Field(max_length=254), Printable]
Region = Annotated[str, Field(max_length=2, description="ISO 3166-1 alpha-2"), Printable]
Category = Annotated[str, Field(max_length=60), Printable]
Handle = Annotated[
    str,
    Field(
        pattern=r"^@?[A-Za-z0-9_.]{2,24}$",
        description="2-24 characters of a-z 0-9 _ . (case-insensitive, `@` optional)",
        examples=["luna.star"],
    ),
]
LanguageCode = Annotated[
    str, Field(pattern=r"^[A-Za-z]{2}$", description="ISO 639-1 code", examples=["en"])
]
Languages = Annotated[
    list[LanguageCode], Field(min_length=1, max_length=20, description="main language first")
]
Blocked = Annotated[
    list[Handle], Field(max_length=200, description="handles never to be matched with")
]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)]
Availability = Annotated[
    str,
    Field(
        max_length=2000,
        description="weekly windows in the creator's own time zone; an end earlier than "
        "its start crosses midnight",
        examples=["Mon 19:00-23:00; Fri 22:00-02:00"],
    ),
    Printable,
]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreatorCreate(_Input):
    """A new creator."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "handle": "mia.rose",
                    "display_name": "Mia",
                    "timezone": "America/Sao_Paulo",
                    "languages": ["pt", "en"],
                    "region": "BR",
                    "followers": 15000,
                    "revenue_30d": 21000,
                    "availability": "Mon 19:00-23:00; Fri 22:00-02:00",
                    "blocked": ["luna.star"],
                }
            ]
        }
    )

    handle: Annotated[str, Field(max_length=25, examples=["luna.star"]), Printable]
    timezone: Timezone
    languages: Languages
    followers: Count
    revenue_30d: Count
    availability: Availability = ""
    display_name: DisplayName = ""
    email: Email = ""
    region: Region = ""
    category: Category = ""
    blocked: Blocked = []
    status: Status = "active"


def _not_nullable(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    options = [o for o in schema.pop("anyOf", []) if o != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options


# A PATCH field: left out, the value stays; an explicit null is refused (see below), so
# the schema shows neither a null type nor a null default.
Keep = Field(json_schema_extra=_not_nullable)


class CreatorUpdate(_Input):
    """Changes to a creator: only the fields given change (the handle cannot). `version`
    (or an `If-Match` header) makes the change fail if someone changed the creator since."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"followers": 15000, "availability": "Sat 18:00-22:00", "status": "paused"}
            ]
        }
    )

    timezone: Annotated[Timezone | None, Keep] = None
    languages: Annotated[Languages | None, Keep] = None
    followers: Annotated[Count | None, Keep] = None
    revenue_30d: Annotated[Count | None, Keep] = None
    availability: Annotated[Availability | None, Keep] = None
    display_name: Annotated[DisplayName | None, Keep] = None
    email: Annotated[Email | None, Keep] = None
    region: Annotated[Region | None, Keep] = None
    category: Annotated[Category | None, Keep] = None
    blocked: Annotated[Blocked | None, Keep] = None
    status: Annotated[Status | None, Keep] = None
    version: Annotated[Version | None, Keep] = None

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_null(cls, value: object) -> object:
        if value is None:
            raise PydanticCustomError(
                "null", "null is not allowed; leave the field out to keep its value"
            )
        return value


class CreatorSummary(BaseModel):
    """A creator as a list shows it: the fields stored on the creator itself."""

    handle: str
    display_name: str
    email: str
    timezone: str
    languages: list[str] = Field(description="main language first")
    region: str
    category: str
    followers: int
    revenue_30d: int
    tier: str | None = Field(description="from the program's tier rules; null if none admits")
    status: Status
    version: int = Field(description="raised on every change; send it back to edit")

    @classmethod
    def from_creator(cls, creator: Creator | CreatorRow) -> CreatorSummary:
        """From a loaded `Creator` row (no further query)."""
        return cls(
            handle=creator.handle,
            display_name=creator.display_name,
            email=creator.email,
            timezone=creator.timezone,
            languages=creator.languages.split(";") if creator.languages else [],
            region=creator.region,
            category=creator.category,
            followers=creator.followers,
            revenue_30d=creator.revenue_30d,
            tier=creator.tier,
            status=creator.status,
            version=creator.version,
        )


class CreatorPublic(CreatorSummary):
    """One creator with weekly availability and block list."""

    availability: str = Field(examples=["Mon 19:00-23:00; Fri 22:00-02:00"])
    blocked: list[str] = Field(description="handles this creator is never matched with")

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CreatorPublic:
        """From `roster.editing.creator_state` (the roster file's text fields)."""
        return cls(
            **{
                **state,
                "languages": state["languages"].split(";") if state["languages"] else [],
                "blocked": state["blocked"].split(";") if state["blocked"] else [],
            }
        )


class CreatorList(BaseModel):
    """One page of creators."""

    items: list[CreatorSummary]
    total: int = Field(description="creators matching the filters, on all pages")
    page: int
    per_page: int
    pages: int


class CreatorQuery(_Input):
    """Search, filters, sort and page of the creator list (empty filters filter nothing)."""

    q: Annotated[str, Field(max_length=100), Printable] = Field(
        "", description="start of a handle or display name"
    )
    tier: Annotated[str, Field(max_length=40), Printable] = ""
    region: Annotated[str, Field(max_length=2), Printable] = ""
    language: Annotated[str, Field(max_length=2), Printable] = ""
    status: Status | Literal[""] = ""
    sort: SortKey = "handle"
    page: int = Field(1, ge=1, le=100_000)
    per_page: int = Field(50, ge=1, le=MAX_PER_PAGE)


class TierPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    min_revenue_30d: int
    min_followers: int
    cadence: Cadence


class MatchingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    duration_minutes: int
    max_tier_distance: int
    require_shared_language: bool
    rematch_cooldown_rounds: int
    slot_step_minutes: int


class ProgramPublic(BaseModel):
    """The program's rules: tiers (first whose minimums are all met wins), matching rules."""

    name: str
    timezone: str
    tiers: list[TierPublic]
    matching: MatchingPublic

    @classmethod
    def from_program(cls, program: Program) -> ProgramPublic:
        """From the program file's rules."""
        return cls(
            name=program.program.name,
            timezone=program.program.timezone,
            tiers=[TierPublic.model_validate(t) for t in program.tiers],
            matching=MatchingPublic.model_validate(program.matching),
        )


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_input"])
    message: str
    details: list[str] = Field(description="one entry per problem, `field: message`")


class ErrorBody(BaseModel):
    """Every error the API returns has this shape."""

    error: ErrorDetail


class RoundSummary(BaseModel):
    """A round as the list shows it."""

    round_id: int
    cadence: Cadence
    tier: str | None = Field(description="the one tier of the pool; null: every tier")
    status: Literal["draft", "published", "closed", "discarded"]
    period_start: str = Field(examples=["2026-03-09T07:00:00Z"], description="ISO 8601 UTC")
    period_end: str = Field(examples=["2026-03-16T07:00:00Z"], description="ISO 8601 UTC")
    matches: int = Field(description="matches of every status")
    byes: int
    version: int = Field(description="raised on every change to the round")


class RoundList(BaseModel):
    """Recent rounds, newest period first (discarded ones left out)."""

    items: list[RoundSummary]


class RoundMatch(BaseModel):
    match_id: int
    creator_a: str = Field(description="handle, without @")
    creator_b: str
    starts_at: str = Field(examples=["2026-03-09T01:00:00Z"], description="ISO 8601 UTC")
    ends_at: str
    score: float
    status: Literal[
        "proposed", "published", "confirmed", "declined", "cancelled", "completed", "no_show"
    ]


class RoundBye(BaseModel):
    creator: str = Field(description="handle, without @")
    reason: str


class RoundDocument(BaseModel):
    """A round's matches (by start) and byes (by handle): `matchdesk rounds show ID
    --json`, SPEC section 3."""

    round_id: int
    cadence: Cadence
    period_start: str = Field(description="ISO 8601 UTC")
    period_end: str = Field(description="ISO 8601 UTC")
    matches: list[RoundMatch]
    byes: list[RoundBye]


ResultsCell = Annotated[str | int | None, Field(union_mode="left_to_right")]


class ResultsIn(_Input):
    """LIVE session results: the rows of a results file (SPEC section 4) as JSON."""

    rows: list[dict[str, ResultsCell]] = Field(
        min_length=1,
        max_length=100_000,
        description="one object a session, the results file's columns as keys (`handle`, "
        "`started_at`, `duration_minutes`, `diamonds`; optional `viewers_peak`, "
        "`new_followers`, `match_id`, `outcome`); rows[0] is row 1 in the problems",
        examples=[
            [
                {
                    "handle": "luna.star",
                    "started_at": "2026-03-09T19:00:00+05:30",
                    "duration_minutes": 60,
                    "diamonds": 1200,
                }
            ]
        ],
    )
    dry_run: bool = Field(default=False, description="validate only; write nothing")


class ResultsReportPublic(BaseModel):
    """What an import of results did (or, with `dry_run`, would do)."""

    created: int
    updated: int
    unchanged: int
    linked: int = Field(description="sessions written that belong to a match")
    matches_completed: int
    dry_run: bool


class UpliftPublic(BaseModel):
    """Relative change in diamonds per session minute (0.25 = +25%) with its interval."""

    estimate: float
    low: float
    high: float
    n: int = Field(description="match sessions the estimate rests on")


class CreatorReport(BaseModel):
    """SPEC section 5: one creator's figures over the program days `from` to `to`."""

    model_config = ConfigDict(populate_by_name=True)

    handle: str
    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    sessions: int
    live_minutes: int
    diamonds: int
    days_live: int
    matches_completed: int
    match_diamonds: int
    uplift: UpliftPublic | None


class ReportWeek(BaseModel):
    week_start: str = Field(description="the program week's Monday, YYYY-MM-DD")
    sessions: int
    live_minutes: int
    diamonds: int
    creators_live: int


class ReportTier(BaseModel):
    tier: str
    creators: int
    diamonds: int
    matches_completed: int


class ProgramReport(BaseModel):
    """SPEC section 5: the program's weeks and tiers over the program days `from` to `to`."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", serialization_alias="from")
    to: str
    weeks: list[ReportWeek]
    tiers: list[ReportTier]
