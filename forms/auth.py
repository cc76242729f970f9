"""Sign-in, password and profile forms."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=128)])


# Shared by the change and reset forms; defined in the order the forms show them.
_current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
_new_password = PasswordField(
    "New password", validators=[DataRequired("Enter a new password."), Length(max=128)],
    description="At least 12 characters. A passphrase of several words is easiest to remember.",
)
_confirm_password = PasswordField(
    "Confirm new password", validators=[DataRequired("Enter the new password again."),
                                        EqualTo("new_password", "The two passwords do not match.")],
)


class PasswordChangeForm(FlaskForm):
    current_password = _current_password
    new_password = _new_password
    confirm_password = _confirm_password


class PasswordResetForm(FlaskForm):
    """A new password chosen from an emailed link (no current password: it was forgotten)."""

    new_password = _new_password
    confirm_password = _confirm_password


class ProfileForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(max=200)])
    title = StringField("Title", validators=[Length(max=200)])
    phone = StringField("Phone", validators=[Length(max=40)])


class PasswordForgotForm(FlaskForm):
    """The address is checked by the service, with the rule accounts are created with."""

    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)])
