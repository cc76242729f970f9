"""Award administration pages: grants, organizations, communities, and officers' programs. Admin only.

The rules live in grants.services.awards (and grants.services.users for officers' programs); these
views read forms, call a service, commit once and say what happened.
"""
from __future__ import annotations

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, session, url_for
from flask_login import current_user

from forms import add_service_errors
from forms.awards import (
    CommunityFilterForm,
    CommunityForm,
    GrantFilterForm,
    GrantForm,
    GrantImportForm,
    HandoverForm,
    OfficerProgramsForm,
    OrganizationFilterForm,
    OrganizationForm,
)
from forms.upload import ConfirmUploadForm
from grants import web
from grants.blueprints.editing import args_without_page, edit_page, paged, save_form
from grants.errors import StaleEdit, ValidationFailed
from grants.extensions import db
from grants.formatting import plural
from grants.security import roles_required
from grants.services import award_import, awards, handover, removal, upload, users

bp = Blueprint("awards", __name__, url_prefix="/admin")
ADMIN = ("admin",)


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Grants", "awards.grant_list", ADMIN)
    web.register_nav("Organizations", "awards.organization_list", ADMIN)
    web.register_nav("Communities", "awards.community_list", ADMIN)


# --- grants -------------------------------------------------------------------------------------

@bp.route("/grants")
@roles_required(*ADMIN)
def grant_list():
    form = GrantFilterForm(request.args)
    form.program.choices = [("", "All programs")] + [(code, code) for code in awards.program_codes()]
    form.officer.choices = [("", "Any officer")] + awards.officer_filter_choices()
    form.validate()
    page = paged(awards.grant_query(form.q.data or "", form.program.data or "", form.status.data or "",
                                    form.officer.data or ""))
    return render_template("awards/grants.html", form=form, page=page, args=args_without_page(),
                           status_labels=awards.GRANT_STATUS_LABELS, status_tags=awards.GRANT_STATUS_TAGS)


def _grant_form(grant=None) -> GrantForm:
    form = GrantForm(obj=grant) if request.method == "GET" else GrantForm()
    if awards.has_reports(grant):
        for name in awards.FIXED_WITH_REPORTS:
            delattr(form, name)
    else:
        form.program_id.choices = [("", "- Select -")] + awards.program_choices()
        form.organization_id.choices = [("", "- Select -")] + awards.organization_choices()
    form.community_id.choices = [("", "- Select -")] + awards.community_choices()
    form.officer_id.choices = [("", "Unassigned")] + awards.officer_choices(grant)
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


def _grant(grant):
    form = _grant_form(grant)

    def render(form, status, stale):
        reports = awards.grant_reports(grant) if grant is not None else []
        return render_template("awards/grant_edit.html", grant=grant, form=form, reports=reports, stale=stale,
                               fixed=awards.has_reports(grant), status_labels=awards.GRANT_STATUS_LABELS,
                               kept=removal.why_kept(grant) if grant else None), status

    return edit_page(grant, form, lambda lock: awards.save_grant(grant, form.values(), lock), render, lambda saved: (
        _saved_message(saved, created=grant is None), url_for("awards.grant_edit", grant_id=saved.grant.id)))


@bp.route("/grants/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def grant_create():
    return _grant(None)


@bp.route("/grants/<int:grant_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def grant_edit(grant_id: int):
    return _grant(awards.get_grant(grant_id))


@bp.route("/grants/<int:grant_id>/delete", methods=["POST"])
@roles_required(*ADMIN)
def grant_delete(grant_id: int):
    grant = awards.get_grant(grant_id)
    return _delete(grant, f"Grant {grant.award_number}", url_for("awards.grant_edit", grant_id=grant.id),
                   url_for("awards.grant_list"))


def _delete(record, label: str, page: str, after: str):
    """Delete a record from its edit page (grants.services.removal); a refusal goes back to the page."""
    try:
        removal.delete_record(record, request.form.get("lock_version"))
    except (ValidationFailed, StaleEdit) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(page)
    db.session.commit()
    flash(f"{label} deleted. The audit trail keeps its values.", "success")
    return redirect(after)


# --- many grants at once -----------------------------------------------------------------------

IMPORT_KEY = "pending_grant_import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _forget_import() -> None:
    upload.discard_pending(session.pop(IMPORT_KEY, None))


def _import_page(form, error=None, status=200):
    return render_template("awards/import.html", form=form, error=error, columns=award_import.COLUMNS,
                           max_rows=award_import.MAX_ROWS), status


@bp.route("/grants/import/template.xlsx")
@roles_required(*ADMIN)
def grant_import_template():
    stream = io.BytesIO()
    award_import.write_template(stream)
    stream.seek(0)
    return send_file(stream, mimetype=XLSX, as_attachment=True, download_name="grants-to-add.xlsx", max_age=0)


@bp.route("/grants/import", methods=["GET", "POST"])
@roles_required(*ADMIN)
def grant_import():
    form = GrantImportForm()
    if not form.validate_on_submit():
        return _import_page(form, status=400 if form.is_submitted() else 200)
    file = form.workbook.data
    data = file.read(upload.MAX_UNCOMPRESSED)
    try:
        run = award_import.preview(data, file.filename or "")
    except (upload.UploadRejected, award_import.ImportRejected) as exc:
        return _import_page(form, exc.message, 400)
    _forget_import()
    token = upload.store_pending(data) if not run.failed else None
    if token:
        session[IMPORT_KEY] = token
    return render_template("awards/import_preview.html", run=run, form=ConfirmUploadForm(token=token or "")), (
        400 if run.failed else 200)


@bp.route("/grants/import/confirm", methods=["POST"])
@roles_required(*ADMIN)
def grant_import_confirm():
    form = ConfirmUploadForm()
    token = session.get(IMPORT_KEY)
    if not form.validate_on_submit() or not token or form.token.data != token:
        flash("This upload has expired. Upload the workbook again.", "error")
        return redirect(url_for("awards.grant_import"))
    try:
        run = award_import.apply(upload.load_pending(token))
    except (upload.UploadRejected, award_import.ImportRejected) as exc:
        db.session.rollback()
        _forget_import()
        flash(exc.message, "error")
        return redirect(url_for("awards.grant_import"))
    db.session.commit()
    _forget_import()
    added = len(run.rows)
    places = [plural(n, f"new {one}", f"new {many}") for n, one, many in (
        (len(run.organizations), "organization", "organizations"), (len(run.communities), "community", "communities")) if n]
    flash(f"{added} grant{'s' if added != 1 else ''} added{' with ' + ' and '.join(places) if places else ''}; "
          f"{run.opened} report{'s' if run.opened != 1 else ''} opened for started periods.", "success")
    return redirect(url_for("awards.grant_list"))


# --- organizations ------------------------------------------------------------------------------

@bp.route("/organizations")
@roles_required(*ADMIN)
def organization_list():
    form = OrganizationFilterForm(request.args)
    form.validate()
    page = paged(awards.organization_query(form.q.data or ""))
    return render_template("awards/organizations.html", form=form, page=page, args=args_without_page())


def _organization(organization):
    form = OrganizationForm(obj=organization) if request.method == "GET" else OrganizationForm()

    def render(form, status, stale):
        return render_template("awards/organization_edit.html", organization=organization, form=form, stale=stale,
                               kept=removal.why_kept(organization) if organization else None), status

    def saved(org):
        message = (f"{org.legal_name} saved." if organization else
                   f"{org.legal_name} created. You can now add its grants and its staff's accounts.")
        return message, url_for("awards.organization_edit", organization_id=org.id)

    return edit_page(organization, form, lambda lock: awards.save_organization(organization, form.data, lock),
                      render, saved)


@bp.route("/organizations/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def organization_create():
    return _organization(None)


@bp.route("/organizations/<int:organization_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def organization_edit(organization_id: int):
    return _organization(awards.get_organization(organization_id))


@bp.route("/organizations/<int:organization_id>/delete", methods=["POST"])
@roles_required(*ADMIN)
def organization_delete(organization_id: int):
    organization = awards.get_organization(organization_id)
    return _delete(organization, organization.legal_name,
                   url_for("awards.organization_edit", organization_id=organization.id), url_for("awards.organization_list"))


# --- communities --------------------------------------------------------------------------------

@bp.route("/communities")
@roles_required(*ADMIN)
def community_list():
    form = CommunityFilterForm(request.args)
    form.validate()
    page = paged(awards.community_query(form.q.data or "", form.state.data or ""))
    return render_template("awards/communities.html", form=form, page=page, args=args_without_page())


def _community(community):
    form = CommunityForm(obj=community) if request.method == "GET" else CommunityForm()

    def render(form, status, stale):
        return render_template("awards/community_edit.html", community=community, form=form, stale=stale,
                               kept=removal.why_kept(community) if community else None), status

    def saved(place):
        done = "saved" if community else "created"
        return (f"{place.name} ({place.state}, HHS region {place.hhs_region}) {done}.",
                url_for("awards.community_list", q=place.name))

    return edit_page(community, form, lambda lock: awards.save_community(community, form.data, lock), render, saved)


@bp.route("/communities/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def community_create():
    return _community(None)


@bp.route("/communities/<int:community_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def community_edit(community_id: int):
    return _community(awards.get_community(community_id))


@bp.route("/communities/<int:community_id>/delete", methods=["POST"])
@roles_required(*ADMIN)
def community_delete(community_id: int):
    community = awards.get_community(community_id)
    return _delete(community, f"{community.name} ({community.state})",
                   url_for("awards.community_edit", community_id=community.id), url_for("awards.community_list"))


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


# --- handing an officer's grants over ----------------------------------------------------------

@bp.route("/users/<int:user_id>/grants", methods=["GET", "POST"])
@roles_required(*ADMIN)
def officer_handover(user_id: int):
    """An officer's grants by program, and moving them (all, or one program's) to another officer."""
    officer = users.get_program_officer(user_id)
    form = HandoverForm()
    status = 200
    if request.method == "POST":
        result, status, _ = save_form(form, officer, lambda: handover.hand_over(officer, {
            "program_id": form.program_id.data, "to_officer_id": form.to_officer_id.data,
            "expected": form.expected.data}, current_user.id))
        if result is not None:
            flash(f"{plural(len(result.moved), 'grant', 'grants')} moved from {officer.name} to {result.to.name}. "
                  "Both were told in the app.", "success")
            return redirect(url_for("awards.officer_handover", user_id=officer.id))
    load = handover.officer_load(officer)
    total = sum(row.grants for row in load)
    form.program_id.choices = [("all", f"All {officer.name}'s grants ({total:,})")] + [
        (row.program_id, f"{row.code}: {row.name} ({row.grants:,})") for row in load]
    form.to_officer_id.choices = [("", "- Select -")] + handover.receiver_choices(officer)
    form.expected.data = handover.fingerprint(officer)  # a page drawn again after a refusal shows today's grants
    return render_template("awards/handover.html", officer=officer, form=form, load=load, total=total), status
