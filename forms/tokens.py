"""Forms of the API token section of the profile: create a token, revoke one."""
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class TokenCreateForm(FlaskForm):
    name = StringField(
        "Token name", validators=[DataRequired("Name the token, for example after the script that uses it."),
                                  Length(max=100, message="Use at most 100 characters.")],
        description="So you can tell your tokens apart, for example “Monthly data export”.",
    )


class TokenRevokeForm(FlaskForm):
    """CSRF only: the token is named in the URL."""
