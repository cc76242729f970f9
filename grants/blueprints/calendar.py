"""The reporting calendar page (month grid or list) and the private iCalendar feed."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from grants import web
from grants.extensions import db
from grants.models import GRANTEE_ROLES
from grants.periods import eastern_today
from grants.security import roles_required
from grants.services import calendar_feed as feeds

bp = Blueprint("calendar", __name__)
ROLES = GRANTEE_ROLES + ("program_officer",)


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Calendar", "calendar.calendar_page", ROLES)


def _report_endpoint(user) -> str:
    return "reviews.report_review" if user.role == "program_officer" else "reports.report_view"


@bp.route("/calendar")
@roles_required(*ROLES)
def calendar_page():
    return _render_page()


def _render_page(new_feed_url: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    today = eastern_today()
    first = feeds.parse_month(request.args.get("month"), today)
    view = "list" if request.args.get("view") == "list" else "grid"
    start, end = feeds.month_bounds(first)
    items = feeds.obligations(user, start, end, today)
    return render_template(
        "calendar/page.html", first=first, view=view, items=items, today=today,
        weeks=feeds.month_grid(first, items) if view == "grid" else [],
        previous=feeds.shift_month(first, -1), following=feeds.shift_month(first, 1),
        report_endpoint=_report_endpoint(user), has_feed=bool(user.calendar_token_digest),
        feed_state=_feed_state(user), new_feed_url=new_feed_url,
    ), status


def _feed_state(user) -> str:
    """Which address the page's Create/Replace button was shown for (a fingerprint of it, or
    "none"): a reload that sends the form again finds another one and creates nothing."""
    return (user.calendar_token_digest or "none")[:16]


@bp.route("/calendar/feed", methods=["POST"])
@roles_required(*ROLES)
def calendar_feed_create():
    """Create or replace the feed address: the old address stops working at once. The new address
    is shown in this answer only (never stored in the session cookie), so it is seen just once."""
    form = FlaskForm()
    if not form.validate_on_submit():
        return redirect(url_for("calendar.calendar_page"))
    user = current_user._get_current_object()
    if request.form.get("feed_state") != _feed_state(user):
        flash("Your calendar address was already made from this page (reloading it sends the form again), so "
              "nothing changed. It is shown only once: if you did not copy it, replace it.", "info")
        return redirect(url_for("calendar.calendar_page"))
    token = feeds.create_feed_token(user)
    db.session.commit()
    flash("Your private calendar address is ready. Copy it now: it is shown only once.", "success")
    return _render_page(url_for("calendar.calendar_feed", token=token, _external=True))


@bp.route("/calendar/feed/off", methods=["POST"])
@roles_required(*ROLES)
def calendar_feed_off():
    form = FlaskForm()
    if form.validate_on_submit():
        feeds.turn_off_feed(current_user._get_current_object())
        db.session.commit()
        flash("Your calendar address is turned off. Calendars subscribed to it no longer update.", "success")
    return redirect(url_for("calendar.calendar_page"))


@bp.route("/calendar/feed/<token>.ics")
def calendar_feed(token: str):
    """No sign-in: calendar programs fetch this; the unguessable token is the credential."""
    user = feeds.user_for_token(token)
    if user is None:
        abort(404)
    endpoint = _report_endpoint(user)
    body = feeds.build_feed(
        user, lambda report_id: url_for(endpoint, report_id=report_id, _external=True),
        current_app.config.get("BASE_URL", request.host_url),
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = "inline; filename=grant-reports.ics"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
