"""Forms for asking for, withdrawing and deciding deadline extensions."""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forms.review import LockedForm, PrefixedForm

REASON_MAX = 10_000


class ExtensionRequestForm(FlaskForm):
    requested_date = DateField("New due date", validators=[InputRequired("Enter the new due date you are asking for.")],
                               description="Reports are due by 11:59 p.m. Eastern on this date.")
    reason = TextAreaField("Why you need more time",
                           validators=[DataRequired("Say why you need more time."), Length(max=REASON_MAX)])


class ExtensionWithdrawForm(LockedForm):
    PREFIX = "withdraw"


class ExtensionDecisionForm(PrefixedForm):
    PREFIX = "decision"
    lock_version = HiddenField(validators=[InputRequired()])
    decision = RadioField("Decision", choices=[("approve", "Approve"), ("deny", "Deny")],
                          validators=[InputRequired("Choose approve or deny.")])
    approved_date = DateField("Approved due date", validators=[Optional()],
                              description="Leave blank to approve the date the grantee asked for.")
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=REASON_MAX)],
                           description="Required when you deny the request; the grantee sees it.")
