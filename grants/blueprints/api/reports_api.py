"""API: reports with their values, draft updates, and the workflow actions.

Reads and every action go through `grants.services.access` and `grants.services.reports`, the
same code the web pages use. Updates need `If-Match` with the ETag of the version they were based
on (428 without it, 412 when it is stale).
"""
from __future__ import annotations

from flask import request
from marshmallow import RAISE
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from grants.blueprints.api.common import (
    ApiError,
    api_blueprint,
    check_id,
    current_api_user,
    documented,
    error_response,
    paginate,
    roles,
)
from grants.blueprints.api.schemas import (
    AcceptSchema,
    ReportPageSchema,
    ReportQuerySchema,
    ReportSchema,
    ReturnSchema,
    SubmitSchema,
    ValuesUpdateSchema,
)
from grants.errors import StaleEdit, ValidationFailed
from grants.extensions import db
from grants.measures import cell_label
from grants.models import GRANTEE_ROLES, Grant, Program, Report, ReportVersion
from grants.periods import eastern_today, timeliness
from grants.services import access, grantee_home
from grants.services import reports as report_service
from grants.validation import check_narratives, clean_text

bp = api_blueprint("api_reports", "Reports, their values and narratives, and the workflow actions.")
bp.register_error_handler(StaleDataError, lambda exc: error_response(
    412, "The report changed while you were saving it. Read it again and retry.", {}))

IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "The ETag of the report as you read it (GET /reports/{report_id})."}
IF_MATCH_OPTIONAL = {**IF_MATCH, "required": False,
                     "description": "Optional: the ETag you reviewed; the action is refused (412) if the report changed."}
VALUES_EXAMPLE = {"values": {"CLI-01": 40, "CLI-01.age.minor": "25", "CLI-01.age.adult": "15", "CLI-01.age.unknown": "0"},
                  "narratives": {"narrative_accomplishments": "We served 40 survivors and trained 3 partner agencies."}}
SUBMIT_EXAMPLE = {"certifier_name": "Dana Whitfield", "certifier_title": "Executive Director",
                  "certifier_phone": "614-555-0142", "certifier_email": "grantee@demo.test", "certify": True}
ETAG_HEADER = {"ETag": {"description": "Version tag of the report; send it back as If-Match.", "schema": {"type": "string"}}}


def etag_of(report: Report, version: ReportVersion | None) -> str:
    """Changes whenever the report (status, due dates, review) or its version (values) changes."""
    number, lock = (version.number, version.lock_version) if version else (0, 0)
    return f'"r{report.id}-{report.lock_version}-v{number}-{lock}"'


def summary_out(report: Report, version: ReportVersion | None) -> dict:
    return {
        "id": report.id, "grant_id": report.grant_id, "award_number": report.grant.award_number,
        "program": report.grant.program.code, "organization_id": report.grant.organization_id,
        "fiscal_year": report.fiscal_year, "half": report.half, "report_type": report.report_type,
        "period_start": report.period_start, "period_end": report.period_end, "due_date": report.due_date,
        "effective_due_date": report.effective_due_date, "status": report.status,
        "timeliness": timeliness(report.status, report.first_submitted_at, report.effective_due_date, eastern_today()),
        "version_number": version.number if version else None, "first_submitted_at": report.first_submitted_at,
    }


def report_out(report: Report, user) -> dict:
    version = grantee_home.version_for_viewer(report, user)
    if version is not None:
        state = report_service.load_state(report, version)
        specs, raw, check = state.specs, state.raw, state.check
    else:  # nothing entered yet: nothing to check
        specs, raw, check = report_service.report_specs(report), {}, None
    values = []
    for spec in specs:
        for cell in spec.cells:
            number = check.values.get(cell.key) if check else None
            values.append({
                "key": cell.key, "measure": cell.measure, "dimension": cell.dimension, "category": cell.category,
                "label": cell_label(spec, cell), "value_type": spec.value_type, "raw": raw.get(cell.key, ""),
                "value": None if number is None else str(number),
            })
    out = summary_out(report, version)
    out.update({
        "etag": etag_of(report, version),
        "editable": access.can_edit(user, report) and report.status in report_service.ALLOWED_FROM["edit"],
        "version": None if version is None else {
            "number": version.number, "status": version.status, "is_amendment": version.is_amendment,
            "lock_version": version.lock_version, "updated_at": version.updated_at,
            "submitted_at": version.submitted_at, "certifier_name": version.certifier_name,
            "certified_at": version.certified_at,
        },
        "values": values,
        "narratives": report_service.narratives_of(version),
        "explanations": dict(version.explanations or {}) if version else {},
        "errors": check.errors if check else {},
        "warnings": [{"code": w.code, "field": w.field, "message": w.message} for w in check.warnings] if check else [],
    })
    return out


def _respond(report: Report, user, status: int = 200):
    db.session.refresh(report)
    body = report_out(report, user)
    return body, status, {"ETag": body["etag"]}


def _precondition(report: Report, user, required: bool) -> tuple[int | None, int | None]:
    """(version lock, report lock) the client based its request on, from If-Match, for the
    services to check: 428 when it is missing but required, 412 when it names another state."""
    sent = (request.headers.get("If-Match") or "").strip()
    if not sent:
        if required:
            raise ApiError(428, "Send If-Match with the ETag from GET /reports/{id}, so that you do not overwrite "
                                "someone else's changes.")
        return None, None
    version = report.current_version
    if sent != "*" and etag_of(report, version) not in (tag.strip().removeprefix("W/") for tag in sent.split(",")):
        raise StaleEdit("This report was changed after you read it. Read it again (GET) and retry with its ETag.")
    return (version.lock_version if version else None), report.lock_version


def _load(report_id: int, for_update: bool = False) -> Report:
    return access.get_report(current_api_user(), check_id(report_id), for_update=for_update)


@bp.route("/reports")
@documented(bp, 422)
@bp.arguments(ReportQuerySchema, location="query", unknown=RAISE)
@bp.response(200, ReportPageSchema)
def report_list(args: dict):
    """Reports you may see, newest due first, filtered and paged."""
    user = current_api_user()
    query = (
        select(Report).join(Grant, Grant.id == Report.grant_id).where(access.grant_scope(user))
        .options(joinedload(Report.grant).joinedload(Grant.program), joinedload(Report.current_version))
    )
    for name in ("fiscal_year", "half", "status", "grant_id"):
        if args.get(name) is not None:
            query = query.where(getattr(Report, name) == args[name])
    if args.get("program"):
        query = query.join(Program, Program.id == Grant.program_id).where(Program.code == args["program"].upper())
    if args.get("assigned"):
        query = query.where(Grant.officer_id == user.id)
    items, meta = paginate(query.order_by(Report.effective_due_date.desc(), Report.id.desc()),
                           args["page"], args["per_page"])
    shown = grantee_home.versions_for_viewer(items, user)
    return {"items": [summary_out(r, shown[r.id]) for r in items], "meta": meta}


@bp.route("/reports/<int:report_id>")
@documented(bp, 404)
@bp.response(200, ReportSchema, headers=ETAG_HEADER)
def report_read(report_id: int):
    """One report with every value, narrative, validation error and warning, and its ETag."""
    user = current_api_user()
    report = _load(report_id)
    body = report_out(report, user)
    return body, 200, {"ETag": body["etag"]}


def _update(report_id: int, body: dict, replace: bool):
    user = current_api_user()
    report = _load(report_id, for_update=True)
    access.require_edit(user, report)
    expected, _ = _precondition(report, user, required=True)
    state = report_service.load_state(report)
    keys = {cell.key for spec in state.specs for cell in spec.cells}
    sent = body.get("values") or {}
    unknown = sorted(k for k in sent if k not in keys)
    if unknown:
        raise ValidationFailed("Some values are not cells of this report's measures.",
                               {k: ["Not a cell of this report's measures; see GET /reports/{id} values[].key."]
                                for k in unknown})
    raw = ({} if replace else dict(state.raw)) | sent
    given = body.get("narratives") or {}
    narratives = {name: given.get(name, "") for name in report_service.NARRATIVE_FIELDS} if replace else dict(given)
    errors = check_narratives(narratives)
    explanations = {} if replace or state.version is None else dict(state.version.explanations or {})
    for code, text in (body.get("explanations") or {}).items():
        value, error = clean_text(text, "an explanation", required=False)
        if error:
            errors[f"explain:{code}"] = [error]
        explanations[code] = value
    if errors:
        raise ValidationFailed("Nothing was saved: fix the problems listed.", errors)
    _, result = report_service.save_draft(report, user, raw, narratives, explanations, expected)
    if result.errors:
        raise ValidationFailed("Nothing was saved: some values break the rules. Fix the problems listed.", result.errors)
    db.session.commit()
    return _respond(report, user)


@bp.route("/reports/<int:report_id>/values", methods=["PATCH"])
@documented(bp, 403, 404, 409, 412, 422, 428)
@bp.doc(parameters=[IF_MATCH])
@bp.arguments(ValuesUpdateSchema, example=VALUES_EXAMPLE)
@bp.response(200, ReportSchema, headers=ETAG_HEADER)
def report_values_patch(body: dict, report_id: int):
    """Change some values, narratives or explanations of the draft (the rest stay as they are).

    Opens a new draft version when the report was not started or was returned. Nothing is saved
    when any value breaks a rule (422 names each cell).
    """
    return _update(report_id, body, replace=False)


@bp.route("/reports/<int:report_id>/values", methods=["PUT"])
@documented(bp, 403, 404, 409, 412, 422, 428)
@bp.doc(parameters=[IF_MATCH])
@bp.arguments(ValuesUpdateSchema, example=VALUES_EXAMPLE)
@bp.response(200, ReportSchema, headers=ETAG_HEADER)
def report_values_put(body: dict, report_id: int):
    """Replace all values, narratives and explanations of the draft (cells not sent become blank)."""
    return _update(report_id, body, replace=True)


@bp.route("/reports/<int:report_id>/submit", methods=["POST"])
@documented(bp, 403, 404, 409, 412, 422)
@bp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles(*GRANTEE_ROLES)
@bp.arguments(SubmitSchema, example=SUBMIT_EXAMPLE)
@bp.response(200, ReportSchema, headers=ETAG_HEADER)
def report_submit(body: dict, report_id: int):
    """Certify and submit the draft (the organization's Authorized Official only)."""
    user = current_api_user()
    report = _load(report_id, for_update=True)
    access.require_certifier(user, report)
    expected, _ = _precondition(report, user, required=False)
    certification = {"name": body["certifier_name"], "title": body["certifier_title"],
                     "phone": body["certifier_phone"], "email": body["certifier_email"], "agree": body["certify"]}
    report_service.submit_report(report, user, certification, expected)
    db.session.commit()
    return _respond(report, user)


@bp.route("/reports/<int:report_id>/accept", methods=["POST"])
@documented(bp, 403, 404, 409, 412, 422)
@bp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles("program_officer")
@bp.arguments(AcceptSchema, example={"remarks": "Thank you: the report is complete."})
@bp.response(200, ReportSchema, headers=ETAG_HEADER)
def report_accept(body: dict, report_id: int):
    """Accept the submitted report (the program officer assigned to the grant)."""
    user = current_api_user()
    report = _load(report_id, for_update=True)
    access.require_reviewer(user, report)
    _, expected = _precondition(report, user, required=False)
    report_service.accept_report(report, user, expected, remark=body.get("remarks", ""))
    db.session.commit()
    return _respond(report, user)


@bp.route("/reports/<int:report_id>/return", methods=["POST"])
@documented(bp, 403, 404, 409, 412, 422)
@bp.doc(parameters=[IF_MATCH_OPTIONAL])
@roles("program_officer")
@bp.arguments(ReturnSchema, example={"remarks": "Explain the drop in clients served.",
                                      "revision_due_date": "2030-01-15", "visibility": "public"})
@bp.response(200, ReportSchema, headers=ETAG_HEADER)
def report_return(body: dict, report_id: int):
    """Return the submitted report for revision, with remarks and a revision due date."""
    user = current_api_user()
    report = _load(report_id, for_update=True)
    access.require_reviewer(user, report)
    _, expected = _precondition(report, user, required=False)
    report_service.return_report(report, user, body["remarks"], body["revision_due_date"], expected,
                                 visibility=body.get("visibility", "public"))
    db.session.commit()
    return _respond(report, user)
