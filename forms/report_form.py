"""The report form, built from the program's measure definitions.

WTForms renders the inputs and collects what was typed; the rules themselves live in
grants.validation and are applied by the report service, whose errors are attached back to the
fields here, so the form, the upload and the API share one set of rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TelField, TextAreaField

from grants.measures import (
    CUMULATIVE_NARRATIVE,
    NARRATIVE_MAX_LENGTH,
    NARRATIVES,
    MeasureSpec,
    cell_title,
    is_breakdown_key,
)
from grants.validation import Warning as RuleWarning

INPUT_MODES = {"count": "numeric", "percent": "decimal", "currency": "decimal"}


def field_name(key: str) -> str:
    """HTML-safe field name of a cell key: CLI-01.age.minor -> m_CLI_01__age__minor."""
    return "m_" + key.replace("-", "_").replace(".", "__")


def explain_name(code: str) -> str:
    return "explain__" + re.sub(r"[^A-Za-z0-9]", "_", code)


class _ReportFormBase(FlaskForm):
    lock_version = HiddenField()
    base = HiddenField()  # fingerprints of the fields as this page showed them (reports.merge_edits)


def build_report_form(specs: list[MeasureSpec], warnings: list[RuleWarning], final: bool, **kwargs) -> FlaskForm:
    """A form class with one text input per cell, the narratives, and one explanation per warning."""
    attrs: dict = {}
    for spec in specs:
        for cell in spec.cells:
            attrs[field_name(cell.key)] = StringField(
                cell_title([spec], cell.key),
                render_kw={"inputmode": INPUT_MODES[spec.value_type], "autocomplete": "off"},
            )
    narratives = list(NARRATIVES) + ([CUMULATIVE_NARRATIVE] if final else [])
    for name, label, hint in narratives:
        attrs[name] = TextAreaField(label, description=hint, render_kw={"maxlength": NARRATIVE_MAX_LENGTH, "rows": 6})
    for warning in warnings:
        about = cell_title(specs, warning.field) if warning.field else "the whole report"
        attrs[explain_name(warning.code)] = TextAreaField(
            f"Explanation for {about}", description=warning.message, render_kw={"rows": 2, "maxlength": 2000}
        )
    form_class = type("ReportForm", (_ReportFormBase,), attrs)
    form = form_class(**kwargs)
    form.specs = specs
    form.rule_warnings = warnings
    form.narrative_names = [n for n, _, _ in narratives]
    return form


def typed_values(form: FlaskForm) -> dict[str, str]:
    return {cell.key: (form[field_name(cell.key)].data or "") for spec in form.specs for cell in spec.cells}


def typed_narratives(form: FlaskForm) -> dict[str, str]:
    return {name: form[name].data or "" for name in form.narrative_names}


def typed_explanations(form: FlaskForm, previous: dict[str, str]) -> dict[str, str]:
    """Explanations typed for the warnings shown, on top of those already saved."""
    result = dict(previous)
    for warning in form.rule_warnings:
        value = form[explain_name(warning.code)].data
        if value is not None:
            result[warning.code] = value
    return result


_NARRATIVE_NAMES = frozenset(name for name, _, _ in (*NARRATIVES, CUMULATIVE_NARRATIVE))


def input_name(key: str) -> str:
    """The form field of a report key: a narrative by its own name, a warning's explanation
    ('explain:CODE'), else a cell."""
    if key.startswith("explain:"):
        return explain_name(key.removeprefix("explain:"))
    return key if key in _NARRATIVE_NAMES else field_name(key)


def measure_anchor(code: str) -> str:
    """The id of a measure's fieldset on the edit page."""
    return f"measure-{code}"


def breakdown_anchor(key: str) -> str:
    """The id of a breakdown's table on the edit page ('CLI-01.age' -> 'bd-CLI-01-age')."""
    return "bd-" + key.replace(".", "-")


def problem_anchor(key: str) -> str:
    """Where on the edit page a submission problem is fixed (problems_before_submission keys):
    its field, a breakdown's table, or the warnings' section for an explanation."""
    if key.startswith("explain:"):
        return "warnings"
    return breakdown_anchor(key) if is_breakdown_key(key) else input_name(key)


@dataclass(frozen=True)
class MeasureProgress:
    """Where one measure of the form stands, for the list of measures beside the form."""

    code: str
    name: str
    anchor: str  # the id of the measure's fieldset
    status: str  # "problem", "blank", "partial" or "entered"
    filled: int  # inputs with something typed in them
    inputs: int

    @property
    def label(self) -> str:
        if self.status == "problem":
            return "Has a problem"
        if self.status == "partial":
            return f"{self.filled} of {self.inputs} entered"
        return "Not entered yet" if self.status == "blank" else "All entered"


def measure_progress(form: FlaskForm, leftover: dict[str, list[str]]) -> list[MeasureProgress]:
    """Each measure of the form as shown: a problem on one of its inputs or breakdowns (`leftover`,
    from attach_errors), or how many of its inputs have something typed in them (a report is
    submitted with every input filled, 0 where there is nothing to report)."""
    broken = {key.split(".", 1)[0] for key in leftover}
    progress = []
    for spec in form.specs:
        fields = [form[field_name(cell.key)] for cell in spec.cells]
        filled = sum(1 for f in fields if (f.data or "").strip())
        if spec.code in broken or any(f.errors for f in fields):
            status = "problem"
        else:
            status = "blank" if not filled else "entered" if filled == len(fields) else "partial"
        progress.append(MeasureProgress(spec.code, spec.name, measure_anchor(spec.code), status, filled, len(fields)))
    return progress


def attach_errors(form: FlaskForm, errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Put each rule error on its field; returns the errors that belong to no single input
    (breakdown sums, keyed 'CLI-01.age'), for the template to show beside their table."""
    leftover: dict[str, list[str]] = {}
    for key, messages in errors.items():
        name = input_name(key)
        if name in form:
            form[name].errors = list(form[name].errors or []) + list(messages)
        else:
            leftover[key] = list(messages)
    return leftover


class CertificationForm(FlaskForm):
    """SF-PPR certification by the Authorized Official."""

    lock_version = HiddenField()
    certifier_name = StringField("Name of the Authorized Official")
    certifier_title = StringField("Title")
    certifier_phone = TelField("Telephone")
    certifier_email = EmailField("Email address")
    certify = BooleanField("I certify this report (the statement above)")
