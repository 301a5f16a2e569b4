"""Accounts, roles, subaccount scope, sign-in, web sessions, API tokens and the audit log (SPEC 9).

Every function takes the `Engine` and runs its own short transaction. Changes are written to the
audit log in the same transaction as the change itself (`actor` says who made it: an account's
email, or `cli` for the command line). Secrets are never stored: passwords as argon2id hashes,
session cookies and API tokens as sha256 hashes; only the TOTP secret is kept, as it must be.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, get_args

import duckdb
import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from data_access.schema import (
    account,
    account_ip_allow,
    account_subaccount,
    api_token,
    api_token_subaccount,
    audit_log,
    business_number,
    sign_in_attempt,
    web_session,
)
from data_access.scope import Scope, business_number_key

Role = Literal["admin", "manager", "analyst"]
ROLES: tuple[str, ...] = get_args(Role)

MAX_FAILURES = 5  # failed sign-ins per account, or per address, before a wait
FAILURE_WINDOW = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=12)  # a session unused this long is over
SESSION_TOUCH = timedelta(minutes=1)  # last_seen_at is written at most this often
MIN_PASSWORD_LENGTH = 8
MAX_EMAIL_LENGTH = 254  # longer is not an email (RFC 5321's path limit): one generic failure
TOTP_ISSUER = "WhatsApp Detailed Report"
TOKEN_PREFIX = "wdr_"
SYSTEM_ACTOR = "cli"

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_hasher = PasswordHasher()  # argon2id with the library's recommended cost


@functools.cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so an unknown email costs what a wrong password costs."""
    return _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A value the accounts cannot take (bad email, role, CIDR, unknown account...): bad arguments."""


class AccountConflict(RuntimeError):
    """The change collides with what is stored (the account or token name exists already)."""


def _now(now: datetime | None = None) -> datetime:
    return now or datetime.now(timezone.utc)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    role: Role
    subaccounts: tuple[str, ...]
    active: bool
    totp_enabled: bool
    ip_allow: tuple[str, ...]
    has_password: bool = True

    @property
    def scope(self) -> Scope:
        """Admins see every subaccount; managers and analysts their own."""
        return Scope.ALL if self.role == "admin" else Scope(subaccounts=self.subaccounts)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


SignInReason = Literal["failed", "locked", "needs_totp", "ip_refused"]


@dataclass(frozen=True)
class SignInResult:
    """`ok` with the account, or a reason. `failed` is the one answer for an unknown email, a wrong
    password, a disabled account and a wrong TOTP code; `wait` says how long a lock lasts."""

    ok: bool
    account: Account | None = None
    reason: SignInReason | None = None
    wait: timedelta | None = None


@dataclass(frozen=True)
class ApiToken:
    name: str
    subaccounts: tuple[str, ...]  # empty: every subaccount
    created_at: datetime
    revoked_at: datetime | None

    @property
    def scope(self) -> Scope:
        return Scope(subaccounts=self.subaccounts) if self.subaccounts else Scope.ALL


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]
    address: str | None


# -- checks -------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    """The email stripped and lower-cased, if it looks like one."""
    cleaned = (email or "").strip().lower()
    if not _EMAIL.fullmatch(cleaned):
        raise AccountError(f"bad email {email!r}: give an address such as ana@example.com")
    return cleaned


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: accepted are {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def check_subaccounts(names: Iterable[str]) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(n.strip() for n in names))
    if any(not n for n in cleaned):
        raise AccountError("a subaccount name cannot be empty")
    return tuple(sorted(cleaned))


def check_cidrs(cidrs: Iterable[str]) -> tuple[str, ...]:
    """Each CIDR (or single address) in canonical form, e.g. '10.0.0.7/8' -> '10.0.0.0/8'."""
    out = []
    for text in cidrs:
        try:
            out.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError:
            raise AccountError(f"bad CIDR {text!r}: give a network such as 203.0.113.0/24 or one address") from None
    return tuple(sorted(dict.fromkeys(out)))


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password has at least {MIN_PASSWORD_LENGTH} characters")
    return password


def address_allowed(address: str | None, cidrs: Sequence[str]) -> bool:
    """Whether `address` is inside one of `cidrs` (an empty list allows every address)."""
    if not cidrs:
        return True
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(cidr) for cidr in cidrs)


# -- audit --------------------------------------------------------------------------------------


def _audit(conn: Connection, actor: str, action: str, detail: dict, address: str | None, now: datetime) -> None:
    conn.execute(
        audit_log.insert().values(
            entry_id=str(uuid.uuid4()), logged_at=now, actor=actor, action=action,
            detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str), address=address,
        )
    )


def audit(
    engine: Engine, actor: str, action: str, detail: dict, address: str | None = None, now: datetime | None = None
) -> None:
    """Writes one audit entry (exports, sign-ins and account changes write theirs themselves)."""
    with engine.begin() as conn:
        _audit(conn, actor, action, detail, address, _now(now))


def audit_entries(engine: Engine, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    """Audit entries, newest first."""
    query = (
        sa.select(audit_log)
        .order_by(audit_log.c.logged_at.desc(), audit_log.c.entry_id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        return [
            AuditEntry(r.logged_at, r.actor, r.action, json.loads(r.detail), r.address) for r in conn.execute(query)
        ]


def audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar_one())


# -- accounts -----------------------------------------------------------------------------------


def any_account(engine: Engine) -> bool:
    """Whether any account exists (until then only loopback clients are served, without sign-in)."""
    with engine.connect() as conn:
        return conn.execute(sa.select(account.c.email).limit(1)).first() is not None


def _load(conn: Connection, emails: Sequence[str] | None = None) -> list[tuple[Account, Any]]:
    query = sa.select(account).order_by(account.c.email)
    subs = sa.select(account_subaccount)
    allow = sa.select(account_ip_allow)
    if emails is not None:
        query = query.where(account.c.email.in_(emails))
        subs = subs.where(account_subaccount.c.email.in_(emails))
        allow = allow.where(account_ip_allow.c.email.in_(emails))
    subaccounts: dict[str, list[str]] = {}
    for row in conn.execute(subs):
        subaccounts.setdefault(row.email, []).append(row.subaccount)
    cidrs: dict[str, list[str]] = {}
    for row in conn.execute(allow):
        cidrs.setdefault(row.email, []).append(row.cidr)
    return [
        (
            Account(
                email=row.email,
                name=row.name,
                role=row.role,
                subaccounts=tuple(sorted(subaccounts.get(row.email, ()))),
                active=bool(row.active),
                totp_enabled=row.totp_secret is not None,
                ip_allow=tuple(sorted(cidrs.get(row.email, ()))),
                has_password=row.password_hash is not None,
            ),
            row,
        )
        for row in conn.execute(query)
    ]


def get_account(engine: Engine, email: str) -> Account | None:
    """The account of `email` (any case), active or not; None when there is none."""
    key = (email or "").strip().lower()
    with engine.connect() as conn:
        found = _load(conn, [key])
    return found[0][0] if found else None


def list_accounts(engine: Engine) -> list[Account]:
    with engine.connect() as conn:
        return [a for a, _ in _load(conn)]


def _require(conn: Connection, email: str) -> tuple[Account, Any]:
    key = normalise_email(email)
    found = _load(conn, [key])
    if not found:
        raise AccountError(f"no account {key!r}: see `python -m data_access.users list`")
    return found[0]


def _touch(conn: Connection, email: str, now: datetime, **values) -> None:
    conn.execute(account.update().where(account.c.email == email).values(updated_at=now, **values))


def add_account(
    engine: Engine,
    email: str,
    role: str,
    name: str = "",
    subaccounts: Iterable[str] = (),
    password: str | None = None,
    *,
    actor: str = SYSTEM_ACTOR,
    address: str | None = None,
    now: datetime | None = None,
) -> Account:
    """Creates an active account; without a password it can sign in through single sign-on only."""
    key = normalise_email(email)
    role = check_role(role)
    subs = check_subaccounts(subaccounts)
    hashed = _hasher.hash(check_password(password)) if password is not None else None
    now = _now(now)
    with engine.begin() as conn:
        if conn.execute(sa.select(account.c.email).where(account.c.email == key)).first():
            raise AccountConflict(f"an account {key!r} exists already")
        conn.execute(
            account.insert().values(
                email=key, name=(name or "").strip(), role=role, active=True, password_hash=hashed,
                totp_secret=None, created_at=now, updated_at=now,
            )
        )
        if subs:
            conn.execute(account_subaccount.insert(), [{"email": key, "subaccount": s} for s in subs])
        _audit(conn, actor, "account.add", {"email": key, "role": role, "subaccounts": list(subs),
                                            "password": hashed is not None}, address, now)
    return get_account(engine, key)  # type: ignore[return-value]


def set_role(engine: Engine, email: str, role: str, *, actor: str = SYSTEM_ACTOR, address: str | None = None) -> Account:
    role = check_role(role)
    now = _now()
    with engine.begin() as conn:
        current, _ = _require(conn, email)
        _touch(conn, current.email, now, role=role)
        _audit(conn, actor, "account.set_role", {"email": current.email, "from": current.role, "to": role}, address, now)
    return get_account(engine, current.email)  # type: ignore[return-value]


def _replace_list(conn: Connection, column: sa.Column, email: str, values: Sequence[str]) -> None:
    """Replaces the account's rows of a one-value-per-row table (its subaccounts, its allowed networks)."""
    table = column.table
    conn.execute(table.delete().where(table.c.email == email))
    if values:
        conn.execute(table.insert(), [{"email": email, column.name: value} for value in values])


def set_subaccounts(
    engine: Engine, email: str, subaccounts: Iterable[str], *, actor: str = SYSTEM_ACTOR, address: str | None = None
) -> Account:
    subs = check_subaccounts(subaccounts)
    now = _now()
    with engine.begin() as conn:
        current, _ = _require(conn, email)
        _replace_list(conn, account_subaccount.c.subaccount, current.email, subs)
        _touch(conn, current.email, now)
        _audit(conn, actor, "account.set_subaccounts",
               {"email": current.email, "from": list(current.subaccounts), "to": list(subs)}, address, now)
    return get_account(engine, current.email)  # type: ignore[return-value]


def _end_sessions(conn: Connection, email: str, now: datetime) -> None:
    """Ends every open session of the account (it was disabled or its password changed)."""
    conn.execute(
        web_session.update().where(web_session.c.email == email, web_session.c.ended_at.is_(None)).values(ended_at=now)
    )


def disable(engine: Engine, email: str, *, actor: str = SYSTEM_ACTOR, address: str | None = None) -> Account:
    """Deactivates the account and ends its sessions (the row stays, for the audit log)."""
    now = _now()
    with engine.begin() as conn:
        current, _ = _require(conn, email)
        _touch(conn, current.email, now, active=False)
        _end_sessions(conn, current.email, now)
        _audit(conn, actor, "account.disable", {"email": current.email}, address, now)
    return get_account(engine, current.email)  # type: ignore[return-value]


def set_password(
    engine: Engine, email: str, password: str, *, actor: str = SYSTEM_ACTOR, address: str | None = None
) -> Account:
    """Replaces the password and ends the account's sessions."""
    hashed = _hasher.hash(check_password(password))
    now = _now()
    with engine.begin() as conn:
        current, _ = _require(conn, email)
        _touch(conn, current.email, now, password_hash=hashed)
        _end_sessions(conn, current.email, now)
        _audit(conn, actor, "account.set_password", {"email": current.email}, address, now)
    return get_account(engine, current.email)  # type: ignore[return-value]


def set_totp(
    engine: Engine, email: str, on: bool, *, actor: str = SYSTEM_ACTOR, address: str | None = None
) -> str | None:
    """Turns two-step verification on (a new secret, returned for enrolment) or off (None)."""
    secret = pyotp.random_base32() if on else None
    now = _now()
    with engine.begin() as conn:
        current, _ = _require(conn, email)
        _touch(conn, current.email, now, totp_secret=secret, totp_last_step=None)
        _audit(conn, actor, "account.totp", {"email": current.email, "on": on}, address, now)
    return secret


def totp_uri(email: str, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads (as text or as a QR code)."""
    return pyotp.TOTP(secret).provisioning_uri(name=email.strip().lower(), issuer_name=TOTP_ISSUER)


def allow_ip(
    engine: Engine, email: str, cidrs: Iterable[str], *, actor: str = SYSTEM_ACTOR, address: str | None = None
) -> Account:
    """Replaces the account's IP allow-list (an empty list lifts the restriction)."""
    networks = check_cidrs(cidrs)
    now = _now()
    with engine.begin() as conn:
        current, _ = _require(conn, email)
        _replace_list(conn, account_ip_allow.c.cidr, current.email, networks)
        _touch(conn, current.email, now)
        _audit(conn, actor, "account.allow_ip",
               {"email": current.email, "from": list(current.ip_allow), "to": list(networks)}, address, now)
    return get_account(engine, current.email)  # type: ignore[return-value]


# -- sign-in ------------------------------------------------------------------------------------


def _wait(conn: Connection, column: sa.Column, value: str, now: datetime) -> timedelta | None:
    """How long until fewer than MAX_FAILURES failures of `value` fall in the window since its last
    success; None when it is not locked."""
    since = now - FAILURE_WINDOW
    last_ok = conn.execute(
        sa.select(sa.func.max(sign_in_attempt.c.attempted_at)).where(column == value, sign_in_attempt.c.ok)
    ).scalar()
    if last_ok is not None and last_ok > since:
        since = last_ok
    failures = conn.execute(
        sa.select(sign_in_attempt.c.attempted_at)
        .where(column == value, sign_in_attempt.c.attempted_at > since, sign_in_attempt.c.attempted_at <= now,
               sa.not_(sign_in_attempt.c.ok))
        .order_by(sign_in_attempt.c.attempted_at.desc())
        .limit(MAX_FAILURES)
    ).scalars().all()
    if len(failures) < MAX_FAILURES:
        return None
    return failures[-1] + FAILURE_WINDOW - now


def _attempt(conn: Connection, email: str, address: str | None, ok: bool, now: datetime) -> None:
    conn.execute(
        sign_in_attempt.insert().values(attempt_id=str(uuid.uuid4()), email=email, address=address, ok=ok, attempted_at=now)
    )


def sign_in(
    engine: Engine,
    email: str,
    password: str,
    address: str | None,
    totp_code: str | None = None,
    now: datetime | None = None,
) -> SignInResult:
    """Checks a sign-in by password (SPEC 9 sign-in safety) and records the attempt and its audit entry.

    Order: a lock (5 failures for the email or the address in 15 minutes) answers `locked` before
    anything is checked; an unknown email, a wrong password and a disabled account all answer
    `failed`; then the IP allow-list (`ip_refused`), then the TOTP code (`needs_totp` when none was
    given, `failed` when wrong). Every answer but `needs_totp` is recorded.
    """
    now = _now(now)
    typed = (email or "").strip().lower()
    key = typed[:MAX_EMAIL_LENGTH]  # what is looked up, recorded and audited: never more than an email
    with engine.begin() as conn:
        waits = [_wait(conn, sign_in_attempt.c.email, key, now)]
        if address:
            waits.append(_wait(conn, sign_in_attempt.c.address, address, now))
        wait = max((w for w in waits if w is not None), default=None)
        if wait is not None:
            _audit(conn, key, "sign_in.locked", {"email": key}, address, now)
            return SignInResult(ok=False, reason="locked", wait=wait)
        found = _load(conn, [key]) if len(typed) <= MAX_EMAIL_LENGTH else []
        current, row = found[0] if found else (None, None)
        stored = row.password_hash if row is not None and row.password_hash else None
        try:
            verified = _hasher.verify(stored or _dummy_hash(), password or "") and stored is not None
        except (VerificationError, InvalidHashError):
            verified = False
        result: SignInResult
        if not verified or current is None or not current.active:
            result = SignInResult(ok=False, reason="failed")
        elif not address_allowed(address, current.ip_allow):
            result = SignInResult(ok=False, reason="ip_refused")
        elif row.totp_secret and not totp_code:
            return SignInResult(ok=False, reason="needs_totp")
        elif row.totp_secret and (step := _totp_step(row.totp_secret, str(totp_code), now)) is None:
            result = SignInResult(ok=False, reason="failed")
        elif row.totp_secret and row.totp_last_step is not None and step <= row.totp_last_step:
            result = SignInResult(ok=False, reason="failed")  # a code already used (or older): a replay
        elif row.totp_secret and not _use_totp_step(conn, key, step):
            result = SignInResult(ok=False, reason="failed")  # a parallel sign-in used this code first
        else:
            result = SignInResult(ok=True, account=current)
            if _hasher.check_needs_rehash(row.password_hash):
                _touch(conn, key, now, password_hash=_hasher.hash(password))
        _attempt(conn, key, address, result.ok, now)
        detail = {"email": key, "method": "password"} | ({} if result.ok else {"reason": result.reason})
        _audit(conn, key, "sign_in" if result.ok else "sign_in.failed", detail, address, now)
        return result


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step (30 s) of the window around `now` (one step each side) whose code is `code`; None
    when no step of the window has it."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    code = code.strip()
    for step in (current - 1, current, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_totp_step(conn: Connection, email: str, step: int) -> bool:
    """Records `step` as used unless it or a later one already is (one winner among parallel sign-ins)."""
    used = conn.execute(
        account.update()
        .where(account.c.email == email,
               sa.or_(account.c.totp_last_step.is_(None), account.c.totp_last_step < step))
        .values(totp_last_step=step)
    )
    return used.rowcount == 1


def verified_sso_email(claims: Mapping[str, Any]) -> str:
    """The email of a single sign-on identity, lower-cased; empty (an unknown identity) when the
    provider says the email is not verified (`email_verified` false)."""
    verified = claims.get("email_verified", True)
    if not (verified is True or str(verified).lower() == "true"):
        return ""
    return str(claims.get("email") or "").strip().lower()[:MAX_EMAIL_LENGTH]


def sign_in_sso(
    engine: Engine, email: str, address: str | None, now: datetime | None = None, *, verified: bool = True
) -> SignInResult:
    """Single sign-on: the provider proved the identity; its email must be verified by the provider
    (else it is refused like an unknown identity) and an active account, and the IP allow-list still
    applies. Recorded and audited like a password sign-in."""
    now = _now(now)
    key = (email or "").strip().lower()[:MAX_EMAIL_LENGTH]
    with engine.begin() as conn:
        found = _load(conn, [key]) if verified else []
        current = found[0][0] if found else None
        if current is None or not current.active:
            result = SignInResult(ok=False, reason="failed")
        elif not address_allowed(address, current.ip_allow):
            result = SignInResult(ok=False, reason="ip_refused")
        else:
            result = SignInResult(ok=True, account=current)
        _attempt(conn, key, address, result.ok, now)
        detail = {"email": key, "method": "sso"} | ({} if result.ok else {"reason": result.reason})
        _audit(conn, key, "sign_in" if result.ok else "sign_in.failed", detail, address, now)
        return result


# -- web sessions -------------------------------------------------------------------------------


def create_session(engine: Engine, email: str, now: datetime | None = None) -> str:
    """A new session for a signed-in account: the token goes in the cookie, only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = _now(now)
    with engine.begin() as conn:
        conn.execute(
            web_session.insert().values(
                session_hash=_sha256(token), email=email.strip().lower(), created_at=now, last_seen_at=now,
                ended_at=None,
            )
        )
    return token


def session_account(engine: Engine, token: str | None, now: datetime | None = None) -> Account | None:
    """The account of a session cookie, or None when the session is unknown, ended, idle for
    SESSION_IDLE (it is then ended) or its account is disabled. Marks the session as used."""
    if not token:
        return None
    now = _now(now)
    digest = _sha256(token)
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(web_session).where(web_session.c.session_hash == digest, web_session.c.ended_at.is_(None))
        ).first()
        if row is None:
            return None
        idle = now - row.last_seen_at >= SESSION_IDLE
        found = [] if idle else _load(conn, [row.email])
    if idle:
        _best_effort(engine, web_session.update().where(web_session.c.session_hash == digest).values(ended_at=now))
        return None
    if not found or not found[0][0].active:
        return None
    if now - row.last_seen_at >= SESSION_TOUCH:
        _best_effort(engine, web_session.update().where(web_session.c.session_hash == digest).values(last_seen_at=now))
    return found[0][0]


def _best_effort(engine: Engine, statement: sa.Update) -> None:
    """Runs a session bookkeeping write in its own transaction. Parallel requests with one cookie write
    the same row: PostgreSQL makes the second wait, DuckDB refuses it ("Conflict on update"), and then
    the first one's write stands for both, so that refusal, and only it, is let go."""
    try:
        with engine.begin() as conn:
            conn.execute(statement)
    except DBAPIError as error:
        if not _is_write_conflict(error):
            raise


def _is_write_conflict(error: DBAPIError) -> bool:
    return isinstance(error.orig, duckdb.TransactionException) and "conflict" in str(error.orig).lower()


def end_session(engine: Engine, token: str | None, now: datetime | None = None) -> None:
    """Signs out: the session can no longer be used."""
    if not token:
        return
    now = _now(now)
    with engine.begin() as conn:
        row = conn.execute(
            sa.select(web_session.c.email).where(
                web_session.c.session_hash == _sha256(token), web_session.c.ended_at.is_(None)
            )
        ).first()
        if row is None:
            return
        conn.execute(web_session.update().where(web_session.c.session_hash == _sha256(token)).values(ended_at=now))
        _audit(conn, row.email, "sign_out", {"email": row.email}, None, now)


# -- API tokens (system users) ------------------------------------------------------------------


def create_token(
    engine: Engine, name: str, subaccounts: Iterable[str] = (), *, actor: str = SYSTEM_ACTOR,
    address: str | None = None, now: datetime | None = None,
) -> str:
    """A new named token with a scope (no subaccount: every one). The plain token is returned once;
    only its sha256 is stored."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise AccountError("a token needs a name")
    subs = check_subaccounts(subaccounts)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now(now)
    with engine.begin() as conn:
        if conn.execute(sa.select(api_token.c.name).where(api_token.c.name == cleaned)).first():
            raise AccountConflict(f"a token named {cleaned!r} exists already: choose another name")
        conn.execute(api_token.insert().values(name=cleaned, token_hash=_sha256(plain), created_at=now, revoked_at=None))
        if subs:
            conn.execute(api_token_subaccount.insert(), [{"name": cleaned, "subaccount": s} for s in subs])
        _audit(conn, actor, "token.create", {"name": cleaned, "subaccounts": list(subs)}, address, now)
    return plain


def list_tokens(engine: Engine) -> list[ApiToken]:
    with engine.connect() as conn:
        subs: dict[str, list[str]] = {}
        for row in conn.execute(sa.select(api_token_subaccount)):
            subs.setdefault(row.name, []).append(row.subaccount)
        return [
            ApiToken(r.name, tuple(sorted(subs.get(r.name, ()))), r.created_at, r.revoked_at)
            for r in conn.execute(sa.select(api_token).order_by(api_token.c.name))
        ]


def revoke_token(engine: Engine, name: str, *, actor: str = SYSTEM_ACTOR, address: str | None = None) -> None:
    now = _now()
    with engine.begin() as conn:
        row = conn.execute(sa.select(api_token).where(api_token.c.name == (name or "").strip())).first()
        if row is None:
            raise AccountError(f"no token named {name!r}: see `python -m data_access.users token list`")
        if row.revoked_at is None:
            conn.execute(api_token.update().where(api_token.c.name == row.name).values(revoked_at=now))
        _audit(conn, actor, "token.revoke", {"name": row.name}, address, now)


def token_scope(engine: Engine, plain: str | None) -> Scope | None:
    """The scope of a presented token; None when unknown or revoked."""
    if not plain:
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(api_token.c.name).where(api_token.c.token_hash == _sha256(plain), api_token.c.revoked_at.is_(None))
        ).first()
        if row is None:
            return None
        subs = tuple(
            conn.execute(
                sa.select(api_token_subaccount.c.subaccount).where(api_token_subaccount.c.name == row.name)
            ).scalars()
        )
    return Scope(subaccounts=subs) if subs else Scope.ALL


# -- business numbers ---------------------------------------------------------------------------


def business_numbers(engine: Engine) -> dict[str, str]:
    """Business number -> the subaccount that owns it."""
    with engine.connect() as conn:
        return {r.number: r.subaccount for r in conn.execute(sa.select(business_number).order_by(business_number.c.number))}


def set_business_number(
    engine: Engine, number: str, subaccount: str | None, *, actor: str = SYSTEM_ACTOR, address: str | None = None
) -> None:
    """Maps a business number to a subaccount (None removes the mapping)."""
    key = business_number_key(number)
    if key is None:
        raise AccountError("a business number cannot be empty")
    now = _now()
    with engine.begin() as conn:
        conn.execute(business_number.delete().where(business_number.c.number == key))
        if subaccount is not None:
            (sub,) = check_subaccounts([subaccount])
            conn.execute(business_number.insert().values(number=key, subaccount=sub))
        _audit(conn, actor, "business_number.set", {"number": key, "subaccount": subaccount}, address, now)


def audit_export(
    engine: Engine, actor: str, filters: Any, fmt: str, rows: int, address: str | None = None, via: str = "page"
) -> None:
    """Audits one export: who, which view, its filters (as URL parameters), format and rows written."""
    audit(engine, actor, "export",
          {"view": filters.view, "filters": filters.to_params(), "format": fmt, "rows": rows, "via": via}, address)
