"""Uploading a report's workbook: safety checks, parsing, the preview, and applying it.

Order matters: the container is checked from the zip directory (size, entry count, total
uncompressed size, macros, encryption) BEFORE anything parses it; then openpyxl reads it in
read-only, values-only mode within cell limits; the hidden identifiers are verified against the
report (HMAC with SECRET_KEY); then the values are checked with the form's rules
(`reports.evaluate`). Nothing is written until `apply_upload`, which calls `reports.save_draft`.
Between preview and confirmation the uploaded bytes wait in instance/uploads/<random>.xlsx.
"""
from __future__ import annotations

import hmac
import io
import re
import secrets
import time
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from flask import current_app

from grants.errors import DomainError, InvalidTransition
from grants.measures import cell_label
from grants.models import Report, ReportVersion, User
from grants.services import access
from grants.services import reports as report_service
from grants.validation import check_narratives
from reporting.workbooks.report_form import Layout, layout

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
MAX_ENTRIES = 200
MAX_UNCOMPRESSED = 25 * 1024 * 1024
MAX_SHEETS = 30
MAX_ROWS = 1_000
MAX_COLS = 30
MAX_CELLS = 30_000
PENDING_MAX_AGE_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
NOT_XLSX = "This file is not an Excel workbook (.xlsx). Download the report's workbook, fill it in, and upload that."


class UploadRejected(DomainError):
    """The file cannot be used; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class Problem:
    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message[:1].lower()}{self.message[1:]}" if self.location else self.message


@dataclass(frozen=True)
class Change:
    label: str
    location: str
    old: str
    new: str


@dataclass
class UploadPreview:
    raw: dict[str, str]
    narratives: dict[str, str]
    version_number: int
    lock_version: int | None
    changes: list[Change] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def can_apply(self) -> bool:
        return not self.errors and bool(self.changes)


# ---- the container -----------------------------------------------------------------------------

def check_container(data: bytes, filename: str = "") -> None:
    """Refuse anything that is not a plain, reasonably sized .xlsx, judged before parsing."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if not data:
        raise UploadRejected("The file is empty. Choose the workbook you filled in.")
    if len(data) > limit:
        raise UploadRejected(f"The file is larger than {limit // (1024 * 1024)} MB. Upload the report's workbook, "
                             "without added pictures or sheets.")
    lowered = filename.lower()
    if lowered.endswith((".xlsm", ".xltm", ".xlsb")):
        raise UploadRejected("Macro-enabled or binary workbooks are not accepted. Save it as an Excel Workbook (.xlsx).")
    if data.startswith(OLE_SIGNATURE):
        raise UploadRejected("This file is password-protected (encrypted) or an old .xls workbook. Remove the "
                             "password and save it as an Excel Workbook (.xlsx), then upload it again.")
    if not data.startswith(ZIP_SIGNATURE):
        raise UploadRejected(NOT_XLSX)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise UploadRejected(NOT_XLSX) from None
    if len(entries) > MAX_ENTRIES:
        raise UploadRejected("This workbook has too many parts to be the report's workbook.")
    if sum(e.file_size for e in entries) > MAX_UNCOMPRESSED:
        raise UploadRejected("This workbook is far larger once unpacked than the report's workbook can be. "
                             "It was not opened.")
    names = {e.filename for e in entries}
    if any(e.flag_bits & 0x1 for e in entries):
        raise UploadRejected("This file is encrypted. Remove the password and upload it again.")
    if any(name.lower().endswith("vbaproject.bin") for name in names):
        raise UploadRejected("This workbook contains macros. Save it as an Excel Workbook (.xlsx), without macros.")
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise UploadRejected(NOT_XLSX)
    types = archive.getinfo("[Content_Types].xml")
    if types.file_size > 1024 * 1024:
        raise UploadRejected(NOT_XLSX)
    content_types = archive.read(types).decode("utf-8", "replace").lower()
    if "macroenabled" in content_types or "vbaproject" in content_types:
        raise UploadRejected("This workbook contains macros. Save it as an Excel Workbook (.xlsx), without macros.")
    if "spreadsheetml.sheet.main+xml" not in content_types:
        raise UploadRejected(NOT_XLSX)


def cell_text(value, value_type: str = "") -> str:
    """A cell value as the text a person would have typed (money with its cents)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if not isinstance(value, (int, float)):
        return str(value).strip()
    if abs(value) >= 1e15:
        return repr(value)
    # Excel's binary floating point: 0.1 + 0.2 style noise is not something anyone typed.
    number = Decimal(repr(value)).quantize(Decimal("0.000001")).normalize()
    if value_type == "currency" and number == number.quantize(Decimal("0.01")):
        return f"{number:.2f}"
    return f"{number:f}" if number != number.to_integral_value() else str(int(number))


def read_sheets(data: bytes, *, max_rows: int = MAX_ROWS, what: str = "the report's workbook",
                ) -> dict[str, dict[tuple[int, int], object]]:
    """Every non-empty value of every sheet by (row, col), zero-based, within the cell limits
    (`what` names what the workbook should be, in the refusals)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception:  # noqa: BLE001 - any failure to read is the same answer to the user
        raise UploadRejected("This workbook could not be read. It may be damaged; download a new one.") from None
    try:
        if len(wb.sheetnames) > MAX_SHEETS:
            raise UploadRejected(f"This workbook has too many sheets to be {what}.")
        sheets: dict[str, dict[tuple[int, int], object]] = {}
        cells = 0
        for ws in wb.worksheets:
            values: dict[tuple[int, int], object] = {}
            try:
                # The declared dimension may lie; read what is there, only ever MAX_COLS + 1 wide.
                ws.reset_dimensions()
                for r, row in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLS + 1, values_only=True)):
                    if row.count(None) == len(row):
                        continue
                    for c, value in enumerate(row):
                        if value is None or value == "":
                            continue
                        if r >= max_rows or c >= MAX_COLS:
                            raise UploadRejected(f"Sheet '{ws.title}' has values beyond row {max_rows:,} or column "
                                                 f"{MAX_COLS}: this is not {what}.")
                        cells += 1
                        if cells > MAX_CELLS:
                            raise UploadRejected(f"This workbook has too many filled cells to be {what}.")
                        values[(r, c)] = value
            except UploadRejected:
                raise
            except Exception:  # noqa: BLE001
                raise UploadRejected(f"Sheet '{ws.title}' could not be read. Download a new workbook.") from None
            sheets[ws.title] = values
        return sheets
    finally:
        wb.close()


# ---- the report --------------------------------------------------------------------------------

def _current(report: Report) -> tuple[int, ReportVersion | None]:
    version = report.current_version
    return (version.number if version else 0), version


def _verify_identity(report: Report, sheets: dict) -> None:
    from reporting.workbooks.report_form import META_SHEET, signature

    meta = sheets.get(META_SHEET)
    if meta is None:
        raise UploadRejected("This is not a workbook downloaded for a report here (its report identifiers are "
                             "missing). Download the report's workbook and enter your values in it.")
    fields_ = {cell_text(meta.get((r, 0))): cell_text(meta.get((r, 1))) for r in range(8)}
    try:
        report_id, version_number, organization_id = (int(fields_[k]) for k in ("report_id", "version", "organization_id"))
    except (KeyError, ValueError):
        raise UploadRejected("This workbook's report identifiers are damaged. Download a new workbook.") from None
    expected = signature(report_id, version_number, organization_id)
    if not hmac.compare_digest(expected, fields_.get("signature", "")):
        raise UploadRejected("This workbook's report identifiers were changed, so it cannot be trusted. "
                             "Download a new workbook.")
    if report_id != report.id:
        raise UploadRejected("This workbook is for a different report. Upload it on that report's page, or "
                             "download this report's workbook.")
    if organization_id != report.grant.organization_id:
        raise UploadRejected("This workbook belongs to another organization's report.")
    current_number, _ = _current(report)
    if version_number != current_number:
        raise UploadRejected(
            f"This workbook was downloaded for version {version_number or 1} of the report, which has changed since "
            f"(it is now at version {current_number}). Download a new workbook so that newer changes are not lost."
        )


def require_uploadable(report: Report, user: User) -> None:
    """The same rights and states as editing the report on the form."""
    access.require_edit(user, report)
    if report.status not in report_service.ALLOWED_FROM["edit"]:
        raise InvalidTransition(f"This report is {report_service.STATUS_LABELS[report.status].lower()}, so it "
                                "cannot be changed by uploading a workbook.")


def parse_upload(report: Report, user: User, data: bytes, filename: str = "") -> UploadPreview:
    """Check, read and validate an uploaded workbook for this report; changes nothing."""
    require_uploadable(report, user)
    check_container(data, filename)
    sheets = read_sheets(data)
    _verify_identity(report, sheets)
    specs = report_service.report_specs(report)
    plan = layout(specs, report.report_type == "final")
    missing = [sheet for sheet, _ in plan.sheets if sheet not in sheets]
    if missing:
        raise UploadRejected(f"The sheet '{missing[0]}' is missing from this workbook. Download a new workbook.")
    types = {cell.key: spec.value_type for spec in specs for cell in spec.cells}
    raw = {key: cell_text(sheets[place.sheet].get((place.row, place.col)), types[key]) for key, place in plan.cells.items()}
    narratives = {name: _text_block(sheets.get(place.sheet, {}).get((place.row, place.col)))
                  for name, place in plan.narratives.items()}
    number, version = _current(report)
    preview = UploadPreview(raw=raw, narratives=narratives, version_number=number,
                            lock_version=version.lock_version if version else None)
    result = report_service.evaluate(report, raw, specs)
    for key, messages in result.errors.items():
        for message in messages:
            preview.errors.append(Problem(_where(plan, key), message))
    for key, messages in check_narratives(narratives).items():
        for message in messages:
            preview.errors.append(Problem(_where(plan, key), message))
    for w in result.warnings:
        preview.warnings.append(Problem(_where(plan, w.field), w.message))
    old_raw = report_service.raw_values(version)
    for spec in specs:
        for cell in spec.cells:
            old, new = old_raw.get(cell.key, ""), raw[cell.key]
            if old != new:
                preview.changes.append(Change(f"{spec.code} {cell_label(spec, cell)}", plan.cells[cell.key].location, old, new))
    old_narratives = report_service.narratives_of(version)
    for name, label, _ in plan.narrative_rows:
        if (old_narratives.get(name) or "") != narratives[name]:
            preview.changes.append(Change(label, plan.narratives[name].location, old_narratives.get(name) or "",
                                          narratives[name]))
    return preview


def _text_block(value) -> str:
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def _where(plan: Layout, key: str) -> str:
    place = plan.place_of(key)
    if place is None and "." in key:
        place = plan.cells.get(key.split(".")[0])
    return place.location if place else ""


def apply_upload(report: Report, user: User, preview: UploadPreview, expected_lock: int | None) -> ReportVersion:
    """Save the previewed workbook as the draft (the form's save, with the lock seen at preview)."""
    if preview.errors:
        raise UploadRejected("Fix the errors in the workbook and upload it again.")
    explanations = dict(report.current_version.explanations or {}) if report.current_version else {}
    version, _ = report_service.save_draft(report, user, preview.raw, preview.narratives, explanations, expected_lock)
    return version


# ---- waiting for confirmation ------------------------------------------------------------------

def _pending_dir() -> Path:
    path = Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.config["INSTANCE_PATH"]) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pending_path(token: str) -> Path:
    if not _TOKEN.fullmatch(token or ""):
        raise UploadRejected("This upload has expired. Upload the workbook again.")
    return _pending_dir() / f"{token}.xlsx"


def store_pending(data: bytes) -> str:
    """Keep the uploaded bytes until the grantee confirms; returns the random token naming them."""
    directory = _pending_dir()
    cutoff = time.time() - PENDING_MAX_AGE_SECONDS
    for old in directory.glob("*.xlsx"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            continue
    token = secrets.token_urlsafe(24)
    (directory / f"{token}.xlsx").write_bytes(data)
    return token


def load_pending(token: str) -> bytes:
    path = _pending_path(token)
    if not path.is_file() or path.stat().st_mtime < time.time() - PENDING_MAX_AGE_SECONDS:
        raise UploadRejected("This upload has expired. Upload the workbook again.")
    return path.read_bytes()


def discard_pending(token: str | None) -> None:
    if not token:
        return
    try:
        _pending_path(token).unlink(missing_ok=True)
    except UploadRejected:
        return
