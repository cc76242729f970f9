"""An officer's portfolio: one row per grant with its current report, set-based.

The page must stay fast for an officer with hundreds of grants, so every figure comes from a
fixed number of queries whatever the number of grants: the current report is picked by a
correlated subquery, timeliness by the SQL CASE of `grants.services.timeliness`, and the next
report from the reporting calendar (a pure function). No query runs per row.

The *current report* of a grant is the one the officer has to follow: the earliest report whose
period has ended and that is not yet accepted or excused (still owed, late, or awaiting review);
when there is none, the latest report whose period has started. With a fiscal-year or period
filter, the rows are instead the grants' reports of that period; with a status filter (due soon,
overdue, awaiting review...), every started report in that status, so that the list behind a
count on the page shows each report the count counts (a grant's current report can hide a later
overdue one).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from grants.extensions import db
from grants.formatting import fmt_date
from grants.models import Community, ExtensionRequest, Grant, Organization, Program, ProgramOfficer, Report, User
from grants.periods import TIMELINESS_LABELS, days_overdue, reporting_periods
from grants.services import access
from grants.services.reports import REVISION_DUE, revision_pending
from grants.services.timeliness import timeliness_expr

PER_PAGE = 50
SORTS = {
    "due": "Due date, earliest first",
    "-due": "Due date, latest first",
    "overdue": "Days overdue, most first",
    "award": "Award number",
}
# Filter values beyond the timeliness statuses of grants.periods.TIMELINESS.
EXTRA_STATUSES = {"extended": "Extended", "awaiting_review": "Awaiting review", "none": "No report yet"}


@dataclass
class PortfolioFilters:
    mine: bool = True
    program: str = ""
    status: str = ""
    state: str = ""
    fiscal_year: int | None = None
    half: str = ""
    q: str = ""
    sort: str = "due"
    page: int = 1


@dataclass
class NextReport:
    label: str
    due_date: date


@dataclass
class PortfolioRow:
    grant_id: int
    award_number: str
    organization: str
    program: str
    state: str
    assigned_to_me: bool
    report: Report | None
    timeliness: str | None
    status_label: str
    status_kind: str | None  # the status tag's colour: the timeliness, or REVISION_DUE
    days_overdue: int
    extended: bool
    last_submitted_at: datetime | None
    pending_extension: bool
    next_report: NextReport | None


@dataclass
class Page:
    """One page of rows with what the pagination macro needs."""

    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


@dataclass
class Portfolio:
    page: Page
    rows_are_reports: bool  # a row per report (a period or status filter), else per grant
    due_soon: int
    overdue: int
    awaiting_review: int
    programs: list[tuple[str, str]] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    fiscal_years: list[int] = field(default_factory=list)


def officer_programs(user: User) -> list[tuple[str, str]]:
    """(code, name) of the programs the officer works in."""
    return [tuple(row) for row in db.session.execute(
        select(Program.code, Program.name).join(ProgramOfficer, ProgramOfficer.program_id == Program.id)
        .where(ProgramOfficer.user_id == user.id).order_by(Program.code)
    )]


def _grant_conditions(user: User, filters: PortfolioFilters) -> list:
    """Conditions on Grant (joined with Organization, Program, Community) from the filters."""
    conditions = [access.grant_scope(user)]
    if filters.mine:
        conditions.append(Grant.officer_id == user.id)
    if filters.program:
        conditions.append(Program.code == filters.program)
    if filters.state:
        conditions.append(Community.state == filters.state)
    if filters.q:
        text = filters.q.strip().lower()
        conditions.append(or_(func.lower(Grant.award_number).contains(text, autoescape=True),
                              func.lower(Organization.legal_name).contains(text, autoescape=True)))
    return conditions


def _period_conditions(filters: PortfolioFilters, report=Report) -> list:
    conditions = []
    if filters.fiscal_year:
        conditions.append(report.fiscal_year == filters.fiscal_year)
    if filters.half:
        conditions.append(report.half == filters.half)
    return conditions


def current_report_id(today: date):
    """SQL: the id of each grant's current report (see the module docstring), or NULL."""
    owed = aliased(Report)
    latest = aliased(Report)
    first_owed = (
        select(owed.id).where(owed.grant_id == Grant.id, owed.period_end < today,
                              owed.status.not_in(("accepted", "excused")))
        .order_by(owed.period_start).limit(1).correlate(Grant).scalar_subquery()
    )
    last_started = (
        select(latest.id).where(latest.grant_id == Grant.id, latest.period_start <= today)
        .order_by(latest.period_start.desc()).limit(1).correlate(Grant).scalar_subquery()
    )
    return func.coalesce(first_owed, last_started)


def _status_condition(status: str, timeliness, today: date):
    if status == "extended":
        return and_(Report.effective_due_date > Report.due_date, Report.first_submitted_at.is_(None),
                    Report.status != "excused")
    if status == "awaiting_review":
        return Report.status == "submitted"
    if status == "none":
        return Report.id.is_(None)
    return timeliness == status


def _order(sort: str, timeliness):
    missing = Report.effective_due_date.is_(None)
    if sort == "-due":
        return (missing, Report.effective_due_date.desc(), Grant.award_number)
    if sort == "overdue":
        return (case((timeliness == "overdue", 0), else_=1), missing, Report.effective_due_date, Grant.award_number)
    if sort == "award":
        return (Grant.award_number,)
    return (missing, Report.effective_due_date, Grant.award_number)


def status_label(timeliness: str | None, report: Report | None, today: date) -> str:
    """What the officer reads in the status column: 'Overdue 12 days', 'Extended to May 1, 2026'."""
    if report is None or timeliness is None:
        return "No report yet"
    if revision_pending(report):
        late = days_overdue(report.revision_due_date, today)
        return (f"Returned: revision overdue {late} day{'s' if late != 1 else ''}" if late
                else f"Returned: revision due {fmt_date(report.revision_due_date)}")
    extended = report.effective_due_date > report.due_date
    if timeliness == "overdue":
        n = days_overdue(report.effective_due_date, today)
        return f"Overdue {n} day{'s' if n != 1 else ''}" + (" (extended)" if extended else "")
    if timeliness in ("open", "due_soon") and extended:
        return f"Extended to {fmt_date(report.effective_due_date)}"
    return TIMELINESS_LABELS[timeliness]


def next_report(start: date, end: date, after: date | None, today: date) -> NextReport | None:
    """The grant's next reporting period after the current report's, from the calendar."""
    for period in reporting_periods(start, end):
        if (after is not None and period.start > after) or (after is None and period.end >= today):
            return NextReport(period.label, period.due_date)
    return None


def load_portfolio(user: User, filters: PortfolioFilters, today: date) -> Portfolio:
    """The officer's portfolio page: rows, counts and filter choices, in a fixed number of queries."""
    timeliness = timeliness_expr(today)
    grant_conditions = _grant_conditions(user, filters)
    period_conditions = _period_conditions(filters)
    by_report = bool(period_conditions or (filters.status and filters.status != "none"))
    if period_conditions:
        report_join = and_(Report.grant_id == Grant.id, *period_conditions)
    elif by_report:
        report_join = and_(Report.grant_id == Grant.id, Report.period_start <= today)
    else:
        report_join = Report.id == current_report_id(today)

    base = (
        select(Grant.id).join(Organization, Organization.id == Grant.organization_id)
        .join(Program, Program.id == Grant.program_id).join(Community, Community.id == Grant.community_id)
    )
    base = base.join(Report, report_join) if by_report else base.outerjoin(Report, report_join)
    base = base.where(*grant_conditions)
    if filters.status:
        base = base.where(_status_condition(filters.status, timeliness, today))

    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = max(1, min(filters.page, max(1, math.ceil(total / PER_PAGE))))

    others = aliased(Report)
    last_submission = (
        select(func.max(others.last_submitted_at)).where(others.grant_id == Grant.id)
        .correlate(Grant).scalar_subquery()
    )
    pending = exists().where(ExtensionRequest.report_id == Report.id, ExtensionRequest.status == "pending")
    rows_query = (
        base.with_only_columns(
            Grant.id, Grant.award_number, Grant.officer_id, Grant.start_date, Grant.end_date,
            Organization.legal_name, Program.code, Community.state, Report,
            timeliness.label("timeliness"), last_submission.label("last_submitted_at"),
            pending.label("pending_extension"),
        )
        .order_by(*_order(filters.sort, timeliness))
        .limit(PER_PAGE).offset((page - 1) * PER_PAGE)
    )
    items = []
    for row in db.session.execute(rows_query):
        report = row.Report
        status = row.timeliness if report is not None else None
        items.append(PortfolioRow(
            grant_id=row.id, award_number=row.award_number, organization=row.legal_name, program=row.code,
            state=row.state, assigned_to_me=row.officer_id == user.id, report=report, timeliness=status,
            status_label=status_label(status, report, today),
            status_kind=REVISION_DUE if report is not None and revision_pending(report) else status,
            days_overdue=days_overdue(report.effective_due_date, today) if status == "overdue" else 0,
            extended=bool(report and report.effective_due_date > report.due_date),
            last_submitted_at=row.last_submitted_at, pending_extension=bool(report and row.pending_extension),
            next_report=next_report(row.start_date, row.end_date, report.period_start if report else None, today),
        ))

    due_soon, overdue, awaiting = _counts(grant_conditions, filters, today)
    return Portfolio(
        page=Page(items, page, PER_PAGE, total), rows_are_reports=by_report, due_soon=due_soon, overdue=overdue,
        awaiting_review=awaiting,
        programs=officer_programs(user), states=_states(user, filters.mine),
        fiscal_years=_fiscal_years(user, filters.mine, today),
    )


def _counts(grant_conditions: list, filters: PortfolioFilters, today: date) -> tuple[int, int, int]:
    """Reports due within 14 days, overdue, and awaiting review, over all reports of the grants."""
    timeliness = timeliness_expr(today)
    row = db.session.execute(
        select(
            func.coalesce(func.sum(case((timeliness == "due_soon", 1), else_=0)), 0),
            func.coalesce(func.sum(case((timeliness == "overdue", 1), else_=0)), 0),
            func.coalesce(func.sum(case((Report.status == "submitted", 1), else_=0)), 0),
        )
        .select_from(Report).join(Grant, Grant.id == Report.grant_id)
        .join(Organization, Organization.id == Grant.organization_id)
        .join(Program, Program.id == Grant.program_id).join(Community, Community.id == Grant.community_id)
        .where(*grant_conditions, *_period_conditions(filters), Report.period_start <= today)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _scope(user: User, mine: bool) -> list:
    return [access.grant_scope(user)] + ([Grant.officer_id == user.id] if mine else [])


def _states(user: User, mine: bool) -> list[str]:
    return list(db.session.scalars(
        select(Community.state).join(Grant, Grant.community_id == Community.id)
        .where(*_scope(user, mine)).distinct().order_by(Community.state)
    ))


def _fiscal_years(user: User, mine: bool, today: date) -> list[int]:
    """Fiscal years with a started report of the officer's grants."""
    return list(db.session.scalars(
        select(Report.fiscal_year).join(Grant, Grant.id == Report.grant_id)
        .where(*_scope(user, mine), Report.period_start <= today)
        .distinct().order_by(Report.fiscal_year.desc())
    ))
