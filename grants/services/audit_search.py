"""Searching the audit trail (read only: nothing here or anywhere in the app changes it)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, or_, select

from grants.models import AuditEvent, Grant, User
from grants.periods import EASTERN

PER_PAGE = 50


@dataclass
class AuditFilters:
    user: str = ""
    award_number: str = ""
    report_id: int | None = None
    action: str = ""  # part of the action's name: "report", "auth.signed_in", "access.refused"
    date_from: date | None = None
    date_to: date | None = None


def _eastern_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=EASTERN)


def search_query(filters: AuditFilters) -> Select:
    """Audit events matching the filters, newest first. Dates are whole days, Eastern time."""
    query = select(AuditEvent)
    if filters.user:
        text = filters.user.strip().lower()
        users = select(User.id).where(or_(func.lower(User.email).contains(text, autoescape=True),
                                          func.lower(User.name).contains(text, autoescape=True)))
        query = query.where(or_(AuditEvent.user_id.in_(users),
                                func.lower(AuditEvent.actor_label).contains(text, autoescape=True)))
    if filters.award_number:
        grants = select(Grant.id).where(
            func.lower(Grant.award_number).contains(filters.award_number.strip().lower(), autoescape=True))
        query = query.where(AuditEvent.grant_id.in_(grants))
    if filters.action:
        query = query.where(func.lower(AuditEvent.action).contains(filters.action.strip().lower(), autoescape=True))
    if filters.report_id:
        query = query.where(AuditEvent.report_id == filters.report_id)
    if filters.date_from:
        query = query.where(AuditEvent.at >= _eastern_midnight(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEvent.at < _eastern_midnight(filters.date_to + timedelta(days=1)))
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
