"""Grantee report filing: what is due, the report form, certification and submission, and the
read-only report page everyone who may see a report shares."""
from __future__ import annotations

import json

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from forms.report_form import (
    CertificationForm,
    attach_errors,
    breakdown_anchor,
    build_report_form,
    explain_name,
    field_name,
    input_name,
    measure_anchor,
    measure_progress,
    problem_anchor,
    typed_explanations,
    typed_narratives,
    typed_values,
)
from grants import web
from grants.errors import StaleEdit, ValidationFailed
from grants.extensions import db
from grants.measures import breakdown_key, breakdown_title
from grants.security import roles_required
from grants.services import access, grantee_home
from grants.services import extensions as extension_service
from grants.services import reports as report_service
from grants.services.history import report_history
from grants.validation import draft_errors

bp = Blueprint("reports", __name__)
READERS = ("grantee_editor", "grantee_certifier", "program_officer", "leadership")
GRANTEES = ("grantee_editor", "grantee_certifier")


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("My reports", "reports.report_list", GRANTEES)


@bp.route("/reports")
@roles_required(*GRANTEES)
def report_list():
    home = grantee_home.build(current_user)
    return render_template("reports/list.html", home=home)


@bp.route("/grants/<int:grant_id>")
@roles_required(*READERS)
def grant_view(grant_id: int):
    grant = access.get_grant(current_user, grant_id)
    rows = grantee_home.grant_reports(grant)
    return render_template("reports/grant.html", grant=grant, rows=rows)


@bp.route("/reports/<int:report_id>")
@roles_required(*READERS)
def report_view(report_id: int):
    report = access.get_report(current_user, report_id)
    version = grantee_home.version_for_viewer(report, current_user)
    state = report_service.load_state(report, version) if version else None
    return render_template(
        "reports/view.html", report=report, state=state, version=version,
        remarks=report_service.visible_remarks(report, current_user),
        history=report_history(report), versions=report_service.visible_versions(report, current_user),
        deadline=grantee_home.deadline_for(report), can_edit=access.can_edit(current_user, report),
        can_certify=access.can_certify(current_user, report), can_review=access.can_review(current_user, report),
        extendable=extension_service.is_extendable(report),
    )


def _lock(value) -> int | None:
    """The lock version a form was rendered with (None when the form carried none)."""
    text = str(value if value is not None else "").strip()
    return int(text) if text.isdigit() else None


def _posted_base() -> dict[str, str]:
    """The fingerprints the page was shown with ({} from a page without them: then every field
    counts as changed by its writer)."""
    try:
        base = json.loads(request.form.get("base") or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in base.items()} if isinstance(base, dict) else {}


def _form_for(report, state, formdata=None):
    version = state.version
    fields = report_service.edit_fields(state)
    data = {input_name(key): value for key, value in fields.items()}
    data["base"] = json.dumps(report_service.edit_fingerprints(fields))
    for w in state.check.warnings:
        data[explain_name(w.code)] = (version.explanations or {}).get(w.code, "") if version else ""
    data["lock_version"] = version.lock_version if version and version.status == "draft" else ""
    return build_report_form(state.specs, state.check.warnings, report.report_type == "final",
                             formdata=formdata, data=data)


def _render_edit(report, state, form, leftover, status=200, stale=None):
    # One summary of every problem, linked to the input (or the breakdown table) it is about.
    summary = {f.id: [f"{f.label.text}: {m}" for m in f.errors] for f in form if f.errors}
    for key, messages in leftover.items():
        summary[breakdown_anchor(key)] = [f"{breakdown_title(key)}: {m}" for m in messages]
    return render_template(
        "reports/edit.html", report=report, state=state, form=form, leftover=leftover, stale=stale, summary=summary,
        deadline=grantee_home.deadline_for(report), field_name=field_name, explain_name=explain_name,
        can_certify=access.can_certify(current_user, report), progress=measure_progress(form, leftover),
        breakdown_key=breakdown_key, breakdown_anchor=breakdown_anchor, measure_anchor=measure_anchor,
    ), status


@bp.route("/reports/<int:report_id>/edit", methods=["GET", "POST"])
@roles_required(*GRANTEES)
def report_edit(report_id: int):
    report = access.get_report(current_user, report_id)
    access.require_edit(current_user, report)
    if report.status not in report_service.ALLOWED_FROM["edit"]:
        flash(f"This report is {report_service.STATUS_LABELS[report.status].lower()} and cannot be edited.", "info")
        return redirect(url_for("reports.report_view", report_id=report.id))
    state = report_service.load_state(report)
    if request.method == "GET":
        form = _form_for(report, state)
        leftover = attach_errors(form, draft_errors(state.check, report_service.narratives_of(state.version))) \
            if state.version else {}
        return _render_edit(report, state, form, leftover)

    form = _form_for(report, state, formdata=request.form)
    if not form.validate_on_submit():
        return _render_edit(report, state, form, {}, 400)
    raw = typed_values(form)
    narratives = typed_narratives(form)
    explanations = typed_explanations(form, state.version.explanations if state.version else {})
    lock = _lock(form.lock_version.data)
    try:
        _, result = report_service.save_draft(report, current_user, raw, narratives, explanations, lock)
    except StaleEdit as exc:
        db.session.rollback()
        report = access.get_report(current_user, report_id)
        current = report_service.load_state(report)
        theirs = report_service.edit_fields(current)
        merged, conflicts = report_service.merge_edits(_posted_base(), {**raw, **narratives}, theirs)
        formdata = MultiDict(request.form)
        for key, value in merged.items():
            formdata[input_name(key)] = value
        formdata["base"] = json.dumps(report_service.edit_fingerprints(theirs))  # the form is now based on theirs
        typed_form = _form_for(report, current, formdata=formdata)
        typed_form.lock_version.data = current.version.lock_version if current.version else ""
        return _render_edit(report, current, typed_form, {}, 409, stale={
            "message": exc.message,
            "conflicts": [(report_service.problem_label(current, key), merged[key], theirs.get(key, ""))
                          for key in conflicts]})
    db.session.commit()
    if request.form.get("action") == "review":
        return redirect(url_for("reports.report_submit", report_id=report.id))
    errors = draft_errors(result, narratives)
    if errors:
        flash(f"Draft saved, with {len(errors)} error{'s' if len(errors) != 1 else ''} to fix "
              "before you can submit. What you typed is kept.", "warning")
    else:
        flash("Draft saved.", "success")
    # saved=1: the page confirms the save, so the browser's unsaved copy of the form is dropped
    return redirect(url_for("reports.report_edit", report_id=report.id, saved=1, _anchor="form-top"))


def _submit_context(report):
    state = report_service.load_state(report)
    return state, report_service.problems_before_submission(state)


@bp.route("/reports/<int:report_id>/submit", methods=["GET", "POST"])
@roles_required(*GRANTEES)
def report_submit(report_id: int):
    report = access.get_report(current_user, report_id)
    access.require_edit(current_user, report)
    if report.status != "draft":
        flash(f"This report is {report_service.STATUS_LABELS[report.status].lower()}; there is nothing to submit.", "info")
        return redirect(url_for("reports.report_view", report_id=report.id))
    state, problems = _submit_context(report)
    form = CertificationForm(data={
        "certifier_name": current_user.name, "certifier_title": current_user.title,
        "certifier_phone": current_user.phone, "certifier_email": current_user.email,
        "lock_version": state.version.lock_version,
    })
    status = 200
    if request.method == "POST":
        form = CertificationForm(formdata=request.form)
        if form.validate_on_submit():
            certification = {"name": form.certifier_name.data, "title": form.certifier_title.data,
                             "phone": form.certifier_phone.data, "email": form.certifier_email.data,
                             "agree": form.certify.data}
            lock = _lock(form.lock_version.data)
            try:
                report_service.submit_report(report, current_user, certification, lock)
            except ValidationFailed as exc:
                db.session.rollback()
                report = access.get_report(current_user, report_id)
                state, problems = _submit_context(report)
                for key in ("certifier_name", "certifier_title", "certifier_phone", "certifier_email", "certify"):
                    if key in exc.errors:
                        form[key].errors = exc.errors[key]
                status = 400
            else:
                db.session.commit()
                flash("Report certified and submitted. It is in your program officer's notifications for review.", "success")
                return redirect(url_for("reports.report_view", report_id=report.id, submitted=1))
        else:
            status = 400
    return render_template(
        "reports/submit.html", report=report, state=state, problems=problems, form=form,
        can_certify=access.can_certify(current_user, report), deadline=grantee_home.deadline_for(report),
        certification_text=report_service.CERTIFICATION_TEXT, problem_anchor=problem_anchor,
    ), status


@bp.route("/reports/<int:report_id>/unsubmit", methods=["POST"])
@roles_required(*GRANTEES)
def report_unsubmit(report_id: int):
    report = access.get_report(current_user, report_id)
    form = CertificationForm()
    if not form.validate_on_submit():
        flash("The form expired. Try again.", "error")
        return redirect(url_for("reports.report_view", report_id=report.id))
    report_service.unsubmit_report(report, current_user)
    db.session.commit()
    flash("Submission withdrawn. The report is a draft again; submit it when it is ready.", "success")
    return redirect(url_for("reports.report_edit", report_id=report.id))
