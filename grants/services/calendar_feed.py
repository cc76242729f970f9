"""Reporting obligations as a calendar: a month page and a private iCalendar feed per user.

The feed address carries a random token; only its SHA-256 digest is stored
(`User.calendar_token_digest`), so a database reader cannot rebuild anyone's address. One all-day
event per report on its effective due date (the past year and the next two, plus any report still
unfiled), with a UID that stays the same for the report, so an
extension moves the event in subscribed calendars instead of adding a second one.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from icalendar import Calendar, Event
from sqlalchemy import or_, select

from grants.extensions import db
from grants.models import Grant, Organization, Report, User, utcnow
from grants.periods import eastern_today, timeliness
from grants.security import new_token, token_digest
from grants.services import access
from grants.services.reports import REVISION_DUE, due_by_sql, revision_pending_sql

FEED_PAST_DAYS = 365
FEED_FUTURE_DAYS = 2 * 365


@dataclass
class Obligation:
    report_id: int
    award_number: str
    organization: str
    period_label: str
    report_type: str
    due_date: date
    original_due_date: date
    status: str
    timeliness: str  # or REVISION_DUE (due_date is then the revision due date)

    @property
    def extended(self) -> bool:
        """Due later than the calendar says, by an extension (a revision has its own date)."""
        return self.timeliness != REVISION_DUE and self.due_date != self.original_due_date

    @property
    def summary(self) -> str:
        what = "revised report" if self.timeliness == REVISION_DUE else "report"
        return f"{self.award_number} {self.period_label} {self.report_type} {what} due"


def calendar_scope(user: User):
    """Grantees: their organization's grants; officers: the grants assigned to them."""
    if user.role == "program_officer":
        return Grant.officer_id == user.id
    return access.grant_scope(user)


def obligations(user: User, start: date, end: date, today: date | None = None,
                keep_unfiled: bool = False) -> list[Obligation]:
    """Reports of the user's grants with an effective due date from start to end (excused ones are
    not due); with keep_unfiled, also every earlier report never submitted."""
    today = today or eastern_today()
    revising, due = revision_pending_sql(), due_by_sql()
    since = due >= start
    if keep_unfiled:
        since = or_(since, Report.first_submitted_at.is_(None))
    rows = db.session.execute(
        select(Report.id, Grant.award_number, Organization.legal_name, Report.fiscal_year, Report.half,
               Report.report_type, due, Report.due_date, Report.status, Report.first_submitted_at, revising)
        .join(Grant, Grant.id == Report.grant_id).join(Organization, Organization.id == Grant.organization_id)
        .where(calendar_scope(user), Report.status != "excused", since, due <= end)
        .order_by(due, Grant.award_number)
    )
    return [
        Obligation(rid, award, org, f"FY{fy} {half}", rtype, when, original, status,
                   REVISION_DUE if revision else timeliness(status, submitted, when, today))
        for rid, award, org, fy, half, rtype, when, original, status, submitted, revision in rows
    ]


def parse_month(text: str | None, today: date) -> date:
    """'2026-04' -> date(2026, 4, 1); anything else -> the current month."""
    try:
        year, month = (int(part) for part in (text or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def month_bounds(first: date) -> tuple[date, date]:
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_grid(first: date, items: list[Obligation]) -> list[list[tuple[date, list[Obligation]]]]:
    """Weeks (Sunday first) of the month, each day with its obligations."""
    by_day: dict[date, list[Obligation]] = {}
    for item in items:
        by_day.setdefault(item.due_date, []).append(item)
    weeks = calendar.Calendar(firstweekday=6).monthdatescalendar(first.year, first.month)
    return [[(day, by_day.get(day, [])) for day in week] for week in weeks]


def create_feed_token(user: User) -> str:
    """A new private feed token for the user (replacing any earlier one); returned once, stored hashed."""
    token = new_token()
    user.calendar_token_digest = token_digest(token)
    db.session.flush()
    return token


def turn_off_feed(user: User) -> None:
    user.calendar_token_digest = None
    db.session.flush()


def user_for_token(token: str) -> User | None:
    if not token:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token_digest == token_digest(token)))
    return user if user is not None and user.active else None


def build_feed(user: User, report_url, base_url: str, now: datetime | None = None) -> bytes:
    """The iCalendar document of the user's obligations; report_url(report_id) gives each event's link."""
    now = now or utcnow()
    today = eastern_today(now)
    host = urlsplit(base_url).hostname or "localhost"
    cal = Calendar()
    cal.add("prodid", "-//Grant Performance Reporting//Reporting calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Grant reports due")
    items = obligations(user, today - timedelta(days=FEED_PAST_DAYS), today + timedelta(days=FEED_FUTURE_DAYS), today,
                        keep_unfiled=True)
    for item in items:
        event = Event()
        event.add("uid", f"report-{item.report_id}@{host}")
        event.add("dtstamp", now)
        event.add("dtstart", item.due_date)
        event.add("dtend", item.due_date + timedelta(days=1))
        event.add("summary", item.summary)
        extended = f" (extended from {item.original_due_date.isoformat()})" if item.extended else ""
        event.add("description", f"{item.organization}. Due by 11:59 p.m. Eastern{extended}. Status: "
                                 f"{item.status.replace('_', ' ')}.")
        event.add("url", report_url(item.report_id))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return cal.to_ical()
