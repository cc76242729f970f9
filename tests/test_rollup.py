"""Roll-up figures, checked against totals computed independently in Python from the raw rows."""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, literal_column, select

from grants.extensions import db
from grants.measures import CATALOG, cell_key
from grants.models import (
    CELL_KEY_SQL,
    Community,
    Grant,
    MeasureDefinition,
    Program,
    Report,
    ReportValue,
    ReportVersion,
)
from grants.periods import is_late
from grants.services.reports import accept_report
from reporting.rollup import RollupParams, build_rollup, default_fiscal_year
from tests.factories import CommunityFactory, GrantFactory, UserFactory, open_reports, program

TODAY = date(2026, 12, 1)


def file_report(report: Report, values: dict[str, float], *, status: str = "accepted", number: int = 1,
                submitted_at: datetime | None = None, amendment: bool = False) -> ReportVersion:
    """A version of the report with these cell values, as the workflow would leave it."""
    submitted_at = submitted_at or datetime(report.due_date.year, report.due_date.month, 1, 15, tzinfo=UTC)
    version = ReportVersion(report=report, number=number, status=status, is_amendment=amendment,
                            submitted_at=None if status == "draft" else submitted_at)
    db.session.add(version)
    for key, value in values.items():
        parts = key.split(".")
        m, d, c = (parts[0], "", "") if len(parts) == 1 else parts
        version.values.append(ReportValue(measure_code=m, dimension=d, category=c, raw=str(value), value=value))
    db.session.flush()
    report.current_version = version
    if status != "draft":
        report.first_submitted_at = report.first_submitted_at or submitted_at
        report.last_submitted_at = submitted_at
    if status == "accepted":
        report.official_version = version
    report.status = {"withdrawn": "draft"}.get(status, status)
    db.session.flush()
    return version


def grant_with_reports(code: str = "YCCR", state: str = "OH", community=None, **kwargs) -> tuple[Grant, list[Report]]:
    community = community or CommunityFactory(state=state)
    grant = GrantFactory(program=program(code), community=community, start_date=date(2025, 10, 1),
                         end_date=date(2028, 9, 30), **kwargs)
    return grant, open_reports(grant, until=date(2026, 9, 30))


# --- the independent computation -----------------------------------------------------------------

def trend_report_counts(fiscal_year: int) -> dict[tuple[int, str], tuple[int, int]]:
    """(fiscal year, half) of the trend's years -> (reports counted, reports not excused and not
    counted), from the reports themselves: a report counts once it has an official version."""
    from reporting.rollup import TREND_YEARS

    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for report in db.session.scalars(select(Report).where(
            Report.fiscal_year.between(fiscal_year - TREND_YEARS + 1, fiscal_year), Report.status != "excused")):
        counts[(report.fiscal_year, report.half)][report.official_version_id is None] += 1
    return {period: (c[0], c[1]) for period, c in sorted(counts.items())}


def independent(params: RollupParams) -> dict:
    """Figures from every raw row, with plain Python: per level key, counts and cell sums."""
    today = params.on
    measures = {m.code: m for m in db.session.scalars(select(MeasureDefinition))}
    grants = {g.id: g for g in db.session.scalars(select(Grant))}
    communities = {c.id: c for c in db.session.scalars(select(Community))}
    programs = {p.id: p.code for p in db.session.scalars(select(Program))}
    versions = defaultdict(list)
    for v in db.session.scalars(select(ReportVersion)):
        versions[v.report_id].append(v)
    values = defaultdict(dict)
    for rv in db.session.scalars(select(ReportValue)):
        if rv.valid and rv.value is not None:
            values[rv.version_id][f"{rv.measure_code}.{rv.dimension}.{rv.category}" if rv.dimension else rv.measure_code] = float(rv.value)

    def in_scope(r: Report) -> bool:
        g = grants[r.grant_id]
        c = communities[g.community_id]
        return ((not params.fiscal_year or r.fiscal_year == params.fiscal_year) and (not params.half or r.half == params.half)
                and (not params.program or programs[g.program_id] == params.program)
                and (not params.state or c.state == params.state) and (not params.region or c.hhs_region == params.region))

    def counted(r: Report):
        if r.status == "excused":
            return None
        if not params.include_submitted:
            return r.official_version_id
        live = [v for v in versions[r.id] if v.status in ("submitted", "accepted")]
        return max(live, key=lambda v: v.number).id if live else None

    out = defaultdict(lambda: {"grants": set(), "expected": 0, "submitted": 0, "on_time": 0, "counted": 0, "countable": 0,
                               "values": defaultdict(float),
                               "pct": defaultdict(lambda: [0.0, 0.0, 0.0, 0])})
    latest = {}  # (level, grant, measure) -> (period_start, cells)
    for r in db.session.scalars(select(Report)):
        if not in_scope(r):
            continue
        g = grants[r.grant_id]
        levels = [("total",), ("program", programs[g.program_id]), ("community", g.community_id),
                  ("state", communities[g.community_id].state), ("region", communities[g.community_id].hhs_region)]
        expected = r.effective_due_date < today and r.status != "excused"
        submitted = expected and r.first_submitted_at is not None
        on_time = submitted and not is_late(r.first_submitted_at, r.effective_due_date)
        vid = counted(r)
        cells = values.get(vid, {}) if vid else {}
        for level in levels:
            agg = out[level]
            agg["grants"].add(r.grant_id)
            agg["expected"] += expected
            agg["submitted"] += submitted
            agg["on_time"] += on_time
            agg["counted"] += vid is not None
            agg["countable"] += r.status != "excused"
            for key, value in cells.items():
                spec = measures[key.split(".")[0]]
                if spec.value_type == "percent":
                    acc = agg["pct"][key]
                    weight = cells.get({"CLI-05": "CLI-01", "EDU-04": "EDU-02"}.get(key, ""))
                    if weight is not None:
                        acc[0] += value * weight
                        acc[1] += weight
                    acc[2] += value
                    acc[3] += 1
                elif spec.point_in_time:
                    mine = {k: v for k, v in cells.items() if k.split(".")[0] == spec.code}
                    seen = latest.get((level, r.grant_id, spec.code))
                    if spec.code in cells and (seen is None or seen[0] < r.period_start):
                        latest[(level, r.grant_id, spec.code)] = (r.period_start, mine)
                else:
                    agg["values"][key] += value
    for (level, _, _), (_, cells) in latest.items():
        for key, value in cells.items():
            out[level]["values"][key] += value
    return out


def independent_percent(acc: list) -> tuple[float, str]:
    """A percent's mean from independent()'s [sum of percent x weight, sum of weights, sum of
    percents, reports]: weighted where any report gives the weight, else simple."""
    weighted, weights, total, n = acc
    return (weighted / weights, "weighted") if weights > 0 else (total / n, "simple")


def assert_same(agg, expected: dict) -> None:
    assert agg.grants == len(expected["grants"])
    assert (agg.expected, agg.submitted, agg.on_time) == (expected["expected"], expected["submitted"], expected["on_time"])
    assert agg.counted == expected["counted"]
    assert agg.values == pytest.approx(dict(expected["values"]))
    for code, acc in expected["pct"].items():
        mean, method = independent_percent(acc)
        assert agg.percent(code) == (pytest.approx(mean), method)


@pytest.mark.parametrize("include_submitted", [False, True])
def test_demo_rollup_matches_totals_computed_from_raw_values(demo, include_submitted):
    params = RollupParams(fiscal_year=default_fiscal_year(), include_submitted=include_submitted)
    rollup = build_rollup(params)
    expected = independent(params)
    assert rollup.total.expected > 0 and rollup.total.values["CLI-01"] > 0
    assert_same(rollup.total, expected[("total",)])
    for code, agg in rollup.programs.items():
        assert_same(agg, expected[("program", code)])
    for cid, agg in rollup.communities.items():
        totals = {k: v for k, v in expected[("community", cid)]["values"].items() if "." not in k}
        assert_same(agg, {**expected[("community", cid)], "values": totals})
    assert set(rollup.states) == {k[1] for k in expected if k[0] == "state"}
    assert set(rollup.regions) == {k[1] for k in expected if k[0] == "region"} and len(rollup.regions) > 1
    for region, agg in rollup.regions.items():
        totals = {k: v for k, v in expected[("region", region)]["values"].items() if "." not in k}
        assert_same(agg, {**expected[("region", region)], "values": totals})


def test_state_filter_matches_independent_totals(demo):
    params = RollupParams(fiscal_year=default_fiscal_year(), state="OH")
    rollup = build_rollup(params)
    assert set(rollup.states) == {"OH"}
    assert_same(rollup.total, independent(params)[("total",)])


def test_the_database_names_every_catalogue_cell_as_cell_key_does(app):
    """report_value.cell is written from grants.measures.cell_key, and the database checks it
    against its own rule (grants.models.CELL_KEY_SQL); roll-ups group and name cells by it, forms
    and uploads by cell_key: the two rules must agree on every cell of the catalogue."""
    report = open_reports(GrantFactory(program=program("DVHT")))[0]
    keys = [cell.key for spec in CATALOG.values() for cell in spec.cells]
    version = file_report(report, dict.fromkeys(keys, 1))
    db.session.expire_all()
    stored = db.session.execute(select(ReportValue.measure_code, ReportValue.dimension, ReportValue.category,
                                       ReportValue.cell, literal_column(CELL_KEY_SQL))
                                .where(ReportValue.version_id == version.id)).all()
    assert len(stored) == len(keys)
    assert {cell for *_, cell, _ in stored} == set(keys)
    assert all(cell == cell_key(m, d, c) for m, d, c, cell, _ in stored)
    assert all(in_sql == cell_key(m, d, c) for m, d, c, _, in_sql in stored)  # the database's rule, evaluated


def test_point_in_time_measure_takes_each_grants_latest_period_then_sums(app):
    one, (h1, h2, *_) = grant_with_reports()
    two, (other_h1, *_) = grant_with_reports()
    file_report(h1, {"PRT-01": 5, "PRT-01.partnership.referral": 5, "CLI-01": 20})
    file_report(h2, {"PRT-01": 7, "PRT-01.partnership.referral": 7, "CLI-01": 30})
    file_report(other_h1, {"PRT-01": 3, "PRT-01.partnership.referral": 3, "CLI-01": 12})
    rollup = build_rollup(RollupParams(fiscal_year=2026, today=TODAY))
    assert rollup.total.value("PRT-01") == 7 + 3
    assert rollup.total.value("PRT-01.partnership.referral") == 10
    assert rollup.total.value("CLI-01") == 20 + 30 + 12
    assert rollup.periods[(2026, "H1")].expected == 2
    h1_only = build_rollup(RollupParams(fiscal_year=2026, half="H1", today=TODAY))
    assert h1_only.total.value("PRT-01") == 5 + 3
    assert h1_only.total.value("CLI-01") == 32


def test_amendment_counts_only_once_accepted_and_then_replaces_the_amended_version(app):
    officer = UserFactory(role="program_officer")
    grant, (report, *_) = grant_with_reports(officer=officer)
    file_report(report, {"CLI-01": 40})
    amendment = file_report(report, {"CLI-01": 55}, status="submitted", number=2, amendment=True)
    official = RollupParams(fiscal_year=2026, today=TODAY)
    assert build_rollup(official).total.value("CLI-01") == 40
    assert build_rollup(RollupParams(fiscal_year=2026, today=TODAY, include_submitted=True)).total.value("CLI-01") == 55
    accept_report(report, officer)
    assert report.official_version_id == amendment.id
    rollup = build_rollup(official)  # the same filters again: statements reused, the values read afresh
    assert rollup.total.value("CLI-01") == 55
    assert rollup.total.submitted == 1


def test_excused_reports_are_not_expected_and_add_nothing(app):
    grant, (h1, h2, *_) = grant_with_reports()
    file_report(h1, {"CLI-01": 25})
    h2.status = "excused"
    h2.excused_reason = "Suspended"
    file_report(h2, {"CLI-01": 99}, status="accepted")
    h2.status = "excused"
    db.session.flush()
    rollup = build_rollup(RollupParams(fiscal_year=2026, today=TODAY))
    assert (rollup.total.expected, rollup.total.excused, rollup.total.submitted) == (1, 1, 1)
    assert rollup.total.value("CLI-01") == 25
    assert rollup.total.completeness == 1.0


def test_drafts_returned_and_withdrawn_versions_never_count(app):
    grant, (h1, h2, *_) = grant_with_reports()
    file_report(h1, {"CLI-01": 10}, status="returned")
    file_report(h2, {"CLI-01": 20}, status="draft")
    for include in (False, True):
        rollup = build_rollup(RollupParams(fiscal_year=2026, today=TODAY, include_submitted=include))
        assert rollup.total.value("CLI-01") is None
    assert rollup.total.submitted == 1


def test_percent_is_weighted_by_its_denominator_else_a_simple_mean(app):
    _, (a, *_) = grant_with_reports("ASPIRE")
    _, (b, *_) = grant_with_reports("ASPIRE")
    file_report(a, {"CLI-05": 50, "CLI-01": 100})
    file_report(b, {"CLI-05": 100, "CLI-01": 300})
    rollup = build_rollup(RollupParams(fiscal_year=2026, today=TODAY))
    assert rollup.total.percent("CLI-05") == (pytest.approx((50 * 100 + 100 * 300) / 400), "weighted")
    _, (c, *_) = grant_with_reports("HTYPE")
    _, (d, *_) = grant_with_reports("HTYPE")
    file_report(c, {"EDU-04": 60})
    file_report(d, {"EDU-04": 90})
    assert build_rollup(RollupParams(fiscal_year=2026, program="HTYPE", today=TODAY)).total.percent("EDU-04") == (
        pytest.approx(75), "simple")


def test_rollup_is_a_fixed_number_of_grouped_queries_whatever_the_data_size(app):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            build_rollup(RollupParams(fiscal_year=2026, today=TODAY))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert all("GROUP BY" in s for s in statements if "report_value" in s)
        return len(statements)

    _, (first, *_) = grant_with_reports()
    file_report(first, {"CLI-01": 10})
    few = queries()
    for _ in range(6):
        _, reports = grant_with_reports(state="TX")
        for r in reports:
            file_report(r, {"CLI-01": 30, "PRT-01": 4})
    assert queries() == few
