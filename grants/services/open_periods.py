"""Opening reporting periods: a Report row for every started period of every active award.

The calendar is `grants.periods.reporting_periods`; this only makes the rows match it. New awards
and extended periods of performance get their missing reports. When an award's end date changes,
reports not yet submitted are brought in line with the new calendar: the old final period becomes
interim (and its due date 30 days after the period), or the new last period becomes final (120
days after the end), keeping any approved extension. Submitted reports are never rewritten, and
reports of periods that fall after a shortened end are left for the officer to excuse (nothing of a
report is deleted), and counted.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select

from grants.extensions import db
from grants.models import ExtensionRequest, Grant, MeasureSet, Report
from grants.periods import Period, deadline_instant, eastern_today, effective_due_date, reporting_periods


def current_measure_sets(today: date) -> dict[int, int]:
    """program id -> the id of its measure set in effect today (the newest one started)."""
    sets: dict[int, tuple[int, int]] = {}
    for set_id, program_id, version, effective_from in db.session.execute(
        select(MeasureSet.id, MeasureSet.program_id, MeasureSet.version, MeasureSet.effective_from)
    ):
        rank = (1 if effective_from <= today else 0, version)
        if program_id not in sets or rank > sets[program_id][1]:
            sets[program_id] = (set_id, rank)
    return {program_id: set_id for program_id, (set_id, _) in sets.items()}


def _approved_extensions(report_ids: list[int]) -> dict[int, date]:
    if not report_ids:
        return {}
    return dict(db.session.execute(
        select(ExtensionRequest.report_id, func.max(ExtensionRequest.approved_date))
        .where(ExtensionRequest.report_id.in_(report_ids), ExtensionRequest.status == "approved")
        .group_by(ExtensionRequest.report_id)
    ).all())


def open_reporting_periods(today: date | None = None, grant_ids: list[int] | None = None) -> dict[str, int]:
    """Create missing reports and realign unsubmitted ones, of every grant or of `grant_ids` (an
    award an admin just saved); returns counts (the caller commits)."""
    today = today or eastern_today()
    measure_sets = current_measure_sets(today)
    existing: dict[int, dict[date, object]] = defaultdict(dict)
    reports_query = select(
        Report.id, Report.grant_id, Report.period_start, Report.period_end, Report.report_type,
        Report.due_date, Report.first_submitted_at,
    )
    grants_query = select(Grant.id, Grant.program_id, Grant.start_date, Grant.end_date, Grant.status)
    if grant_ids is not None:
        reports_query = reports_query.where(Report.grant_id.in_(grant_ids))
        grants_query = grants_query.where(Grant.id.in_(grant_ids))
    for r in db.session.execute(reports_query):
        existing[r.grant_id][r.period_start] = r
    counts = {"opened": 0, "realigned": 0, "outside_performance": 0}
    realign: dict[int, Period] = {}
    grants = db.session.execute(grants_query)
    for grant in grants:
        periods = reporting_periods(grant.start_date, grant.end_date)
        reports = existing.get(grant.id, {})
        for p in periods:
            row = reports.get(p.start)
            if row is None:
                if grant.status == "active" and p.start <= today and grant.program_id in measure_sets:
                    db.session.add(Report(
                        grant_id=grant.id, fiscal_year=p.fiscal_year, half=p.half, report_type=p.report_type,
                        period_start=p.start, period_end=p.end, due_date=p.due_date, effective_due_date=p.due_date,
                        deadline_at=deadline_instant(p.due_date), status="not_started",
                        measure_set_id=measure_sets[grant.program_id],
                    ))
                    counts["opened"] += 1
            elif row.first_submitted_at is None and (row.period_end, row.report_type, row.due_date) != (
                    p.end, p.report_type, p.due_date):
                realign[row.id] = p
        starts = {p.start for p in periods}
        counts["outside_performance"] += sum(
            1 for start, row in reports.items() if start not in starts and row.first_submitted_at is None)
    extensions = _approved_extensions(list(realign))
    for report in db.session.scalars(select(Report).where(Report.id.in_(list(realign)))):
        p = realign[report.id]
        effective = effective_due_date(p.due_date, extensions.get(report.id))
        report.period_end, report.report_type, report.due_date = p.end, p.report_type, p.due_date
        report.effective_due_date, report.deadline_at = effective, deadline_instant(effective)
        counts["realigned"] += 1
    db.session.flush()
    return counts
