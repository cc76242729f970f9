"""The roll-up workbook: the dashboard's numbers, typed cells, text that stays text, Excel's limits."""
from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
import zipfile

import openpyxl
import pytest

from grants.extensions import db
from grants.models import Organization
from reporting import workbooks
from reporting.rollup import RollupParams, build_rollup, default_fiscal_year, detail_count
from reporting.workbooks import writer
from tests.factories import CommunityFactory, OrganizationFactory
from tests.test_rollup import TODAY, file_report, grant_with_reports, trend_report_counts

SHEETS = ["About", "Summary by program", "By HHS region", "By state", "By community", "Timeliness", "Detail"]
HOSTILE = ["=HYPERLINK(\"http://x.test\",\"click\")", "+1+2", "-3-4", "@SUM(A1)", "\tTabbed", "\rReturned"]


def _unescape(text: str) -> str:
    """OOXML stores a control character such as CR as _x000D_; Excel decodes it, openpyxl does not."""
    return re.sub(r"_x([0-9A-F]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _export(tmp_path, params) -> openpyxl.Workbook:
    out = tmp_path / "rollup.xlsx"
    workbooks.build("rollup", params, str(out))
    return openpyxl.load_workbook(out)


def _rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def test_workbook_has_the_dashboards_numbers(demo, tmp_path):
    params = RollupParams(fiscal_year=default_fiscal_year())
    book = _export(tmp_path, params)
    rollup = build_rollup(params, detail=True)
    assert book.sheetnames == SHEETS
    summary = _rows(book["Summary by program"])
    by_code = {r[0]: r for r in summary[2:2 + len(rollup.programs)]}
    for code, agg in rollup.programs.items():
        assert by_code[code][2:6] == [agg.grants, agg.expected, agg.submitted, agg.on_time]
        assert by_code[code][6] == pytest.approx(agg.completeness)
    measures = {r[0]: r for r in summary if r and isinstance(r[0], str) and r[0][:3] in ("CLI", "PRT", "FIN")}
    assert measures["CLI-01"][-2] == rollup.total.value("CLI-01")
    assert measures["PRT-01"][-2] == rollup.total.value("PRT-01")
    communities = _rows(book["By community"])
    header = communities[1]
    clients = header.index("CLI-01 Clients served in the period")
    names = {r[0]: r for r in communities[2:-1]}
    for cid, agg in rollup.communities.items():
        row = names[rollup.community_info[cid].name]
        assert row[4] == agg.grants
        assert row[clients] == rollup.shown(("community", cid, "CLI-01"), agg.value("CLI-01"))
    assert "1-10" in {r[clients] for r in communities[2:-1]}
    detail = _rows(book["Detail"])
    assert len(detail) - 1 == detail_count(params) == rollup.total.reports
    assert book["Detail"].freeze_panes == "B2"
    assert book["Detail"].auto_filter.ref.startswith("A1:")
    for sheet, row in (("Detail", 1), ("By community", 2)):  # headings wrap in full: the row is tall enough
        ws = book[sheet]
        lines = max(len(textwrap.wrap(str(c.value), int(ws.column_dimensions[c.column_letter].width * 0.9)))
                    for c in ws[row] if c.value)
        assert lines > 3 and ws.row_dimensions[row].height >= 15 * lines
    for sheet in ("Summary by program", "Timeliness"):  # charts start a printed page: none is cut in two
        ws = book[sheet]
        first_chart_row = min(chart.anchor._from.row for chart in ws._charts)
        assert [b.id for b in ws.row_breaks.brk] == [first_chart_row]


def test_the_trend_says_how_many_reports_are_not_in_the_figures_yet(demo, tmp_path):
    """Timeliness' trend rows: reports in the figures and not in them yet (not excused), counted
    apart here from the reports themselves; About defines the column."""
    fy = default_fiscal_year()
    book = _export(tmp_path, RollupParams(fiscal_year=fy))
    rows = _rows(book["Timeliness"])
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "Period")
    header = rows[header_at]
    counted_col, uncounted_col = header.index("Reports in the figures"), header.index("Not in the figures yet")
    trend = {r[0]: r for r in rows[header_at + 1:] if r and r[0]}
    counts = trend_report_counts(fy)
    assert set(trend) == {f"FY{y} {h}" for y, h in counts}
    for (year, half), (counted, uncounted) in counts.items():
        row = trend[f"FY{year} {half}"]
        assert row[counted_col] == counted
        assert row[uncounted_col] == uncounted
    assert any(r[uncounted_col] for r in trend.values())
    assert "Not in the figures yet" in {r[0] for r in _rows(book["About"]) if r}


def test_printed_pages_say_where_they_come_from_and_cut_no_text(demo, tmp_path):
    params = RollupParams(fiscal_year=default_fiscal_year())
    book = _export(tmp_path, params)
    for name in SHEETS:  # each page: what the workbook is, its sheet, its page number, when it was made
        ws = book[name]
        assert ws.oddHeader.left.text.startswith(f"Performance roll-up: FY{params.fiscal_year}, Whole fiscal year")
        assert ws.oddHeader.right.text == "&B&A" and ws.oddFooter.right.text == "Page &P of &N"
        assert re.fullmatch(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d Eastern", ws.oddFooter.left.text)
    for name, label in (("By HHS region", "All regions"), ("By state", "All states")):
        assert book[name].column_dimensions["A"].width >= len(label) + 1  # the bold "all" row is not cut
    for name in ("Summary by program", "About"):  # the tables of measures, with how each is combined
        ws = book[name]
        measures = [r for r in ws.iter_rows(min_row=1) if isinstance(r[0].value, str) and "-" in r[0].value
                    and r[-1].value]
        assert ws.column_dimensions["A"].width > max(len(r[0].value) for r in measures)
        how = [r for r in measures if len(r[-1].value) > ws.column_dimensions[r[-1].column_letter].width]
        assert how  # the weighted means' explanations are longer than their column: they wrap, in tall rows
        for r in how:
            assert r[-1].alignment.wrap_text
            width = ws.column_dimensions[r[-1].column_letter].width
            assert ws.row_dimensions[r[0].row].height >= 15 * len(textwrap.wrap(r[-1].value, int(width)))
    detail = book["Detail"]  # its frozen heading row stays short: a breakdown's heading names its category
    assert "CLI-01 Age: Minor (under 18)" in [c.value for c in detail[1]]
    assert detail.row_dimensions[1].height <= 8 * 15 + 4
    community = book["By community"]
    region = [c.column_letter for c in community[2] if c.value == "HHS region"][0]
    assert {community[f"{region}{r}"].alignment.horizontal for r in range(3, 6)} == {"center"}


def test_numbers_are_numbers_and_text_is_text(demo, tmp_path):
    book = _export(tmp_path, RollupParams(fiscal_year=default_fiscal_year(), program="YCCR"))
    detail = book["Detail"]
    header = [c.value for c in detail[1]]
    col = header.index("CLI-01 Clients served in the period") + 1
    kinds = {detail.cell(row=r, column=col).data_type for r in range(2, detail.max_row + 1)
             if detail.cell(row=r, column=col).value is not None}
    assert kinds == {"n", "s"}  # counts, and "1-10" / "Suppressed" labels written as text
    assert detail.cell(row=2, column=1).data_type == "s"
    numbers = [detail.cell(row=r, column=col) for r in range(2, detail.max_row + 1)
               if detail.cell(row=r, column=col).data_type == "n" and detail.cell(row=r, column=col).value is not None]
    assert numbers and {c.number_format for c in numbers} == {"#,##0"}
    dates = [detail.cell(row=r, column=11).value for r in range(2, detail.max_row + 1)]
    assert all(hasattr(d, "year") for d in dates)
    year = detail.cell(row=2, column=header.index("Fiscal year") + 1)
    assert year.data_type == "n" and year.number_format == "0"  # 2026, not 2,026


def test_formula_like_names_come_back_as_text_with_the_quote_prefix(app, tmp_path):
    for i, name in enumerate(HOSTILE):
        org = OrganizationFactory(legal_name=name)
        community = CommunityFactory(name=f"{name} {i}", state="OH")
        _, (report, *_) = grant_with_reports(community=community, organization=org)
        file_report(report, {"CLI-01": 50})
    db.session.commit()
    out = tmp_path / "hostile.xlsx"
    workbooks.build("rollup", RollupParams(fiscal_year=2026, today=TODAY), str(out))
    with zipfile.ZipFile(out) as z:
        sheets = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert b"<f>" not in sheets  # not a single formula anywhere
    book = openpyxl.load_workbook(out)
    detail = book["Detail"]
    orgs = {_unescape(detail.cell(row=r, column=3).value): detail.cell(row=r, column=3)
            for r in range(2, detail.max_row + 1)}
    stored = {o.legal_name for o in db.session.query(Organization)}
    for name in stored:
        cell = orgs.get(name) or pytest.fail(f"{name!r} not found in {sorted(orgs)!r}")
        assert cell.data_type == "s" and _unescape(cell.value) == name
        assert cell.quotePrefix
    communities = [_unescape(r[0]) for r in _rows(book["By community"])[2:-1]]
    assert sorted(communities) == sorted(f"{name} {i}" for i, name in enumerate(HOSTILE))


XML_LIKE = ["<r>Hope & Home</r>", "<r><t>Shown</t></r><r><t>instead</t></r>", "<b>Safe</b> & \"sound\" <r>"]


def test_text_that_looks_like_xml_comes_back_as_itself(app, tmp_path):
    # xlsxwriter writes a constant-memory string that starts with <r> and ends with </r> as raw
    # XML: unguarded, the first name would make the file unreadable and the second would show
    # other text than was typed
    for i, name in enumerate(XML_LIKE):
        org = OrganizationFactory(legal_name=name)
        community = CommunityFactory(name=name, state="OH")
        _, (report, *_) = grant_with_reports(community=community, organization=org)
        file_report(report, {"CLI-01": 40 + i})
    db.session.commit()
    book = _export(tmp_path, RollupParams(fiscal_year=2026, today=TODAY))
    detail = _rows(book["Detail"])
    header = detail[0]
    assert {r[header.index("Organization")] for r in detail[1:]} == set(XML_LIKE)  # Sheet.rows
    assert {r[header.index("Community")] for r in detail[1:]} == set(XML_LIKE)
    assert sorted(r[0] for r in _rows(book["By community"])[2:-1]) == sorted(XML_LIKE)  # Sheet.row


def test_a_sheet_too_big_for_excel_is_refused_not_cut(demo, tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "MAX_ROWS", 50)
    out = tmp_path / "big.xlsx"
    with pytest.raises(workbooks.WorkbookTooLarge, match="Detail sheet would need .* rows"):
        workbooks.build("rollup", RollupParams(fiscal_year=default_fiscal_year()), str(out))
    monkeypatch.setattr(writer, "MAX_COLS", 20)
    with pytest.raises(workbooks.WorkbookTooLarge, match="columns"):
        writer.Sheet.reserve("Detail", 10, 21)


def test_unknown_workbook_names_are_refused(app, tmp_path):
    with pytest.raises(KeyError, match="rollup"):
        workbooks.build("nope", {}, str(tmp_path / "x.xlsx"))


def test_cli_export_writes_the_workbook(demo, tmp_path):
    out = tmp_path / "cli.xlsx"
    result = demo.test_cli_runner().invoke(args=["reports", "export", "rollup", "--out", str(out),
                                                 "--fy", str(default_fiscal_year()), "--program", "dvht"])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out, read_only=True)
    assert [r[0] for r in book["Summary by program"].iter_rows(min_row=3, max_row=3, values_only=True)] == ["DVHT"]
    about = {r[0]: r[1] for r in book["About"].iter_rows(values_only=True) if r and r[0]}
    assert about["Program"] == "DVHT" and about["Fiscal year"] == f"FY{default_fiscal_year()}"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_workbook_and_prints_it(demo, tmp_path):
    workbooks.build("rollup", RollupParams(fiscal_year=default_fiscal_year(), program="HTYPE"), str(tmp_path / "r.xlsx"))
    run = subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to",
                          "pdf", "--outdir", str(tmp_path), str(tmp_path / "r.xlsx")],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") + pdf.count(b"/Type/Page") >= 6


def test_an_ampersand_in_a_running_head_is_printed_not_read_as_a_code(tmp_path):
    book = writer.Book(str(tmp_path / "amp.xlsx"), running_head="Youth & Families &P", running_foot="x" * 300)
    sheet = book.sheet("Data")
    sheet.row(["a"])
    sheet.finish(header_row=None, widths=(10,))
    book.close()
    ws = openpyxl.load_workbook(tmp_path / "amp.xlsx")["Data"]
    assert ws.oddHeader.left.text == "Youth && Families &&P"  # Excel prints "Youth & Families &P"
    assert ws.oddFooter.left.text == "x" * writer.PAGE_TEXT_CHARS  # within Excel's 255 characters
