"""Forms of the admin pages: the audit search, the user list filters and user management."""
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, IntegerField, SearchField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from grants.models import ROLES
from grants.security import ROLE_LABELS


class AuditSearchForm(FlaskForm):
    class Meta:
        csrf = False

    user = SearchField("User (email or name)", validators=[Optional(), Length(max=254)])
    award_number = SearchField("Award number", validators=[Optional(), Length(max=20)])
    action = SearchField("Action (e.g. report, refused)", validators=[Optional(), Length(max=100)])
    report_id = IntegerField("Report id", validators=[Optional(), NumberRange(min=1, message="Enter a report id.")])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField("Name, email or organization", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[("", "All roles")] + [(r, ROLE_LABELS[r]) for r in ROLES], default="")


class UserCreateForm(FlaskForm):
    # The address format is checked by grants.services.users (demo and test domains are reserved names).
    email = EmailField("Email address", validators=[DataRequired("Enter an email address."), Length(max=254)])
    name = StringField("Full name", validators=[DataRequired("Enter the person's name."), Length(max=200)])
    role = SelectField("Role", choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    organization_id = SelectField("Organization", coerce=int, choices=[(0, "None (federal staff)")], default=0,
                                  description="Required for grantee editors and Authorized Officials.")
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])


class UserActiveForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


class ConfirmForm(FlaskForm):
    """A POST button with only the CSRF token."""
