"""Users, passwords, API tokens and login throttling."""
from __future__ import annotations

import gzip
import hashlib
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from opsroom import clock
from opsroom.db import RowRead
from opsroom.settings import settings_of
from opsroom.models import Anchor, ApiToken, LoginFailure, LoginSession, Tenant, User
from opsroom.domain.statuses import ROLES
from opsroom.services.errors import NotFound, TooManyAttempts, ValidationFailed
from opsroom.services.permissions import require
from opsroom.services.transaction import transactional

# NIST SP 800-63B: a minimum length, a generous maximum, no composition rules,
# and a check against commonly used passwords.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128  # the login form takes up to 200
COMMON_PASSWORDS = Path(__file__).resolve().parents[2] / "data" / "common-passwords.txt.gz"


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The shipped list (opsroom/data/README.txt says where it comes from)."""
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as f:
        return frozenset(line.strip() for line in f if line.strip())


def password_problem(password: str | None):
    """Why `password` may not be used (a translatable message), or None when it may."""
    password = password or ""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _l("The password may have at most %(n)d characters.", n=MAX_PASSWORD_LENGTH)
    if "\x00" in password:
        return _l("The password may not contain a NUL character.")
    common = _common_passwords()
    if len(set(password)) == 1 or any(p in common for p in (password, password.lower(), password.strip().lower())):
        return _l("This password is too common: choose one that others are unlikely to use.")
    return None


def _method(session: so.Session) -> str:
    """werkzeug's scrypt, at the cost set in the settings (tests use a cheaper one)."""
    return settings_of(session).password_hash_method


_dummy_hashes: dict[str, str] = {}


def _dummy_hash(session: so.Session) -> str:
    """A hash no password matches, checked for unknown emails so that the
    response time does not tell which accounts exist (made once per method,
    so an unknown email costs one scrypt, like a real one)."""
    method = _method(session)
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy_hashes[method]


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


@transactional
def create_user(session: so.Session, *, email: str, role: str, password: str, name: str = "",
                tenant_id: int | None = None) -> User:
    """Create a user with a scrypt-hashed password. Emails are unique, case-insensitively.

    A tenant's account (role "tenant") names its tenant; no other role has one.
    """
    email = normalize_email(email)
    errors = []
    if "@" not in email or len(email) > 254:
        errors.append({"field": "email", "message": _l("Enter a valid email address.")})
    if role not in ROLES:
        errors.append({"field": "role", "message": _l("Unknown role.")})
    if role == "tenant":
        if tenant_id is None:
            errors.append({"field": "tenant_id", "message": _l("A tenant's account needs its tenant.")})
        elif session.get(Tenant, tenant_id) is None:
            errors.append({"field": "tenant_id", "message": _l("No such tenant.")})
    elif tenant_id is not None:
        errors.append({"field": "tenant_id", "message": _l("Only a tenant's account belongs to a tenant.")})
    problem = password_problem(password)
    if problem is not None:
        errors.append({"field": "password", "message": problem})
    if not errors and session.scalar(sa.select(User.id).where(User.email == email)):
        errors.append({"field": "email", "message": _l("A user with this email exists already.")})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    user = User(
        email=email,
        role=role,
        tenant_id=tenant_id if role == "tenant" else None,
        name=name or email.split("@")[0],
        password_hash=generate_password_hash(password, method=_method(session)),
    )
    session.add(user)
    session.flush()
    return user


@transactional
def create_tenant_account(session: so.Session, actor, tenant_id: int, *, email: str, name: str,
                          password: str) -> User:
    """An admin makes a tenant's account (商家账号): role "tenant", bound to the tenant."""
    require(actor, "users.admin")
    return create_user(session, email=email, role="tenant", password=password, name=name, tenant_id=tenant_id)


def tenant_accounts(session: so.Session, actor, tenant_id: int) -> list[User]:
    """The accounts of a tenant (admins)."""
    require(actor, "users.admin")
    return list(session.scalars(sa.select(User).where(User.tenant_id == tenant_id).order_by(User.email)))


def _failure_count(session: so.Session, key: str, since) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure).where(LoginFailure.key == key, LoginFailure.at >= since)
    )


@transactional
def authenticate(session: so.Session, email: str, password: str, *, ip: str) -> User | None:
    """Check a login. Refuses while an account or an IP has too many recent failures.

    Failures are rows in the database, so the limit holds across every worker
    process and host. Returns the user, or None for wrong credentials (after
    recording the failure).
    """
    email = normalize_email(email)
    now = clock.now()
    settings = settings_of(session)
    since = now - timedelta(seconds=settings.login_failure_window_seconds)
    account_key, ip_key = f"account:{email}", f"ip:{ip}"
    if (
        _failure_count(session, account_key, since) >= settings.login_max_failures_per_account
        or _failure_count(session, ip_key, since) >= settings.login_max_failures_per_ip
    ):
        raise TooManyAttempts(_l("Too many failed logins. Please wait a few minutes and try again."))
    user = session.scalar(sa.select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _dummy_hash(session), password or "")
    if ok and user is not None and user.active:
        session.execute(sa.delete(LoginFailure).where(LoginFailure.key == account_key))
        return user
    session.add_all([LoginFailure(key=account_key, at=now), LoginFailure(key=ip_key, at=now)])
    # Old rows are useless: prune them as we go, so the table stays small.
    session.execute(sa.delete(LoginFailure).where(LoginFailure.at < since))
    return None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def create_token(session: so.Session, user: User, label: str = "") -> str:
    """A new API token for `user`; only its SHA-256 is stored. Returns the token."""
    token = "ops_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label[:100]))
    session.flush()
    return token


# One prepared statement for every API request: the token's user and the id of
# the anchor profile linked to it (GET /me shows it; other requests ignore it).
# Built once, so a request pays neither the statement's construction nor a
# second round trip; the token row is read each time, so a revocation (or a
# deactivated user) takes effect at the very next request.
_TOKEN_USER = (
    sa.select(User, sa.select(Anchor.id).where(Anchor.user_id == User.id).scalar_subquery().label("anchor_id"))
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def principal_for_token(session: so.Session, token: str) -> tuple[User, int | None] | None:
    """The active user behind an unrevoked API token and their linked anchor's id, or None."""
    if not token:
        return None
    row = session.execute(_TOKEN_USER, {"token_hash": hash_token(token)}).first()
    if row is None or not row[0].active:
        return None
    return row[0], row[1]


# The same lookup as plain columns, for a request that needs no ORM session:
# the user is built from the row, detached (see `token_principal`).
_USER_COLUMNS = tuple(User.__table__.columns.keys())
_ACTIVE = _USER_COLUMNS.index("active")
_new_user = User.__mapper__.class_manager.new_instance
_TOKEN_PRINCIPAL = (
    sa.select(*User.__table__.columns,
              sa.select(Anchor.id).where(Anchor.user_id == User.id).scalar_subquery().label("anchor_id"))
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == sa.bindparam("token_hash"), ApiToken.revoked_at.is_(None))
)


def token_principal(connection: sa.Connection, token: str) -> tuple[User, int | None] | None:
    """As `principal_for_token`, by one Core statement on `connection`, without
    an ORM session: the active user behind an unrevoked token, as a transient
    `User` carrying every column (a session takes it with `adopt`), and
    their linked anchor's id; or None. Read at every request, so a revocation
    or a deactivation takes effect at the very next one."""
    if not token:
        return None
    row = connection.execute(_TOKEN_PRINCIPAL, {"token_hash": hash_token(token)}).first()
    return _principal(row)


_TOKEN_READ = RowRead(_TOKEN_PRINCIPAL)


def token_principal_read(bind: sa.Engine | sa.Connection, token: str) -> tuple[User, int | None] | None:
    """As `token_principal`, on a pooled connection of `bind` of its own (the
    sessions' bind), by the DBAPI directly: for a request that needs nothing else."""
    if not token:
        return None
    return _principal(_TOKEN_READ.first(bind, {"token_hash": hash_token(token)}))


def _principal(row) -> tuple[User, int | None] | None:
    if row is None or not row[_ACTIVE]:
        return None
    # As the ORM's loader fills an instance: the row straight into its state (no change events).
    # Transient until a session needs it (`adopt`): most requests only read its columns.
    user = _new_user()
    user.__dict__.update(zip(_USER_COLUMNS, row))
    return user, row[-1]


def adopt(session: so.Session, user: User) -> User:
    """A user built by `token_principal`, as the session's own instance: detached with
    every column loaded, so merged without SQL (or the instance the session holds)."""
    if sa.inspect(user).key is None:
        so.make_transient_to_detached(user)
    return session.merge(user, load=False)


def user_for_token(session: so.Session, token: str) -> User | None:
    found = principal_for_token(session, token)
    return found[0] if found else None


@transactional
def revoke_token(session: so.Session, user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens (an admin may revoke anyone's)."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and user.role != "admin"):
        raise NotFound(_l("No such token."))
    if row.revoked_at is None:
        row.revoked_at = clock.now()


def get_user_by_email(session: so.Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalize_email(email)))


# --- Login sessions -------------------------------------------------------------
# A browser's login is a row keyed by the SHA-256 of a random key that its
# cookies carry (see LoginSession). No row, no login.


@transactional
def start_login_session(session: so.Session, user: User) -> str:
    """Open a login session for `user`; returns the key its cookies carry."""
    key = secrets.token_urlsafe(32)
    session.add(LoginSession(user_id=user.id, key_hash=hash_token(key), created_at=clock.now(),
                             authenticated_at=clock.now()))
    session.flush()
    return key


def login_session(session: so.Session, user_id: int, key: str) -> LoginSession | None:
    """The live login session of `user_id` with cookie key `key`, if any."""
    if not key:
        return None
    return session.scalar(
        sa.select(LoginSession).where(LoginSession.key_hash == hash_token(key), LoginSession.user_id == user_id)
    )


@transactional
def end_login_session(session: so.Session, key: str) -> None:
    session.execute(sa.delete(LoginSession).where(LoginSession.key_hash == hash_token(key or "")))


def end_all_login_sessions(session: so.Session, user: User) -> None:
    session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id))


def prune_login_sessions(session: so.Session, user: User, *, older_than) -> None:
    """Forget `user`'s logins started before `older_than` (no cookie can still use them)."""
    session.execute(sa.delete(LoginSession).where(LoginSession.user_id == user.id,
                                                  LoginSession.created_at < older_than))


@transactional
def log_in(session: so.Session, user: User, *, cookies_live_since, locale: str | None = None) -> str:
    """A new login of `user` (after `authenticate`): a fresh login session (its key
    is returned for the cookies), the logins no cookie can still name forgotten,
    and the language chosen before logging in kept if the user has none."""
    if locale and not user.locale:
        user.locale = locale
    prune_login_sessions(session, user, older_than=cookies_live_since)
    return start_login_session(session, user)


@transactional
def set_locale(session: so.Session, user: User, locale: str) -> None:
    """The user's language for pages, notices and emails."""
    user.locale = locale


@transactional
def confirm_password(session: so.Session, user: User, password: str, *, ip: str, key: str) -> bool:
    """Re-authentication: `user` typed their password again in login session `key`.

    Throttled like a login (a wrong password counts as a failure for the
    account and the IP). True and the session's `authenticated_at` set to now,
    or False."""
    ok = authenticate(session, user.email, password, ip=ip)
    if ok is None or ok.id != user.id:
        return False
    row = login_session(session, user.id, key)
    if row is None:
        return False
    row.authenticated_at = clock.now()
    return True


@transactional
def change_password(session: so.Session, user: User, *, current: str, new: str, ip: str) -> None:
    """Change `user`'s own password: the current one must be right (throttled
    like a login), the new one must pass the rules. Ends every login session of
    the user (the caller opens a new one for the browser that asked)."""
    problem = password_problem(new)
    if problem is not None:
        raise ValidationFailed(_l("Please correct the marked fields."), [{"field": "new_password", "message": problem}])
    if authenticate(session, user.email, current, ip=ip) is None:
        raise ValidationFailed(_l("Please correct the marked fields."),
                               [{"field": "current_password", "message": _l("Wrong password.")}])
    user.password_hash = generate_password_hash(new, method=_method(session))
    end_all_login_sessions(session, user)
