"""Forms of the spreadsheet upload: choose the workbook, then confirm the previewed changes."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length


class UploadForm(FlaskForm):
    workbook = FileField(
        "Filled workbook (.xlsx)", validators=[FileRequired("Choose the workbook file you filled in.")],
        description="The workbook you downloaded for this report, saved as an Excel Workbook (.xlsx).",
    )


class ConfirmUploadForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=64)])
