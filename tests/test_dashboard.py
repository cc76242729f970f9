"""Leadership's dashboard: who may see it, the figures and filters, charts with tables, the
drill-down behind a community's row, and the download of exactly what the filters show."""
from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest

from grants.extensions import db
from grants.formatting import fmt_number
from grants.models import Community, Report
from grants.services import reports as report_service
from reporting.rollup import RollupParams, build_rollup, default_fiscal_year, published_cells
from tests.test_rollup import independent, independent_percent, trend_report_counts


def _figure(html: str, name: str) -> str:
    match = re.search(rf'data-figure="{re.escape(name)}">([^<]*)<', html)
    assert match, name
    return match.group(1).strip()


def test_leadership_lands_on_the_dashboard_with_the_headline_figures(signed_in):
    client = signed_in("leader@demo.test")
    assert client.get("/").headers["Location"].endswith("/dashboard")
    response = client.get("/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rollup = build_rollup(RollupParams(fiscal_year=default_fiscal_year()))
    assert html.count("<h1") == 1
    assert _figure(html, "grants") == f"{rollup.total.grants:,}"
    assert _figure(html, "expected") == f"{rollup.total.expected:,}"
    assert _figure(html, "completeness") == f"{rollup.total.completeness * 100:.1f}%"
    assert _figure(html, "CLI-01") == f"{rollup.total.value('CLI-01'):,.0f}"
    assert 'href="/dashboard"' in html and ">Dashboard<" in html  # navigation entry


def test_program_officers_see_it_and_grantees_and_admins_do_not(signed_in):
    assert signed_in("officer@demo.test").get("/dashboard").status_code == 200
    for email in ("grantee@demo.test", "admin@demo.test"):
        client = signed_in(email)
        assert client.get("/dashboard").status_code == 403
        assert client.get("/dashboard/export.xlsx").status_code == 403
        assert client.get("/dashboard/communities/1").status_code == 403


def test_every_chart_has_its_data_and_a_table_of_its_numbers(signed_in):
    html = signed_in("leader@demo.test").get("/dashboard").get_data(as_text=True)
    charts = re.findall(r'<canvas data-chart="([^"]+)"', html)
    assert len(charts) == 4
    for chart in charts:
        spec = json.loads(re.search(rf'<script type="application/json" id="{chart}">(.*?)</script>', html, re.S).group(1))
        assert spec["type"] in ("bar", "line") and spec["labels"] and spec["datasets"]
    for table in ("The charts' numbers by program", "Trend over periods", "Figures by community"):
        assert f"<caption>{table}" in html
    assert "<script>" not in html  # the CSP forbids inline code


def test_filters_narrow_the_figures_and_bad_values_are_ignored(signed_in):
    client = signed_in("leader@demo.test")
    fy = default_fiscal_year()
    html = client.get(f"/dashboard?fy={fy}&state=OH&program=NOPE").get_data(as_text=True)
    ohio = build_rollup(RollupParams(fiscal_year=fy, state="OH"))
    assert _figure(html, "expected") == f"{ohio.total.expected:,}"
    assert "Not a valid choice" in html
    rows = re.findall(r'data-table="communities".*?</table>', html, re.S)[0]
    assert ", OH<" in rows and ", TX<" not in rows
    assert "1-10" in html or "Suppressed" in html or ohio.suppressor.marks == {}


def test_download_is_the_workbook_of_exactly_these_filters(signed_in):
    fy = default_fiscal_year()
    html = signed_in("leader@demo.test").get(f"/dashboard?fy={fy}&state=OH").get_data(as_text=True)
    link = re.search(r'href="([^"]*/dashboard/export\.xlsx[^"]*)"', html).group(1).replace("&amp;", "&")
    assert "state=OH" in link and f"fy={fy}" in link
    response = signed_in("leader@demo.test").get(link)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"] and ".xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    states = [r[0] for r in book["By state"].iter_rows(min_row=3, values_only=True) if r[0]]
    assert states == ["OH", "All states"]
    rollup = build_rollup(RollupParams(fiscal_year=fy, state="OH"), detail=True)
    summary = {r[0]: r for r in book["Summary by program"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert summary["All programs"][3] == rollup.total.expected


def test_drill_down_lists_the_reports_behind_a_community_with_links(signed_in):
    fy = default_fiscal_year()
    community = db.session.query(Community).filter_by(name="Franklin County, OH").one()
    html = signed_in("leader@demo.test").get(f"/dashboard/communities/{community.id}?fy={fy}").get_data(as_text=True)
    ids = {int(i) for i in re.findall(r'href="/reports/(\d+)"', html)}
    reports = {r.id for r in db.session.query(Report).filter_by(fiscal_year=fy)
               if r.grant.community_id == community.id}
    assert ids == reports and ids
    assert "<h1>Franklin County, OH</h1>" in html


def test_the_drill_down_shows_a_communitys_row_exactly_as_the_dashboard_publishes_it(signed_in):
    """A figure hidden on the dashboard (to protect another community) stays hidden one click on."""
    fy = default_fiscal_year()
    rollup = build_rollup(RollupParams(fiscal_year=fy), codes=("CLI-01", "CLI-02"), totals_only=True)
    client = signed_in("leader@demo.test")
    checked = 0
    for cid, agg in rollup.communities.items():
        published = [rollup.shown(("community", cid, code), agg.value(code)) for code in ("CLI-01", "CLI-02")]
        if not any(isinstance(p, str) for p in published):
            continue
        html = client.get(f"/dashboard/communities/{cid}?fy={fy}").get_data(as_text=True)
        row = html.split("This community's row", 1)[1].split("</table>", 1)[0]
        cells = re.findall(r'<td class="app-num">(.*?)</td>', row)[-2:]
        assert [re.sub(r"<[^>]+>", "", c) for c in cells] == [p if isinstance(p, str) else f"{int(p):,}" for p in published]
        checked += 1
    assert checked  # the demo data has hidden community figures


def test_an_officer_drill_down_shows_only_reports_of_their_programs(signed_in):
    fy = default_fiscal_year()
    client = signed_in("officer@demo.test")
    for community in db.session.query(Community):
        html = client.get(f"/dashboard/communities/{community.id}?fy={fy}").get_data(as_text=True)
        for report_id in re.findall(r'href="/reports/(\d+)"', html):
            report = db.session.get(Report, int(report_id))
            assert report.grant.program.code in ("YCCR", "DVHT")
            assert client.get(f"/reports/{report_id}").status_code == 200
    assert client.get("/dashboard/communities/999999").status_code == 404


def test_community_names_are_escaped(signed_in):
    community = db.session.query(Community).filter_by(name="Franklin County, OH").one()
    community.name = "<script>alert(1)</script> County"
    db.session.commit()
    html = signed_in("leader@demo.test").get("/dashboard").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; County" in html


def test_regions_and_states_add_up_their_rows_as_published(signed_in):
    """Each region's row is the sum of its states' rows and each state's of its communities'; the
    tables publish the figures the suppression decided (the same for every publication)."""
    from grants.blueprints.rollups import DASHBOARD_MEASURES, rollup_figure

    html = signed_in("leader@demo.test").get("/dashboard").get_data(as_text=True)
    rollup = build_rollup(RollupParams(fiscal_year=default_fiscal_year()), codes=DASHBOARD_MEASURES, totals_only=True)
    assert "<caption>Figures by HHS region" in html and "<caption>Figures by state" in html
    regions = re.search(r'data-table="regions">(.*?)</table>', html, re.S).group(1)
    rows = re.findall(r'<th scope="row">\s*<span class="text-no-wrap">Region (\d+)</span><br><span class="usa-hint">([^<]*)'
                      r'</span></th>(.*?)</tr>', regions, re.S)
    assert [int(r[0]) for r in rows] == list(rollup.regions) and len(rows) > 1
    for region, states, cells in rows:
        agg = rollup.regions[int(region)]
        grants, expected, _, _, clients, *_ = re.findall(r'<td class="app-num">(.*?)</td>', cells)
        assert states.split(", ") == rollup.region_states()[int(region)]
        assert grants == f"{agg.grants:,}" and expected == f"{agg.expected:,}"
        assert agg.expected == sum(rollup.states[s].expected for s in states.split(", "))
        shown = rollup.shown(("region", int(region), "CLI-01"), agg.value("CLI-01"))
        assert clients.strip() == str(rollup_figure(shown))
    states_table = re.search(r'data-table="states">(.*?)</table>', html, re.S).group(1)
    assert all(f'aria-label="{s}: its communities"' in states_table for s in rollup.states)


def test_the_clients_trend_marks_periods_whose_reports_are_not_all_in_the_figures(signed_in):
    """A period with reports still to come into the figures (not due, not submitted or not yet
    accepted) is flagged for a dashed line, and its label says how many of its reports are in;
    counted independently here from the reports themselves."""
    html = signed_in("leader@demo.test").get("/dashboard").get_data(as_text=True)
    spec = json.loads(re.search(r'<script type="application/json" id="chart-trend-clients">(.*?)</script>', html,
                                re.S).group(1))
    counts = trend_report_counts(default_fiscal_year())
    assert len(spec["labels"]) == len(counts) == len(spec["incomplete"])
    for ((year, half), (counted, uncounted)), label, incomplete in zip(counts.items(), spec["labels"],
                                                                      spec["incomplete"]):
        assert incomplete == (uncounted > 0)
        if incomplete:
            assert label == [f"FY{year} {half}", f"{counted:,} of {counted + uncounted:,} in"]
        else:
            assert label == f"FY{year} {half}"
    assert True in spec["incomplete"] and False in spec["incomplete"]  # the demo has both
    table = re.search(r"<caption>Trend over periods.*?</table>", html, re.S).group(0)
    assert re.findall(r"<td class=\"app-num\" data-uncounted>([^<]*)</td>", table) == [
        f"{uncounted:,}" for _, uncounted in counts.values()]
    assert 'data-note="incomplete-periods"' in html


def _excuse_one_report(fiscal_year: int) -> None:
    """An officer excuses a report of the year still to come in (not started or a draft, in
    Ohio), so counts that must leave excused reports out can be told from counts that do not."""
    report = next(r for r in db.session.query(Report).filter(
        Report.fiscal_year == fiscal_year, Report.status.in_(("not_started", "draft"))).order_by(Report.id)
        if r.grant.community.state == "OH")
    report_service.excuse_report(report, report.grant.officer, "Award suspended.")
    db.session.commit()


def _measure_rows(html: str) -> dict[str, list[str]]:
    """The measures page's table: cell key -> its figures as shown (each program's, then all programs')."""
    table = re.search(r'data-table="measures".*?</table>', html, re.S).group(0)
    return {key: [re.sub(r"<[^>]+>", "", td).strip() for td in re.findall(r'<td class="app-num">(.*?)</td>', body, re.S)]
            for key, body in re.findall(r'<tr[^>]*data-cell="([^"]+)">(.*?)</tr>', table, re.S)}


def _expected_text(spec, raw: dict, key: str) -> str:
    """A figure from the independent totals, written as the page writes it."""
    if spec.value_type == "percent":
        if key not in raw["pct"]:
            return "—"
        return f"{independent_percent(raw['pct'][key])[0]:.1f}%"
    return fmt_number(raw["values"].get(key), spec.value_type)


@pytest.mark.parametrize("by", ["program", "region", "state"])
def test_every_measure_table_matches_totals_computed_from_raw_values(signed_in, by):
    """Every cell of every measure, per program (with breakdowns), HHS region or state and for them
    all, against sums taken from the raw values; a figure the workbook hides is hidden here too
    (a region, a state, and with a state filter a program, are less than a whole program, so their
    people counts are suppressed)."""
    fy = default_fiscal_year()
    _excuse_one_report(fy)
    client = signed_in("leader@demo.test")
    hidden_in = {}  # Ohio alone? -> how many figures the page hides
    for query, params in ((f"fy={fy}", RollupParams(fiscal_year=fy)),
                          (f"fy={fy}&state=OH", RollupParams(fiscal_year=fy, state="OH"))):
        html = client.get(f"/dashboard/measures?{query}&columns={by}").get_data(as_text=True)
        rows = _measure_rows(html)
        expected = independent(params)
        workbook = build_rollup(params, detail=True)
        keys = list(workbook.columns(by))
        assert re.findall(r'data-column="([^"]+)"', html) == [str(k) for k in keys] and keys
        levels = [(by, key) for key in keys] + [("total",)]
        hidden = 0
        for spec in workbook.measures:
            for cell in published_cells(spec, breakdowns=by == "program"):
                texts = rows.pop(cell.key)
                assert len(texts) == len(levels)
                for level, text in zip(levels, texts):
                    raw = expected[level]
                    label = workbook.shown((*level, cell.key), raw["values"].get(cell.key))
                    if isinstance(label, str):
                        assert text == label
                        hidden += 1
                    else:
                        assert text == _expected_text(spec, raw, cell.key), (level, cell.key)
        assert rows == {}  # no other row
        assert ("SRV-01.service.housing" in html) == (by == "program") and "TRN-02" in html and "CLI-05" in html
        hidden_in[bool(params.state)] = hidden
        # reports in the figures, and those not excused that are not in them yet, per column
        counted = [expected[level]["counted"] for level in levels]
        uncounted = [expected[level]["countable"] - expected[level]["counted"] for level in levels]
        assert uncounted[-1] > 0  # the demo's latest half-year is still under review
        for name, figures in (("counted", counted), ("uncounted", uncounted)):
            row = re.search(rf'<tr data-count="{name}">(.*?)</tr>', html, re.S).group(1)
            assert re.findall(r'<td class="app-num">(.*?)</td>', row) == [f"{n:,}" for n in figures]
    if by == "program":  # whole programs publish every figure; Ohio's programs are less than that
        assert hidden_in[False] == 0 and hidden_in[True] > 0
    else:  # the demo has regions and states with few clients
        assert hidden_in[False] > 0


def test_a_column_choice_that_is_not_one_is_said_and_the_table_is_by_program(signed_in):
    html = signed_in("leader@demo.test").get("/dashboard/measures?columns=grant").get_data(as_text=True)
    assert "Not a valid choice" in html
    assert "<h1>Every measure by program</h1>" in html and 'data-column="YCCR"' in html


def test_the_dashboard_links_to_every_measure_with_its_filters(signed_in):
    fy = default_fiscal_year()
    html = signed_in("leader@demo.test").get(f"/dashboard?fy={fy}&program=YCCR").get_data(as_text=True)
    link = re.search(r'href="([^"]*/dashboard/measures[^"]*)"', html).group(1).replace("&amp;", "&")
    assert f"fy={fy}" in link and "program=YCCR" in link
    page = signed_in("officer@demo.test").get(link).get_data(as_text=True)
    assert "<h1>Every measure by program</h1>" in page
    assert re.findall(r'data-column="([^"]+)"', page) == ["YCCR"]
    assert "CCR-03" in page and "EDU-01" not in page  # YCCR's measures only


def test_the_headline_says_how_many_reports_its_figures_count_and_how_many_are_still_to_come(signed_in):
    """Counted apart from the reports; an excused report is in neither count."""
    fy = default_fiscal_year()
    _excuse_one_report(fy)
    html = signed_in("leader@demo.test").get(f"/dashboard?fy={fy}").get_data(as_text=True)
    total = independent(RollupParams(fiscal_year=fy))[("total",)]
    counted, countable = total["counted"], total["countable"]
    assert 0 < counted < countable  # the demo's latest half-year is still under review
    note = re.search(r'data-note="headline-uncounted">(.*?)</p>', html, re.S).group(1)
    assert re.sub(r"\s+", " ", note).startswith(
        f"{counted:,} of {countable:,} reports (excused ones aside) are in these figures; "
        f"the other {countable - counted:,} are not yet due")
    html = signed_in("leader@demo.test").get(f"/dashboard?fy={fy - 2}").get_data(as_text=True)
    assert 'data-note="headline-uncounted"' not in html  # a closed year has every report in
