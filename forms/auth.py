"""Sign-in, password and profile forms."""
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=128)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired("Enter your current password.")])
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=128)],
        description="At least 12 characters. A passphrase of several words is easiest to remember.",
    )
    confirm_password = PasswordField(
        "Confirm new password", validators=[DataRequired("Enter the new password again."),
                                            EqualTo("new_password", "The two passwords do not match.")],
    )


class ProfileForm(FlaskForm):
    name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(max=200)])
    title = StringField("Title", validators=[Length(max=200)])
    phone = StringField("Phone", validators=[Length(max=40)])


class EmailForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter an email address."), Email("Enter a valid email address."), Length(max=254)])
