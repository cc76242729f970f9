"""The grantee's prefilled workbook for one report (xlsxwriter), and its cell layout.

`layout(specs, final)` places every input cell of a report; the builder writes the workbook from
it and the upload parser (`grants.services.upload`) reads the same addresses back, so the two can
never disagree. Labels are locked (sheet protection without a password), input cells are
unlocked and carry data validation with the form's limits, breakdown checks are formulas written
here (never user text), and a very hidden sheet holds the report id, version number and
organization id with an HMAC signature so that a workbook cannot be moved to another report.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import BinaryIO

import xlsxwriter
from flask import current_app
from xlsxwriter.utility import xl_rowcol_to_cell

from grants.measures import (
    CUMULATIVE_NARRATIVE,
    NARRATIVE_MAX_LENGTH,
    NARRATIVES,
    Cell,
    MeasureSpec,
    category_label,
    dimension_label,
)
from grants.validation import COUNT_MAX, parse_value
from reporting.workbooks.writer import eastern_stamp, page_setup, wrapped_height

FORMAT_VERSION = "1"
META_SHEET = "_report"
ABOUT_SHEET = "About this report"
NARRATIVE_SHEET = "Narratives"
SHEET_GROUPS = (
    ("CLI", "Clients"), ("SRV", "Services"), ("PRT", "Partnerships"), ("TRN", "Training"),
    ("OUT", "Outreach"), ("EDU", "Education"), ("CCR", "Coordinated response"), ("FIN", "Finance"),
)
VALUE_COL = 2
FIRST_MEASURE_ROW = 3
NARRATIVE_COL = 1
EXCEL_TEXT_MAX = 32_767
NARRATIVE_LABEL_WIDTH, NARRATIVE_WIDTH = 40, 100  # characters
ABOUT_TEXT_WIDTH, MEASURE_TEXT_WIDTH = 80, 60
NARRATIVE_HEIGHT = 120  # points: room to type in, however short the text (a longer one grows to Excel's limit)


@dataclass(frozen=True)
class Place:
    sheet: str
    row: int
    col: int

    @property
    def address(self) -> str:
        return xl_rowcol_to_cell(self.row, self.col)

    @property
    def location(self) -> str:
        return f"Sheet '{self.sheet}', {self.address}"


@dataclass
class Row:
    kind: str  # measure, help, dimension, category, check, blank
    spec: MeasureSpec | None = None
    cell: Cell | None = None
    text: str = ""
    dimension: str = ""


@dataclass
class Layout:
    sheets: list[tuple[str, list[Row]]] = field(default_factory=list)
    cells: dict[str, Place] = field(default_factory=dict)
    checks: dict[str, Place] = field(default_factory=dict)  # "CLI-01.age" -> the check formula cell
    narratives: dict[str, Place] = field(default_factory=dict)
    narrative_rows: list[tuple[str, str, str]] = field(default_factory=list)

    def place_of(self, key: str) -> Place | None:
        """Where an error keyed like check_values' errors belongs (a cell or a breakdown check)."""
        return self.cells.get(key) or self.checks.get(key) or self.narratives.get(key)


def _sheet_name(code: str) -> str:
    prefix = code.split("-")[0]
    return next((name for p, name in SHEET_GROUPS if p == prefix), "Other measures")


def layout(specs: list[MeasureSpec], final: bool) -> Layout:
    """Every row of every measure sheet, and the address of every input and check cell."""
    out = Layout()
    grouped: dict[str, list[MeasureSpec]] = {}
    for spec in specs:
        grouped.setdefault(_sheet_name(spec.code), []).append(spec)
    for sheet, group in grouped.items():
        rows: list[Row] = []
        for spec in group:
            rows.append(Row("measure", spec, spec.cells[0] if spec.has_total else None, spec.name))
            rows.append(Row("help", spec, text=spec.help_text))
            if not spec.has_total:
                rows.extend(Row("category", spec, cell) for cell in spec.cells)
            for dim in spec.breakdowns:
                rows.append(Row("dimension", spec, text=f"By {dimension_label(dim).lower()}", dimension=dim))
                rows.extend(Row("category", spec, cell) for cell in spec.cells if cell.dimension == dim)
                rows.append(Row("check", spec, dimension=dim))
            rows.append(Row("blank"))
        for index, row in enumerate(rows):
            place = Place(sheet, FIRST_MEASURE_ROW + index, VALUE_COL)
            if row.cell is not None:
                out.cells[row.cell.key] = place
            if row.kind == "check":
                out.checks[f"{row.spec.code}.{row.dimension}"] = place
        out.sheets.append((sheet, rows))
    narratives = list(NARRATIVES) + ([CUMULATIVE_NARRATIVE] if final else [])
    for index, (name, label, hint) in enumerate(narratives):
        out.narratives[name] = Place(NARRATIVE_SHEET, 3 + index, NARRATIVE_COL)
        out.narrative_rows.append((name, label, hint))
    return out


def signature(report_id: int, version_number: int, organization_id: int) -> str:
    """HMAC-SHA256 (SECRET_KEY) of the workbook's identifiers: a changed id breaks it."""
    message = f"report-form|{FORMAT_VERSION}|{report_id}|{version_number}|{organization_id}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def _validation(spec: MeasureSpec, award: Decimal) -> dict:
    common = {"input_title": spec.code, "input_message": (spec.help_text or spec.name)[:250],
              "error_type": "stop", "ignore_blank": True}
    if spec.value_type == "count":
        return {**common, "validate": "integer", "criteria": "between", "minimum": 0, "maximum": COUNT_MAX,
                "error_title": "Whole number", "error_message": f"Enter a whole number from 0 to {COUNT_MAX:,}."}
    if spec.value_type == "percent":
        return {**common, "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100,
                "error_title": "Percent", "error_message": "Enter a percent from 0 to 100, like 45.5."}
    return {**common, "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": float(award),
            "error_title": "Dollar amount",
            "error_message": f"Enter dollars and cents from 0 to the award amount, ${award:,.2f}."}


class _Formats:
    def __init__(self, wb) -> None:
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.bold = wb.add_format({"bold": True})
        self.header = wb.add_format({"bold": True, "bottom": 1, "bg_color": "#DFE1E2"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.help = wb.add_format({"italic": True, "font_color": "#565C65", "text_wrap": True, "valign": "top"})
        self.note = wb.add_format({"italic": True, "font_color": "#565C65"})  # one line, across empty cells
        self.check = wb.add_format({"italic": True, "font_color": "#1A4480"})
        inputs = {"locked": False, "bg_color": "#FFF5C2", "border": 1, "border_color": "#A9AEB1"}
        self.input = {
            "count": wb.add_format({**inputs, "num_format": "#,##0"}),
            "percent": wb.add_format({**inputs, "num_format": "0.0"}),
            "currency": wb.add_format({**inputs, "num_format": "#,##0.00"}),
        }
        self.text_input = wb.add_format({**inputs, "text_wrap": True, "valign": "top", "num_format": "@"})


def _write_value(ws, place: Place, raw: str, spec: MeasureSpec, award: Decimal, fmt) -> Decimal | None:
    """A saved value: a number when it parses, else the typed text as a string (never a formula)."""
    number, _ = parse_value(raw, spec.value_type, award)
    if number is not None:
        ws.write_number(place.row, place.col, float(number), fmt)
    elif raw:
        ws.write_string(place.row, place.col, raw, fmt)
    else:
        ws.write_blank(place.row, place.col, None, fmt)
    return number


def _check_formula(total: str, first: str, last: str) -> str:
    rng = f"{first}:{last}"
    return (f'=IF(COUNT({rng})=0,"",IF({total}="","Enter the total first",'
            f'"Breakdown adds up to "&TEXT(SUM({rng}),"#,##0")&" of "&TEXT({total},"#,##0")'
            f'&IF(SUM({rng})={total},""," - does not match the total")))')


def _check_cached(numbers: list[Decimal | None], total: Decimal | None) -> str:
    entered = [n for n in numbers if n is not None]
    if not entered:
        return ""
    if total is None:
        return "Enter the total first"
    parts = sum(entered, Decimal(0))
    text = f"Breakdown adds up to {parts:,.0f} of {total:,.0f}"
    return text if parts == total else text + " - does not match the total"


def _day(value) -> str:
    return f"{value:%B} {value.day}, {value.year}"


def _wrapped(ws, row: int, col: int, text: str, cell_format, width: float) -> None:
    """Text that wraps in its column, in a row tall enough for it (a spreadsheet may not grow the
    row when the file is opened, and the lines would then overlap the next row's)."""
    height = wrapped_height(text, width)
    if height:
        ws.set_row(row, height)
    ws.write_string(row, col, text, cell_format)


def write_report_form(stream: BinaryIO, *, report, specs: list[MeasureSpec], raw: dict[str, str],
                      narratives: dict[str, str], version_number: int) -> None:
    """Write the workbook of one report (its specs and the values of `version_number`) to stream."""
    grant = report.grant
    award = Decimal(grant.award_amount)
    final = report.report_type == "final"
    plan = layout(specs, final)
    wb = xlsxwriter.Workbook(stream, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                      "strings_to_urls": False})
    fmt = _Formats(wb)
    # printed: each page says which report and version it is, and when it was downloaded
    printed = {"running_head": f"{grant.award_number} {report.period_label} performance report: "
                               f"{grant.organization.legal_name}",
               "running_foot": f"Version {version_number or 1}, downloaded {eastern_stamp(datetime.now(UTC))}"}
    wb.set_properties({"title": f"{grant.award_number} {report.period_label} performance report",
                       "subject": "Grant performance progress report", "comments": "Generated workbook; "
                       "enter values in the yellow cells and upload it on the report's page."})

    about = wb.add_worksheet(ABOUT_SHEET)
    about.set_column(0, 0, 28)
    about.set_column(1, 1, ABOUT_TEXT_WIDTH)
    about.write_string(0, 0, "Performance progress report", fmt.title)
    facts = (
        ("Award number", grant.award_number), ("Organization", grant.organization.legal_name),
        ("Program", f"{grant.program.code}: {grant.program.name}"), ("Community", grant.community.name),
        ("Reporting period", f"{report.period_label} ({_day(report.period_start)} to {_day(report.period_end)})"),
        ("Report type", report.report_type.capitalize()), ("Due", _day(report.effective_due_date)),
        ("Award amount", f"${award:,.2f}"), ("Version", str(version_number or 1)),
    )
    for index, (label, value) in enumerate(facts):
        about.write_string(2 + index, 0, label, fmt.bold)
        _wrapped(about, 2 + index, 1, value, fmt.wrap, ABOUT_TEXT_WIDTH)
    instructions = (
        "Enter each value in the yellow cell next to it. Leave a cell blank when you have not entered it yet; "
        "enter 0 when there is none.",
        "Each breakdown must add up to its measure's total; the check line under a breakdown shows the sum. "
        "Use “Unknown” to balance.",
        "Write the narratives on the Narratives sheet (plain text, at most 10,000 characters each).",
        "Then upload this workbook on the report's page. You will see every change before anything is saved.",
        "Upload it only for this report: a workbook for another report or an older version is refused.",
    )
    for index, text in enumerate(instructions):
        _wrapped(about, 13 + index, 1, text, fmt.wrap, ABOUT_TEXT_WIDTH)
    page_setup(about, landscape=False, **printed)
    about.protect()

    for sheet, rows in plan.sheets:
        ws = wb.add_worksheet(sheet)
        ws.set_column(0, 0, 10)
        ws.set_column(1, 1, MEASURE_TEXT_WIDTH)
        ws.set_column(2, 2, 18)
        ws.set_column(3, 3, 40)
        ws.write_string(0, 0, f"{sheet}: {grant.award_number}, {report.period_label}", fmt.title)
        ws.write_string(1, 0, "Enter values in the yellow cells.", fmt.note)
        for col, label in enumerate(("Code", "Measure", "Value", "")):
            ws.write_string(2, col, label, fmt.header)
        numbers: dict[str, Decimal | None] = {}
        for index, row in enumerate(rows):
            r = FIRST_MEASURE_ROW + index
            if row.kind == "measure":
                ws.write_string(r, 0, row.spec.code, fmt.bold)
                ws.write_string(r, 1, row.text, fmt.bold)
            elif row.kind == "help":
                _wrapped(ws, r, 1, row.text, fmt.help, MEASURE_TEXT_WIDTH)
            elif row.kind == "dimension":
                ws.write_string(r, 1, row.text, fmt.bold)
            elif row.kind == "category":
                ws.write_string(r, 1, category_label(row.cell))
            elif row.kind == "check":
                keys = [c.key for c in row.spec.cells if c.dimension == row.dimension]
                total, first, last = plan.cells[row.spec.code], plan.cells[keys[0]], plan.cells[keys[-1]]
                ws.write_string(r, 1, "Check", fmt.check)
                ws.write_formula(r, VALUE_COL, _check_formula(total.address, first.address, last.address), fmt.check,
                                 _check_cached([numbers.get(k) for k in keys], numbers.get(row.spec.code)))
            if row.cell is not None:
                place = plan.cells[row.cell.key]
                numbers[row.cell.key] = _write_value(ws, place, raw.get(row.cell.key, ""), row.spec, award,
                                                     fmt.input[row.spec.value_type])
                ws.data_validation(place.row, place.col, place.row, place.col, _validation(row.spec, award))
        ws.repeat_rows(2)
        page_setup(ws, **printed)
        ws.protect()

    ws = wb.add_worksheet(NARRATIVE_SHEET)
    ws.set_column(0, 0, NARRATIVE_LABEL_WIDTH)
    ws.set_column(NARRATIVE_COL, NARRATIVE_COL, NARRATIVE_WIDTH)
    ws.write_string(0, 0, "Narratives", fmt.title)
    ws.write_string(1, 0, f"Plain text, at most {NARRATIVE_MAX_LENGTH:,} characters each.", fmt.help)
    for name, label, hint in plan.narrative_rows:
        place = plan.narratives[name]
        text = (narratives.get(name) or "")[:EXCEL_TEXT_MAX]
        ws.set_row(place.row, wrapped_height(f"{label}\n{hint}", NARRATIVE_LABEL_WIDTH, text, NARRATIVE_WIDTH,
                                             minimum=NARRATIVE_HEIGHT))
        ws.write_string(place.row, 0, f"{label}\n{hint}", fmt.wrap)
        ws.write_string(place.row, place.col, text, fmt.text_input)
        ws.data_validation(place.row, place.col, place.row, place.col, {
            "validate": "length", "criteria": "<=", "value": NARRATIVE_MAX_LENGTH, "ignore_blank": True,
            "error_title": "Too long", "error_message": f"Use at most {NARRATIVE_MAX_LENGTH:,} characters.",
        })
    page_setup(ws, **printed)
    ws.protect()

    meta = wb.add_worksheet(META_SHEET)
    organization_id = grant.organization_id
    for index, (label, value) in enumerate((
        ("format", FORMAT_VERSION), ("report_id", str(report.id)), ("version", str(version_number)),
        ("organization_id", str(organization_id)),
        ("signature", signature(report.id, version_number, organization_id)),
    )):
        meta.write_string(index, 0, label)
        meta.write_string(index, 1, value)
    meta.protect()
    meta.very_hidden()
    wb.close()


def build_report_form(params: dict, stream: BinaryIO) -> None:
    """Registry entry point: params {"report": Report} (the caller has checked access)."""
    from grants.services import reports as report_service

    report = params["report"]
    version = report.current_version
    write_report_form(stream, report=report, specs=report_service.report_specs(report),
                      raw=report_service.raw_values(version), narratives=report_service.narratives_of(version),
                      version_number=version.number if version else 0)
