"""What every create-and-edit page of the administration does with its form: save through a
service in one transaction, show the form's and the service's errors together, and refuse an edit
made on an out-of-date page with the saved values beside the typed ones."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from flask import flash, redirect, request

from forms import add_service_errors
from grants.errors import StaleEdit, ValidationFailed
from grants.extensions import db
from grants.formatting import fmt_date, fmt_number
from grants.services.awards import parse_amount


def paged(query, per_page: int = 50):
    return db.paginate(query, page=request.args.get("page", 1, type=int), per_page=per_page, error_out=False)


def args_without_page() -> dict:
    return {k: v for k, v in request.args.items() if v and k != "page"}


def shown(field, value) -> str:
    """A field's value as the page shows it (a choice's label, a date, an amount)."""
    if value in (None, ""):
        return "(blank)"
    choices = getattr(field, "choices", None)
    if choices:
        return next((str(label) for key, label in choices if key == value), str(value))
    if isinstance(value, date):
        return fmt_date(value)
    if isinstance(value, Decimal):
        return fmt_number(value, "currency")
    return str(value)


def differences(form, saved) -> list[tuple[str, str, str]]:
    """(label, what you typed, what is saved) of each field whose typed value differs from the saved one."""
    out = []
    for name, field in form._fields.items():
        if name in ("csrf_token", "lock_version") or not hasattr(saved, name):
            continue
        typed, current = field.data, getattr(saved, name)
        if name == "award_amount":
            typed = parse_amount(typed)
        if (typed or None) != (current or None):
            out.append((field.label.text, shown(field, field.data), shown(field, current)))
    return out


def save_form(form, obj, save: Callable):
    """POST handling shared by every edit page: (result, status, stale). The form's own parse
    errors (a date that is not a date) and the service's rule errors are shown together; nothing
    is saved unless both are clean."""
    form.validate()  # the CSRF token was checked before the view (CSRFProtect)
    parse_errors = {name for name, field in form._fields.items() if field.errors}
    try:
        result = save()
    except ValidationFailed as exc:
        db.session.rollback()
        add_service_errors(form, {k: v for k, v in exc.errors.items() if k not in parse_errors})
        return None, 400, None
    except StaleEdit as exc:
        db.session.rollback()
        current = db.session.get(type(obj), obj.id)
        form.lock_version.data = current.lock_version  # saving again now is a deliberate choice
        return None, 409, {"message": exc.message, "conflicts": differences(form, current)}
    if parse_errors:
        db.session.rollback()
        return None, 400, None
    db.session.commit()
    return result, 200, None


def edit_page(obj, form, save: Callable, render: Callable, saved: Callable):
    """The GET and POST of every create and edit page: `save(lock)` calls the service,
    `render(form, status, stale)` draws the page, `saved(result)` gives (message, where to go next)."""
    if request.method == "GET":
        return render(form, 200, None)
    result, status, stale = save_form(form, obj, lambda: save(form.lock_version.data))
    if result is None:
        return render(form, status, stale)
    message, target = saved(result)
    flash(message, "success")
    return redirect(target)
