"""Timeliness as SQL, for set-based queries (portfolio, roll-ups, deadline scan).

The same rule as `grants.periods.timeliness` (the pure function, which tests compare this with):
excused; submitted late / on time by the first submission against the deadline instant; overdue
after the effective due date; due soon within 14 days; else open. Completeness and on-time rate
count only *expected* reports (due, not excused), so neither can exceed 100%.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, case, literal

from grants.models import Report
from grants.periods import DUE_SOON_DAYS


def timeliness_expr(today: date, report=Report):
    """A SQL CASE giving the timeliness status of each report row on `today` (Eastern)."""
    return case(
        (report.status == "excused", literal("excused")),
        (and_(report.first_submitted_at.is_not(None), report.first_submitted_at > report.deadline_at),
         literal("submitted_late")),
        (report.first_submitted_at.is_not(None), literal("submitted_on_time")),
        (report.effective_due_date < today, literal("overdue")),
        (report.effective_due_date <= today + timedelta(days=DUE_SOON_DAYS), literal("due_soon")),
        else_=literal("open"),
    )


def expected_expr(today: date, report=Report):
    """Reports that count toward completeness: due (effective due date passed), not excused."""
    return and_(report.effective_due_date < today, report.status != "excused")


def submitted_expr(today: date, report=Report):
    return and_(expected_expr(today, report), report.first_submitted_at.is_not(None))


def on_time_expr(today: date, report=Report):
    return and_(submitted_expr(today, report), report.first_submitted_at <= report.deadline_at)
