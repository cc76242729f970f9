"""Home page per role and the health check."""
from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from grants.extensions import db

bp = Blueprint("main", __name__)

# Where each role lands after signing in; each blueprint owns its page.
HOME_ENDPOINTS = {
    "grantee_editor": "reports.report_list",
    "grantee_certifier": "reports.report_list",
    "program_officer": "reviews.portfolio",
    "leadership": "rollups.dashboard",
    "admin": "admin.user_list",
}


@bp.route("/")
@login_required
def home():
    return redirect(url_for(HOME_ENDPOINTS[current_user.role]))


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure is reported, not raised
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return jsonify({"status": "ok" if status == 200 else "degraded", "database": database}), status
