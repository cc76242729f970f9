"""In-app notifications: the signed-in user's messages, unread count, mark as read."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from grants.extensions import db
from grants.services import notifications

bp = Blueprint("notifications", __name__)


@bp.route("/notifications")
@login_required
def notification_list():
    page = request.args.get("page", 1, type=int)
    return render_template(
        "notifications/list.html", messages=notifications.user_messages(current_user, page),
    )  # the unread count comes with every page (grants.web's context processor)


@bp.route("/notifications/<int:message_id>/read", methods=["POST"])
@login_required
def notification_read(message_id: int):
    notifications.get_message(current_user, message_id)
    notifications.mark_read(current_user, message_id)
    db.session.commit()
    return redirect(url_for("notifications.notification_list"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def notification_read_all():
    count = notifications.mark_read(current_user)
    db.session.commit()
    flash(f"{count} notification{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("notifications.notification_list"))
