"""Spreadsheet round-trip: the prefilled workbook of a report, uploading it back, the preview,
confirming, and every kind of file that is refused without changing anything."""
from __future__ import annotations

import io
import random
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from grants.demo import generate_values
from grants.extensions import db
from grants.measures import PROGRAMS
from grants.models import Report, ReportVersion
from grants.services import reports as report_service
from grants.services.upload import cell_label
from reporting.workbooks.report_form import META_SHEET, NARRATIVE_SHEET, layout
from tests import factories
from tests.conftest import login

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def grantee_report(code: str = "YCCR", role: str = "grantee_certifier", user=None):
    prog = factories.program(code)
    user = user or factories.UserFactory(role=role)
    grant = factories.GrantFactory(program=prog, organization=user.organization)
    reports = factories.open_reports(grant)
    db.session.commit()
    return user, reports[0]


def client_for(app, user):
    return login(app.test_client(), user.email, factories.PASSWORD)


def download(client, report) -> bytes:
    response = client.get(f"/reports/{report.id}/workbook.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == XLSX_TYPE
    return response.data


def plan_of(report):
    return layout(report_service.report_specs(report), report.report_type == "final")


def fill(data: bytes, report, raw: dict[str, object], narratives: dict[str, str] | None = None) -> bytes:
    """What a person does in Excel: type into the input cells, save."""
    wb = load_workbook(io.BytesIO(data))
    plan = plan_of(report)
    for key, value in raw.items():
        place = plan.cells[key]
        wb[place.sheet].cell(row=place.row + 1, column=place.col + 1, value=value)
    for name, text in (narratives or {}).items():
        place = plan.narratives[name]
        wb[place.sheet].cell(row=place.row + 1, column=place.col + 1, value=text)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, report, data: bytes, filename: str = "report.xlsx"):
    return client.post(f"/reports/{report.id}/upload", data={"workbook": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm(client, report, preview_html: str):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview_html).group(1)
    return client.post(f"/reports/{report.id}/upload/confirm", data={"token": token})


def numbers(report, seed: int = 5) -> dict[str, str]:
    return generate_values(report_service.report_specs(report), 40, Decimal("1000.00"), random.Random(seed))


def as_cell_values(raw: dict[str, str]) -> dict[str, object]:
    """Numbers as Excel stores them (ints and floats), not text."""
    return {k: (float(v) if "." in v else int(v)) for k, v in raw.items()}


def assert_unchanged(report) -> None:
    db.session.rollback()
    fresh = db.session.get(Report, report.id)
    assert fresh.status == "not_started"
    assert db.session.scalar(select(ReportVersion).where(ReportVersion.report_id == report.id)) is None


# ---- the workbook -----------------------------------------------------------------------------

def test_workbook_has_locked_labels_validated_inputs_checks_narratives_and_signed_ids(app):
    user, report = grantee_report("YCCR")
    data = download(client_for(app, user), report)
    wb = load_workbook(io.BytesIO(data))
    plan = plan_of(report)
    specs = {s.code: s for s in report_service.report_specs(report)}
    for key, place in plan.cells.items():
        ws = wb[place.sheet]
        cell = ws.cell(row=place.row + 1, column=place.col + 1)
        assert cell.protection.locked is False, key
        assert ws.cell(row=place.row + 1, column=2).protection.locked is not False
        rules = [dv for dv in ws.data_validations.dataValidation if place.address in str(dv.sqref)]
        assert len(rules) == 1, key
        spec = specs[key.split(".")[0]]
        expected = {"count": ("whole", "10000000"), "percent": ("decimal", "100"),
                    "currency": ("decimal", str(float(report.grant.award_amount)))}[spec.value_type]
        assert (rules[0].type, rules[0].formula2) == expected, key
    for ws in wb.worksheets:
        assert ws.protection.sheet is True and not ws.protection.password
    clients = wb["Clients"]
    check = plan.checks["CLI-01.age"]
    formula = clients.cell(row=check.row + 1, column=check.col + 1).value
    assert formula.startswith("=IF(COUNT(") and "Breakdown adds up to" in formula
    first = plan.cells["CLI-01"]
    assert clients.cell(row=first.row + 1, column=2).value == specs["CLI-01"].name
    assert clients.cell(row=first.row + 2, column=2).value == specs["CLI-01"].help_text
    assert NARRATIVE_SHEET in wb.sheetnames
    meta = wb[META_SHEET]
    assert meta.sheet_state == "veryHidden"
    fields = {meta.cell(row=r, column=1).value: meta.cell(row=r, column=2).value for r in range(1, 6)}
    assert fields["report_id"] == str(report.id) and fields["organization_id"] == str(report.grant.organization_id)
    assert len(fields["signature"]) == 64


def test_workbook_is_prefilled_and_user_text_stays_text(app):
    user, report = grantee_report("DVHT")
    raw = numbers(report) | {"CLI-04": "=HYPERLINK(\"http://evil\")"}
    report_service.save_draft(report, user, raw, {"narrative_accomplishments": "=cmd|' /C calc'!A0"}, {}, None)
    db.session.commit()
    wb = load_workbook(io.BytesIO(download(client_for(app, user), report)))
    plan = plan_of(report)
    place = plan.cells["CLI-01"]
    assert wb[place.sheet].cell(row=place.row + 1, column=place.col + 1).value == int(raw["CLI-01"])
    evil = plan.cells["CLI-04"]
    cell = wb[evil.sheet].cell(row=evil.row + 1, column=evil.col + 1)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")
    narrative = plan.narratives["narrative_accomplishments"]
    cell = wb[NARRATIVE_SHEET].cell(row=narrative.row + 1, column=narrative.col + 1)
    assert cell.data_type == "s"


def test_printed_pages_name_the_report_and_no_text_overlaps(app):
    user, report = grantee_report("DVHT")
    long_text = "We met every objective of the award this period. " * 60  # about 3,000 characters
    report_service.save_draft(report, user, {}, {"narrative_accomplishments": long_text}, {}, None)
    db.session.commit()
    wb = load_workbook(io.BytesIO(download(client_for(app, user), report)))
    grant = report.grant
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        assert ws.oddHeader.left.text == (f"{grant.award_number} {report.period_label} performance report: "
                                          f"{grant.organization.legal_name}".replace("&", "&&"))
        assert ws.oddHeader.right.text == "&B&A" and ws.oddFooter.right.text == "Page &P of &N"
        assert re.fullmatch(r"Version 1, downloaded \d{4}-\d\d-\d\d \d\d:\d\d Eastern", ws.oddFooter.left.text)
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0  # one page wide
    plan = plan_of(report)
    clients = wb["Clients"]
    helps = [r for r in clients.iter_rows(min_row=4) if r[1].value and r[1].font.i and len(r[1].value) > 60]
    assert helps  # help texts longer than their column wrap in rows tall enough for their lines
    for cells in helps:
        assert clients.row_dimensions[cells[1].row].height >= 30
    assert clients.print_title_rows == "$3:$3"  # the Code / Measure / Value heading on every page
    narrative = plan.narratives["narrative_accomplishments"]
    height = wb[NARRATIVE_SHEET].row_dimensions[narrative.row + 1].height
    assert height > 120 and height <= 409  # grows with the text, to Excel's limit

def test_only_the_organizations_staff_can_download(app):
    user, report = grantee_report()
    officer = factories.UserFactory(role="program_officer")
    stranger = factories.UserFactory(role="grantee_certifier")
    db.session.commit()
    assert client_for(app, officer).get(f"/reports/{report.id}/workbook.xlsx").status_code == 403
    assert client_for(app, stranger).get(f"/reports/{report.id}/workbook.xlsx").status_code == 404
    assert client_for(app, stranger).get(f"/reports/{report.id}/upload").status_code == 404


# ---- the round trip ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", [p[0] for p in PROGRAMS])
def test_round_trip_of_every_programs_workbook(app, code):
    user, report = grantee_report(code, role="grantee_editor")
    client = client_for(app, user)
    raw = numbers(report)
    narratives = {"narrative_accomplishments": "We served 40 survivors.\nAnd trained partners.",
                  "narrative_next_period": "More outreach."}
    filled = fill(download(client, report), report, as_cell_values(raw), narratives)

    preview = upload(client, report, filled)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html[:2000]
    assert "Check the uploaded spreadsheet" in html and "upload-errors" not in html
    first_spec = report_service.report_specs(report)[0]
    assert f"{first_spec.code} {cell_label(first_spec, first_spec.cells[0])}" in html
    assert_unchanged(report)

    response = confirm(client, report, html)
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Report, report.id)
    assert saved.status == "draft"
    saved_raw = report_service.raw_values(saved.current_version)
    assert {k: Decimal(v) for k, v in saved_raw.items()} == {k: Decimal(v) for k, v in raw.items()}
    assert all(v.valid for v in saved.current_version.values)
    assert saved.current_version.narrative_accomplishments == narratives["narrative_accomplishments"]
    assert not list(Path(app.config["INSTANCE_PATH"], "uploads").glob("*.xlsx"))


def test_preview_lists_old_and_new_values_and_warnings(app):
    user, report = grantee_report("YCCR")
    raw = numbers(report)
    report_service.save_draft(report, user, raw, {}, {}, None)
    db.session.commit()
    client = client_for(app, user)
    data = download(client, report)
    new_total = int(raw["TRN-01"]) * 10 + 50
    filled = fill(data, report, {"TRN-01": new_total})
    html = upload(client, report, filled).get_data(as_text=True)
    assert f"<td>{raw['TRN-01']}</td>" in html and f"<td>{new_total}</td>" in html
    assert "1 change from the workbook" in html


def test_errors_are_reported_per_cell_and_nothing_can_be_confirmed(app):
    user, report = grantee_report("YCCR")
    client = client_for(app, user)
    raw = numbers(report)
    bad = as_cell_values(raw) | {"CLI-01": 12.5, "CLI-01.age.minor": int(raw["CLI-01.age.minor"]) + 1}
    html = upload(client, report, fill(download(client, report), report, bad)).get_data(as_text=True)
    plan = plan_of(report)
    assert f"Sheet &#39;Clients&#39;, {plan.cells['CLI-01'].address}: must be a whole number" in html
    assert "Save these changes" not in html and 'name="token"' not in html
    assert_unchanged(report)


def test_breakdown_errors_point_at_the_check_line(app):
    user, report = grantee_report("YCCR")
    client = client_for(app, user)
    raw = as_cell_values(numbers(report))
    raw["CLI-01.age.minor"] += 1
    html = upload(client, report, fill(download(client, report), report, raw)).get_data(as_text=True)
    check = plan_of(report).checks["CLI-01.age"]
    assert f"Sheet &#39;Clients&#39;, {check.address}: the age breakdown adds up to" in html


def test_confirm_refuses_when_the_report_changed_after_the_preview(app):
    user, report = grantee_report("YCCR")
    version, _ = report_service.save_draft(report, user, numbers(report), {}, {}, None)
    db.session.commit()
    client = client_for(app, user)
    filled = fill(download(client, report), report, {"TRN-01": 3})
    html = upload(client, report, filled).get_data(as_text=True)
    report = db.session.get(Report, report.id)
    report_service.save_draft(report, user, numbers(report, seed=9), {}, {}, report.current_version.lock_version)
    db.session.commit()
    changed = report_service.raw_values(report.current_version)
    response = confirm(client, report, html)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reports/{report.id}/upload")
    db.session.expire_all()
    assert report_service.raw_values(db.session.get(Report, report.id).current_version) == changed


# ---- refusals ---------------------------------------------------------------------------------

def _refused(client, report, data: bytes, message: str, filename: str = "report.xlsx") -> None:
    response = upload(client, report, data, filename)
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:1000]
    assert message in html, html[html.find("usa-alert"):][:800]
    assert "Nothing in the report was changed" in html
    assert_unchanged(report)


def test_a_workbook_for_another_report_is_refused(app):
    user, report = grantee_report("YCCR")
    other = db.session.scalars(select(Report).where(Report.grant_id == report.grant_id, Report.id != report.id)).first()
    client = client_for(app, user)
    _refused(client, other, download(client, report), "for a different report")


def test_a_workbook_for_another_version_is_refused(app):
    user, report = grantee_report("YCCR")
    client = client_for(app, user)
    data = download(client, report)
    report_service.save_draft(report, user, {"CLI-01": "4"}, {}, {}, None)
    db.session.commit()
    response = upload(client, report, data)
    assert response.status_code == 400 and "downloaded for version 1" in response.get_data(as_text=True)


def _edit_meta(data: bytes, row: int, value: str) -> bytes:
    wb = load_workbook(io.BytesIO(data))
    wb[META_SHEET].cell(row=row, column=2, value=value)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_forged_identifiers_are_refused(app):
    user, report = grantee_report("YCCR")
    other_user, other_report = grantee_report("YCCR")
    client = client_for(app, user)
    data = download(client, report)
    _refused(client, report, _edit_meta(data, 4, str(other_report.grant.organization_id)), "identifiers were changed")
    other_data = download(client_for(app, other_user), other_report)
    _refused(client, report, _edit_meta(other_data, 2, str(report.id)), "identifiers were changed")
    _refused(client, report, other_data, "for a different report")


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def _with_entry(data: bytes, name: str, content: bytes, types: bytes | None = None) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    entries = {info.filename: source.read(info) for info in source.infolist()}
    entries[name] = content
    if types is not None:
        entries["[Content_Types].xml"] = types
    return _zip(entries)


def test_malformed_and_dangerous_files_are_refused_before_parsing(app):
    user, report = grantee_report("YCCR")
    client = client_for(app, user)
    good = download(client, report)
    _refused(client, report, b"just some text, not a workbook", "not an Excel workbook")
    _refused(client, report, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2000, "password-protected (encrypted)")
    _refused(client, report, _zip({"readme.txt": b"hello"}), "not an Excel workbook")
    _refused(client, report, good[: len(good) // 2], "not an Excel workbook")
    _refused(client, report, _with_entry(good, "xl/vbaProject.bin", b"\0" * 100), "contains macros")
    types = zipfile.ZipFile(io.BytesIO(good)).read("[Content_Types].xml").replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
    _refused(client, report, _with_entry(good, "docProps/extra.xml", b"<x/>", types), "contains macros")
    _refused(client, report, good, "Macro-enabled", filename="report.xlsm")
    bomb = _with_entry(good, "xl/media/padding.bin", b"\0" * (30 * 1024 * 1024))
    assert len(bomb) < app.config["UPLOAD_MAX_BYTES"]
    _refused(client, report, bomb, "far larger once unpacked")
    many = _zip({**{f"xl/part{i}.xml": b"<a/>" for i in range(300)}, "[Content_Types].xml": b"<Types/>"})
    _refused(client, report, many, "too many parts")
    _refused(client, report, good + b"\0" * app.config["UPLOAD_MAX_BYTES"], "larger than 2 MB")


def test_cell_limits_are_enforced(app):
    user, report = grantee_report("YCCR")
    client = client_for(app, user)
    wb = load_workbook(io.BytesIO(download(client, report)))
    wb["Clients"].cell(row=5000, column=3, value=1)
    out = io.BytesIO()
    wb.save(out)
    _refused(client, report, out.getvalue(), "beyond row 1,000")


def test_a_workbook_without_identifiers_is_refused(app):
    from openpyxl import Workbook

    user, report = grantee_report("YCCR")
    client = client_for(app, user)
    wb = Workbook()
    wb.active.title = "Clients"
    out = io.BytesIO()
    wb.save(out)
    _refused(client, report, out.getvalue(), "identifiers are missing")


def test_a_submitted_report_cannot_be_changed_by_upload(app):
    user, report = grantee_report("YCCR")
    client = client_for(app, user)
    data = download(client, report)
    report.status = "submitted"
    db.session.commit()
    response = upload(client, report, data)
    assert response.status_code == 400 and "cannot be changed by uploading" in response.get_data(as_text=True)
