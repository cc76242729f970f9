"""Sign in, sign out, profile and password."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms import add_service_errors
from forms.auth import LoginForm, PasswordChangeForm, PasswordForgotForm, PasswordResetForm, ProfileForm
from grants import audit, security
from grants.errors import Throttled, ValidationFailed
from grants.extensions import db
from grants.services import password_reset as resets

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = security.authenticate(form.email.data, form.password.data, security.client_ip())
        except Throttled as exc:
            audit.record("auth.throttled", changes={"email": form.email.data}, label=form.email.data)
            db.session.commit()
            return render_template("auth/login.html", form=form, error=exc.message), 429
        if user is None:
            audit.record("auth.failed", changes={"email": form.email.data}, label=form.email.data)
            db.session.commit()
            error = "The email address or password is not right."
        else:
            security.start_session(user)
            audit.record("auth.signed_in", user)
            db.session.commit()
            if user.must_change_password:
                flash("An administrator asked you to choose a new password.", "warning")
                return redirect(url_for("auth.password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form, error=error), 400 if form.is_submitted() else 200


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record("auth.signed_out", current_user._get_current_object())
    security.end_session()
    db.session.commit()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        form.populate_obj(current_user)
        db.session.commit()
        flash("Your profile is saved.", "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not security.verify_password(user.password_hash, form.current_password.data):
            form.current_password.errors.append("That is not your current password.")
        elif problem := security.password_problem(form.new_password.data, user.email):
            form.new_password.errors.append(problem)
        else:
            security.change_password(user, form.new_password.data)
            audit.record("auth.password_changed", user)
            security.start_session(user)
            db.session.commit()
            flash("Your password is changed. Every other session was signed out.", "success")
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200


@bp.route("/password/forgot", methods=["GET", "POST"])
def password_forgot():
    """Ask for a link to choose a new password (grants.services.password_reset). A signed-in
    user changes it with the current one instead."""
    if current_user.is_authenticated:
        return redirect(url_for("auth.password"))
    form = PasswordForgotForm()
    if form.validate_on_submit():
        try:
            resets.request_link(form.email.data, security.client_ip())
        except Throttled as exc:
            db.session.rollback()
            return render_template("auth/password_forgot.html", form=form, error=exc.message), 429
        except ValidationFailed as exc:
            db.session.rollback()
            add_service_errors(form, exc.errors)
        else:
            db.session.commit()
            return render_template("auth/password_link_sent.html", email=form.email.data.strip(),
                                   validity=resets.validity("asked"))
    return render_template("auth/password_forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def password_reset(token: str):
    """Choose a new password from an emailed link; signed-in or not, the link decides whose."""
    found = resets.read_token(token)
    if found is None:
        return render_template("auth/password_link_invalid.html"), 400
    user, reason = found
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            resets.reset_password(user, form.new_password.data)
        except ValidationFailed as exc:
            db.session.rollback()
            add_service_errors(form, exc.errors)
        else:
            if current_user.is_authenticated and current_user.id == user.id:
                security.end_session()  # its session was revoked with the others: clear the cookie too
            db.session.commit()
            flash("Your password is set. Sign in with it." if reason == "invited" else
                  "Your password is changed, and every session of your account was signed out. "
                  "Sign in with your new password.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/password_reset.html", form=form, user=user, invited=reason == "invited"), \
        400 if form.errors else 200
