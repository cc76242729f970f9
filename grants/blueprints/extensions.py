"""Deadline extensions: the certifier's request page, the officer's decision and pending list."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forms import add_service_errors
from forms.extensions import ExtensionDecisionForm, ExtensionRequestForm, ExtensionWithdrawForm
from grants import web
from grants.errors import InvalidTransition, StaleEdit, ValidationFailed
from grants.extensions import db
from grants.formatting import fmt_date
from grants.security import roles_required
from grants.services import access, grantee_home
from grants.services import extensions as extension_service

bp = Blueprint("extensions", __name__)


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Extension requests", "extensions.extension_list", ("program_officer",))


def _user():
    return current_user._get_current_object()


@bp.route("/reports/<int:report_id>/extension", methods=["GET", "POST"])
@roles_required("grantee_certifier")
def extension_request(report_id: int):
    user = _user()
    report = access.get_report(user, report_id, for_update=request.method == "POST")
    form = ExtensionRequestForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                extension_service.request_extension(report, user, form.requested_date.data, form.reason.data)
            except ValidationFailed as exc:
                db.session.rollback()
                report = access.get_report(user, report_id)
                add_service_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(f"Your request for a new due date of {fmt_date(form.requested_date.data)} is sent to your "
                      "program officer. The current due date applies until it is approved.", "success")
                return redirect(url_for("extensions.extension_request", report_id=report_id))
    return _request_page(report, form, status)


def _request_page(report, form, status: int = 200):
    pending = extension_service.pending_request(report)
    withdraw_form = ExtensionWithdrawForm(data={"lock_version": pending.lock_version}, formdata=None) if pending else None
    return render_template(
        "extensions/request.html", report=report, grant=report.grant, form=form, withdraw_form=withdraw_form,
        requests=extension_service.requests_for(report), pending=pending,
        deadline=grantee_home.deadline_for(report), closed=not extension_service.is_extendable(report),
    ), status


@bp.route("/extensions/<int:extension_id>/withdraw", methods=["POST"])
@roles_required("grantee_certifier")
def extension_withdraw(extension_id: int):
    user = _user()
    extension = extension_service.get_extension(user, extension_id, for_update=True)
    form = ExtensionWithdrawForm()
    if not form.validate_on_submit():  # only a form from an old or altered page lacks its version
        flash("The request was not withdrawn: the page was out of date. Check the request below and try again.",
              "error")
    else:
        try:
            extension_service.withdraw_extension(extension, user, form.lock_version.data)
        except (InvalidTransition, StaleEdit) as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(f"Your request for {fmt_date(extension.requested_date)} is withdrawn. The report is still due "
                  f"{fmt_date(extension.report.effective_due_date)}; you can ask again.", "success")
    return redirect(url_for("extensions.extension_request", report_id=extension.report_id))


@bp.route("/extensions")
@roles_required("program_officer")
def extension_list():
    return render_template("extensions/list.html", requests=extension_service.pending_for_officer(_user()))


@bp.route("/extensions/<int:extension_id>/decide", methods=["GET", "POST"])
@roles_required("program_officer")
def extension_decide(extension_id: int):
    user = _user()
    extension = extension_service.get_extension(user, extension_id, for_update=request.method == "POST")
    if request.method == "POST":
        access.require_reviewer(user, extension.report)
    form = ExtensionDecisionForm(data={"lock_version": extension.lock_version} if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            approve = form.decision.data == "approve"
            try:
                extension_service.decide_extension(extension, user, approve, form.approved_date.data,
                                                   form.reason.data or "", form.lock_version.data)
            except ValidationFailed as exc:
                db.session.rollback()
                extension = extension_service.get_extension(user, extension_id)
                add_service_errors(form, exc.errors)
            else:
                db.session.commit()
                flash(f"Extension approved: the report is now due {fmt_date(extension.report.effective_due_date)}."
                      if approve else "Extension denied. The grantee sees your reason.", "success")
                return redirect(url_for("reviews.report_review", report_id=extension.report_id))
    report = extension.report
    return render_template("extensions/decide.html", extension=extension, report=report, grant=report.grant,
                           form=form, can_act=access.can_review(user, report)), status
