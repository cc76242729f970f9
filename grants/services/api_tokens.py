"""API bearer tokens: create, list, revoke, authenticate, and the per-token rate limit.

A token is shown once when it is created; only its SHA-256 digest (`security.token_digest`) is
stored. Requests are counted per token per minute in `ApiRateWindow`, in the database, so every
worker shares one limit. The API commits the count (and the last-used time) before the request
does anything else: a refused or failed request still counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from grants import audit
from grants.errors import NotFound, ValidationFailed
from grants.extensions import db
from grants.models import ApiRateWindow, ApiToken, User, utcnow
from grants.security import new_token, token_digest
from grants.validation import clean_text

TOKEN_PREFIX = "gpr_"
DISPLAY_PREFIX_LENGTH = 12
NAME_MAX_LENGTH = 100


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: int


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    ))


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for the user: (row, the token itself, which is never stored or shown again)."""
    label, error = clean_text(name, "a name for the token", max_length=NAME_MAX_LENGTH)
    if error:
        raise ValidationFailed(error, {"name": [error]})
    secret = new_token(TOKEN_PREFIX)
    token = ApiToken(user_id=user.id, name=label, token_digest=token_digest(secret),
                     prefix=secret[:DISPLAY_PREFIX_LENGTH])
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", token, {"name": label, "user": user.email})
    return token, secret


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (someone else's id is NotFound)."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise NotFound("We could not find that token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record("api_token.revoked", token, {"name": token.name})
    return token


def authenticate(secret: str, limit: int, now: datetime | None = None) -> tuple[ApiToken, User, RateDecision] | None:
    """The live token and active user of a presented bearer token, with this request counted.

    The first statement writes (the last-used time), so that on SQLite the short transaction
    takes the write lock at once instead of upgrading a read; the caller commits it at once,
    so the count stands whatever the request does next.
    """
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    now = now or utcnow()
    digest = token_digest(secret)
    touched = db.session.execute(
        update(ApiToken).where(ApiToken.token_digest == digest, ApiToken.revoked_at.is_(None))
        .values(last_used_at=now).execution_options(synchronize_session=False)
    )
    if touched.rowcount != 1:
        return None
    row = db.session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_digest == digest)
    ).first()
    if row is None or not row.User.active:
        return None
    return row.ApiToken, row.User, count_request(row.ApiToken, limit, now)


def count_request(token: ApiToken, limit: int, now: datetime | None = None) -> RateDecision:
    """Count one request in the token's current minute and say whether it is within the limit.

    Concurrent first requests of a minute race on the primary key; the loser's insert is undone
    by its savepoint and it counts with an update instead.
    """
    now = now or utcnow()
    window = now.replace(second=0, microsecond=0)
    key = (ApiRateWindow.token_id == token.id, ApiRateWindow.window_start == window)
    bump = update(ApiRateWindow).where(*key).values(count=ApiRateWindow.count + 1) \
        .execution_options(synchronize_session=False)
    if db.session.execute(bump).rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.execute(insert(ApiRateWindow).values(token_id=token.id, window_start=window, count=1))
        except IntegrityError:
            db.session.execute(bump)
        db.session.execute(delete(ApiRateWindow).where(
            ApiRateWindow.token_id == token.id, ApiRateWindow.window_start < window - timedelta(hours=1)
        ).execution_options(synchronize_session=False))
    count = db.session.scalar(select(ApiRateWindow.count).where(*key)) or 0
    return RateDecision(count <= limit, limit, max(0, limit - count), max(1, 60 - now.second))
