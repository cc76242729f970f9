"""The dashboard's filters: a GET form (no CSRF token), turned into `RollupParams`."""
from __future__ import annotations

from typing import NamedTuple

from flask_wtf import FlaskForm
from sqlalchemy import distinct, select
from wtforms import BooleanField, SelectField

from grants.extensions import db
from grants.models import COMMUNITY_TYPES, Community, Program, Report
from reporting.rollup import MEASURE_COLUMNS, RollupParams, default_fiscal_year

PERIOD_CHOICES = [("", "Whole fiscal year"), ("H1", "H1 (October to March)"), ("H2", "H2 (April to September)")]


class DashboardFilterForm(FlaskForm):
    """Fiscal year, period, program, state, HHS region, community type, and which reports count."""

    class Meta:
        csrf = False

    fy = SelectField("Fiscal year", default="")
    period = SelectField("Period", choices=PERIOD_CHOICES, default="")
    program = SelectField("Program", default="")
    state = SelectField("State", default="")
    region = SelectField("HHS region", choices=[("", "All regions")] + [(str(n), f"Region {n}") for n in range(1, 11)],
                         default="")
    community_type = SelectField("Community type", default="",
                                 choices=[("", "All types")] + [(t, t.capitalize()) for t in COMMUNITY_TYPES])
    include_submitted = BooleanField("Also count submitted reports not yet accepted")

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("meta", {"csrf": False})
        super().__init__(*args, **kwargs)
        years = db.session.scalars(select(distinct(Report.fiscal_year)).order_by(Report.fiscal_year.desc())).all()
        self.fy.choices = [(str(y), f"FY{y}") for y in years] or [("", "No reports yet")]
        self.program.choices = [("", "All programs")] + [
            (code, f"{code}: {name}") for code, name in db.session.execute(select(Program.code, Program.name)
                                                                           .order_by(Program.code))]
        self.state.choices = [("", "All states")] + [
            (s, s) for s in db.session.scalars(select(distinct(Community.state)).order_by(Community.state))]

    def to_params(self, *, community_id: int | None = None) -> RollupParams:
        """The filters as RollupParams; a value that is not one of the choices is dropped."""
        if not self.fy.data:
            self.fy.data = str(default_fiscal_year())
            if self.fy.data not in dict(self.fy.choices):
                self.fy.choices.insert(0, (self.fy.data, f"FY{self.fy.data}"))
        self.validate()

        def pick(field):
            return None if field.errors else (field.data or None)

        fiscal_year = pick(self.fy) or default_fiscal_year()
        region = pick(self.region)
        return RollupParams(
            fiscal_year=int(fiscal_year), half=pick(self.period), program=pick(self.program), state=pick(self.state),
            region=int(region) if region else None, community_type=pick(self.community_type),
            community_id=community_id, include_submitted=bool(self.include_submitted.data),
        )


class MeasureTable(NamedTuple):
    """How the table of every measure by one of MEASURE_COLUMNS is named."""

    choice: str  # in the Columns field
    noun: str  # "Every measure by ..."
    all_label: str  # its last column


MEASURE_TABLES = {"program": MeasureTable("Programs (with breakdowns)", "program", "All programs"),
                  "region": MeasureTable("HHS regions", "HHS region", "All regions"),
                  "state": MeasureTable("States", "state", "All states")}


class MeasuresFilterForm(DashboardFilterForm):
    """The dashboard's filters, and what the table of every measure has a column for."""

    columns = SelectField("Columns", default="program",
                          choices=[(by, MEASURE_TABLES[by].choice) for by in MEASURE_COLUMNS])

    def to_columns(self) -> str:
        """The chosen columns; a value that is not a choice (to_params says so beside the field) is programs."""
        return self.columns.data if self.columns.data in MEASURE_COLUMNS else "program"
