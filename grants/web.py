"""Web-wide hooks: navigation, template helpers, and mapping domain errors to responses."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import Markup

from grants.errors import DomainError, Forbidden, InvalidTransition, NotFound, StaleEdit, Throttled, ValidationFailed
from grants.extensions import db
from grants.formatting import fmt_date, fmt_datetime, fmt_number, fmt_recorded, plural
from grants.periods import DUE_SOON_DAYS, FINAL_DUE_DAYS, INTERIM_DUE_DAYS, TIMELINESS_LABELS
from grants.security import ROLE_LABELS


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    active: bool


# (label, endpoint, roles), added by each blueprint as it registers (see register_nav).
NAVIGATION: tuple[tuple[str, str, tuple[str, ...]], ...] = ()


def register_nav(label: str, endpoint: str, roles: tuple[str, ...]) -> None:
    """Blueprints add their navigation entries when they are registered."""
    global NAVIGATION
    if (label, endpoint, roles) not in NAVIGATION:
        NAVIGATION = NAVIGATION + ((label, endpoint, roles),)


def nav_items() -> list[NavItem]:
    if not current_user.is_authenticated:
        return []
    items, seen = [], set()
    for label, endpoint, roles in NAVIGATION:
        if current_user.role in roles and label not in seen:
            seen.add(label)
            url = url_for(endpoint)
            active = request.endpoint == endpoint or (url != "/" and request.path.startswith(url))
            items.append(NavItem(label, url, active))
    return items


def _unread_count() -> int:
    if not current_user.is_authenticated:
        return 0
    from grants.services.notifications import unread_count

    return unread_count(current_user)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(number=fmt_number, date=fmt_date, datetime=fmt_datetime, recorded=fmt_recorded,
                                  nl2br=nl2br)
    from grants.measures import CUMULATIVE_NARRATIVE, NARRATIVES, category_label, cell_title, dimension_label
    from grants.services import notifications
    from grants.services.reports import ALLOWED_FROM, DEADLINE_LABELS, problem_label, status_label

    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS, TIMELINESS_LABELS=TIMELINESS_LABELS, dimension_label=dimension_label,
        cell_title=cell_title, problem_label=problem_label, DEADLINE_LABELS=DEADLINE_LABELS,
        category_label=category_label,
        report_status_label=status_label, NARRATIVES=NARRATIVES, CUMULATIVE_NARRATIVE=CUMULATIVE_NARRATIVE,
        ALLOWED_FROM=ALLOWED_FROM, REMINDER_KIND_LABELS=notifications.KIND_LABELS, REMINDER_STATUS_LABELS=notifications.STATUS_LABELS,
        # the calendar's numbers, for page text that states them (grants.periods decides them)
        INTERIM_DUE_DAYS=INTERIM_DUE_DAYS, FINAL_DUE_DAYS=FINAL_DUE_DAYS, DUE_SOON_DAYS=DUE_SOON_DAYS,
        plural=plural,
    )

    @app.context_processor
    def _context():
        return {"nav_items": nav_items(), "unread_count": _unread_count()}

    @app.before_request
    def _refuse_nul_bytes():
        """NUL characters are never meaningful in this system's text and PostgreSQL cannot store
        them: refuse the whole request with a clear message, before anything is written."""
        values = list(request.args.values()) + list(request.form.values())
        body = request.get_data(cache=True) if request.is_json else b""
        if any("\x00" in v for v in values) or b"\x00" in body or b"\\u0000" in body:
            message = "The request contained a NUL character, which is not allowed. Nothing was saved."
            if wants_json():
                return jsonify({"message": message, "errors": {"_request": [message]}}), 422
            return render_template("errors/400.html", description=message), 400
        return None

    def _error_page(status: int, message: str):
        if wants_json():
            return jsonify({"message": message, "errors": {}}), status
        return render_template(f"errors/{status}.html", description=message), status

    @app.errorhandler(NotFound)
    def _not_found(exc):
        return _error_page(404, exc.message)

    @app.errorhandler(Forbidden)
    def _forbidden(exc):
        return _error_page(403, exc.message)

    @app.errorhandler(Throttled)
    def _throttled(exc):
        return _error_page(429, exc.message)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        return _error_page(400, "This form expired or came from another site. Reload the page and try again.")

    @app.errorhandler(404)
    def _http_404(exc):
        return _error_page(404, "We could not find that page.")

    @app.errorhandler(403)
    def _http_403(exc):
        return _error_page(403, "Your account does not have access to this page.")

    @app.errorhandler(400)
    def _http_400(exc):
        return _error_page(400, getattr(exc, "description", "The request was not valid."))

    @app.errorhandler(413)
    def _http_413(exc):
        return _error_page(400, "That file or form is too large.")

    @app.errorhandler(500)
    def _http_500(exc):
        db.session.rollback()
        return _error_page(500, "Something went wrong on our side. Nothing was saved; try again.")

    @app.errorhandler(InvalidTransition)
    @app.errorhandler(StaleEdit)
    @app.errorhandler(ValidationFailed)
    def _domain_refusal(exc: DomainError):
        """A refused action on a page: say why and go back where the user came from."""
        db.session.rollback()
        if wants_json():
            status = 409 if isinstance(exc, (InvalidTransition, StaleEdit)) else 422
            return jsonify({"message": exc.message, "errors": exc.errors}), status
        flash(exc.message, "error")
        return redirect(request.referrer or url_for("main.home"))


def nl2br(text: str) -> Markup:
    """Plain text with line breaks, escaped (narratives are never HTML)."""
    from markupsafe import escape

    return Markup("<br>".join(escape(line) for line in (text or "").split("\n")))
