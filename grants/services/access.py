"""Who may see and do what: ownership rules in one place.

A grantee sees only its organization's grants; an officer sees every grant of their programs and
reviews only grants assigned to them; leadership reads everything; admins manage reference data
but not report content. Anything a user may not see is reported as NotFound (404), never as
Forbidden, so ids of other organizations' objects reveal nothing.
"""
from __future__ import annotations

from sqlalchemy import Select, false, or_, select, true
from sqlalchemy.orm import joinedload

from grants.errors import Forbidden, NotFound
from grants.extensions import db
from grants.models import Grant, ProgramOfficer, Report, User

GRANTEE_ROLES = ("grantee_editor", "grantee_certifier")


def grant_scope(user: User):
    """A SQL condition on Grant selecting the grants the user may see."""
    if user.role in GRANTEE_ROLES:
        return Grant.organization_id == user.organization_id
    if user.role == "program_officer":
        programs = select(ProgramOfficer.program_id).where(ProgramOfficer.user_id == user.id)
        return or_(Grant.officer_id == user.id, Grant.program_id.in_(programs))
    if user.role == "leadership":
        return true()
    return false()


def visible_grants(user: User) -> Select:
    return select(Grant).where(grant_scope(user))


def get_grant(user: User, grant_id: int) -> Grant:
    grant = db.session.scalar(visible_grants(user).where(Grant.id == grant_id))
    if grant is None:
        raise NotFound("We could not find that grant.")
    return grant


def get_report(user: User, report_id: int, *, for_update: bool = False) -> Report:
    """The report if the user may see it, else NotFound."""
    query = (
        select(Report).join(Grant, Grant.id == Report.grant_id).where(Report.id == report_id, grant_scope(user))
        .options(joinedload(Report.grant).joinedload(Grant.program), joinedload(Report.grant).joinedload(Grant.organization))
    )
    if for_update and db.engine.dialect.name == "postgresql":
        query = query.with_for_update(of=Report)
    report = db.session.scalar(query)
    if report is None:
        raise NotFound("We could not find that report.")
    return report


def can_edit(user: User, report: Report) -> bool:
    return user.role in GRANTEE_ROLES and report.grant.organization_id == user.organization_id


def can_certify(user: User, report: Report) -> bool:
    return user.role == "grantee_certifier" and report.grant.organization_id == user.organization_id


def can_review(user: User, report: Report) -> bool:
    return user.role == "program_officer" and report.grant.officer_id == user.id


def require_edit(user: User, report: Report) -> None:
    if not can_edit(user, report):
        raise Forbidden("Only staff of the grantee organization can edit this report.")


def require_certifier(user: User, report: Report) -> None:
    if not can_certify(user, report):
        raise Forbidden("Only the organization's Authorized Official can do this.")


def require_reviewer(user: User, report: Report) -> None:
    if not can_review(user, report):
        raise Forbidden("Only the program officer assigned to this grant can do this.")


def sees_private_remarks(user: User) -> bool:
    return user.role in ("program_officer", "leadership")
