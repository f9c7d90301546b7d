"""Users, passwords, API tokens and login throttling."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from opsroom import clock
from opsroom.models import ROLES, ApiToken, LoginFailure, User
from opsroom.services.errors import NotFound, TooManyAttempts, ValidationFailed

MIN_PASSWORD_LENGTH = 8


def _method() -> str:
    """werkzeug's scrypt, at the cost set in config (tests use a cheaper one)."""
    from flask import current_app, has_app_context

    return current_app.config["PASSWORD_HASH_METHOD"] if has_app_context() else "scrypt"


_dummy_hashes: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash no password matches, checked for unknown emails so that the
    response time does not tell which accounts exist (made once per method,
    so an unknown email costs one scrypt, like a real one)."""
    method = _method()
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-real-password", method=method)
    return _dummy_hashes[method]


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(session: so.Session, *, email: str, role: str, password: str, name: str = "") -> User:
    """Create a user with a scrypt-hashed password. Emails are unique, case-insensitively."""
    email = normalize_email(email)
    errors = []
    if "@" not in email or len(email) > 254:
        errors.append({"field": "email", "message": _l("Enter a valid email address.")})
    if role not in ROLES:
        errors.append({"field": "role", "message": _l("Unknown role.")})
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.append({"field": "password", "message": _l("The password needs at least 8 characters.")})
    if not errors and session.scalar(sa.select(User.id).where(User.email == email)):
        errors.append({"field": "email", "message": _l("A user with this email exists already.")})
    if errors:
        raise ValidationFailed(_l("Please correct the marked fields."), errors)
    user = User(
        email=email,
        role=role,
        name=name or email.split("@")[0],
        password_hash=generate_password_hash(password, method=_method()),
    )
    session.add(user)
    session.flush()
    return user


def _failure_count(session: so.Session, key: str, since) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(LoginFailure).where(LoginFailure.key == key, LoginFailure.at >= since)
    )


def authenticate(session: so.Session, email: str, password: str, *, ip: str, config) -> User | None:
    """Check a login. Refuses while an account or an IP has too many recent failures.

    Failures are rows in the database, so the limit holds across every worker
    process and host. Returns the user, or None for wrong credentials (after
    recording the failure). Commits.
    """
    email = normalize_email(email)
    now = clock.now()
    since = now - timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"])
    account_key, ip_key = f"account:{email}", f"ip:{ip}"
    if (
        _failure_count(session, account_key, since) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or _failure_count(session, ip_key, since) >= config["LOGIN_MAX_FAILURES_PER_IP"]
    ):
        raise TooManyAttempts(_l("Too many failed logins. Please wait a few minutes and try again."))
    user = session.scalar(sa.select(User).where(User.email == email))
    ok = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if ok and user is not None and user.active:
        session.execute(sa.delete(LoginFailure).where(LoginFailure.key == account_key))
        session.commit()
        return user
    session.add_all([LoginFailure(key=account_key, at=now), LoginFailure(key=ip_key, at=now)])
    # Old rows are useless: prune them as we go, so the table stays small.
    session.execute(sa.delete(LoginFailure).where(LoginFailure.at < since))
    session.commit()
    return None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: so.Session, user: User, label: str = "") -> str:
    """A new API token for `user`; only its SHA-256 is stored. Returns the token."""
    token = "ops_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label[:100]))
    session.flush()
    return token


def user_for_token(session: so.Session, token: str) -> User | None:
    if not token:
        return None
    row = session.scalar(
        sa.select(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .options(so.joinedload(ApiToken.user))
    )
    if row is None or not row.user.active:
        return None
    return row.user


def revoke_token(session: so.Session, user: User, token_id: int) -> None:
    """Revoke one of the user's own tokens (an admin may revoke anyone's)."""
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and user.role != "admin"):
        raise NotFound(_l("No such token."))
    if row.revoked_at is None:
        row.revoked_at = clock.now()


def get_user_by_email(session: so.Session, email: str) -> User | None:
    return session.scalar(sa.select(User).where(User.email == normalize_email(email)))
