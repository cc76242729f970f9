"""Marshmallow schemas of the JSON API: request arguments and response bodies.

Every field carries a description, which becomes the OpenAPI document's text. Numbers that must
not lose precision (money, parsed values) travel as decimal strings.
"""
from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from grants.measures import CUMULATIVE_NARRATIVE, NARRATIVE_MAX_LENGTH, NARRATIVES
from grants.models import REPORT_STATUSES
from grants.periods import TIMELINESS
from grants.validation import check_narratives
from reporting.rollup import TREND_YEARS

MAX_ID = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _d(text: str, **extra) -> dict:
    return {"description": text, **extra}


def _decimal(text: str, **kwargs) -> fields.String:
    return fields.String(metadata=_d(text, format="decimal", example="1250.00"), **kwargs)


class ApiErrorSchema(Schema):
    message = fields.String(required=True, metadata=_d("What went wrong, for people."))
    errors = fields.Dict(
        keys=fields.String(), values=fields.Raw(), required=True,
        metadata=_d("Problems by field name (a cell key such as `CLI-01.age.minor`, a narrative or a body field); "
                    "each value is a list of messages. Empty when the problem is not about one field."),
    )


class PageQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 100_000),
                          metadata=_d("Page number, from 1."))
    per_page = fields.Integer(load_default=25, validate=validate.Range(1, 100),
                              metadata=_d("Items per page, 1 to 100."))


class PageMetaSchema(Schema):
    page = fields.Integer(required=True, metadata=_d("This page's number."))
    per_page = fields.Integer(required=True, metadata=_d("Items per page."))
    total = fields.Integer(required=True, metadata=_d("Items matching the filters, on all pages."))
    pages = fields.Integer(required=True, metadata=_d("Number of pages."))


# ---- programs and measures -------------------------------------------------------------------

class CategorySchema(Schema):
    code = fields.String(required=True, metadata=_d("Category code, used in cell keys."))
    label = fields.String(required=True, metadata=_d("Category name for people."))


class BreakdownSchema(Schema):
    dimension = fields.String(required=True, metadata=_d("Dimension code (age, trafficking_type, ...)."))
    label = fields.String(required=True, metadata=_d("Dimension name for people."))
    categories = fields.List(fields.Nested(CategorySchema), required=True,
                             metadata=_d("The categories, whose values must add up to the measure's total."))


class MeasureSchema(Schema):
    code = fields.String(required=True, metadata=_d("Stable measure code, e.g. CLI-01."))
    name = fields.String(required=True, metadata=_d("Measure name."))
    help_text = fields.String(required=True, metadata=_d("What to count."))
    value_type = fields.String(required=True, validate=validate.OneOf(("count", "percent", "currency")),
                               metadata=_d("count: whole number 0-10,000,000; percent: 0-100, one decimal; "
                                           "currency: dollars and cents up to the award amount."))
    breakdowns = fields.List(fields.Nested(BreakdownSchema), required=True,
                             metadata=_d("Dimensions whose categories must each sum to the total."))
    per_category = fields.String(allow_none=True, required=True,
                                 metadata=_d("A dimension reported category by category with no total (SRV-01)."))
    point_in_time = fields.Boolean(required=True, metadata=_d("Counted on the last day of the period, not summed."))
    people_count = fields.Boolean(required=True, metadata=_d("Counts people (suppressed from 1 to 10 in roll-ups)."))
    cells = fields.List(fields.String(), required=True,
                        metadata=_d("Keys of the cells a report holds for this measure, e.g. `CLI-01.age.minor`."))


class ProgramSchema(Schema):
    code = fields.String(required=True, metadata=_d("Program code, e.g. YCCR."))
    name = fields.String(required=True, metadata=_d("Program name."))
    funding_office = fields.String(required=True, metadata=_d("Office that funds the program."))
    reporting_frequency = fields.String(required=True, metadata=_d("How often grantees report."))
    measure_set_version = fields.Integer(allow_none=True, required=True,
                                         metadata=_d("Version of the current measure set."))
    measures = fields.List(fields.String(), required=True,
                           metadata=_d("Codes of the measures new reports collect, in form order."))


# ---- grants ----------------------------------------------------------------------------------

PROGRAM_CODE = validate.Regexp(r"^[A-Za-z0-9_-]{1,20}$", error="Use a program code such as YCCR.")


class GrantQuerySchema(PageQuerySchema):
    program = fields.String(validate=PROGRAM_CODE, metadata=_d("Only grants of this program (code)."))
    status = fields.String(validate=validate.OneOf(("active", "suspended", "closed")),
                           metadata=_d("Only grants with this status."))


class OrganizationRefSchema(Schema):
    id = fields.Integer(required=True, metadata=_d("Organization id."))
    legal_name = fields.String(required=True, metadata=_d("Legal name."))
    state = fields.String(required=True, metadata=_d("State (two letters)."))


class CommunitySchema(Schema):
    name = fields.String(required=True, metadata=_d("Community served."))
    state = fields.String(required=True, metadata=_d("State (two letters)."))
    community_type = fields.String(required=True, metadata=_d("urban, suburban, rural, tribal or statewide."))
    hhs_region = fields.Integer(required=True, metadata=_d("HHS region, 1 to 10."))


class GrantSchema(Schema):
    id = fields.Integer(required=True, metadata=_d("Grant id."))
    award_number = fields.String(required=True, metadata=_d("Award number, e.g. 90ZV0101-01-00."))
    title = fields.String(required=True, metadata=_d("Project title."))
    program = fields.String(required=True, metadata=_d("Program code."))
    organization = fields.Nested(OrganizationRefSchema, required=True, metadata=_d("The grantee organization."))
    community = fields.Nested(CommunitySchema, required=True, metadata=_d("The community the grant serves."))
    officer = fields.String(allow_none=True, required=True, metadata=_d("Name of the assigned program officer."))
    start_date = fields.Date(required=True, metadata=_d("Start of the period of performance."))
    end_date = fields.Date(required=True, metadata=_d("End of the period of performance."))
    award_amount = _decimal("Award amount in dollars.", required=True)
    status = fields.String(required=True, metadata=_d("active, suspended or closed."))


class GrantPageSchema(Schema):
    items = fields.List(fields.Nested(GrantSchema), required=True, metadata=_d("Grants on this page."))
    meta = fields.Nested(PageMetaSchema, required=True, metadata=_d("Pagination."))


# ---- reports ---------------------------------------------------------------------------------

class ReportQuerySchema(PageQuerySchema):
    fiscal_year = fields.Integer(validate=validate.Range(2000, 2100),
                                 metadata=_d("Federal fiscal year (FY N runs Oct 1 of N-1 to Sep 30 of N)."))
    half = fields.String(validate=validate.OneOf(("H1", "H2")), metadata=_d("Reporting period: H1 or H2."))
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES), metadata=_d("Only reports in this status."))
    grant_id = fields.Integer(validate=validate.Range(1, MAX_ID), metadata=_d("Only reports of this grant."))
    program = fields.String(validate=PROGRAM_CODE, metadata=_d("Only reports of this program (code)."))
    assigned = fields.Boolean(metadata=_d("true: only reports of grants assigned to you (program officers)."))


class ReportSummarySchema(Schema):
    id = fields.Integer(required=True, metadata=_d("Report id."))
    grant_id = fields.Integer(required=True, metadata=_d("Grant id."))
    award_number = fields.String(required=True, metadata=_d("The grant's award number."))
    program = fields.String(required=True, metadata=_d("Program code."))
    organization_id = fields.Integer(required=True, metadata=_d("Grantee organization id."))
    fiscal_year = fields.Integer(required=True, metadata=_d("Federal fiscal year."))
    half = fields.String(required=True, metadata=_d("H1 (Oct-Mar) or H2 (Apr-Sep)."))
    report_type = fields.String(required=True, metadata=_d("interim or final."))
    period_start = fields.Date(required=True, metadata=_d("First day of the reporting period."))
    period_end = fields.Date(required=True, metadata=_d("Last day of the reporting period."))
    due_date = fields.Date(required=True, metadata=_d("Due date."))
    effective_due_date = fields.Date(required=True, metadata=_d("Due date after any approved extension."))
    status = fields.String(required=True, validate=validate.OneOf(REPORT_STATUSES),
                           metadata=_d("Workflow status."))
    timeliness = fields.String(required=True, validate=validate.OneOf(TIMELINESS),
                               metadata=_d("Deadline status today (US Eastern)."))
    version_number = fields.Integer(allow_none=True, required=True,
                                    metadata=_d("Number of the version being worked on or reviewed."))
    first_submitted_at = fields.DateTime(allow_none=True, required=True,
                                         metadata=_d("First submission (timeliness is judged on it)."))


class ReportPageSchema(Schema):
    items = fields.List(fields.Nested(ReportSummarySchema), required=True, metadata=_d("Reports on this page."))
    meta = fields.Nested(PageMetaSchema, required=True, metadata=_d("Pagination."))


class CellValueSchema(Schema):
    key = fields.String(required=True, metadata=_d("Cell key: measure code, or measure.dimension.category."))
    measure = fields.String(required=True, metadata=_d("Measure code."))
    dimension = fields.String(required=True, metadata=_d("Breakdown dimension, empty for the total."))
    category = fields.String(required=True, metadata=_d("Breakdown category, empty for the total."))
    label = fields.String(required=True, metadata=_d("What the cell holds, for people."))
    value_type = fields.String(required=True, metadata=_d("count, percent or currency."))
    raw = fields.String(required=True, metadata=_d("Exactly what was entered; empty when not entered."))
    value = _decimal("The parsed number; null when blank or invalid.", allow_none=True, required=True)


class WarningSchema(Schema):
    code = fields.String(required=True, metadata=_d("Warning code; explanations are keyed by it."))
    field = fields.String(required=True, metadata=_d("Cell key the warning is about (empty for the report)."))
    message = fields.String(required=True, metadata=_d("What to explain."))


def _narrative_rule(text: str) -> None:
    """The web form's rule for narratives (grants.validation.check_narratives), as a validator."""
    errors = check_narratives({"narrative": text})
    if errors:
        raise ValidationError(errors["narrative"])


# One field per narrative of the SF-PPR (grants.measures), as the web form has.
NarrativesSchema = Schema.from_dict({
    name: fields.String(validate=_narrative_rule, metadata=_d(f"{label}. {hint}", maxLength=NARRATIVE_MAX_LENGTH))
    for name, label, hint in (*NARRATIVES, CUMULATIVE_NARRATIVE)
}, name="Narratives")


class VersionSchema(Schema):
    number = fields.Integer(required=True, metadata=_d("Version number, from 1."))
    status = fields.String(required=True, metadata=_d("draft, submitted, withdrawn, returned, accepted or superseded."))
    is_amendment = fields.Boolean(required=True, metadata=_d("Opened to amend an accepted report."))
    lock_version = fields.Integer(required=True, metadata=_d("Optimistic-lock counter (the ETag is derived from it)."))
    updated_at = fields.DateTime(required=True, metadata=_d("Last change."))
    submitted_at = fields.DateTime(allow_none=True, required=True, metadata=_d("When this version was submitted."))
    certifier_name = fields.String(allow_none=True, required=True, metadata=_d("Who certified this version."))
    certified_at = fields.DateTime(allow_none=True, required=True, metadata=_d("When it was certified."))


class ReportSchema(ReportSummarySchema):
    etag = fields.String(required=True, metadata=_d("The ETag to send as If-Match when updating."))
    editable = fields.Boolean(required=True, metadata=_d("Whether you may update values now."))
    version = fields.Nested(VersionSchema, allow_none=True, required=True,
                            metadata=_d("The version being worked on or reviewed; null before the first edit."))
    values = fields.List(fields.Nested(CellValueSchema), required=True,
                         metadata=_d("Every cell of the report's measures, in form order."))
    narratives = fields.Nested(NarrativesSchema, required=True, metadata=_d("The narratives, plain text."))
    explanations = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                               metadata=_d("Written explanations of warnings, by warning code."))
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                         metadata=_d("Validation errors of the entered values, by cell key."))
    warnings = fields.List(fields.Nested(WarningSchema), required=True,
                           metadata=_d("Warnings that need a written explanation before submission."))


class RawValueField(fields.Field):
    """A typed value: a string as a person would type it, a number, or null to clear the cell."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise ValidationError("Send a number, a string, or null.")
        text = repr(value) if isinstance(value, float) else str(value)
        if isinstance(value, float) and "e" in text.lower():
            raise ValidationError("Send the number in plain decimal notation, as a string.")
        if len(text) > 64:
            raise ValidationError("Use at most 64 characters.")
        if _CONTROL.search(text):
            raise ValidationError("Remove the control characters from this value.")
        return text


RAW_VALUE_DOC = {"description": "A value as typed (\"1,250\"), a number, or null to clear the cell.",
                 "nullable": True, "oneOf": [{"type": "string", "maxLength": 64}, {"type": "number"}]}


class ValuesUpdateSchema(Schema):
    values = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 80)), values=RawValueField(allow_none=True, metadata=RAW_VALUE_DOC),
        metadata=_d("Values by cell key (see a report's `values[].key`). PATCH changes only the keys sent; "
                    "PUT replaces all values (cells not sent become blank)."),
    )
    narratives = fields.Nested(NarrativesSchema, metadata=_d("Narratives to set; PATCH leaves unsent ones alone, "
                                                             "PUT clears them."))
    explanations = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 120)), values=fields.String(validate=validate.Length(max=10_000)),
        metadata=_d("Explanations of warnings by warning code; an empty string removes one."),
    )


class SubmitSchema(Schema):
    certifier_name = fields.String(required=True, validate=validate.Length(max=200),
                                   metadata=_d("Name of the Authorized Official certifying the report."))
    certifier_title = fields.String(required=True, validate=validate.Length(max=200), metadata=_d("Their title."))
    certifier_phone = fields.String(required=True, validate=validate.Length(max=40), metadata=_d("Their phone."))
    certifier_email = fields.String(required=True, validate=validate.Length(max=254), metadata=_d("Their email."))
    certify = fields.Boolean(required=True, metadata=_d(
        "true to make the SF-PPR certification: \"I certify to the best of my knowledge and belief that this "
        "report is correct and complete and that all outlays and obligations are for the purposes set forth "
        "in the award documents.\""))


class AcceptSchema(Schema):
    remarks = fields.String(load_default="", validate=validate.Length(max=10_000),
                            metadata=_d("Optional remark for the grantee."))


class ReturnSchema(Schema):
    remarks = fields.String(required=True, validate=validate.Length(max=10_000),
                            metadata=_d("What the grantee must revise."))
    revision_due_date = fields.Date(required=True, metadata=_d("Date the revision is due (today or later)."))
    visibility = fields.String(load_default="public", validate=validate.OneOf(("public",)),
                               metadata=_d("Always public: the grantee sees the remarks that return a report "
                                           "(kept for compatibility; private is refused)."))


# ---- roll-ups --------------------------------------------------------------------------------

GROUPINGS = ("program", "community", "state", "region", "period")


class RollupQuerySchema(Schema):
    fiscal_year = fields.Integer(validate=validate.Range(2000, 2100), metadata=_d("Federal fiscal year."))
    half = fields.String(validate=validate.OneOf(("H1", "H2")), metadata=_d("Reporting period (needs fiscal_year)."))
    program = fields.String(validate=PROGRAM_CODE, metadata=_d("Program code."))
    state = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Use a two-letter state code."),
                          metadata=_d("State of the communities served (two letters)."))
    hhs_region = fields.Integer(validate=validate.Range(1, 10), metadata=_d("HHS region, 1 to 10."))
    community_type = fields.String(validate=validate.OneOf(("urban", "suburban", "rural", "tribal", "statewide")),
                                   metadata=_d("Type of community served."))
    include_submitted = fields.Boolean(load_default=False, metadata=_d(
        "Also count submitted reports not yet accepted (their latest submitted version)."))
    group_by = fields.String(load_default="program", validate=validate.OneOf(GROUPINGS),
                             metadata=_d("What each row is: program, community, state, region (HHS region: the "
                                         "sum of its states), or period. period is the "
                                         f"trend: each half of the last {TREND_YEARS} fiscal years up to fiscal_year (or the "
                                         "current one), with the other filters but not half, for the headline "
                                         "measure; its rows cover more than `total`, which is for the filters "
                                         "as sent."))

    @validates_schema
    def _half_needs_a_year(self, data, **kwargs) -> None:
        if data.get("half") and not data.get("fiscal_year"):
            raise ValidationError({"half": ["A period needs its fiscal year: send fiscal_year too."]})


class RollupFigureSchema(Schema):
    key = fields.String(required=True, metadata=_d("Cell key (a measure code, or measure.dimension.category)."))
    measure = fields.String(required=True, metadata=_d("Measure code."))
    label = fields.String(required=True, metadata=_d("What the figure is."))
    value_type = fields.String(required=True, metadata=_d("count, percent or currency."))
    value = fields.String(allow_none=True, required=True, metadata=_d(
        "The figure as published: a decimal string, \"1-10\" or \"Suppressed\" (survivor privacy), or null when "
        "nothing was reported."))
    suppressed = fields.Boolean(required=True, metadata=_d("True when the figure is hidden for privacy."))
    aggregation = fields.String(required=True, metadata=_d("How the figure combines reports (sum, latest, mean)."))


class RollupRowSchema(Schema):
    group = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True,
                        metadata=_d("What the row is about, e.g. {\"program\": \"YCCR\"}; empty for the total."))
    label = fields.String(required=True, metadata=_d("The row's name for people."))
    grants = fields.Integer(required=True, metadata=_d("Grants with a report in scope."))
    reports = fields.Integer(required=True, metadata=_d("Reports in scope."))
    expected = fields.Integer(required=True, metadata=_d("Reports due (before today) and not excused."))
    submitted = fields.Integer(required=True, metadata=_d("Expected reports that were submitted."))
    on_time = fields.Integer(required=True, metadata=_d("Expected reports submitted on time."))
    excused = fields.Integer(required=True, metadata=_d("Excused reports."))
    counted = fields.Integer(required=True, metadata=_d(
        "Reports whose values the figures count (their accepted version, or with include_submitted their latest "
        "submitted one)."))
    uncounted = fields.Integer(required=True, metadata=_d(
        "Reports, not excused, whose values are not in the figures yet (not yet due, not submitted, or not yet "
        "accepted): while there are any, the figures can still rise. reports = counted + uncounted + excused."))
    completeness = fields.Float(allow_none=True, required=True, metadata=_d("submitted / expected, 0 to 1."))
    on_time_rate = fields.Float(allow_none=True, required=True, metadata=_d("on time / expected, 0 to 1."))
    figures = fields.List(fields.Nested(RollupFigureSchema), required=True, metadata=_d("Measure figures."))


class RollupSchema(Schema):
    filters = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                          metadata=_d("The filters applied, in words."))
    generated_at = fields.DateTime(required=True, metadata=_d("When the figures were computed."))
    suppression_note = fields.String(required=True, metadata=_d("How small people counts are hidden."))
    total = fields.Nested(RollupRowSchema, required=True, metadata=_d("Everything in scope."))
    rows = fields.List(fields.Nested(RollupRowSchema), required=True, metadata=_d("One row per group."))
