"""What a grantee sees first: their reports, soonest deadline first, in plain language."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grants.extensions import db
from grants.models import ExtensionRequest, Grant, Report, ReportVersion, User
from grants.periods import days_overdue, deadline_phrase, eastern_today, timeliness
from grants.services.access import GRANTEE_ROLES, grant_scope
from grants.services.reports import DEADLINE_LABELS, REVISION_DUE, counted_version_ids, due_by, revision_pending

ACTIONABLE = ("not_started", "draft", "returned")


@dataclass(frozen=True)
class Deadline:
    kind: str          # a timeliness code (open, due_soon, overdue, ...) or REVISION_DUE
    phrase: str        # "Due in 5 days, on May 5, 2026"
    extended: bool
    days_overdue: int
    repeats_status: bool = False  # its tag would say what the report's status tag says (returned)

    @property
    def says_more(self) -> bool:
        """The phrase tells more than the deadline's tag (under a "Submitted on time" tag,
        "Submitted on time" does not)."""
        return self.phrase.casefold() != DEADLINE_LABELS[self.kind].casefold()


def deadline_for(report: Report, today: date | None = None) -> Deadline:
    today = today or eastern_today()
    extended = report.effective_due_date != report.due_date
    kind = timeliness(report.status, report.first_submitted_at, report.effective_due_date, today)
    phrase = deadline_phrase(report.status, report.first_submitted_at, report.effective_due_date, today, extended)
    if revision_pending(report):
        kind = REVISION_DUE
        phrase = f"Returned for revision: revised report due {report.revision_due_date:%B} {report.revision_due_date.day}, {report.revision_due_date.year}"
    return Deadline(kind, phrase, extended, days_overdue(report.effective_due_date, today),
                    repeats_status=kind == REVISION_DUE and report.status == "returned")


@dataclass
class HomeRow:
    report: Report
    deadline: Deadline
    pending_extension: bool


@dataclass
class GranteeHome:
    due: list[HomeRow]
    awaiting_review: list[HomeRow]
    grants: list[Grant]


def build(user: User, today: date | None = None) -> GranteeHome:
    """Reports to work on (soonest effective due date first), reports awaiting review, grants."""
    today = today or eastern_today()
    reports = db.session.scalars(
        select(Report).join(Grant, Grant.id == Report.grant_id)
        .where(grant_scope(user), Report.period_start <= today, Report.status.in_(ACTIONABLE + ("submitted",)))
        .options(joinedload(Report.grant).joinedload(Grant.program), joinedload(Report.grant).joinedload(Grant.community))
        .order_by(Report.effective_due_date, Report.id)
    ).all()
    pending = set(db.session.scalars(
        select(ExtensionRequest.report_id).where(ExtensionRequest.status == "pending",
                                                 ExtensionRequest.report_id.in_([r.id for r in reports] or [0]))
    ))

    def row(r: Report) -> HomeRow:
        return HomeRow(r, deadline_for(r, today), r.id in pending)

    due = [row(r) for r in reports if r.status in ACTIONABLE]
    due.sort(key=lambda h: due_by(h.report))
    grants = db.session.scalars(
        select(Grant).where(grant_scope(user)).options(joinedload(Grant.program), joinedload(Grant.community))
        .order_by(Grant.award_number)
    ).all()
    return GranteeHome(due, [row(r) for r in reports if r.status == "submitted"], list(grants))


def grant_reports(grant: Grant, today: date | None = None) -> list[HomeRow]:
    today = today or eastern_today()
    reports = db.session.scalars(select(Report).where(Report.grant_id == grant.id).order_by(Report.period_start)).all()
    return [HomeRow(r, deadline_for(r, today), False) for r in reports]


def versions_for_viewer(reports: list[Report], user: User) -> dict[int, ReportVersion | None]:
    """report id -> the version the user sees: grantees their working version; everyone else only
    what was submitted (the current version unless it is a draft, else the counted one). Two
    queries at most, however many reports."""
    if user.role in GRANTEE_ROLES:
        return {r.id: r.current_version for r in reports}
    shown = {r.id: r.current_version for r in reports
             if r.current_version is not None and r.current_version.status != "draft"}
    counted = counted_version_ids([r.id for r in reports if r.id not in shown])
    loaded = {v.id: v for v in db.session.scalars(
        select(ReportVersion).where(ReportVersion.id.in_(counted.values())))} if counted else {}
    return {r.id: shown.get(r.id) or loaded.get(counted.get(r.id)) for r in reports}


def version_for_viewer(report: Report, user: User) -> ReportVersion | None:
    return versions_for_viewer([report], user)[report.id]
