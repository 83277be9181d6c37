"""Settings, from `MATCHDESK_*` environment variables; every one has a default."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The settings of one matchdesk process. Built at start, never at import."""

    model_config = SettingsConfigDict(env_prefix="MATCHDESK_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///matchdesk.db",
        description="SQLAlchemy URL of the database; a SQLite file in the working directory "
        "by default, `postgresql+psycopg://user@host/db` in production.",
    )
    program: Path = Field(
        default=Path("matchdesk.toml"),
        description="The program file (TOML, SPEC section 2); built-in defaults when absent.",
    )
    host: str = Field(default="127.0.0.1", description="Address `matchdesk serve` binds to.")
    port: int = Field(default=8000, description="Port `matchdesk serve` listens on.")


def settings_documentation() -> dict[str, str]:
    """Each setting's environment variable and its description (for the README check)."""
    return {
        f"MATCHDESK_{name.upper()}": field.description or ""
        for name, field in Settings.model_fields.items()
    }
