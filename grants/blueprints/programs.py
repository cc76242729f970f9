"""Program and measure administration pages: programs, their versioned measure sets, the wording of
measures. Admin only; the rules are grants.services.programs'."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from forms.awards import MeasureForm, MeasureSetForm, ProgramForm
from grants import web
from grants.blueprints.editing import edit_page, save_form
from grants.formatting import fmt_date
from grants.periods import eastern_today
from grants.security import roles_required
from grants.services import programs

bp = Blueprint("programs", __name__, url_prefix="/admin")
ADMIN = ("admin",)
NEW_PROGRAM_ONLY = ("code", "measures", "effective_from")


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Programs", "programs.program_list", ADMIN)


def _measure_choices() -> list[tuple[str, str]]:
    return [(m.code, f"{m.code}: {m.name}") for m in programs.catalogue()]


@bp.route("/programs")
@roles_required(*ADMIN)
def program_list():
    return render_template("programs/list.html", rows=programs.program_rows(), today=eastern_today())


def _program_form(program, posted: bool = True) -> ProgramForm:
    """The program's form: as posted (on its own POST), else filled from the program."""
    form = ProgramForm() if posted and request.method == "POST" else ProgramForm(formdata=None, obj=program)
    if program is not None:
        for name in NEW_PROGRAM_ONLY:
            delattr(form, name)
    else:
        form.measures.choices = _measure_choices()
        if request.method == "GET":
            form.effective_from.data = eastern_today()
    return form


def _set_form(program, formdata=None) -> MeasureSetForm:
    form = MeasureSetForm(formdata=formdata)
    form.measures.choices = _measure_choices()
    if formdata is None:
        latest = program.measure_sets[-1] if program.measure_sets else None
        form.measures.data = [item.measure.code for item in latest.items] if latest else []
        form.effective_from.data = programs.earliest_effective(program)
    return form


def _program(program, set_form=None):
    form = _program_form(program)

    def render(form, status, stale):
        return render_template("programs/edit.html", program=program, form=form, stale=stale,
                               set_form=set_form or (_set_form(program) if program else None),
                               today=eastern_today()), status

    def saved(result):
        message = f"{result.code} saved." if program else (
            f"{result.code} created, with version 1 of its measures. Its grants can now be added.")
        return message, url_for("programs.program_edit", program_id=result.id)

    return edit_page(program, form, lambda lock: programs.save_program(program, form.data, lock), render, saved)


@bp.route("/programs/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def program_create():
    return _program(None)


@bp.route("/programs/<int:program_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def program_edit(program_id: int):
    return _program(programs.get_program(program_id))


@bp.route("/programs/<int:program_id>/measure-sets", methods=["POST"])
@roles_required(*ADMIN)
def measure_set_create(program_id: int):
    program = programs.get_program(program_id)
    set_form = _set_form(program, formdata=request.form)
    measure_set, status, _ = save_form(set_form, None, lambda: programs.add_measure_set(
        program, set_form.measures.data, set_form.effective_from.data))
    if measure_set is None:
        return render_template("programs/edit.html", program=program, form=_program_form(program, posted=False),
                               stale=None, set_form=set_form, today=eastern_today()), status
    flash(f"Version {measure_set.version} of {program.code}'s measures saved: reports opened from "
          f"{fmt_date(measure_set.effective_from)} on collect them.", "success")
    return redirect(url_for("programs.program_edit", program_id=program.id))


@bp.route("/measures")
@roles_required(*ADMIN)
def measure_list():
    return render_template("programs/measures.html", items=[(m, programs.spec(m)) for m in programs.catalogue()],
                           used_by=programs.measure_programs())


@bp.route("/measures/<int:measure_id>", methods=["GET", "POST"])
@roles_required(*ADMIN)
def measure_edit(measure_id: int):
    measure = programs.get_measure(measure_id)
    form = MeasureForm(obj=measure) if request.method == "GET" else MeasureForm()

    def render(form, status, stale):
        return render_template("programs/measure_edit.html", measure=measure, spec=programs.spec(measure), form=form,
                               stale=stale), status

    return edit_page(measure, form, lambda lock: programs.save_measure(measure, form.data, lock), render,
                     lambda saved: (f"{saved.code} saved.", url_for("programs.measure_list")))

