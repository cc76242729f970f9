"""Adding many grants at once from a workbook (admin only): a grants office's list of new awards.

The workbook is checked like every upload (grants.services.upload: the container before parsing,
then openpyxl in read-only mode within cell limits). Each row names its references as people know
them (program code, organization EIN, community name and state, officer email) and is saved with
the same rules as the Add a grant page (grants.services.awards.save_grant), each row in a savepoint
of one transaction: the rows' errors are collected, and the preview is exactly what confirming
would do, because it is the same run, rolled back. Confirming runs it again and saves every row or
none. Rows are read from the first sheet named "Grants" (or the first sheet), under a heading row
whose headings are those of the template (`COLUMNS`), in any order.

A new program year's cohort brings grantees and places the system has never seen: the optional
sheets "New organizations" and "New communities" add them in the same run, before the grants (so
a grant row may name them), each row with the rules of its own Add page
(`awards.save_organization`, `awards.save_community`). Everything the workbook adds goes in
together, or nothing does.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select

from grants.errors import DomainError, ValidationFailed
from grants.extensions import db
from grants.models import COMMUNITY_TYPES, GRANT_STATUSES, Community, Grant, Organization, Program, User
from grants.services import awards, notifications, upload
from reporting.workbooks.writer import Book

MAX_ROWS = 1_000
SHEET = "Grants"
# (heading, the save_grant field it fills, the hint printed in the template's second row)
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Award number", "award_number", "As on the Notice of Award, like 90ZV0101-01-00"),
    ("Program code", "program_id", "A program's code, like YCCR (see the Programs sheet)"),
    ("Organization EIN", "organization_id", "The grantee's EIN, like 12-3456789 (see Organizations)"),
    ("Community", "community_id", 'Its name, like "Franklin County, OH" (see Communities)'),
    ("Community state", "community_state", "Two letters, like OH"),
    ("Program officer email", "officer_id", "Optional: an active program officer (see Officers)"),
    ("Project title", "title", "Optional"),
    ("Start date", "start_date", "First day of the period of performance, YYYY-MM-DD"),
    ("End date", "end_date", "Last day of the period of performance, YYYY-MM-DD"),
    ("Award amount", "award_amount", "Dollars, like 600000"),
    ("Status", "status", "active (the default), suspended or closed"),
)
REQUIRED_HEADINGS = ("Award number", "Program code", "Organization EIN", "Community", "Community state",
                     "Start date", "End date", "Award amount")
ORGANIZATION_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Legal name", "legal_name", "As registered in SAM.gov"),
    ("EIN", "ein", "Like 12-3456789"),
    ("UEI", "uei", "The 12-character Unique Entity ID from SAM.gov"),
    ("Street address", "address", "Optional"),
    ("City", "city", "Optional"),
    ("State", "state", "Two letters, like OH"),
    ("ZIP code", "zip_code", "Optional: 5 digits, or ZIP+4"),
)
COMMUNITY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Community", "name", 'Its name, like "Lucas County, OH"'),
    ("State", "state", "Two letters, like OH (its HHS region follows)"),
    ("Type", "community_type", ", ".join(COMMUNITY_TYPES)),
)


@dataclass(frozen=True)
class SheetSpec:
    """One sheet a workbook of grants may have: its name, its columns and the headings it needs."""

    name: str
    columns: tuple[tuple[str, str, str], ...]
    required: tuple[str, ...]

    @property
    def headings(self) -> dict[str, str]:
        return {heading.lower(): key for heading, key, _ in self.columns}

    @property
    def labels(self) -> dict[str, str]:
        return {key: heading for heading, key, _ in self.columns}


GRANTS = SheetSpec(SHEET, COLUMNS, REQUIRED_HEADINGS)
NEW_ORGANIZATIONS = SheetSpec("New organizations", ORGANIZATION_COLUMNS, ("Legal name", "EIN", "UEI", "State"))
NEW_COMMUNITIES = SheetSpec("New communities", COMMUNITY_COLUMNS, ("Community", "State", "Type"))
LABELS = GRANTS.labels
# Fields a sheet may type in any case, as the Add pages' choices send them.
NEW_ORGANIZATION_CASES = {"state": str.upper, "uei": str.upper}
NEW_COMMUNITY_CASES = {"state": str.upper, "community_type": str.lower}


class ImportRejected(DomainError):
    """The workbook cannot be used as it is; the message says why. Nothing was saved."""


@dataclass
class ImportRow:
    number: int  # the row's number in the sheet, as Excel shows it
    label: str  # what names the row: the award number, the organization's or the community's name
    errors: dict[str, list[str]] = field(default_factory=dict)  # column heading -> messages
    opened: int = 0  # reports opened for started periods


@dataclass
class ImportRun:
    rows: list[ImportRow]  # the grants
    organizations: list[ImportRow] = field(default_factory=list)
    communities: list[ImportRow] = field(default_factory=list)

    @property
    def failed(self) -> list[ImportRow]:
        return [row for row in (*self.organizations, *self.communities, *self.rows) if row.errors]

    @property
    def total(self) -> int:
        return len(self.organizations) + len(self.communities) + len(self.rows)

    @property
    def opened(self) -> int:
        return sum(row.opened for row in self.rows)


# --- the template -------------------------------------------------------------------------------

def write_template(stream) -> None:
    """The workbook to fill in: the Grants sheet's headings and hints, and sheets listing what the
    references may be (programs, organizations, communities, officers)."""
    book = Book(stream)
    sheet = book.sheet(SHEET)
    sheet.header([heading for heading, _, _ in COLUMNS], ["text"] * len(COLUMNS))
    sheet.row([hint for _, _, hint in COLUMNS], "wrap", height=45)
    widths = (18, 12, 18, 30, 10, 28, 36, 12, 12, 14, 12)
    statuses = list(GRANT_STATUSES)
    sheet.ws.data_validation(2, 10, MAX_ROWS, 10, {"validate": "list", "source": statuses})
    sheet.ws.data_validation(2, 7, MAX_ROWS, 8, {"validate": "date", "criteria": ">", "value": datetime(2000, 1, 1),
                                                 "input_message": "A date, like 2026-10-01"})
    sheet.finish(header_row=0, widths=widths, filter_rows=None)
    for col in (7, 8):  # after finish, which sets the widths: typed dates show as dates
        sheet.ws.set_column(col, col, widths[col], book.formats["date"])
    for spec, widths in ((NEW_ORGANIZATIONS, (40, 14, 16, 30, 18, 8, 12)), (NEW_COMMUNITIES, (36, 10, 14))):
        new = book.sheet(spec.name)
        new.header([heading for heading, _, _ in spec.columns], ["text"] * len(spec.columns))
        new.row([hint for _, _, hint in spec.columns], "wrap", height=45)
        if spec is NEW_COMMUNITIES:
            new.ws.data_validation(2, 2, MAX_ROWS, 2, {"validate": "list", "source": list(COMMUNITY_TYPES)})
        new.finish(header_row=0, widths=widths, filter_rows=None)
    references = (
        ("Programs", ("Code", "Name"), db.session.execute(select(Program.code, Program.name).order_by(Program.code))),
        ("Organizations", ("EIN", "Legal name", "State"), db.session.execute(
            select(Organization.ein, Organization.legal_name, Organization.state).order_by(Organization.legal_name))),
        ("Communities", ("Community", "Community state", "HHS region"), db.session.execute(
            select(Community.name, Community.state, Community.hhs_region).order_by(Community.state, Community.name))),
        ("Officers", ("Email", "Name"), db.session.execute(
            select(User.email, User.name).where(User.role == "program_officer", User.active.is_(True))
            .order_by(User.name))),
    )
    for name, headings, rows in references:
        ref = book.sheet(name)
        ref.header(list(headings), ["text"] * len(headings))
        for row in rows:
            ref.row(list(row), ["text"] * (len(headings) - 1) + ["code" if name == "Communities" else "text"])
        ref.finish(header_row=0, widths=(40,) * len(headings), filter_rows=(0, ref.next_row - 1))
    book.close()


# --- reading the rows ---------------------------------------------------------------------------

def _sheets(data: bytes, filename: str) -> dict[str, dict[tuple[int, int], object]]:
    upload.check_container(data, filename)
    sheets = upload.read_sheets(data, max_rows=MAX_ROWS + 2, what="a list of grants")
    if not sheets:
        raise ImportRejected("This workbook has no sheet.")
    return sheets


def _find(sheets: dict, spec: SheetSpec) -> str | None:
    """The sheet of `spec`: by name; the grants' may be the first sheet that is not one of the others."""
    found = next((n for n in sheets if n.strip().lower() == spec.name.lower()), None)
    if found is None and spec is GRANTS:
        others = {NEW_ORGANIZATIONS.name.lower(), NEW_COMMUNITIES.name.lower()}
        found = next((n for n in sheets if n.strip().lower() not in others), None)
    return found


def _rows(sheets: dict, spec: SheetSpec) -> list[tuple[int, dict[str, object]]]:
    """The filled rows of `spec`'s sheet (the template's hint row skipped); a sheet other than the
    grants' may be absent or empty."""
    name = _find(sheets, spec)
    if name is None:
        if spec is GRANTS:
            raise ImportRejected("This workbook has no Grants sheet. Download the template and fill in its Grants sheet.")
        return []
    cells = sheets[name]
    header = {c: str(v).strip().lower() for (r, c), v in cells.items() if r == 0}
    headings = spec.headings
    columns = {c: headings[h] for c, h in header.items() if h in headings}
    by_row: dict[int, dict[str, object]] = {}
    for (r, c), value in cells.items():
        if r == 0 or c not in columns:
            continue
        by_row.setdefault(r, {})[columns[c]] = value
    hint_row = {key: hint for heading, key, hint in spec.columns}
    rows = [(r + 1, values) for r, values in sorted(by_row.items())
            if not (r == 1 and all(str(values.get(k, "")) == hint_row[k] for k in values))]  # the template's hints
    if not rows and spec is not GRANTS:
        return []
    missing = [h for h in spec.required if headings[h.lower()] not in columns.values()]
    if missing:
        raise ImportRejected(f"The sheet '{name}' has no column {', '.join(repr(h) for h in missing)} in its first "
                             f"row. Download the template and fill in its {spec.name} sheet.")
    if not rows:
        raise ImportRejected(f"The sheet '{name}' has no grant under its headings.")
    return rows


DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y")


def _date(value) -> date | str | None:
    """A date cell or typed text as a date; what cannot be read stays text (save_grant refuses it)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = upload.cell_text(value)
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return text or None


def _resolve(values: dict[str, object], errors: dict[str, list[str]]) -> dict[str, object]:
    """The row's references as the ids save_grant takes; an unknown one is an error on its column."""
    text = {key: upload.cell_text(value) for key, value in values.items()}
    data: dict[str, object] = {"award_number": text.get("award_number", ""), "title": text.get("title", ""),
                               "award_amount": text.get("award_amount", ""),
                               "status": (text.get("status") or "active").lower(),
                               "start_date": _date(values.get("start_date")), "end_date": _date(values.get("end_date"))}
    code = text.get("program_id", "").upper()
    data["program_id"] = db.session.scalar(select(Program.id).where(Program.code == code)) if code else None
    if code and data["program_id"] is None:
        errors[LABELS["program_id"]] = [f"There is no program {code}."]
    ein = text.get("organization_id", "")
    data["organization_id"] = db.session.scalar(select(Organization.id).where(Organization.ein == ein)) if ein else None
    if ein and data["organization_id"] is None:
        errors[LABELS["organization_id"]] = [f"No organization has EIN {ein}. Add it on the Organizations page, or "
                                             "in this workbook's New organizations sheet."]
    community, state = text.get("community_id", ""), text.get("community_state", "").upper()
    data["community_id"] = db.session.scalar(select(Community.id).where(
        func.lower(Community.name) == community.lower(), Community.state == state)) if community else None
    if community and data["community_id"] is None:
        errors[LABELS["community_id"]] = [f"There is no community {community} in {state or '(no state)'}. "
                                          "Add it on the Communities page, or in this workbook's New communities sheet."]
    email = text.get("officer_id", "").lower()
    data["officer_id"] = db.session.scalar(select(User.id).where(func.lower(User.email) == email)) if email else None
    if email and data["officer_id"] is None:
        errors[LABELS["officer_id"]] = [f"No account has the email {email}."]
    return data


def _save_row(row: ImportRow, spec: SheetSpec, save: Callable[[], object], errors: dict[str, list[str]]) -> object:
    """Save one row in a savepoint: kept when it is clean, rolled back with its errors by column."""
    savepoint = db.session.begin_nested()
    try:
        saved = save()
    except ValidationFailed as exc:
        savepoint.rollback()
        labels = spec.labels
        for key, messages in exc.errors.items():
            # an unknown reference already says so; the service only saw no choice
            if labels.get(key, key) not in errors:
                errors[labels.get(key, key)] = list(messages)
        row.errors = errors
        return None
    if errors:  # an unknown officer's email: saved unassigned, which is not what the row says
        savepoint.rollback()
        row.errors = errors
        return None
    savepoint.commit()
    return saved


def _text_of(values: dict[str, object]) -> dict[str, str]:
    return {key: upload.cell_text(value) for key, value in values.items()}


def _run(data: bytes, filename: str, today: date | None) -> ImportRun:
    sheets = _sheets(data, filename)
    grant_rows = _rows(sheets, GRANTS)  # a workbook without grants is refused before anything is tried
    run = ImportRun([])
    for spec, cases, save, added in ((NEW_ORGANIZATIONS, NEW_ORGANIZATION_CASES, awards.save_organization,
                                      run.organizations),
                                     (NEW_COMMUNITIES, NEW_COMMUNITY_CASES, awards.save_community, run.communities)):
        for number, values in _rows(sheets, spec):
            text = _text_of(values)
            text.update({key: case(text.get(key, "")) for key, case in cases.items()})
            row = ImportRow(number, text.get(spec.columns[0][1], ""))  # its first column names it
            _save_row(row, spec, lambda save=save, text=text: save(None, text), {})
            added.append(row)
    for number, values in grant_rows:
        errors: dict[str, list[str]] = {}
        resolved = _resolve(values, errors)
        row = ImportRow(number, str(resolved["award_number"]))
        saved = _save_row(row, GRANTS, lambda resolved=resolved: awards.save_grant(None, resolved, today=today,
                                                                                     notify=False), errors)
        if saved is not None:
            row.label, row.opened = saved.grant.award_number, saved.opened
        run.rows.append(row)
    return run


def preview(data: bytes, filename: str = "", today: date | None = None) -> ImportRun:
    """What importing the workbook would do, row by row; nothing is saved (the caller's
    transaction is rolled back here)."""
    try:
        return _run(data, filename, today)
    finally:
        db.session.rollback()


def apply(data: bytes, today: date | None = None) -> ImportRun:
    """Save every row, or none when any row has an error (the caller commits)."""
    run = _run(data, "", today)
    if run.failed:
        db.session.rollback()
        raise ImportRejected(f"{len(run.failed)} row{'s have' if len(run.failed) != 1 else ' has'} errors, so nothing "
                             "was added. Fix the workbook and upload it again.")
    assigned: dict[int, list[str]] = {}
    for officer_id, award_number in db.session.execute(select(Grant.officer_id, Grant.award_number).where(
            Grant.award_number.in_([row.label for row in run.rows]), Grant.officer_id.is_not(None))):
        assigned.setdefault(officer_id, []).append(award_number)
    notifications.notify_imported(assigned)
    return run

