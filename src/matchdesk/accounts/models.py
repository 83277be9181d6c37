"""Operators and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from matchdesk.db import Base
from matchdesk.roster.models import utcnow

ROLE_CHECK = "role IN ('admin', 'manager', 'viewer')"


class Operator(Base):
    """A signed-in user of the ops side. `failed_logins` and `locked_until` throttle
    password guessing per account."""

    __tablename__ = "operators"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Check-ins (issue 11): working hours as weekly windows on `timezone`'s clock
    # (availability syntax; "" none yet), and the version signed into the calendar feed URL.
    timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")
    working_hours: Mapped[str] = mapped_column(String(2000), default="", server_default="")
    feed_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The zone this operator reads times in (Settings, issue 13); "" the program's zone.
    display_timezone: Mapped[str] = mapped_column(String(64), default="", server_default="")


class ApiToken(Base):
    """A bearer token for integrations. Only its SHA-256 is stored (the token is 256 random
    bits, so a fast hash is enough); `prefix` lets people tell tokens apart."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(ROLE_CHECK, name="role_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("operators.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OperatorSession(Base):
    """A signed-in browser. The cookie holds only a random id whose SHA-256 is stored
    here, so signing out (or an admin removing the row) ends the session on the server:
    a copied cookie stops working too."""

    __tablename__ = "operator_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(
        ForeignKey("operators.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class LoginThrottle(Base):
    """Failed sign-ins of one client address or one account (`key`: "ip:<address>" or
    "account:<sha256 of the e-mail>", so unknown addresses are counted like real ones)
    within the window that began at `window_start`."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
