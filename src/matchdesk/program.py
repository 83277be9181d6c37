"""The program's rules, read from a TOML file (SPEC section 2).

Every key has a default, so a missing file means the built-in program. An invalid file is
refused with `InvalidInput`, each problem naming the key (`tiers[2].cadence`) and the reason.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from matchdesk.errors import InvalidInput
from matchdesk.roster.availability import AvailabilityError, parse_availability

Cadence = Literal["weekly", "monthly"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProgramInfo(_Frozen):
    name: str = Field(default="LIVE Match Program", min_length=1, max_length=200)
    timezone: str = "America/Los_Angeles"
    # A creator is proposed for another tier once their revenue has met its minimums for
    # this many consecutive program weeks (the tier review).
    tier_review_weeks: int = Field(default=2, ge=1, le=52)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


class Tier(_Frozen):
    """A band of creators; the first tier (in file order) whose minimums are all met wins."""

    name: str = Field(min_length=1, max_length=40)
    min_revenue_30d: int = Field(default=0, ge=0)
    min_followers: int = Field(default=0, ge=0)
    cadence: Cadence = "weekly"
    # Weeks between a creator's regular check-ins (SPEC section 6); 0: none for this tier.
    checkin_every_weeks: int = Field(default=4, ge=0, le=52)

    def admits(self, revenue_30d: int, followers: int) -> bool:
        return revenue_30d >= self.min_revenue_30d and followers >= self.min_followers


class MatchingRules(_Frozen):
    duration_minutes: int = Field(default=60, gt=0, le=24 * 60)
    max_tier_distance: int = Field(default=0, ge=0)
    require_shared_language: bool = True
    rematch_cooldown_rounds: int = Field(default=4, ge=0)
    slot_step_minutes: int = Field(default=30, gt=0, le=24 * 60)

    @model_validator(mode="after")
    def _step_divides_day(self) -> MatchingRules:
        if (24 * 60) % self.slot_step_minutes:
            raise ValueError("slot_step_minutes must divide a day (1440 minutes) evenly")
        return self


class CheckinRules(_Frozen):
    """The `[checkins]` table (SPEC section 6)."""

    duration_minutes: int = Field(default=30, gt=0, le=8 * 60)
    buffer_minutes: int = Field(default=10, ge=0, le=8 * 60)
    min_notice_hours: int = Field(default=24, ge=0, le=24 * 60)
    max_per_day: int = Field(default=8, ge=0, le=100)
    default_creator_hours: str = (
        "Mon 10:00-20:00; Tue 10:00-20:00; Wed 10:00-20:00; Thu 10:00-20:00; Fri 10:00-20:00"
    )

    @field_validator("default_creator_hours")
    @classmethod
    def _hours_valid(cls, value: str) -> str:
        try:
            parse_availability(value)
        except AvailabilityError as exc:
            raise ValueError(str(exc)) from None
        return value


DEFAULT_TIERS = (
    Tier(name="S", min_revenue_30d=200_000, cadence="monthly"),
    Tier(name="A", min_revenue_30d=20_000, cadence="weekly"),
    Tier(name="B", min_revenue_30d=0, cadence="weekly"),
)


class Program(_Frozen):
    """The rules of one match program: tiers, cadences, matching rules."""

    program: ProgramInfo = ProgramInfo()
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    matching: MatchingRules = MatchingRules()
    checkins: CheckinRules = CheckinRules()

    @field_validator("tiers")
    @classmethod
    def _tiers_valid(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        if not tiers:
            raise ValueError("at least one tier is needed")
        names = [t.name.casefold() for t in tiers]
        duplicates = sorted({t.name for t in tiers if names.count(t.name.casefold()) > 1})
        if duplicates:
            raise ValueError(f"tier names must be unique; repeated: {', '.join(duplicates)}")
        return tiers

    def tier_for(self, revenue_30d: int, followers: int) -> str | None:
        """The name of the first tier whose minimums the creator meets, or None."""
        for tier in self.tiers:
            if tier.admits(revenue_30d, followers):
                return tier.name
        return None

    def tier(self, name: str) -> Tier:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    def tier_index(self, name: str) -> int:
        """The position of a tier, strongest first: what `max_tier_distance` measures."""
        return [t.name for t in self.tiers].index(name)


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_program(text: str, source: str = "program file") -> Program:
    """Read a program from TOML text; `InvalidInput` names each bad key and why."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source} is not valid TOML: {exc}") from None
    return program_from_data(data, source)


def program_from_data(data: dict[str, Any], source: str = "program file") -> Program:
    """A program from the file's keys as data (TOML read, or the Settings form's values);
    `InvalidInput` names each bad key and why, as for the file."""
    try:
        return Program.model_validate(data)
    except ValidationError as exc:
        details = []
        for err in exc.errors():
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown key (check the spelling)"
            details.append(f"{source}: {_key(tuple(err['loc'])) or '(top)'}: {message}")
        raise InvalidInput(f"{source} is invalid", details) from None


def load_program(path: Path) -> Program:
    """The program in `path`, or the defaults when the file does not exist."""
    if not path.exists():
        return Program()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text; re-save it as UTF-8") from None
    return parse_program(text, str(path))
