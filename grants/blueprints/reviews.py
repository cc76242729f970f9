"""Program officers' pages: the portfolio, the review page and its actions; amendments and the
comparison of a report's versions (for the grantee organization and officers).

Any officer of a grant's program may read its review page; only the officer assigned to the grant
may act (the services check it). Every action is one POST, one transaction, then a redirect.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forms import add_service_errors
from forms.extensions import ExtensionDecisionForm
from forms.review import AcceptForm, AmendmentForm, CompareForm, ExcuseForm, PortfolioFilterForm, RemarkForm, ReturnForm
from grants import web
from grants.errors import NotFound, ValidationFailed
from grants.extensions import db
from grants.measures import CUMULATIVE_NARRATIVE, NARRATIVES, Cell, MeasureSpec
from grants.models import GRANTEE_ROLES
from grants.periods import eastern_today
from grants.security import roles_required
from grants.services import access, grantee_home, notifications
from grants.services import extensions as extension_service
from grants.services import reports as report_service
from grants.services.history import report_history
from grants.services.portfolio import PortfolioFilters, load_portfolio

bp = Blueprint("reviews", __name__)
OFFICER = ("program_officer",)
READERS = GRANTEE_ROLES + ("program_officer", "leadership")


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Portfolio", "reviews.portfolio", OFFICER)


def _user():
    return current_user._get_current_object()


@bp.route("/portfolio")
@roles_required(*OFFICER)
def portfolio():
    form = PortfolioFilterForm(request.args)
    # Choices depend on the officer's data, so values are checked by the query, not form.validate().
    filters = PortfolioFilters(
        mine=form.scope.data != "all", program=form.program.data or "", status=form.status.data or "",
        state=form.state.data or "", fiscal_year=int(form.fiscal_year.data) if (form.fiscal_year.data or "").isdigit() else None,
        half=form.half.data if form.half.data in ("H1", "H2") else "", q=(form.q.data or "").strip()[:100],
        sort=form.sort.data if form.sort.data in dict(form.sort.choices) else "due",
        page=request.args.get("page", 1, type=int),
    )
    today = eastern_today()
    result = load_portfolio(_user(), filters, today)
    form.set_choices(result.programs, result.states, result.fiscal_years)
    args = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template("reviews/portfolio.html", form=form, portfolio=result, args=args, today=today)


# --- Review page --------------------------------------------------------------------------


def narrative_sections(report) -> list[tuple[str, str]]:
    sections = [(name, label) for name, label, _ in NARRATIVES]
    if report.report_type == "final":
        sections.append(CUMULATIVE_NARRATIVE[:2])
    return sections


def _lock_forms(report, **given):
    lock = {"lock_version": report.lock_version}
    forms = {
        "accept_form": AcceptForm(formdata=None, data=lock),
        "return_form": ReturnForm(formdata=None, data={**lock, "revision_due_date": eastern_today() + timedelta(days=14)}),
        "remark_form": RemarkForm(formdata=None, data={**lock, "visibility": "private"}),
        "excuse_form": ExcuseForm(formdata=None, data=lock),
    }
    forms.update(given)
    return forms


def _render_review(report, status: int = 200, **given):
    user = _user()
    version = grantee_home.version_for_viewer(report, user)
    extensions = extension_service.requests_for(report)
    pending = next((e for e in extensions if e.status == "pending"), None)
    decision_form = given.pop("decision_form", None)
    if pending is not None and decision_form is None:
        decision_form = ExtensionDecisionForm(formdata=None, data={"lock_version": pending.lock_version})
    return render_template(
        "reviews/review.html", report=report, grant=report.grant, version=version,
        state=report_service.load_state(report, version) if version is not None else None,
        history=report_history(report), remarks=report_service.visible_remarks(report, user),
        versions=report_service.visible_versions(report, user), extensions=extensions, pending=pending,
        decision_form=decision_form, can_act=access.can_review(user, report),
        deadline=grantee_home.deadline_for(report), reminders=notifications.reminder_log(report),
        **_lock_forms(report, **given),
    ), status


@bp.route("/review/reports/<int:report_id>")
@roles_required(*OFFICER)
def report_review(report_id: int):
    return _render_review(access.get_report(_user(), report_id))


def _act(report_id: int, form_class, form_name: str, action, success: str, aliases=None):
    """Validate the form, run one service action, commit, redirect; or show the page with errors."""
    user = _user()
    report = access.get_report(user, report_id, for_update=True)
    access.require_reviewer(user, report)
    form = form_class()
    if form.validate_on_submit():
        try:
            action(report, user, form)
        except ValidationFailed as exc:
            db.session.rollback()
            report = access.get_report(user, report_id)
            add_service_errors(form, exc.errors, aliases)
        else:
            db.session.commit()
            flash(success, "success")
            return redirect(url_for("reviews.report_review", report_id=report_id))
    return _render_review(report, 400, **{form_name: form})


@bp.route("/review/reports/<int:report_id>/accept", methods=["POST"])
@roles_required(*OFFICER)
def report_accept(report_id: int):
    return _act(report_id, AcceptForm, "accept_form",
                lambda r, u, f: report_service.accept_report(r, u, f.lock_version.data, f.remark.data or ""),
                "The report is accepted.", {"remarks": "remark"})


@bp.route("/review/reports/<int:report_id>/return", methods=["POST"])
@roles_required(*OFFICER)
def report_return(report_id: int):
    return _act(report_id, ReturnForm, "return_form",
                lambda r, u, f: report_service.return_report(r, u, f.remarks.data, f.revision_due_date.data,
                                                             f.lock_version.data),
                "The report is returned to the grantee for revision.")


@bp.route("/review/reports/<int:report_id>/remarks", methods=["POST"])
@roles_required(*OFFICER)
def report_remark(report_id: int):
    return _act(report_id, RemarkForm, "remark_form",
                lambda r, u, f: report_service.add_remark(r, u, f.body.data, f.visibility.data, f.lock_version.data),
                "Your remark is saved.")


@bp.route("/review/reports/<int:report_id>/excuse", methods=["POST"])
@roles_required(*OFFICER)
def report_excuse(report_id: int):
    return _act(report_id, ExcuseForm, "excuse_form",
                lambda r, u, f: report_service.excuse_report(r, u, f.reason.data, f.lock_version.data),
                "The report is excused: it is no longer expected.")


# --- Amendments and version comparison ------------------------------------------------------


@bp.route("/reports/<int:report_id>/amend", methods=["GET", "POST"])
@roles_required("grantee_certifier")
def report_amend(report_id: int):
    """The certifier opens an amendment of an accepted report (the accepted version stays official)."""
    user = _user()
    report = access.get_report(user, report_id, for_update=request.method == "POST")
    form = AmendmentForm()
    if form.validate_on_submit():
        try:
            report_service.request_amendment(report, user, form.reason.data)
        except ValidationFailed as exc:
            db.session.rollback()
            report = access.get_report(user, report_id)
            add_service_errors(form, exc.errors)
        else:
            db.session.commit()
            flash("The amendment is open as a new draft. The accepted report stays official until the "
                  "program officer accepts the amendment.", "success")
            return redirect(url_for("reports.report_edit", report_id=report_id))
    status = 400 if form.errors or form.form_errors else 200
    return render_template("reviews/amend.html", report=report, grant=report.grant, form=form,
                           status_label=report_service.STATUS_LABELS[report.status]), status


@dataclass
class ComparedCell:
    spec: MeasureSpec
    cell: Cell
    old: str
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


@bp.route("/reports/<int:report_id>/compare")
@roles_required(*READERS)
def report_compare(report_id: int):
    user = _user()
    report = access.get_report(user, report_id)
    versions = report_service.visible_versions(report, user)
    by_number = {v.number: v for v in versions}
    numbers = sorted(by_number)

    def pick(name: str, default: int | None) -> int | None:
        if name not in request.args:
            return default
        number = request.args.get(name, type=int)
        if number not in by_number:
            raise NotFound("We could not find that version of the report.")
        return number

    b = pick("b", numbers[-1] if numbers else None)
    a = pick("a", max((n for n in numbers if b is not None and n < b), default=b))
    form = CompareForm(formdata=None, data={"a": a, "b": b})
    form.a.choices = form.b.choices = [
        (v.number, f"Version {v.number} ({v.status}{', amendment' if v.is_amendment else ''})") for v in versions
    ]
    old, new = by_number.get(a), by_number.get(b)
    cells, narratives = [], []
    if old is not None and new is not None:
        old_raw, new_raw = report_service.raw_values(old), report_service.raw_values(new)
        for spec in report_service.report_specs(report):
            for cell in spec.cells:
                cells.append(ComparedCell(spec, cell, old_raw.get(cell.key, ""), new_raw.get(cell.key, "")))
        old_text, new_text = report_service.narratives_of(old), report_service.narratives_of(new)
        narratives = [(label, old_text[name], new_text[name]) for name, label in narrative_sections(report)]
    return render_template("reviews/compare.html", report=report, grant=report.grant, form=form, old=old, new=new,
                           cells=cells, narratives=narratives, versions=versions,
                           changed=sum(1 for c in cells if c.changed))
