"""Award administration pages: grants, organizations, communities, and officers' programs. Admin only.

The rules live in grants.services.awards (and grants.services.users for officers' programs); these
views read forms, call a service, commit once and say what happened.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from flask import Blueprint, flash, redirect, render_template, request, url_for

from forms import add_service_errors
from forms.awards import (
    CommunityFilterForm,
    CommunityForm,
    GrantFilterForm,
    GrantForm,
    OfficerProgramsForm,
    OrganizationFilterForm,
    OrganizationForm,
)
from grants import web
from grants.errors import StaleEdit, ValidationFailed
from grants.extensions import db
from grants.formatting import fmt_date, fmt_number
from grants.security import roles_required
from grants.services import awards, users

bp = Blueprint("awards", __name__, url_prefix="/admin")
ADMIN = ("admin",)


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Grants", "awards.grant_list", ADMIN)
    web.register_nav("Organizations", "awards.organization_list", ADMIN)
    web.register_nav("Communities", "awards.community_list", ADMIN)


def _page(query):
    return db.paginate(query, page=request.args.get("page", 1, type=int), per_page=awards.PER_PAGE, error_out=False)


def _args_without_page() -> dict:
    return {k: v for k, v in request.args.items() if v and k != "page"}


def _shown(field, value) -> str:
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


def _differences(form, saved) -> list[tuple[str, str, str]]:
    """(label, what you typed, what is saved) of each field whose typed value differs from the saved one."""
    out = []
    for name, field in form._fields.items():
        if name in ("csrf_token", "lock_version") or not hasattr(saved, name):
            continue
        typed, current = field.data, getattr(saved, name)
        if name == "award_amount":
            typed = awards.parse_amount(typed)
        if (typed or None) != (current or None):
            out.append((field.label.text, _shown(field, field.data), _shown(field, current)))
    return out


def _save(form, obj, save: Callable):
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
        return None, 409, {"message": exc.message, "conflicts": _differences(form, current)}
    if parse_errors:
        db.session.rollback()
        return None, 400, None
    db.session.commit()
    return result, 200, None


# --- grants -------------------------------------------------------------------------------------

@bp.route("/grants")
@roles_required(*ADMIN)
def grant_list():
    form = GrantFilterForm(request.args)
    form.program.choices = [("", "All programs")] + [(code, code) for code in awards.program_codes()]
    form.validate()
    page = _page(awards.grant_query(form.q.data or "", form.program.data or "", form.status.data or ""))
    return render_template("awards/grants.html", form=form, page=page, args=_args_without_page(),
                           status_labels=awards.GRANT_STATUS_LABELS)


def _grant_form(grant=None) -> GrantForm:
    form = GrantForm(obj=grant) if request.method == "GET" else GrantForm()
    if awards.has_reports(grant):
        for name in awards.FIXED_WITH_REPORTS:
            delattr(form, name)
    else:
        form.program_id.choices = [("", "- Select -")] + awards.program_choices()
        form.organization_id.choices = [("", "- Select -")] + awards.organization_choices()
    form.community_id.choices = [("", "- Select -")] + awards.community_choices()
    form.officer_id.choices = [("", "Unassigned")] + awards.officer_choices()
    if grant is None and request.method == "GET":
        form.organization_id.data = request.args.get("organization", type=int)  # "Add a grant for this organization"
    if grant is not None and request.method == "GET":
        form.award_amount.data = f"{grant.award_amount:,.2f}"
    return form


def _saved_message(saved: awards.GrantSaved, created: bool) -> str:
    parts = [f"Grant {saved.grant.award_number} {'created' if created else 'saved'}."]
    if saved.opened:
        parts.append(f"{saved.opened} report{'s' if saved.opened != 1 else ''} opened for started periods.")
    if saved.realigned:
        parts.append(f"{saved.realigned} unsubmitted report{'s were' if saved.realigned != 1 else ' was'} moved "
                     "to the new period of performance.")
    if saved.outside_performance:
        parts.append(f"{saved.outside_performance} unsubmitted report{'s fall' if saved.outside_performance != 1 else ' falls'} "
                     "after the end date; the program officer can excuse "
                     f"{'them' if saved.outside_performance != 1 else 'it'}.")
    return " ".join(parts)


def _edit_page(obj, form, save: Callable, render: Callable, saved: Callable):
    """The GET and POST of every create and edit page: `save(lock)` calls the service,
    `render(form, status, stale)` draws the page, `saved(result)` gives (message, where to go next)."""
    if request.method == "GET":
        return render(form, 200, None)
    result, status, stale = _save(form, obj, lambda: save(form.lock_version.data))
    if result is None:
        return render(form, status, stale)
    message, target = saved(result)
    flash(message, "success")
    return redirect(target)


def _grant(grant):
    form = _grant_form(grant)

    def render(form, status, stale):
        reports = awards.grant_reports(grant) if grant is not None else []
        return render_template("awards/grant_edit.html", grant=grant, form=form, reports=reports, stale=stale,
                               fixed=awards.has_reports(grant), status_labels=awards.GRANT_STATUS_LABELS), status

    return _edit_page(grant, form, lambda lock: awards.save_grant(grant, form.values(), lock), render, lambda saved: (
        _saved_message(saved, created=grant is None), url_for("awards.grant_edit", grant_id=saved.grant.id)))


@bp.route("/grants/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def grant_create():
    return _grant(None)


@bp.route("/grants/<int:grant_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def grant_edit(grant_id: int):
    return _grant(awards.get_grant(grant_id))


# --- organizations ------------------------------------------------------------------------------

@bp.route("/organizations")
@roles_required(*ADMIN)
def organization_list():
    form = OrganizationFilterForm(request.args)
    form.validate()
    page = _page(awards.organization_query(form.q.data or ""))
    return render_template("awards/organizations.html", form=form, page=page, args=_args_without_page())


def _organization(organization):
    form = OrganizationForm(obj=organization) if request.method == "GET" else OrganizationForm()

    def render(form, status, stale):
        return render_template("awards/organization_edit.html", organization=organization, form=form,
                               stale=stale), status

    def saved(org):
        message = (f"{org.legal_name} saved." if organization else
                   f"{org.legal_name} created. You can now add its grants and its staff's accounts.")
        return message, url_for("awards.organization_edit", organization_id=org.id)

    return _edit_page(organization, form, lambda lock: awards.save_organization(organization, form.data, lock),
                      render, saved)


@bp.route("/organizations/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def organization_create():
    return _organization(None)


@bp.route("/organizations/<int:organization_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def organization_edit(organization_id: int):
    return _organization(awards.get_organization(organization_id))


# --- communities --------------------------------------------------------------------------------

@bp.route("/communities")
@roles_required(*ADMIN)
def community_list():
    form = CommunityFilterForm(request.args)
    form.validate()
    page = _page(awards.community_query(form.q.data or "", form.state.data or ""))
    return render_template("awards/communities.html", form=form, page=page, args=_args_without_page())


def _community(community):
    form = CommunityForm(obj=community) if request.method == "GET" else CommunityForm()

    def render(form, status, stale):
        return render_template("awards/community_edit.html", community=community, form=form, stale=stale), status

    def saved(place):
        done = "saved" if community else "created"
        return (f"{place.name} ({place.state}, HHS region {place.hhs_region}) {done}.",
                url_for("awards.community_list", q=place.name))

    return _edit_page(community, form, lambda lock: awards.save_community(community, form.data, lock), render, saved)


@bp.route("/communities/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def community_create():
    return _community(None)


@bp.route("/communities/<int:community_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def community_edit(community_id: int):
    return _community(awards.get_community(community_id))


# --- officers' programs -------------------------------------------------------------------------

@bp.route("/users/<int:user_id>/programs", methods=["GET", "POST"])
@roles_required(*ADMIN)
def officer_programs(user_id: int):
    user = users.get_program_officer(user_id)
    form = OfficerProgramsForm()
    form.programs.choices = awards.program_choices()
    if request.method == "GET":
        form.programs.data = users.officer_program_ids(user)
        return render_template("awards/officer_programs.html", user=user, form=form)
    if form.validate_on_submit():
        try:
            users.set_officer_programs(user, form.programs.data or [])
        except ValidationFailed as exc:
            db.session.rollback()
            add_service_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"{user.name}'s programs saved.", "success")
            return redirect(url_for("admin.user_list", q=user.email))
    return render_template("awards/officer_programs.html", user=user, form=form), 400
