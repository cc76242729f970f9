"""Self-service password reset ("Forgot your password?" on the sign-in page).

- Asking for a link: anyone may ask for an email address. The answer is the same whether or
  not an account uses it, so the page cannot be used to find out who has an account (only the
  time it takes differs, by the sending of the message). An active
  account gets an email with a link; a deactivated one gets nothing (an administrator must
  reactivate it first).
- The link carries a token signed with SECRET_KEY (itsdangerous, a salt of its own): the
  account's id and a fingerprint of the password hash it had when the link was made. It works
  for PASSWORD_RESET_LINK_MINUTES, and only once: choosing a password changes the hash, which
  voids that link and every other link sent before (as does any other password change).
- The link's address comes from BASE_URL, never from the request's Host header, so a forged
  request cannot make the email point somewhere else.
- An administrator's forced reset (`grants.services.users.force_password_reset`) makes the old
  password stop working and sends the same link, saying an administrator reset it.
- Asking is throttled per address and per IP address over LOGIN_THROTTLE_MINUTES, counted from
  the audit trail, where every request is recorded.
- The new password follows the rules of `grants.security.password_problem`; setting it ends
  every session of the account, and the person signs in with it.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import func, select

from grants import audit, security
from grants.errors import Throttled, ValidationFailed
from grants.extensions import db
from grants.mail import build_message, open_mailer
from grants.models import AuditEvent, User, utcnow
from grants.services.notifications import app_path, render_mail
from grants.services.users import EMAIL_PATTERN

log = logging.getLogger(__name__)
SALT = "password-reset"
REQUESTED = "auth.password_reset_requested"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _fingerprint(user: User) -> str:
    """Changes whenever the password does (the hash is salted afresh each time)."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:20]


def make_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user)})


def user_for_token(token: str) -> User | None:
    """The active account a link is for, or None when the link is forged, expired or used."""
    try:
        data = _serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_LINK_MINUTES"] * 60)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or data.get("p") != _fingerprint(user):
        return None
    return user


def _check_throttle(email: str, ip: str) -> None:
    cfg = current_app.config
    since = utcnow() - timedelta(minutes=cfg["LOGIN_THROTTLE_MINUTES"])
    asked = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == REQUESTED, AuditEvent.at >= since)
    by_account = db.session.scalar(asked.where(AuditEvent.actor_label == email))
    by_ip = db.session.scalar(asked.where(AuditEvent.ip == ip)) if ip else 0
    if by_account >= cfg["PASSWORD_RESET_MAX_PER_ACCOUNT"] or by_ip >= cfg["PASSWORD_RESET_MAX_PER_IP"]:
        raise Throttled(f"Too many password reset requests. Wait {cfg['LOGIN_THROTTLE_MINUTES']} minutes and "
                        "try again, or use the link in the email already sent.")


def request_link(email: str, ip: str) -> None:
    """Record the request and, when an active account uses `email`, email it a link.

    Raises ValidationFailed for what cannot be an address, and Throttled; otherwise says nothing
    about whether a message went (see the module docstring). A failure to send is logged and not
    shown, for the same reason.
    """
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        raise ValidationFailed("No link was sent.", {"email": ["Enter a valid email address."]})
    _check_throttle(email, ip)
    audit.record(REQUESTED, changes={"email": email}, label=email)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email, User.active.is_(True)))
    if user is not None:
        send_link(user)


def send_link(user: User, *, forced: bool = False) -> bool:
    """Email `user` a link to choose a new password; False (and logged) when it could not be sent.
    `forced`: an administrator reset the password (the message says so)."""
    minutes = current_app.config["PASSWORD_RESET_LINK_MINUTES"]
    token = make_token(user)
    path = app_path("auth.password_reset", f"/password/reset/{token}", token=token)
    rendered = render_mail("password_reset", "Choose a new password for Grant Performance Reporting", path,
                           "A link to choose a new password was sent.", user=user, minutes=minutes, forced=forced,
                           footer="You receive this because an administrator reset the password of this account."
                           if forced else "You receive this because someone asked to reset the password of this account.")
    try:
        with open_mailer() as mailer:
            mailer.send(build_message(user.email, rendered.subject, rendered.text, rendered.html))
    except Exception:  # noqa: BLE001 - logged for the administrators; the caller says what it may
        log.exception("could not send the password reset link to user %s", user.id)
        return False
    return True


def reset_password(user: User, new_password: str) -> None:
    """Set the password chosen from a link; every session of the account ends."""
    if problem := security.password_problem(new_password, user.email):
        raise ValidationFailed("The password was not changed.", {"new_password": [problem]})
    security.change_password(user, new_password)
    audit.record("auth.password_reset", user)
    db.session.flush()

