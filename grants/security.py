"""Authentication and access: password hashing, server-side sessions, sign-in throttling,
role decorators, and the security headers on every response."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import wraps

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, abort, current_app, g, request, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select, update

from grants.errors import Throttled
from grants.extensions import db, login_manager, writing_transaction
from grants.models import LoginAttempt, User, UserSession, utcnow

# OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
MIN_PASSWORD_LENGTH = 12
ROLE_LABELS = {
    "grantee_editor": "Grantee editor",
    "grantee_certifier": "Authorized Official",
    "program_officer": "Program officer",
    "leadership": "Leadership",
    "admin": "Administrator",
}


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """SHA-256 of a random token: API tokens, calendar feeds and sessions are stored this way."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def client_ip() -> str:
    return (request.remote_addr or "")[:64] if request else ""


def throttle(counted, at, per_account, per_ip, limits: tuple[int, int], message: str,
             now: datetime | None = None) -> None:
    """Raise Throttled(message) when, within the last LOGIN_THROTTLE_MINUTES, the rows of `counted`
    (a count statement) timed by `at` that match `per_account`, or those that match `per_ip`
    (None: not counted), reach their limit (per account, per address)."""
    since = (now or utcnow()) - timedelta(minutes=current_app.config["LOGIN_THROTTLE_MINUTES"])
    recent = counted.where(at >= since)
    by_account = db.session.scalar(recent.where(per_account))
    by_ip = db.session.scalar(recent.where(per_ip)) if per_ip is not None else 0
    if by_account >= limits[0] or by_ip >= limits[1]:
        raise Throttled(message)


def check_throttle(email: str, ip: str, now: datetime | None = None) -> None:
    """Refuse a sign-in attempt when the account or the address failed too often recently."""
    cfg = current_app.config
    throttle(select(func.count()).select_from(LoginAttempt).where(LoginAttempt.success.is_(False)), LoginAttempt.at,
             LoginAttempt.email == email, LoginAttempt.ip == ip,
             (cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"], cfg["LOGIN_MAX_FAILURES_PER_IP"]),
             f"Too many failed sign-in attempts. Wait {cfg['LOGIN_THROTTLE_MINUTES']} minutes and try again.", now)


def authenticate(email: str, password: str, ip: str) -> User | None:
    """Check credentials (throttled); records the attempt. Returns the user or None."""
    email = (email or "").strip().lower()
    check_throttle(email, ip)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    ok = bool(user and user.active and verify_password(user.password_hash, password))
    db.session.add(LoginAttempt(email=email, ip=ip, success=ok))
    return user if ok else None


def start_session(user: User) -> None:
    """Sign in: a new server-side session row whose random id is the only thing in the cookie."""
    token = new_token()
    db.session.add(UserSession(token_digest=token_digest(token), user_id=user.id, ip=client_ip(),
                               user_agent=(request.user_agent.string or "")[:300]))
    user.last_login_at = utcnow()
    session.clear()
    session["sid"] = token
    session.permanent = False
    login_user(user)


def end_session() -> None:
    """Sign out: the server-side session is revoked, so a replayed cookie no longer works."""
    token = session.get("sid")
    if token:
        db.session.execute(
            update(UserSession).where(UserSession.token_digest == token_digest(token)).values(revoked_at=utcnow())
        )
    logout_user()
    session.clear()


def revoke_all_sessions(user: User) -> None:
    db.session.execute(
        update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end every session of the user (the caller starts a new one)."""
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    revoke_all_sessions(user)


def password_problem(password: str, email: str = "") -> str | None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 128:
        return "Use at most 128 characters."
    if email and email.split("@")[0].lower() in password.lower():
        return "Do not include your email address in the password."
    return None


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    token = session.get("sid")
    if not token:
        return None
    row = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_digest == token_digest(token), UserSession.revoked_at.is_(None))
    ).first()
    if row is None or str(row.User.id) != user_id or not row.User.active:
        return None
    now = utcnow()
    cfg = current_app.config
    sess = row.UserSession
    if now - sess.last_seen_at > timedelta(minutes=cfg["SESSION_IDLE_MINUTES"]) or \
            now - sess.created_at > timedelta(hours=cfg["SESSION_MAX_HOURS"]):
        g.session_expired = True
        return None
    if now - sess.last_seen_at > timedelta(seconds=60):
        touch = update(UserSession).where(UserSession.id == sess.id).values(last_seen_at=now)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            # A page view never takes a write lock in its own transaction: a short one beside it.
            with db.engine.begin() as conn:
                conn.execute(touch)
        else:
            # A writing request already holds the write lock (SQLite): touch in the same transaction.
            db.session.execute(touch)
    return row.User


def roles_required(*roles: str):
    """View decorator: signed in, and with one of the roles (others get 403; ownership is the
    services' job and answers 404)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                from grants.audit import record

                with writing_transaction():  # the refusal of a page view is written too
                    record("access.refused", changes={"path": request.path, "role": current_user.role})
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if current_user and getattr(current_user, "is_authenticated", False):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

