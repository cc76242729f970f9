"""Administration: user accounts and the (read-only) audit trail. Admin role only."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forms import add_service_errors
from forms.admin import AuditSearchForm, ConfirmForm, UserActiveForm, UserCreateForm, UserFilterForm
from grants import web
from grants.blueprints.editing import args_without_page, paged
from grants.errors import ValidationFailed
from grants.extensions import db
from grants.security import roles_required
from grants.services import audit_search, password_reset, users

bp = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN = ("admin",)


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Users", "admin.user_list", ADMIN)
    web.register_nav("Audit trail", "admin.audit_list", ADMIN)


@bp.route("/users")
@roles_required(*ADMIN)
def user_list():
    form = UserFilterForm(request.args)
    form.validate()
    query = users.list_query(form.q.data or "", form.role.data or "")
    page = paged(query, users.PER_PAGE)
    return render_template("admin/users.html", form=form, page=page, args=args_without_page())


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def user_create():
    form = UserCreateForm()
    form.organization_id.choices = [(0, "None (federal staff)")] + users.organization_choices()
    if form.validate_on_submit():
        try:
            user = users.create_user(form.email.data, form.name.data, form.role.data,
                                     form.organization_id.data or None, form.title.data or "", form.phone.data or "")
        except ValidationFailed as exc:
            db.session.rollback()
            add_service_errors(form, exc.errors)
        else:
            db.session.commit()
            sent = password_reset.send_link(user, "invited")
            return render_template("admin/user_created.html", user=user, sent=sent,
                                   validity=password_reset.validity("invited"))
    status = 400 if form.errors else 200
    return render_template("admin/user_new.html", form=form), status


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@roles_required(*ADMIN)
def user_set_active(user_id: int):
    user = users.get_user(user_id)
    form = UserActiveForm()
    if form.validate_on_submit():
        active = form.active.data == "1"
        users.set_active(user, active, current_user._get_current_object())
        db.session.commit()
        flash(f"{user.name} is {'reactivated' if active else 'deactivated and signed out everywhere'}.", "success")
    return redirect(request.referrer or url_for("admin.user_list"))


@bp.route("/users/<int:user_id>/reset-password", methods=["POST"])
@roles_required(*ADMIN)
def user_force_reset(user_id: int):
    user = users.get_user(user_id)
    if ConfirmForm().validate_on_submit():
        users.force_password_reset(user)
        db.session.commit()
        if password_reset.send_link(user, "forced"):
            flash(f"{user.name} is signed out everywhere and their password no longer works. A link to choose a new "
                  f"one was emailed to {user.email}.", "success")
        else:
            flash(f"{user.name} is signed out everywhere and their password no longer works, but the email with a link "
                  "to choose a new one could not be sent. Ask them to use \"Forgot your password?\" on the sign-in "
                  "page.", "warning")
    return redirect(request.referrer or url_for("admin.user_list"))


@bp.route("/audit")
@roles_required(*ADMIN)
def audit_list():
    form = AuditSearchForm(request.args)
    valid = form.validate() if request.args else True
    filters = audit_search.AuditFilters()
    if valid:
        filters = audit_search.AuditFilters(
            user=form.user.data or "", award_number=form.award_number.data or "", report_id=form.report_id.data,
            action=form.action.data or "", date_from=form.date_from.data, date_to=form.date_to.data,
        )
    page = paged(audit_search.search_query(filters), audit_search.PER_PAGE)
    return render_template("admin/audit.html", form=form, page=page, args=args_without_page()), 200 if valid else 400
