"""Deleting an organization, a community or a grant entered by mistake (admin only).

Only a record that nothing depends on yet can go: an organization with no grant and no staff
account, a community no grant serves, a grant none of whose reports has been worked on (no version,
no review, no remark, no extension request, no reminder). Anything else stays, because reports,
reviews and reminders are the record of the program: a finished grant is closed (its status), a
departed organization's accounts are deactivated. A grant's untouched reports (opened by the
calendar, never started) go with it.

A deletion is one transaction, refused from a page read at an older version of the record (its
lock_version), and the audit trail keeps every deleted row's values (grants.audit).
"""
from __future__ import annotations

from sqlalchemy import exists, func, or_, select

from grants.errors import ValidationFailed
from grants.extensions import db
from grants.formatting import plural
from grants.models import (
    Community,
    ExtensionRequest,
    Grant,
    NotificationLedger,
    Organization,
    Remark,
    Report,
    ReportTransition,
    ReportVersion,
    User,
)
from grants.services.awards import check_lock

REPORT_HISTORY = (ReportVersion, ReportTransition, Remark, ExtensionRequest, NotificationLedger)
WHAT = {Organization: "organization", Community: "community", Grant: "grant"}  # as a refusal names it


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def why_kept(record) -> str | None:
    """Why `record` cannot be deleted, in a sentence for its page; None when it can."""
    if isinstance(record, Organization):
        grants, accounts = _count(Grant, Grant.organization_id == record.id), _count(User, User.organization_id == record.id)
        if grants or accounts:
            held = " and ".join(p for p in (grants and plural(grants, "grant", "grants"),
                                            accounts and plural(accounts, "staff account", "staff accounts")) if p)
            return (f"It cannot be deleted: {held} belong{'s' if grants + accounts == 1 else ''} to it. "
                    "Deactivate the accounts of an organization that has left; its grants stay on record.")
        return None
    if isinstance(record, Community):
        grants = _count(Grant, Grant.community_id == record.id)
        if grants:
            return (f"It cannot be deleted: {plural(grants, 'grant serves', 'grants serve')} it. "
                    "Move them to another community first.")
        return None
    if isinstance(record, Grant):
        if _worked_on(record):
            return ("It cannot be deleted: its reports have been worked on (drafted, reviewed, extended or "
                    "reminded of). Set its status to Closed when the award has ended.")
        return None
    raise TypeError(f"{type(record).__name__} records are not deleted here")


def _worked_on(grant: Grant) -> bool:
    reports = select(Report.id).where(Report.grant_id == grant.id)
    return db.session.scalar(select(or_(*(exists().where(model.report_id.in_(reports)) for model in REPORT_HISTORY)))) \
        or False


def delete_record(record, expected_lock) -> None:
    """Delete `record` (see the module's note) or raise ValidationFailed saying why it stays."""
    check_lock(record, expected_lock, WHAT[type(record)])
    reason = why_kept(record)
    if reason:
        raise ValidationFailed(reason, {})
    if isinstance(record, Grant):
        reports = db.session.scalars(select(Report).where(Report.grant_id == record.id)).all()
        for report in reports:  # one by one, so each goes into the audit trail with its values
            db.session.delete(report)
        db.session.flush()
    db.session.delete(record)
    db.session.flush()

