"""The report workflow: drafts, submission, review, excusal and amendment.

DOMAIN.md 'Report workflow'. Every action checks the actor's rights, the report's state and the
version the actor was looking at, records a transition, and leaves committing to the caller.
A submitted version is frozen: any later edit happens in a new version.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from grants import audit
from grants.errors import InvalidTransition, StaleEdit, ValidationFailed
from grants.extensions import db
from grants.formatting import fmt_datetime
from grants.measures import (
    CUMULATIVE_NARRATIVE,
    NARRATIVES,
    MeasureSpec,
    breakdown_title,
    cell_key,
    cell_title,
    is_breakdown_key,
)
from grants.models import (
    GRANTEE_ROLES,
    MeasureSetItem,
    Remark,
    Report,
    ReportTransition,
    ReportValue,
    ReportVersion,
    User,
    utcnow,
)
from grants.periods import TIMELINESS_LABELS, eastern_today
from grants.services import access
from grants.validation import CheckResult, check_values, clean_text, submission_problems

# action -> report statuses it may start from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "edit": ("not_started", "draft", "returned"),
    "submit": ("draft",),
    "unsubmit": ("submitted",),
    "return": ("submitted",),
    "accept": ("submitted",),
    "excuse": ("not_started", "draft", "returned"),
    "amend": ("accepted",),
}
ACTION_NAMES = {
    "edit": "edited", "submit": "submitted", "unsubmit": "unsubmitted", "return": "returned",
    "accept": "accepted", "excuse": "excused", "amend": "opened for amendment",
}
STATUS_LABELS = {
    "not_started": "Not started", "draft": "Draft", "submitted": "Submitted, awaiting review",
    "returned": "Returned for revision", "accepted": "Accepted", "excused": "Excused",
}


def status_label(status: str) -> str:
    """A report status as people read it."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


CERTIFICATION_TEXT = (
    "I certify to the best of my knowledge and belief that this report is correct and complete "
    "and that all outlays and obligations are for the purposes set forth in the award documents."
)
NARRATIVE_FIELDS = tuple(n for n, _, _ in NARRATIVES) + (CUMULATIVE_NARRATIVE[0],)


@dataclass
class ReportState:
    """What a report page needs about the version being worked on."""

    report: Report
    version: ReportVersion | None
    specs: list[MeasureSpec]
    raw: dict[str, str]
    check: CheckResult
    previous: dict[str, Decimal]


def report_specs(report: Report) -> list[MeasureSpec]:
    """The measures of the measure-set version the report was opened on."""
    items = db.session.scalars(
        select(MeasureSetItem).where(MeasureSetItem.measure_set_id == report.measure_set_id)
        .order_by(MeasureSetItem.position)
    ).all()
    return [MeasureSpec.from_model(item.measure) for item in items]


def raw_values(version: ReportVersion | None) -> dict[str, str]:
    if version is None:
        return {}
    rows = db.session.execute(
        select(ReportValue.measure_code, ReportValue.dimension, ReportValue.category, ReportValue.raw)
        .where(ReportValue.version_id == version.id)
    )
    return {cell_key(m, d, c): raw for m, d, c, raw in rows}


def _counted_version():
    """SQL, per report row: the version that counts for comparisons (the official one, else the
    last submitted)."""
    last_submitted = (
        select(ReportVersion.id).where(ReportVersion.report_id == Report.id, ReportVersion.submitted_at.is_not(None))
        .order_by(ReportVersion.number.desc()).limit(1).correlate(Report).scalar_subquery()
    )
    return func.coalesce(Report.official_version_id, last_submitted)


def counted_version_ids(report_ids) -> dict[int, int]:
    """report id -> the id of its version that counts for comparisons (`_counted_version`), for
    the reports that have one; one query for all of them."""
    if not report_ids:
        return {}
    rows = db.session.execute(select(Report.id, _counted_version()).where(Report.id.in_(report_ids)))
    return {report_id: version_id for report_id, version_id in rows if version_id is not None}


def counted_version_id(report: Report):
    return counted_version_ids([report.id]).get(report.id)


def previous_report(report: Report) -> Report | None:
    return db.session.scalar(
        select(Report).where(Report.grant_id == report.grant_id, Report.period_start < report.period_start)
        .order_by(Report.period_start.desc()).limit(1)
    )


def previous_values(report: Report) -> dict[str, Decimal]:
    """The grant's previous period's values by cell key (empty for a first report)."""
    prev = previous_report(report)
    version_id = counted_version_id(prev) if prev else None
    if version_id is None:
        return {}
    rows = db.session.execute(
        select(ReportValue.measure_code, ReportValue.dimension, ReportValue.category, ReportValue.value)
        .where(ReportValue.version_id == version_id, ReportValue.value.is_not(None))
    )
    return {cell_key(m, d, c): v for m, d, c, v in rows}


def prior_expended(report: Report) -> Decimal:
    """FIN-01 summed over the grant's earlier periods (their counted versions)."""
    earlier = select(_counted_version()).where(
        Report.grant_id == report.grant_id, Report.period_start < report.period_start)
    return db.session.scalar(
        select(func.coalesce(func.sum(ReportValue.value), 0))
        .where(ReportValue.version_id.in_(earlier), ReportValue.measure_code == "FIN-01", ReportValue.dimension == "")
    ) or Decimal("0")


def evaluate(report: Report, raw: dict[str, str], specs: list[MeasureSpec] | None = None,
             previous: dict[str, Decimal] | None = None) -> CheckResult:
    specs = specs if specs is not None else report_specs(report)
    return check_values(
        specs, raw, report.grant.award_amount,
        previous if previous is not None else previous_values(report), prior_expended(report),
    )


def load_state(report: Report, version: ReportVersion | None = None) -> ReportState:
    version = version or report.current_version
    specs = report_specs(report)
    raw = raw_values(version)
    previous = previous_values(report)
    return ReportState(report, version, specs, raw, evaluate(report, raw, specs, previous), previous)


def narratives_of(version: ReportVersion | None) -> dict[str, str]:
    return {name: (getattr(version, name) or "") if version else "" for name in NARRATIVE_FIELDS}


def _last_action(report: Report) -> str:
    """' Morgan Reyes accepted it on May 2, 2026, 3:04 p.m. ET.' for refusal messages, or ''."""
    last = db.session.scalar(
        select(ReportTransition).where(ReportTransition.report_id == report.id)
        .order_by(ReportTransition.id.desc()).limit(1)
    )
    if last is None or last.actor is None:
        return ""

    return f" {last.actor.name} {ACTION_NAMES.get(last.action, last.action)} it on {fmt_datetime(last.at)}."


def _require_state(report: Report, action: str) -> None:
    if report.status not in ALLOWED_FROM[action]:
        raise InvalidTransition(
            f"This report cannot be {ACTION_NAMES[action]} now: it is {STATUS_LABELS[report.status].lower()}."
            f"{_last_action(report)}"
        )


def _check_lock(obj, expected: int | None, what: str) -> None:
    if expected is not None and int(expected) != obj.lock_version:
        if isinstance(obj, Report):
            raise StaleEdit(f"This report changed after you opened it, so nothing was done.{_last_action(obj)} "
                            "Review the current report and try again.", current=obj)
        who = getattr(getattr(obj, "updated_by", None), "name", None)
        by = f" by {who}" if who else ""
        raise StaleEdit(
            f"This {what} was changed{by} after you opened it. Your changes were not saved; "
            "compare them with the current values below.", current=obj,
        )


def _transition(report: Report, version: ReportVersion | None, action: str, to_status: str,
                user: User | None, comment: str = "") -> None:
    from grants.services import notifications  # it imports this module's labels

    db.session.add(ReportTransition(
        report_id=report.id, version_id=version.id if version else None, from_status=report.status,
        to_status=to_status, action=action, actor_id=user.id if user else None, comment=comment,
    ))
    report.status = to_status
    notifications.notify_transition(report, action, user.id if user else None, comment)


def _new_version(report: Report, user: User, source: ReportVersion | None, *, amendment: bool = False,
                 reason: str | None = None) -> ReportVersion:
    number = (db.session.scalar(select(func.max(ReportVersion.number)).where(ReportVersion.report_id == report.id)) or 0) + 1
    version = ReportVersion(report_id=report.id, number=number, status="draft", is_amendment=amendment,
                            amendment_reason=reason, created_by_id=user.id, updated_by_id=user.id, explanations={})
    if source is not None:
        for name in NARRATIVE_FIELDS:
            setattr(version, name, getattr(source, name))
        version.explanations = dict(source.explanations or {})
        version.values = [
            ReportValue(measure_code=v.measure_code, dimension=v.dimension, category=v.category, raw=v.raw,
                        value=v.value, valid=v.valid)
            for v in db.session.scalars(select(ReportValue).where(ReportValue.version_id == source.id))
        ]
    db.session.add(version)
    db.session.flush()
    report.current_version_id = version.id
    report.current_version = version
    return version


def working_version(report: Report, user: User) -> ReportVersion:
    """The draft to edit, opening one when the report has none (first edit or after a return)."""
    access.require_edit(user, report)
    _require_state(report, "edit")
    if report.status == "draft" and report.current_version is not None and report.current_version.status == "draft":
        return report.current_version
    version = _new_version(report, user, report.current_version)
    _transition(report, version, "edit", "draft", user,
                "Revision started" if report.status == "returned" else "Draft started")
    return version


def save_draft(report: Report, user: User, raw: dict[str, str], narratives: dict[str, str],
               explanations: dict[str, str], expected_lock: int | None) -> tuple[ReportVersion, CheckResult]:
    """Save what was typed, valid or not, and return the check of it.

    Invalid values are kept (raw text, no number) so that nothing typed is ever lost; they block
    submission until fixed. A save based on an older copy than the stored one is refused.
    """
    if report.current_version is not None and report.status == "draft":
        _check_lock(report.current_version, expected_lock, "draft")
    version = working_version(report, user)
    specs = report_specs(report)
    result = evaluate(report, raw, specs)
    existing = {(v.measure_code, v.dimension, v.category): v for v in version.values}
    changes: dict[str, list] = {}
    for spec in specs:
        for cell in spec.cells:
            text = (raw.get(cell.key) or "").strip()[:64]
            key = (cell.measure, cell.dimension, cell.category)
            row = existing.get(key)
            old = row.raw if row else ""
            if old != text:
                changes[cell.key] = [old, text]
            if row is None and text:
                version.values.append(ReportValue(measure_code=cell.measure, dimension=cell.dimension,
                                                  category=cell.category, raw=text, value=result.values[cell.key],
                                                  valid=cell.key not in result.errors))
            elif row is not None and not text:
                version.values.remove(row)
            elif row is not None:
                row.raw, row.value, row.valid = text, result.values[cell.key], cell.key not in result.errors
    for name in NARRATIVE_FIELDS:
        if name in narratives:
            setattr(version, name, (narratives[name] or "").replace("\r\n", "\n"))
    version.explanations = {k: v.strip() for k, v in explanations.items() if v and v.strip()}
    version.updated_by_id = user.id
    version.updated_at = utcnow()
    if changes:
        audit.record("report.values_saved", version, changes, report_id=report.id, grant_id=report.grant_id)
    db.session.flush()
    return version, result


def problems_before_submission(state: ReportState) -> dict[str, list[str]]:
    """What stops the draft in `state` from being submitted, by field key (empty when it may be).

    The value and narrative rules of grants.validation, plus the final report's cumulative
    narrative, which only a final report has and must have."""
    version = state.version
    if version is None or version.status != "draft":
        return {}
    problems = submission_problems(state.specs, state.check, narratives_of(version), version.explanations or {})
    if state.report.report_type != "final":
        problems.pop(CUMULATIVE_NARRATIVE[0], None)
    elif not (version.narrative_cumulative or "").strip():
        problems.setdefault(CUMULATIVE_NARRATIVE[0], []).append("Describe the whole award's accomplishments (final report).")
    return problems


def edit_fields(state: ReportState) -> dict[str, str]:
    """Every cell and narrative of the draft in `state`, by key, as text (blank when not entered):
    what the edit form shows and what merge_edits compares."""
    fields = {cell.key: state.raw.get(cell.key, "") for spec in state.specs for cell in spec.cells}
    fields.update(narratives_of(state.version))
    return fields


def edit_fingerprints(fields: dict[str, str]) -> dict[str, str]:
    """A short fingerprint of each field's text as a page showed it (the page keeps them, so a
    save that comes too late can tell which fields its writer changed)."""
    return {key: hashlib.sha256((value or "").replace("\r\n", "\n").encode()).hexdigest()[:16]
            for key, value in fields.items()}


def merge_edits(base: dict[str, str], typed: dict[str, str], current: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """A save that lost the race to another (three-way): every field takes what its writer
    typed where they changed it from the page they started from (`base`, fingerprints), and
    the other person's saved value elsewhere. Returns the merged fields and the keys both
    changed, differently (the writer's value is kept there, for them to decide)."""
    typed_prints, current_prints = edit_fingerprints(typed), edit_fingerprints(current)
    merged, conflicts = {}, []
    for key, value in typed.items():
        if key in base and typed_prints[key] == base[key]:
            merged[key] = current.get(key, "")  # untouched here: theirs (perhaps changed) stands
            continue
        merged[key] = value
        if key in current and base.get(key) != current_prints[key] and current_prints[key] != typed_prints[key]:
            conflicts.append(key)
    return merged, conflicts


REVISING = ("returned", "draft")
REVISION_DUE = "returned"  # the deadline kind of a report whose revision is due (tagged as returned ones are)
DEADLINE_LABELS = {**TIMELINESS_LABELS, REVISION_DUE: "Revision due"}  # a deadline kind -> its tag


def revision_pending(report: Report) -> bool:
    """Returned and not resubmitted yet (returned, or a draft of the revision): what is due is the
    revision, by the revision due date (set by return_report, cleared by submit_report).
    `revision_pending_sql` is the same rule in SQL."""
    return report.revision_due_date is not None and report.status in REVISING


def revision_pending_sql():
    return and_(Report.revision_due_date.is_not(None), Report.status.in_(REVISING))


def due_by(report: Report) -> date:
    """When what is due now is due: the revision due date while a revision is due, else the
    effective due date. `due_by_sql` is the same in SQL."""
    return report.revision_due_date if revision_pending(report) else report.effective_due_date


def due_by_sql():
    return case((revision_pending_sql(), Report.revision_due_date), else_=Report.effective_due_date)


def problem_label(state: ReportState, key: str) -> str:
    """The name people know a problem's field by (problems_before_submission keys): the
    narrative's heading, the measure cell's or breakdown's title, or the warning its explanation
    is for."""
    narratives = {name: label for name, label, _ in (*NARRATIVES, CUMULATIVE_NARRATIVE)}
    if key in narratives:
        return narratives[key]
    if key.startswith("explain:"):
        code = key.removeprefix("explain:")
        field = next((w.field for w in (state.check.warnings if state.check else ()) if w.code == code), "")
        return f"Explanation of the warning on {cell_title(state.specs, field)}" if field else "Explanation of the warning"
    return breakdown_title(key) if is_breakdown_key(key) else cell_title(state.specs, key)


def submit_report(report: Report, user: User, certification: dict[str, str], expected_lock: int | None,
                  now: datetime | None = None) -> ReportVersion:
    """Certify and submit the draft; the version is frozen from here on."""
    access.require_certifier(user, report)
    _require_state(report, "submit")
    version = report.current_version
    _check_lock(version, expected_lock, "draft")
    problems = problems_before_submission(load_state(report, version))
    cert_errors = {}
    for key, label in (("name", "your name"), ("title", "your title"), ("phone", "a phone number"), ("email", "an email address")):
        value, error = clean_text(certification.get(key), label, max_length=200)
        certification[key] = value
        if error:
            cert_errors[f"certifier_{key}"] = [error]
    if not certification.get("agree"):
        cert_errors["certify"] = ["Check the box to certify the report."]
    if problems or cert_errors:
        raise ValidationFailed(
            "The report cannot be submitted yet. Fix the problems listed, then submit again.",
            {**problems, **cert_errors},
        )
    now = now or utcnow()
    version.status = "submitted"
    version.submitted_at = now
    version.certified_at = now
    version.certified_by_id = user.id
    version.certifier_name = certification["name"]
    version.certifier_title = certification["title"]
    version.certifier_phone = certification["phone"]
    version.certifier_email = certification["email"]
    report.first_submitted_at = report.first_submitted_at or now
    report.last_submitted_at = now
    report.revision_due_date = None if not version.is_amendment else report.revision_due_date
    _transition(report, version, "submit", "submitted", user, "Amendment submitted" if version.is_amendment else "")
    db.session.flush()
    return version


def unsubmit_report(report: Report, user: User) -> ReportVersion:
    """Withdraw a submission the officer has not acted on; editing continues in a new version."""
    access.require_certifier(user, report)
    _require_state(report, "unsubmit")
    submitted = report.current_version
    submitted.status = "withdrawn"
    db.session.flush()
    # A withdrawn submission does not stand: the report's submission times are those of the
    # versions that do (none, when it was the first: the report is due or overdue again).
    report.first_submitted_at, report.last_submitted_at = db.session.execute(
        select(func.min(ReportVersion.submitted_at), func.max(ReportVersion.submitted_at))
        .where(ReportVersion.report_id == report.id, ReportVersion.status != "withdrawn")
    ).one()
    version = _new_version(report, user, submitted, amendment=submitted.is_amendment, reason=submitted.amendment_reason)
    _transition(report, version, "unsubmit", "draft", user, "Submission withdrawn by the grantee")
    db.session.flush()
    return version


def _reviewable(report: Report, user: User, expected_lock: int | None, action: str) -> ReportVersion:
    """Rights, then state, then the lock: a second officer acting at once learns what happened."""
    access.require_reviewer(user, report)
    _require_state(report, action)
    _check_lock(report, expected_lock, "report")
    return report.current_version


def accept_report(report: Report, user: User, expected_lock: int | None = None, remark: str = "") -> ReportVersion:
    version = _reviewable(report, user, expected_lock, "accept")
    comment, error = clean_text(remark, "a remark", required=False)
    if error:
        raise ValidationFailed(error, {"remarks": [error]})
    if report.official_version is not None and report.official_version_id != version.id:
        report.official_version.status = "superseded"
    version.status = "accepted"
    report.official_version_id = version.id
    report.official_version = version
    report.revision_due_date = None
    if comment:
        db.session.add(Remark(report_id=report.id, version_id=version.id, author_id=user.id, visibility="public", body=comment))
    _transition(report, version, "accept", "accepted", user, comment)
    db.session.flush()
    return version


def return_report(report: Report, user: User, remarks: str, revision_due: date | None,
                  expected_lock: int | None = None, visibility: str = "public") -> ReportVersion:
    version = _reviewable(report, user, expected_lock, "return")
    body, error = clean_text(remarks, "remarks saying what to revise")
    errors = {"remarks": [error]} if error else {}
    if revision_due is None:
        errors["revision_due_date"] = ["Enter the date the revision is due."]
    elif revision_due < eastern_today():
        errors["revision_due_date"] = ["The revision due date cannot be in the past."]
    if visibility == "private":  # kept in the API's schema, where older clients may send it
        errors["visibility"] = ["The remarks that return a report tell the grantee what to revise, so the grantee "
                                "sees them. Add a private remark for program staff separately."]
    if errors:
        raise ValidationFailed("The report was not returned. Fix the problems listed.", errors)
    version.status = "returned"
    report.revision_due_date = revision_due
    db.session.add(Remark(report_id=report.id, version_id=version.id, author_id=user.id, visibility="public", body=body))
    # A returned amendment leaves the accepted version official (official_version_id unchanged).
    _transition(report, version, "return", "returned", user, body)
    db.session.flush()
    return version


def excuse_report(report: Report, user: User, reason: str, expected_lock: int | None = None) -> None:
    _reviewable(report, user, expected_lock, "excuse")
    text, error = clean_text(reason, "the reason the report is not required")
    if error:
        raise ValidationFailed(error, {"reason": [error]})
    report.excused_reason = text
    _transition(report, report.current_version, "excuse", "excused", user, text)
    db.session.flush()


def request_amendment(report: Report, user: User, reason: str) -> ReportVersion:
    """Open a new draft version of an accepted report; the accepted one stays official."""
    access.require_certifier(user, report)
    _require_state(report, "amend")
    text, error = clean_text(reason, "the reason for the amendment")
    if error:
        raise ValidationFailed(error, {"reason": [error]})
    version = _new_version(report, user, report.official_version, amendment=True, reason=text)
    _transition(report, version, "amend", "draft", user, text)
    db.session.flush()
    return version


def add_remark(report: Report, user: User, body: str, visibility: str, expected_lock: int | None = None) -> Remark:
    """A remark on the current version; refused when the report changed since the page was read."""
    access.require_reviewer(user, report)
    _check_lock(report, expected_lock, "report")
    text, error = clean_text(body, "a remark")
    if error:
        raise ValidationFailed(error, {"body": [error]})
    remark = Remark(report_id=report.id, version_id=report.current_version_id, author_id=user.id,
                    visibility="private" if visibility == "private" else "public", body=text)
    db.session.add(remark)
    db.session.flush()
    return remark


def visible_remarks(report: Report, user: User) -> list[Remark]:
    query = select(Remark).where(Remark.report_id == report.id).options(selectinload(Remark.author)) \
        .order_by(Remark.created_at.desc(), Remark.id.desc())
    if not access.sees_private_remarks(user):
        query = query.where(Remark.visibility == "public")
    return list(db.session.scalars(query))


def history(report: Report) -> list[ReportTransition]:
    """Every status change of the report, oldest first (with its comment: the remarks of a return
    are public, so the grantee's history shows what to revise)."""
    return list(db.session.scalars(
        select(ReportTransition).where(ReportTransition.report_id == report.id)
        .options(selectinload(ReportTransition.actor), selectinload(ReportTransition.version))
        .order_by(ReportTransition.at, ReportTransition.id)
    ))


def versions(report: Report) -> list[ReportVersion]:
    return list(db.session.scalars(
        select(ReportVersion).where(ReportVersion.report_id == report.id).order_by(ReportVersion.number)
    ))


def visible_versions(report: Report, user: User) -> list[ReportVersion]:
    """Versions the user may see and compare: the organization sees its drafts, others only filed ones."""
    found = versions(report)
    if user.role in GRANTEE_ROLES:
        return found
    return [v for v in found if v.status != "draft"]
