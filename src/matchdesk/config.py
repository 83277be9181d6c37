"""Settings, from `MATCHDESK_*` environment variables; every one has a default."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
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
        description="The program file (TOML, docs/formats.md section 2); built-in defaults "
        "when absent.",
    )
    host: str = Field(default="127.0.0.1", description="Address `matchdesk serve` binds to.")
    port: int = Field(default=8000, description="Port `matchdesk serve` listens on.")
    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` demands a real secret key and serves cookies over HTTPS only.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs sessions, CSRF tokens and creator links. Required in production; "
        "in development a random key is made once and kept in `secret_key_file`.",
    )
    secret_key_file: Path = Field(
        default=Path(".matchdesk-secret"),
        description="Where the development secret key is kept (never commit it).",
    )
    base_url: str = Field(
        default="",
        description="The app's public address, used in creator links and e-mails (e.g. "
        "`https://matchdesk.example.com`). Empty: the address the app is served on (a page's "
        "own address), or `http://HOST:PORT` for the command line.",
    )
    session_hours: int = Field(default=12, gt=0, description="How long a sign-in lasts.")
    portal_link_days: int = Field(
        default=14, gt=0, description="How long a creator's portal link stays valid."
    )
    round_inline_limit: int = Field(
        default=5000,
        ge=0,
        description="A round whose pool has at most this many creators is built inside the "
        "web request; a bigger one runs as a background job with a progress page.",
    )
    import_inline_bytes: int = Field(
        default=2 * 2**20,
        ge=0,
        description="A roster or results file of at most this many bytes uploaded in the web "
        "app is checked and imported inside the request; a bigger one is checked and imported "
        "by background jobs with a progress page.",
    )

    @model_validator(mode="after")
    def _keys_are_long_enough(self) -> Settings:
        if self.secret_key is not None:
            check_key(self.secret_key.get_secret_value(), "MATCHDESK_SECRET_KEY")
        elif self.environment == "production":
            raise ValueError(
                f"MATCHDESK_SECRET_KEY must be set ({MIN_KEY}+ characters) when "
                "MATCHDESK_ENVIRONMENT=production"
            )
        return self

    def public_url(self) -> str:
        """The address creators' links start with, without a final `/`: `base_url`, or
        `http://HOST:PORT` (loopback for a wildcard bind) when it is not set."""
        if self.base_url:
            return self.base_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    def signing_key(self) -> str:
        """The secret key; in development, one made once and kept in `secret_key_file`
        (created readable by its owner only). A key file holding a short or empty key is
        refused, never used."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.secret_key_file
        if path.exists():
            return check_key(path.read_text().strip(), str(path))
        key = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Private from the first byte: os.open with 0o600, never write-then-chmod.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(key + "\n")
        return key


MIN_KEY = 32


def check_key(key: str, where: str) -> str:
    """`key` if it is long enough to sign with; a ValueError naming `where` otherwise."""
    if len(key) < MIN_KEY:
        raise ValueError(
            f"{where} holds a key of {len(key)} characters; a signing key needs at least "
            f"{MIN_KEY} (delete the file to have a new one made, or set a longer key)"
        )
    return key


def settings_documentation() -> dict[str, str]:
    """Each setting's environment variable and its description (for the README check)."""
    return {
        f"MATCHDESK_{name.upper()}": field.description or ""
        for name, field in Settings.model_fields.items()
    }
