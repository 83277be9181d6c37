"""Operators and API tokens: create, authenticate (with throttling), revoke.
The caller owns the transaction."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from matchdesk.accounts.models import ApiToken, Operator, OperatorSession
from matchdesk.accounts.roles import ROLES, Role
from matchdesk.errors import Conflict, InvalidInput, MatchdeskError, NotFound
from matchdesk.roster.importing import EMAIL_RE

_HASHER = PasswordHasher()
# Verified against unknown e-mails so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a real password")
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 10


class SignInRefused(MatchdeskError):
    """Wrong e-mail or password, or too many attempts; the message never says which part
    was wrong."""

    code = "sign_in_refused"
    status = 401


class SignInThrottled(SignInRefused):
    code = "too_many_attempts"
    status = 429


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not EMAIL_RE.fullmatch(value):
        raise InvalidInput(f"'{email.strip()}' is not a valid e-mail address")
    return value


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidInput(f"'{role}' is not a role (use {', '.join(ROLES)})")
    return role


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")


def create_operator(
    session: Session, email: str, password: str, role: str, name: str = ""
) -> Operator:
    """A new operator with an argon2-hashed password; refuses a taken e-mail."""
    address = normalize_email(email)
    _check_role(role)
    _check_password(password)
    if session.scalar(select(Operator.id).where(Operator.email == address)) is not None:
        raise Conflict(f"an operator with e-mail {address} already exists")
    operator = Operator(
        email=address, name=name.strip(), password_hash=_HASHER.hash(password), role=role
    )
    session.add(operator)
    session.flush()
    return operator


def set_password(session: Session, operator: Operator, password: str) -> None:
    _check_password(password)
    operator.password_hash = _HASHER.hash(password)
    operator.failed_logins = 0
    operator.locked_until = None


def authenticate(session: Session, email: str, password: str) -> Operator:
    """The operator with this e-mail and password. After `MAX_FAILURES` wrong passwords in a
    row the account is locked for `LOCK_MINUTES`, even for the right password."""
    now = _now()
    operator = session.scalar(select(Operator).where(Operator.email == email.strip().lower()))
    if operator is None or not operator.active:
        with contextlib.suppress(VerificationError):
            _HASHER.verify(_DUMMY_HASH, password)
        raise SignInRefused("wrong e-mail or password")
    if operator.locked_until and _aware(operator.locked_until) > now:
        minutes = -(-int((_aware(operator.locked_until) - now).total_seconds()) // 60)
        raise SignInThrottled(
            f"too many failed attempts; try again in {minutes} minute{'s' if minutes > 1 else ''}"
        )
    try:
        _HASHER.verify(operator.password_hash, password)
    except (VerificationError, InvalidHashError):
        operator.failed_logins += 1
        if operator.failed_logins >= MAX_FAILURES:
            operator.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            operator.failed_logins = 0
        session.flush()
        raise SignInRefused("wrong e-mail or password") from None
    if _HASHER.check_needs_rehash(operator.password_hash):
        operator.password_hash = _HASHER.hash(password)
    operator.failed_logins = 0
    operator.locked_until = None
    operator.last_login_at = now
    session.flush()
    return operator


def start_session(session: Session, operator_id: int, hours: int) -> str:
    """A new signed-in session for the operator; returns the id for the cookie (only its
    hash is stored). Expired sessions are swept on the way."""
    now = _now()
    session.execute(delete(OperatorSession).where(OperatorSession.expires_at < now))
    sid = secrets.token_urlsafe(32)
    session.add(
        OperatorSession(
            id_hash=_token_hash(sid),
            operator_id=operator_id,
            expires_at=now + timedelta(hours=hours),
        )
    )
    session.flush()
    return sid


def end_session(session: Session, sid: str) -> None:
    session.execute(delete(OperatorSession).where(OperatorSession.id_hash == _token_hash(sid)))


def session_identity(session: Session, sid: str) -> tuple[int, str, str] | None:
    """(id, e-mail, role) of the active operator behind a live session, or None. Checked on
    every signed-in request, so a sign-out, a changed role or a deactivated account takes
    effect at once."""
    row = session.execute(
        select(Operator.id, Operator.email, Operator.role)
        .join(OperatorSession, OperatorSession.operator_id == Operator.id)
        .where(
            OperatorSession.id_hash == _token_hash(sid),
            OperatorSession.expires_at > _now(),
            Operator.active.is_(True),
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


def find_operator(session: Session, email: str) -> Operator:
    operator = session.scalar(select(Operator).where(Operator.email == email.strip().lower()))
    if operator is None:
        raise NotFound(f"no operator with e-mail {email.strip().lower()}")
    return operator


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.email)))


def count_operators(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Operator)) or 0)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    """A new token: `token` is shown once and never stored."""

    record: ApiToken
    token: str


def create_token(
    session: Session, name: str, role: str, created_by: int | None = None
) -> IssuedToken:
    _check_role(role)
    if not name.strip():
        raise InvalidInput("a token needs a name (what it is for)")
    token = "mdk_" + secrets.token_urlsafe(32)
    record = ApiToken(
        name=name.strip()[:100],
        prefix=token[:12],
        token_hash=_token_hash(token),
        role=role,
        created_by=created_by,
    )
    session.add(record)
    session.flush()
    return IssuedToken(record, token)


def verify_token(session: Session, token: str) -> ApiToken | None:
    """The live token record for a presented bearer token, or None."""
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if record is None or record.revoked_at is not None:
        return None
    record.last_used_at = _now()
    return record


def revoke_token(session: Session, token_id: int) -> ApiToken:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise NotFound(f"no API token with id {token_id}")
    if record.revoked_at is None:
        record.revoked_at = _now()
    session.flush()
    return record


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc())))
