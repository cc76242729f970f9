"""Deadline extensions: the certifier asks (and may withdraw a request still pending), the
assigned officer approves or denies.

An approval moves the report's effective due date and deadline instant (DOMAIN.md: the later of
the due date and the approved date), so timeliness, reminders and roll-ups follow from the report
row alone. A report has at most one pending request; a report already submitted, accepted or
excused cannot be extended (timeliness is judged on the first submission).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grants import audit, periods
from grants.errors import InvalidTransition, NotFound, StaleEdit, ValidationFailed
from grants.extensions import db
from grants.formatting import fmt_date, fmt_datetime
from grants.models import ExtensionRequest, Grant, Report, User, utcnow
from grants.services import access, notifications
from grants.validation import clean_text

CLOSED_STATUSES = ("submitted", "accepted", "excused")


def pending_request(report: Report) -> ExtensionRequest | None:
    return db.session.scalar(
        select(ExtensionRequest).where(ExtensionRequest.report_id == report.id, ExtensionRequest.status == "pending")
    )


def requests_for(report: Report) -> list[ExtensionRequest]:
    """Every extension request of the report, newest first."""
    return list(db.session.scalars(
        select(ExtensionRequest).where(ExtensionRequest.report_id == report.id)
        .options(joinedload(ExtensionRequest.requested_by), joinedload(ExtensionRequest.decided_by))
        .order_by(ExtensionRequest.created_at.desc(), ExtensionRequest.id.desc())
    ))


def is_extendable(report: Report) -> bool:
    """A due date can move only before the report is first submitted (and unless it is excused)."""
    return report.status not in CLOSED_STATUSES and report.first_submitted_at is None


def _require_extendable(report: Report) -> None:
    if not is_extendable(report):
        state = "excused" if report.status == "excused" else "already submitted"
        raise InvalidTransition(f"This report cannot be extended: it is {state}.")


def _new_due_date_problem(report: Report, new_date: date) -> str | None:
    """What is wrong with an extended due date, if anything: it must be after the current due
    date, and not already past (an extension to a past date would leave the report overdue)."""
    if new_date <= report.effective_due_date:
        return f"Choose a date after the current due date, {fmt_date(report.effective_due_date)}."
    today = periods.eastern_today()
    if new_date < today:
        return f"Choose today ({fmt_date(today)}) or a later date: this date has already passed."
    return None


def request_extension(report: Report, user: User, requested_date: date | None, reason: str) -> ExtensionRequest:
    """The certifier asks for a later due date."""
    access.require_certifier(user, report)
    _require_extendable(report)
    existing = pending_request(report)
    if existing is not None:
        raise InvalidTransition(
            f"An extension to {fmt_date(existing.requested_date)} is already waiting for the program officer "
            f"(asked by {existing.requested_by.name} on {fmt_datetime(existing.created_at)})."
        )
    errors = {}
    if requested_date is None:
        errors["requested_date"] = ["Enter the new due date you are asking for."]
    elif problem := _new_due_date_problem(report, requested_date):
        errors["requested_date"] = [problem]
    text, error = clean_text(reason, "the reason you need more time")
    if error:
        errors["reason"] = [error]
    if errors:
        raise ValidationFailed("The extension was not requested. Fix the problems listed.", errors)
    extension = ExtensionRequest(report_id=report.id, requested_by_id=user.id, requested_date=requested_date,
                                 reason=text, status="pending")
    db.session.add(extension)
    db.session.flush()
    notifications.notify_about_report(report, "officer", f"Extension to {fmt_date(requested_date)} requested",
                                      text, user.id)
    return extension


def get_extension(user: User, extension_id: int, *, for_update: bool = False) -> ExtensionRequest:
    """The request if the user may see its report, else NotFound."""
    report_id = db.session.scalar(select(ExtensionRequest.report_id).where(ExtensionRequest.id == extension_id))
    if report_id is None:
        raise NotFound("We could not find that extension request.")
    access.get_report(user, report_id, for_update=for_update)
    return db.session.get(ExtensionRequest, extension_id)


def _require_pending(extension: ExtensionRequest, expected_lock: int | None) -> None:
    """Only a pending request can be decided or withdrawn, and only as it was when the page was read."""
    if extension.status != "pending":
        who = extension.decided_by.name if extension.decided_by else "Someone"
        when = fmt_datetime(extension.decided_at)
        raise InvalidTransition(f"This request was already withdrawn: {who} withdrew it on {when}."
                                if extension.status == "withdrawn"
                                else f"This request was already {extension.status}: {who} decided it on {when}.")
    if expected_lock is not None and int(expected_lock) != extension.lock_version:
        raise StaleEdit("This request changed after you opened it. Review it again.", current=extension)


def withdraw_extension(extension: ExtensionRequest, user: User, expected_lock: int | None = None) -> ExtensionRequest:
    """The certifier takes back a request the officer has not decided yet (the report will be on
    time after all, or they want to ask for another date); the due date stays as it is."""
    report = extension.report
    access.require_certifier(user, report)
    _require_pending(extension, expected_lock)
    extension.status = "withdrawn"
    extension.decided_by_id = user.id
    extension.decided_at = utcnow()
    audit.record("extension.withdrawn", extension, {"status": ["pending", "withdrawn"]},
                 report_id=report.id, grant_id=report.grant_id)
    what = f"Extension request to {fmt_date(extension.requested_date)} withdrawn"
    body = f"{user.name} withdrew the request; the due date stays {fmt_date(report.effective_due_date)}."
    notifications.notify_about_report(report, "officer", what, body, user.id)
    db.session.flush()
    return extension


def decide_extension(extension: ExtensionRequest, user: User, approve: bool, approved_date: date | None,
                     reason: str, expected_lock: int | None = None) -> ExtensionRequest:
    """The assigned officer approves (possibly with another date) or denies with a reason."""
    report = extension.report
    access.require_reviewer(user, report)
    _require_pending(extension, expected_lock)
    text, error = clean_text(reason, "the reason for the denial", required=not approve)
    errors = {"reason": [error]} if error else {}
    new_date = approved_date or extension.requested_date
    if approve:
        _require_extendable(report)
        if problem := _new_due_date_problem(report, new_date):
            errors["approved_date"] = [problem]
    if errors:
        raise ValidationFailed("The decision was not saved. Fix the problems listed.", errors)
    extension.status = "approved" if approve else "denied"
    extension.decided_by_id = user.id
    extension.decided_at = utcnow()
    extension.decision_reason = text
    if approve:
        extension.approved_date = new_date
        old = report.effective_due_date
        report.effective_due_date = periods.effective_due_date(report.due_date, new_date)
        report.deadline_at = periods.deadline_instant(report.effective_due_date)
        audit.record("extension.approved", extension,
                     {"effective_due_date": [old.isoformat(), report.effective_due_date.isoformat()]},
                     report_id=report.id, grant_id=report.grant_id)
    else:
        audit.record("extension.denied", extension, {"reason": text}, report_id=report.id, grant_id=report.grant_id)
    decision = (f"Extension approved: now due {fmt_date(report.effective_due_date)}" if approve
                else f"Extension to {fmt_date(extension.requested_date)} denied")
    notifications.notify_about_report(report, "grantee", decision, text, user.id)
    db.session.flush()
    return extension


def pending_for_officer(user: User) -> list[ExtensionRequest]:
    """Pending requests of the grants assigned to the officer, oldest first."""
    return list(db.session.scalars(
        select(ExtensionRequest).join(Report, Report.id == ExtensionRequest.report_id)
        .join(Grant, Grant.id == Report.grant_id)
        .where(ExtensionRequest.status == "pending", Grant.officer_id == user.id, access.grant_scope(user))
        .options(joinedload(ExtensionRequest.report).joinedload(Report.grant).joinedload(Grant.organization),
                 joinedload(ExtensionRequest.requested_by))
        .order_by(ExtensionRequest.created_at, ExtensionRequest.id)
    ))
