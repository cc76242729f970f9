"""Forms of the officer pages: the portfolio filters and the review actions.

Every action form carries the report's `lock_version` as a hidden field; the service compares it
with the stored one, so an action based on an out-of-date page is refused instead of applied.
"""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SearchField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from grants.periods import TIMELINESS_LABELS
from grants.services.portfolio import EXTRA_STATUSES, SORTS

REMARK_MAX = 10_000
VISIBILITY_CHOICES = [
    ("public", "Public: the grantee sees it"),
    ("private", "Private: program staff only"),
]


class PortfolioFilterForm(FlaskForm):
    """Query-string filters of the portfolio (GET, no CSRF token)."""

    class Meta:
        csrf = False

    scope = SelectField("Grants", choices=[("mine", "Assigned to me"), ("all", "All grants of my programs")],
                        default="mine")
    program = SelectField("Program", choices=[("", "All programs")], default="")
    status = SelectField(
        "Status",
        choices=[("", "Any status")] + list(TIMELINESS_LABELS.items()) + list(EXTRA_STATUSES.items()),
        default="",
    )
    state = SelectField("State", choices=[("", "All states")], default="")
    fiscal_year = SelectField("Fiscal year", choices=[("", "Current report")], default="")
    half = SelectField("Period", choices=[("", "Both halves"), ("H1", "H1 (Oct-Mar)"), ("H2", "H2 (Apr-Sep)")],
                       default="")
    q = SearchField("Award number or organization", validators=[Optional(), Length(max=100)])
    sort = SelectField("Sort by", choices=list(SORTS.items()), default="due")

    def set_choices(self, programs, states, fiscal_years) -> None:
        self.program.choices = [("", "All programs")] + [(code, f"{code}: {name}") for code, name in programs]
        self.state.choices = [("", "All states")] + [(s, s) for s in states]
        self.fiscal_year.choices = [("", "Current report")] + [(str(fy), f"FY{fy}") for fy in fiscal_years]


class PrefixedForm(FlaskForm):
    """Several action forms share the review page: a prefix keeps their field names and ids apart."""

    PREFIX = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.PREFIX)
        super().__init__(*args, **kwargs)


class LockedForm(PrefixedForm):
    lock_version = HiddenField(validators=[InputRequired()])


class AcceptForm(LockedForm):
    PREFIX = "accept"
    remark = TextAreaField("Remark to the grantee (optional)", validators=[Optional(), Length(max=REMARK_MAX)])


class ReturnForm(LockedForm):
    PREFIX = "return"
    remarks = TextAreaField("What the grantee should revise",
                            validators=[DataRequired("Say what the grantee should revise."), Length(max=REMARK_MAX)])
    revision_due_date = DateField("Revision due date", validators=[InputRequired("Enter the date the revision is due.")])


class RemarkForm(LockedForm):
    PREFIX = "remark"
    body = TextAreaField("Remark", validators=[DataRequired("Enter a remark."), Length(max=REMARK_MAX)])
    visibility = RadioField("Who sees this remark", choices=VISIBILITY_CHOICES, default="private")


class ExcuseForm(LockedForm):
    PREFIX = "excuse"
    reason = TextAreaField("Why this report is not required",
                           validators=[DataRequired("Enter the reason the report is not required."),
                                       Length(max=REMARK_MAX)])


class AmendmentForm(FlaskForm):
    reason = TextAreaField("Why the accepted report needs an amendment",
                           validators=[DataRequired("Enter the reason for the amendment."), Length(max=REMARK_MAX)])


class CompareForm(FlaskForm):
    """The two version numbers of the comparison page (GET)."""

    class Meta:
        csrf = False

    a = SelectField("Earlier version", coerce=int, validate_choice=False)
    b = SelectField("Later version", coerce=int, validate_choice=False)
