"""Spreadsheet round-trip for grantees: download a report's prefilled workbook, upload it back,
see what would change, and confirm. The uploaded file waits under instance/uploads/ (named by a
random token kept in the session) until it is confirmed; confirming parses it again."""
from __future__ import annotations

import io
import re

from flask import Blueprint, flash, redirect, render_template, send_file, session, url_for
from flask_login import current_user

from forms.upload import ConfirmUploadForm, UploadForm
from grants.errors import InvalidTransition, StaleEdit
from grants.extensions import db
from grants.security import roles_required
from grants.services import access, upload
from reporting.workbooks.report_form import build_report_form

bp = Blueprint("spreadsheet", __name__)
GRANTEES = ("grantee_editor", "grantee_certifier")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SESSION_KEY = "pending_upload"


def _editable_report(report_id: int):
    report = access.get_report(current_user, report_id)
    access.require_edit(current_user, report)
    return report


def _report_page(report) -> str:
    return url_for("reports.report_view", report_id=report.id)


@bp.route("/reports/<int:report_id>/workbook.xlsx")
@roles_required(*GRANTEES)
def report_download(report_id: int):
    report = _editable_report(report_id)
    stream = io.BytesIO()
    build_report_form({"report": report}, stream)
    stream.seek(0)
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{report.grant.award_number}-{report.period_label}")
    return send_file(stream, mimetype=XLSX, as_attachment=True, download_name=f"{name}-report.xlsx", max_age=0)


def _render_upload(report, form, error=None, status=200):
    return render_template("spreadsheet/upload.html", report=report, form=form, error=error), status


def _forget_pending() -> None:
    pending = session.pop(SESSION_KEY, None)
    if pending:
        upload.discard_pending(pending.get("token"))


@bp.route("/reports/<int:report_id>/upload", methods=["GET", "POST"])
@roles_required(*GRANTEES)
def report_upload(report_id: int):
    report = _editable_report(report_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_upload(report, form, status=400 if form.is_submitted() else 200)
    file = form.workbook.data
    data = file.read(upload.MAX_UNCOMPRESSED)
    try:
        preview = upload.parse_upload(report, current_user, data, file.filename or "")
    except (upload.UploadRejected, InvalidTransition) as exc:
        return _render_upload(report, form, exc.message, 400)
    _forget_pending()
    token = upload.store_pending(data)
    session[SESSION_KEY] = {"token": token, "report_id": report.id, "lock": preview.lock_version,
                            "version": preview.version_number}
    confirm = ConfirmUploadForm(token=token)
    return render_template("spreadsheet/preview.html", report=report, preview=preview, form=confirm)


@bp.route("/reports/<int:report_id>/upload/confirm", methods=["POST"])
@roles_required(*GRANTEES)
def upload_confirm(report_id: int):
    report = _editable_report(report_id)
    form = ConfirmUploadForm()
    pending = session.get(SESSION_KEY) or {}
    if not form.validate_on_submit() or pending.get("token") != form.token.data or pending.get("report_id") != report.id:
        flash("This upload has expired or belongs to another report. Upload the workbook again.", "error")
        return redirect(url_for("spreadsheet.report_upload", report_id=report.id))
    try:
        data = upload.load_pending(pending["token"])
        preview = upload.parse_upload(report, current_user, data)
        if preview.errors:
            raise upload.UploadRejected("The workbook has errors. Fix them and upload it again.")
        upload.apply_upload(report, current_user, preview, pending.get("lock"))
    except (upload.UploadRejected, InvalidTransition, StaleEdit) as exc:
        db.session.rollback()
        _forget_pending()
        flash(exc.message if not isinstance(exc, StaleEdit) else
              "The report was changed after you uploaded the workbook, so nothing was saved. "
              "Download a new workbook and upload it again.", "error")
        return redirect(url_for("spreadsheet.report_upload", report_id=report.id))
    db.session.commit()
    _forget_pending()
    count = len(preview.changes)
    flash(f"Saved {count} change{'s' if count != 1 else ''} from the workbook to the draft.", "success")
    return redirect(_report_page(report))
