"""Operators and API tokens: create, authenticate (with throttling), revoke.
The caller owns the transaction."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from matchdesk import clock as wall_clock
from matchdesk.accounts.hashing import HASHING, HashingBusy
from matchdesk.accounts.models import ApiToken, LoginThrottle, Operator, OperatorSession
from matchdesk.accounts.roles import ROLES, Role
from matchdesk.errors import Conflict, InvalidInput, MatchdeskError, NotFound
from matchdesk.roster.importing import deliverable_email
from matchdesk.tabular import CONTROL

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
    return wall_clock.now()


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


MAX_NAME = 100  # operators.name and api_tokens.name


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not deliverable_email(value):
        shown = CONTROL.sub("?", email.strip()[:60])
        raise InvalidInput(f"'{shown}' is not a valid e-mail address")
    return value


def _check_name(name: str, what: str) -> str:
    value = name.strip()
    if len(value) > MAX_NAME:
        raise InvalidInput(f"the {what} is too long ({len(value)} characters; at most {MAX_NAME})")
    if CONTROL.search(value):
        raise InvalidInput(f"the {what} contains a control character (such as NUL or a tab)")
    return value


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidInput(f"'{role}' is not a role (use {', '.join(ROLES)})")
    return role


MAX_PASSWORD = 1024  # argon2 takes any length; this bounds the work a request can ask for


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"the password must have at most {MAX_PASSWORD} characters")
    if "\x00" in password:
        raise InvalidInput("the password contains a NUL character")


def create_operator(
    session: Session, email: str, password: str, role: str, name: str = ""
) -> Operator:
    """A new operator with an argon2-hashed password; refuses a taken e-mail."""
    address = normalize_email(email)
    _check_role(role)
    _check_password(password)
    name = _check_name(name, "name")
    if session.scalar(select(Operator.id).where(Operator.email == address)) is not None:
        raise Conflict(f"an operator with e-mail {address} already exists")
    operator = Operator(
        email=address,
        name=name.strip(),
        password_hash=HASHING.run(_HASHER.hash, password),
        role=role,
    )
    session.add(operator)
    session.flush()
    return operator


MAX_CLIENT_FAILURES = 20  # wrong passwords from one address within LOCK_MINUTES


def set_password(session: Session, operator: Operator, password: str) -> None:
    """A new password: lifts the account's sign-in lock and ends every session of the
    operator (a copied cookie must not outlive a password change)."""
    _check_password(password)
    operator.password_hash = HASHING.run(_HASHER.hash, password)
    operator.failed_logins = 0
    operator.locked_until = None
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == _account_key(operator.email)))
    session.execute(delete(OperatorSession).where(OperatorSession.operator_id == operator.id))
    session.flush()


def _account_key(email: str) -> str:
    # Hashed, so any string a client sends fits the column and no address is stored.
    return "account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _client_key(client: str) -> str:
    return "ip:" + client[:90]


def _locked(session: Session, key: str, now: datetime) -> datetime | None:
    row = session.get(LoginThrottle, key)
    if row is not None and row.locked_until and _aware(row.locked_until) > now:
        return _aware(row.locked_until)
    return None


def _count_failure(session: Session, key: str, limit: int, now: datetime) -> None:
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, window_start=now)
        session.add(row)
    elif _aware(row.window_start) < now - timedelta(minutes=LOCK_MINUTES):
        row.failures, row.window_start, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit:
        row.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        row.failures, row.window_start = 0, now
    session.flush()


def _throttled(until: datetime, now: datetime) -> SignInThrottled:
    minutes = max(1, -(-int((until - now).total_seconds()) // 60))
    return SignInThrottled(
        f"too many failed attempts; try again in {minutes} minute{'s' if minutes > 1 else ''}"
    )


def client_locked_until(session: Session, client: str) -> datetime | None:
    """Until when sign-ins from the client address `client` are refused, or None."""
    return _locked(session, _client_key(client or "unknown"), _now())


@dataclass(frozen=True)
class SignInAttempt:
    """What a sign-in's first step read: the keys its failures count under, and the
    operator (if the e-mail is an active one) with the hash to check the password against."""

    account_key: str
    client_key: str
    now: datetime
    operator_id: int | None
    password_hash: str


def begin_sign_in(
    session: Session,
    email: str,
    password: str,
    client: str = "",
    known_device: Callable[[Operator], bool] | None = None,
) -> SignInAttempt:
    """The first step of `authenticate`: refuses a locked e-mail or client address at once
    (`SignInThrottled`, before any password is checked) unless the browser is a known
    device of the operator; else what `check_password` and `finish_sign_in` need."""
    now = _now()
    address = email.strip().lower()
    account_key, client_key = _account_key(address), _client_key(client or "unknown")
    locked = _locked(session, account_key, now) or _locked(session, client_key, now)
    usable = len(address) <= 254 and "\x00" not in address and 0 < len(password) <= MAX_PASSWORD
    operator = session.scalar(select(Operator).where(Operator.email == address)) if usable else None
    if operator is not None and not operator.active:
        operator = None
    if locked and not (operator is not None and known_device and known_device(operator)):
        raise _throttled(locked, now)
    if operator is None:  # a wrong address takes as long as a wrong password
        return SignInAttempt(account_key, client_key, now, None, _DUMMY_HASH)
    return SignInAttempt(account_key, client_key, now, operator.id, operator.password_hash)


class SignInBusy(SignInRefused):
    code = "sign_in_busy"
    status = 429


def check_password(attempt: SignInAttempt, password: str) -> bool:
    """Whether `password` is the attempt's operator's (argon2, in the hashing thread). No
    database: the caller holds no connection while it runs. `SignInBusy` when too many
    checks wait already (a storm): nothing is counted, the sign-in may be tried again."""
    try:
        verified = HASHING.run(
            _HASHER.verify, attempt.password_hash, password[:MAX_PASSWORD], busy_refused=True
        )
    except (VerificationError, InvalidHashError):
        return False
    except HashingBusy:
        raise SignInBusy("too many sign-ins at once; try again in a minute") from None
    return bool(verified) and attempt.operator_id is not None


def finish_sign_in(
    session: Session, attempt: SignInAttempt, password: str, verified: bool
) -> Operator:
    """The last step of `authenticate`: a wrong password is counted (per e-mail and per
    client address) and refused; a right one clears the e-mail's count."""
    operator = session.get(Operator, attempt.operator_id) if attempt.operator_id else None
    if not verified or operator is None or operator.password_hash != attempt.password_hash:
        _count_failure(session, attempt.account_key, MAX_FAILURES, attempt.now)
        _count_failure(session, attempt.client_key, MAX_CLIENT_FAILURES, attempt.now)
        raise SignInRefused("wrong e-mail or password")
    if _HASHER.check_needs_rehash(operator.password_hash):
        operator.password_hash = HASHING.run(_HASHER.hash, password)
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == attempt.account_key))
    operator.failed_logins = 0
    operator.locked_until = None
    operator.last_login_at = attempt.now
    session.flush()
    return operator


def authenticate(
    session: Session,
    email: str,
    password: str,
    client: str = "",
    known_device: Callable[[Operator], bool] | None = None,
) -> Operator:
    """The operator with this e-mail and password.

    Wrong passwords are counted per e-mail address (`MAX_FAILURES`, known or not, so the
    answers say nothing about which accounts exist) and per client address
    (`MAX_CLIENT_FAILURES`); past either the sign-in is refused for `LOCK_MINUTES` before
    any password is checked. A device the operator signed in from before
    (`known_device`) passes a lock with the right password, so a lock cannot keep the
    owner out. The web app runs the three steps in two transactions, so that no database
    connection waits on argon2."""
    attempt = begin_sign_in(session, email, password, client, known_device)
    return finish_sign_in(session, attempt, password, check_password(attempt, password))


def device_mark(operator: Operator) -> str:
    """What a known-device cookie signs for this operator: it stops matching when the
    password changes."""
    return hashlib.sha256(f"{operator.id}:{operator.password_hash}".encode()).hexdigest()[:32]


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
    name = _check_name(name, "token's name")
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
