"""Forms of award administration: organizations, communities, grants and officers' programs.

The rules (formats, uniqueness, what stays fixed) are checked by grants.services.awards; these
forms only carry the typed values, so a rejected form comes back with everything still in it.
"""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SearchField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from grants.models import COMMUNITY_TYPES
from grants.regions import STATES
from grants.services.awards import GRANT_STATUS_LABELS, is_row_id
from grants.services.handover import ALL_PROGRAMS


class Needed:
    """Marks a field required on the page (the asterisk, the browser's check); the service
    checks it and says what is missing."""

    field_flags = {"required": True}

    def __call__(self, form, field) -> None:
        pass


NOT_AN_ID = -1  # what an altered page sent instead of an option: the service says to choose one


def optional_id(value) -> int | None:
    """A select's chosen id; None for its "- Select -" (or "Unassigned") option."""
    if value in ("", None):
        return None
    try:
        return row_id(value)
    except (TypeError, ValueError):
        return NOT_AN_ID


def row_id(value) -> int:
    """An id as a select sends it: a positive whole number the databases can hold."""
    number = int(value)
    if not is_row_id(number):
        raise ValueError("not an id")
    return number


STATE_CHOICES = [("", "- Select -")] + [(s, s) for s in STATES]
COMMUNITY_TYPE_CHOICES = [("", "- Select -")] + [(t, t.capitalize()) for t in COMMUNITY_TYPES]


class _Filters(FlaskForm):
    class Meta:
        csrf = False


class OrganizationFilterForm(_Filters):
    q = SearchField("Name, EIN, UEI or city", validators=[Optional(), Length(max=200)])


class CommunityFilterForm(_Filters):
    q = SearchField("Community name", validators=[Optional(), Length(max=200)])
    state = SelectField("State", choices=[("", "All states")] + [(s, s) for s in STATES], default="")


class GrantFilterForm(_Filters):
    q = SearchField("Award number, title or organization", validators=[Optional(), Length(max=200)])
    program = SelectField("Program", choices=[("", "All programs")], default="")
    status = SelectField("Status", choices=[("", "Any status")] + list(GRANT_STATUS_LABELS.items()), default="")
    officer = SelectField("Program officer", choices=[("", "Any officer")], default="")


class _Versioned(FlaskForm):
    lock_version = HiddenField()


class OrganizationForm(_Versioned):
    legal_name = StringField("Legal name", validators=[Needed(), Length(max=200)],
                             render_kw={"autocomplete": "organization"})
    ein = StringField("EIN", description="Employer Identification Number, like 12-3456789.",
                      validators=[Needed(), Length(max=20)])
    uei = StringField("Unique Entity ID (UEI)", description="12 characters, from SAM.gov.",
                      validators=[Needed(), Length(max=20)])
    address = StringField("Street address", validators=[Optional(), Length(max=300)],
                          render_kw={"autocomplete": "address-line1"})
    city = StringField("City", validators=[Optional(), Length(max=100)], render_kw={"autocomplete": "address-level2"})
    state = SelectField("State", choices=STATE_CHOICES, default="", validate_choice=False, validators=[Needed()])
    zip_code = StringField("ZIP code", validators=[Optional(), Length(max=10)],
                           render_kw={"autocomplete": "postal-code", "inputmode": "numeric"})


class CommunityForm(_Versioned):
    name = StringField("Name", description='As it is usually written, like "Franklin County, OH" or "Navajo Nation".',
                       validators=[Needed(), Length(max=200)])
    state = SelectField("State", choices=STATE_CHOICES, default="", validate_choice=False, validators=[Needed()],
                        description="The HHS region follows from the state.")
    community_type = SelectField("Type", choices=COMMUNITY_TYPE_CHOICES, default="", validate_choice=False,
                                 validators=[Needed()])


class GrantForm(_Versioned):
    award_number = StringField("Award number", description="As on the Notice of Award, like 90ZV0101-01-00.",
                               validators=[Needed(), Length(max=20)])
    program_id = SelectField("Program", coerce=optional_id, choices=[("", "- Select -")], default=None, validate_choice=False,
                             validators=[Needed()])
    organization_id = SelectField("Grantee organization", coerce=optional_id, choices=[("", "- Select -")], default=None,
                                  validate_choice=False, validators=[Needed()])
    community_id = SelectField("Community served", coerce=optional_id, choices=[("", "- Select -")], default=None,
                               validate_choice=False, validators=[Needed()])
    officer_id = SelectField("Program officer", coerce=optional_id, choices=[("", "Unassigned")], default=None,
                             validate_choice=False, description="Reviews the grant's reports and decides its extensions.")
    title = StringField("Project title", validators=[Optional(), Length(max=300)])
    start_date = DateField("Period of performance starts", validators=[Optional(), Needed()])
    end_date = DateField("Period of performance ends", validators=[Optional(), Needed()],
                         description="Moving it moves the final report (due 120 days after this date).")
    award_amount = StringField("Award amount (dollars)", validators=[Needed(), Length(max=30)],
                               render_kw={"inputmode": "decimal"})
    status = SelectField("Status", choices=list(GRANT_STATUS_LABELS.items()), default="active", validate_choice=False,
                         description="Reports open only for active grants.")

    def values(self) -> dict:
        """The typed values for the service ("- Select -" and "Unassigned" are None)."""
        return {name: field.data for name, field in self._fields.items() if name not in ("csrf_token", "lock_version")}


class OfficerProgramsForm(FlaskForm):
    programs = SelectMultipleField("Programs", coerce=row_id, choices=[], validate_choice=False,
                                   option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                   description="The officer sees every grant of these programs, and reviews the "
                                               "grants assigned to them.")


def handover_choice(value) -> int | None:
    """Which of an officer's grants to move: "all" (handover.ALL_PROGRAMS) or one program's id."""
    return ALL_PROGRAMS if value == "all" else optional_id(value)


class HandoverForm(FlaskForm):
    program_id = SelectField("Grants to move", coerce=handover_choice, choices=[], default="all",
                             validate_choice=False)
    to_officer_id = SelectField("Move them to", coerce=optional_id, choices=[("", "- Select -")], default=None,
                                validate_choice=False, validators=[Needed()],
                                description="An active program officer. They are told in the app, and so is the "
                                            "officer the grants leave.")
    expected = HiddenField()


def _measure_choices_field(label: str = "Measures") -> SelectMultipleField:
    return SelectMultipleField(label, choices=[], validate_choice=False, option_widget=CheckboxInput(),
                               widget=ListWidget(prefix_label=False))


class ProgramForm(_Versioned):
    """A new program (code, names and its first measures) or an existing one's names."""

    code = StringField("Program code", description="Capital letters and digits, like YCCR. It never changes.",
                       validators=[Needed(), Length(max=20)])
    name = StringField("Name", validators=[Needed(), Length(max=200)])
    funding_office = StringField("Funding office", validators=[Needed(), Length(max=200)],
                                 default="Office on Trafficking in Persons")
    measures = _measure_choices_field()
    effective_from = DateField("The measures take effect on", validators=[Optional(), Needed()],
                               description="Reports opened from this date on collect these measures.")


class MeasureSetForm(FlaskForm):
    PREFIX = "set"
    measures = _measure_choices_field("Measures of the new version")
    effective_from = DateField("Takes effect on", validators=[Optional(), Needed()],
                               description="Reports opened from this date on collect these measures; reports "
                                           "already opened keep theirs.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix=self.PREFIX, **kwargs)


class MeasureForm(_Versioned):
    name = StringField("Name", validators=[Needed(), Length(max=200)],
                       description="Reworded names show wherever the measure is named, past reports included.")
    help_text = TextAreaField("Help text", validators=[Optional(), Length(max=2000)],
                              description="Shown under the measure on the report form.")


class GrantImportForm(FlaskForm):
    workbook = FileField("Workbook of grants (.xlsx)", validators=[FileRequired("Choose the workbook of grants.")],
                         description="The template's Grants sheet, one grant a row, saved as an Excel Workbook (.xlsx).")
