"""API tokens on the profile page: list, create (shown once), revoke."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.tokens import TokenCreateForm, TokenRevokeForm
from grants.errors import ValidationFailed
from grants.extensions import db
from grants.services import api_tokens

bp = Blueprint("tokens", __name__)


def _render(form, new_secret=None, status=200):
    user = current_user._get_current_object()
    return render_template("tokens/list.html", tokens=api_tokens.list_tokens(user), form=form,
                           revoke_form=TokenRevokeForm(), new_secret=new_secret), status


@bp.route("/profile/tokens")
@login_required
def token_list():
    return _render(TokenCreateForm())


@bp.route("/profile/tokens", methods=["POST"])
@login_required
def token_create():
    form = TokenCreateForm()
    if not form.validate_on_submit():
        return _render(form, status=400)
    try:
        _, secret = api_tokens.create_token(current_user._get_current_object(), form.name.data)
    except ValidationFailed as exc:
        db.session.rollback()
        form.name.errors.append(exc.message)
        return _render(form, status=400)
    db.session.commit()
    # Shown once, in this response only: it is never stored, flashed or put in a cookie.
    response, status = _render(TokenCreateForm(formdata=None), new_secret=secret, status=201)
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def token_revoke(token_id: int):
    form = TokenRevokeForm()
    if form.validate_on_submit():
        token = api_tokens.revoke_token(current_user._get_current_object(), token_id)
        db.session.commit()
        flash(f"The token “{token.name}” is revoked. Programs using it can no longer sign in.", "success")
    return redirect(url_for("tokens.token_list"))
