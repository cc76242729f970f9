"""User administration: create accounts, deactivate and reactivate them, force a password reset,
and say which programs a program officer works in.

Admins manage accounts, never report content. A new account has no password anyone knows: its
owner is emailed an invitation to choose one (grants.services.password_reset), so no password
is ever shown to an administrator. Deactivating an account or forcing a reset ends every session
of the user at once.
"""
from __future__ import annotations

import re

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from grants import audit, security
from grants.errors import Forbidden, NotFound, ValidationFailed
from grants.extensions import db
from grants.models import GRANTEE_ROLES, ROLES, Organization, Program, ProgramOfficer, User
from grants.services.awards import is_row_id
from grants.validation import clean_text

PER_PAGE = 50
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def list_query(q: str = "", role: str = "") -> Select:
    query = select(User).options(joinedload(User.organization)).order_by(User.name, User.id)
    if q:
        text = q.strip().lower()
        query = query.outerjoin(Organization, Organization.id == User.organization_id).where(or_(
            func.lower(User.email).contains(text, autoescape=True),
            func.lower(User.name).contains(text, autoescape=True),
            func.lower(Organization.legal_name).contains(text, autoescape=True),
        ))
    if role in ROLES:
        query = query.where(User.role == role)
    return query


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("We could not find that user.")
    return user


def create_user(email: str, name: str, role: str, organization_id: int | None, title: str = "",
                phone: str = "") -> User:
    """A new account, with an unusable password until its owner chooses one from the invitation
    the caller sends (`password_reset.send_link(user, "invited")`)."""
    errors: dict[str, list[str]] = {}
    email = (email or "").strip().lower()
    if not EMAIL_PATTERN.fullmatch(email):
        errors["email"] = ["Enter a valid email address."]
    elif db.session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        errors["email"] = ["An account with this email address already exists."]
    name, error = clean_text(name, "the person's name", max_length=200)
    if error:
        errors["name"] = [error]
    if role not in ROLES:
        errors["role"] = ["Choose a role."]
    if role in GRANTEE_ROLES:
        if not organization_id or db.session.get(Organization, organization_id) is None:
            errors["organization_id"] = ["Choose the grantee's organization."]
    elif organization_id:
        errors["organization_id"] = ["Only grantee staff belong to an organization; leave it blank for this role."]
    title, _ = clean_text(title, "a title", required=False, max_length=200)
    phone, _ = clean_text(phone, "a phone number", required=False, max_length=40)
    if errors:
        raise ValidationFailed("The account was not created. Fix the problems listed.", errors)
    user = User(email=email, name=name, role=role, organization_id=organization_id if role in GRANTEE_ROLES else None,
                title=title, phone=phone, password_hash=_unusable_password(), active=True, must_change_password=True)
    db.session.add(user)
    db.session.flush()
    audit.record("admin.user_created", user, {"role": role})
    return user


def _unusable_password() -> str:
    """The hash of a random secret nobody is told: no password signs in until one is chosen."""
    return security.hash_password(security.new_token())


def set_active(user: User, active: bool, actor: User) -> None:
    if user.id == actor.id and not active:
        raise Forbidden("You cannot deactivate your own account.")
    user.active = active
    if not active:
        security.revoke_all_sessions(user)
    audit.record("admin.user_activated" if active else "admin.user_deactivated", user)
    db.session.flush()


def force_password_reset(user: User) -> None:
    """The password stops working (replaced by a random one nobody knows: whoever knew the old
    one, a thief included, can no longer sign in with it) and every session ends now. The caller
    then emails the owner a link to choose a new one (`password_reset.send_link`)."""
    user.password_hash = _unusable_password()
    user.must_change_password = True
    security.revoke_all_sessions(user)
    audit.record("admin.password_reset_forced", user)
    db.session.flush()


def organization_choices() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(
        select(Organization.id, Organization.legal_name).order_by(Organization.legal_name))]


def get_program_officer(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role != "program_officer":
        raise NotFound("We could not find that program officer.")
    return user


def officer_program_ids(user: User) -> list[int]:
    """The programs a program officer works in: they see every grant of these programs."""
    return list(db.session.scalars(select(ProgramOfficer.program_id).where(ProgramOfficer.user_id == user.id)
                                   .order_by(ProgramOfficer.program_id)))


def set_officer_programs(user: User, program_ids: list[int]) -> None:
    """Replace a program officer's programs (each change goes into the audit trail)."""
    wanted = set(program_ids)
    if not all(is_row_id(p) for p in wanted):
        raise ValidationFailed("The programs were not saved.", {"programs": ["Choose programs from the list."]})
    known = set(db.session.scalars(select(Program.id).where(Program.id.in_(wanted))))
    if wanted - known:
        raise ValidationFailed("The programs were not saved.", {"programs": ["Choose programs from the list."]})
    current = {row.program_id: row for row in db.session.scalars(
        select(ProgramOfficer).where(ProgramOfficer.user_id == user.id))}
    for program_id in sorted(set(current) - wanted):
        db.session.delete(current[program_id])
    for program_id in sorted(wanted - set(current)):
        db.session.add(ProgramOfficer(program_id=program_id, user_id=user.id))
    db.session.flush()
