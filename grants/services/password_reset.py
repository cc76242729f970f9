"""Self-service password reset ("Forgot your password?" on the sign-in page).

- Asking for a link: anyone may ask for an email address. The answer is the same whether or
  not an account uses it, so the page cannot be used to find out who has an account (only the
  time it takes differs, by the sending of the message). An active account gets an email with
  a link; a deactivated one gets nothing (an administrator must reactivate it first).
- The token is signed, not encrypted: it shows the account's id and the fingerprint, which is
  of the whole salted hash and so tells nothing about the password.
- The link carries a token signed with SECRET_KEY (itsdangerous, a salt of its own): the
  account's id and a fingerprint of the password hash it had when the link was made. It works
  for PASSWORD_RESET_LINK_MINUTES, and only once: choosing a password changes the hash, which
  voids that link and every other link sent before (as does any other password change).
- The link's address comes from BASE_URL, never from the request's Host header, so a forged
  request cannot make the email point somewhere else.
- An administrator's forced reset (`grants.services.users.force_password_reset`) makes the old
  password stop working and sends the same link, saying an administrator reset it.
- A new account (`grants.services.users.create_user`) has no password anyone knows: its owner is
  emailed an invitation, the same kind of link, working for PASSWORD_INVITE_LINK_HOURS. When
  it has expired, "Forgot your password?" sends a fresh one.
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
from grants.errors import ValidationFailed
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


# Why a link was sent -> (the subject of its message, the footer's reason).
REASONS = {
    "asked": ("Choose a new password for Grant Performance Reporting",
              "You receive this because someone asked to reset the password of this account."),
    "forced": ("Choose a new password for Grant Performance Reporting",
               "You receive this because an administrator reset the password of this account."),
    "invited": ("Your Grant Performance Reporting account: choose your password",
                "You receive this because an administrator created this account for you."),
}


def link_minutes(reason: str) -> int:
    """How long a link sent for `reason` works."""
    cfg = current_app.config
    return cfg["PASSWORD_INVITE_LINK_HOURS"] * 60 if reason == "invited" else cfg["PASSWORD_RESET_LINK_MINUTES"]


def make_token(user: User, reason: str = "asked") -> str:
    return _serializer().dumps({"u": user.id, "p": _fingerprint(user), "r": reason})


def read_token(token: str) -> tuple[User, str] | None:
    """(the active account a link is for, why it was sent), or None when the link is forged,
    expired or used."""
    try:
        data, signed_at = _serializer().loads(token, return_timestamp=True)
    except BadSignature:
        return None
    reason = data.get("r", "asked") if isinstance(data, dict) else None
    if reason not in REASONS or not isinstance(data.get("u"), int):
        return None
    if utcnow() - signed_at > timedelta(minutes=link_minutes(reason)):
        return None
    user = db.session.get(User, data["u"])
    if user is None or not user.active or data.get("p") != _fingerprint(user):
        return None
    return user, reason


def _check_throttle(email: str, ip: str) -> None:
    """The requests counted are the audit trail's (see `request_link`)."""
    cfg = current_app.config
    security.throttle(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == REQUESTED), AuditEvent.at,
                      AuditEvent.actor_label == email, AuditEvent.ip == ip if ip else None,
                      (cfg["PASSWORD_RESET_MAX_PER_ACCOUNT"], cfg["PASSWORD_RESET_MAX_PER_IP"]),
                      f"Too many password reset requests. Wait {cfg['LOGIN_THROTTLE_MINUTES']} minutes and try again, "
                      "or use the link in the email already sent.")


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
        send_link(user, "asked")


def send_link(user: User, reason: str = "asked") -> bool:
    """Email `user` a link to choose a password, saying why (REASONS); False (and logged) when it
    could not be sent."""
    token = make_token(user, reason)
    path = app_path("auth.password_reset", f"/password/reset/{token}", token=token)
    subject, footer = REASONS[reason]
    rendered = render_mail("password_reset", subject, path, "A link to choose a password was sent.", user=user,
                           reason=reason, validity=validity(reason), footer=footer)
    try:
        with open_mailer() as mailer:
            mailer.send(build_message(user.email, rendered.subject, rendered.text, rendered.html))
    except Exception:  # noqa: BLE001 - logged for the administrators; the caller says what it may
        log.exception("could not send the password reset link to user %s", user.id)
        return False
    return True


def validity(reason: str) -> str:
    """'60 minutes', '72 hours': how long a link works, in words."""
    minutes = link_minutes(reason)
    return f"{minutes // 60} hours" if minutes % 60 == 0 and minutes >= 120 else f"{minutes} minutes"


def reset_password(user: User, new_password: str) -> None:
    """Set the password chosen from a link; every session of the account ends."""
    if problem := security.password_problem(new_password, user.email):
        raise ValidationFailed("The password was not changed.", {"new_password": [problem]})
    security.change_password(user, new_password)
    audit.record("auth.password_reset", user)
    db.session.flush()

