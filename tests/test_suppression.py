"""Survivor-privacy suppression: "1-10" for small people counts below a whole program, and
complementary suppression so that no hidden count can be worked back from a published total."""
from __future__ import annotations

from reporting.rollup import (
    RollupParams,
    build_rollup,
    default_fiscal_year,
    is_people_cell,
    measures_in_scope,
    people_values,
)
from reporting.suppression import COMPLEMENTARY, PRIMARY, SUPPRESSED_LABEL, Suppressor
from tests.factories import CommunityFactory
from tests.test_rollup import TODAY, file_report, grant_with_reports


def test_a_single_small_cell_gets_the_smallest_positive_neighbour_hidden_too():
    s = Suppressor(10)
    for key, value in {"a": 4, "b": 0, "c": 30, "d": 25, "t": 59}.items():
        s.cell(key, value)
    s.relate("t", ["a", "b", "c", "d"])
    assert s.run() == {"a": PRIMARY, "d": COMPLEMENTARY}
    assert s.shown("a", 4) == "1-10" and s.shown("d", 25) == SUPPRESSED_LABEL and s.shown("c", 30) == 30


def test_zeros_are_never_the_complement_so_the_total_is_hidden_instead():
    s = Suppressor(10)
    for key, value in {"a": 4, "b": 0, "t": 4}.items():
        s.cell(key, value, exempt=key == "t")
    s.relate("t", ["a", "b"])
    assert s.run() == {"a": PRIMARY, "t": COMPLEMENTARY}


def test_exempt_whole_program_cells_are_not_primary_suppressed():
    s = Suppressor(10)
    s.cell("program", 7, exempt=True)
    s.cell("community", 7)
    assert s.run() == {"community": PRIMARY}


def test_hiding_spreads_across_tables_until_no_relation_has_a_single_hidden_cell():
    # state OH = A + B; the total = OH + TX. Hiding A forces B; nothing else is needed.
    # state TX = C alone: when C is small, TX is small too, and the total needs another state hidden.
    s = Suppressor(10)
    for key, value in {"A": 5, "B": 100, "C": 8, "OH": 105, "TX": 8, "WA": 40, "WA1": 40, "all": 153}.items():
        s.cell(key, value)
    s.relate("OH", ["A", "B"])
    s.relate("TX", ["C"])
    s.relate("WA", ["WA1"])
    s.relate("all", ["OH", "TX", "WA"])
    marks = s.run()
    assert marks["A"] == PRIMARY and marks["B"] == COMPLEMENTARY
    assert marks["C"] == PRIMARY and marks["TX"] == PRIMARY
    assert marks["WA"] == COMPLEMENTARY and marks["WA1"] == COMPLEMENTARY
    for total, parts in s.relations:
        assert sum(k in marks for k in (total, *parts)) != 1


def _given_away(s: Suppressor) -> set:
    """Hidden cells a reader can compute from what is published: a relation with one unknown
    cell gives it away, and what is worked out is known from then on (repeated until nothing new)."""
    known = {k for k in s.values if k not in s.marks}
    derived: set = set()
    changed = True
    while changed:
        changed = False
        for total, parts in s.relations:
            members = (total, *parts)
            unknown = [k for k in members if k not in known]
            if len(unknown) == 1 and all(k in s.values for k in members):
                known.add(unknown[0])
                derived.add(unknown[0])
                changed = True
    return derived


def _published(rollup, level: tuple, key: str, value):
    return rollup.shown((*level, key), value)


def test_a_small_community_count_is_a_range_and_cannot_be_worked_out_from_its_states_row(app):
    ohio_small, ohio_big, texas = (CommunityFactory(state="OH"), CommunityFactory(state="OH"),
                                   CommunityFactory(state="TX", name="Harris County, TX"))
    for community, clients in ((ohio_small, 6), (ohio_big, 120), (texas, 300)):
        _, (report, *_) = grant_with_reports(community=community)
        file_report(report, {"CLI-01": clients, "CLI-01.age.minor": clients})
    rollup = build_rollup(RollupParams(fiscal_year=2026, today=TODAY))
    shown = {cid: _published(rollup, ("community", cid), "CLI-01", agg.value("CLI-01"))
             for cid, agg in rollup.communities.items()}
    assert shown[ohio_small.id] == "1-10"
    ohio = _published(rollup, ("state", "OH"), "CLI-01", rollup.states["OH"].value("CLI-01"))
    # Ohio's row minus the Ohio communities a reader can see must not reveal the small one.
    assert ohio == SUPPRESSED_LABEL or shown[ohio_big.id] == SUPPRESSED_LABEL
    # The whole program's figures are not suppressed (no place filter), nor its breakdown.
    assert _published(rollup, ("program", "YCCR"), "CLI-01", rollup.programs["YCCR"].value("CLI-01")) == 426


def test_with_a_place_filter_program_rows_are_suppressed_too(app):
    community = CommunityFactory(state="OH")
    _, (report, *_) = grant_with_reports(community=community)
    file_report(report, {"CLI-01": 9, "CLI-02": 3})
    params = RollupParams(fiscal_year=2026, state="OH", today=TODAY)
    rollup = build_rollup(params)
    assert _published(rollup, ("program", "YCCR"), "CLI-01", rollup.programs["YCCR"].value("CLI-01")) == "1-10"
    assert _published(rollup, ("total",), "CLI-02", rollup.total.value("CLI-02")) == "1-10"
    assert not params.whole_program


def _no_single_hidden(rollup) -> int:
    """Check, from the published tables only, every sum a reader could take; returns how many
    relations were checked."""
    hidden = rollup.suppressor.marks
    checked = 0
    people = [m for m in rollup.measures if m.people_count and m.value_type == "count"]

    def check(total_key, parts):
        nonlocal checked
        members = [k for k in (total_key, *parts) if k in rollup.suppressor.values]
        if members:
            checked += 1
            assert sum(k in hidden for k in members) != 1, (total_key, parts)

    for m in people:
        cells = [c.key for c in m.cells]
        for key in cells:
            check(("total", key), [("program", p, key) for p in rollup.programs])
        if m.has_total:
            check(("total", m.code), [("state", s, m.code) for s in rollup.states])
            for state in rollup.states:
                check(("state", state, m.code), [("community", cid, m.code) for cid, c in rollup.community_info.items()
                                                  if c.state == state])
            check(("total", m.code), [("region", r, m.code) for r in rollup.regions])
            for region in rollup.regions:
                check(("region", region, m.code), [("state", s, m.code) for s in rollup.states
                                                    if any(c.state == s and c.hhs_region == region
                                                           for c in rollup.community_info.values())])
            for level in [("total",), *[("program", p) for p in rollup.programs]]:
                for dim in m.breakdowns:
                    check((*level, m.code), [(*level, c.key) for c in m.cells if c.dimension == dim])
            for programs, communities in rollup.link_groups():  # its programs' sum = its communities' sum
                cells = [("program", p, m.code) for p in programs] + [("community", c, m.code) for c in communities]
                members = [k for k in cells if k in rollup.suppressor.values]
                if members:
                    checked += 1
                    assert sum(k in hidden for k in members) != 1, (programs, communities, m.code)
    return checked


def test_a_community_figure_cannot_be_worked_out_from_program_rows_and_the_other_communities(app):
    """DVHT runs in a small community and a big one: DVHT's row (a whole program, shown) minus the
    big community's row would give the small one. YCCR runs in one community only: that
    community's row is YCCR's row, a whole-program figure, and is shown like it."""
    small, big = CommunityFactory(state="TX"), CommunityFactory(state="CA")
    only = CommunityFactory(state="OH")
    for community, code, clients in ((small, "DVHT", 7), (big, "DVHT", 300), (only, "YCCR", 5)):
        _, (report, *_) = grant_with_reports(code, community=community)
        file_report(report, {"CLI-01": clients, "CLI-01.age.minor": clients})
    rollup = build_rollup(RollupParams(fiscal_year=2026, today=TODAY))

    def shown(level):
        agg = {"program": rollup.programs, "community": rollup.communities}[level[0]][level[1]]
        return _published(rollup, level, "CLI-01", agg.value("CLI-01"))

    assert shown(("program", "DVHT")) == 307 and shown(("program", "YCCR")) == 5
    assert shown(("community", small.id)) == "1-10"
    assert shown(("community", big.id)) == SUPPRESSED_LABEL  # else 307 - 300 = 7
    assert shown(("community", only.id)) == 5
    assert _no_single_hidden(rollup) > 5


def test_demo_tables_never_leave_a_single_hidden_cell_in_any_published_sum(demo):
    for params in (RollupParams(fiscal_year=default_fiscal_year()),
                   RollupParams(fiscal_year=default_fiscal_year(), half="H1", state="OH"),
                   RollupParams(fiscal_year=default_fiscal_year(), community_type="rural")):
        rollup = build_rollup(params, detail=True)
        assert _no_single_hidden(rollup) > 20
        assert any(mark == PRIMARY for mark in rollup.suppressor.marks.values())
        # Nor can any chain of published sums work a "1-10" cell out (a wider check than the one above).
        assert not _given_away(rollup.suppressor) & {k for k, m in rollup.suppressor.marks.items() if m == PRIMARY}


def test_detail_report_cells_are_protected_against_their_community_and_program_totals(demo):
    params = RollupParams(fiscal_year=default_fiscal_year())
    rollup = build_rollup(params, detail=True)
    hidden = rollup.suppressor.marks
    by_community, by_program = {}, {}
    people_codes = {m.code for m in measures_in_scope(params) if is_people_cell(m)}
    for report_id, program_code, community_id, key, value in people_values(params, people_codes):
        by_community.setdefault((community_id, key), []).append(("report", report_id, key))
        by_program.setdefault((program_code, key), []).append(("report", report_id, key))
        if 1 <= value <= rollup.threshold:
            assert hidden[("report", report_id, key)] == PRIMARY
    for (cid, key), parts in by_community.items():
        if "." not in key:
            members = [("community", cid, key), *parts]
            assert sum(m in hidden for m in members) != 1
    for (code, key), parts in by_program.items():
        assert sum(m in hidden for m in [("program", code, key), *parts]) != 1


def _measure_of(key: tuple) -> str:
    return key[-1].split(".", 1)[0]


def test_the_page_the_api_and_the_workbook_hide_the_same_figures_for_the_same_filters(demo):
    """One suppression problem per choice of filters: a reader holding the dashboard, the API's
    answer and the workbook for the same filters learns nothing one hides and another shows. The
    dashboard asks for a few measures: it hides exactly what the workbook hides of them."""
    from grants.blueprints.rollups import DASHBOARD_MEASURES

    fy = default_fiscal_year()
    for_reports_sake = 0
    for params in (RollupParams(fiscal_year=fy), RollupParams(fiscal_year=fy, half="H1", state="OH"),
                   RollupParams(fiscal_year=fy, community_type="rural"), RollupParams(fiscal_year=fy, program="DVHT")):
        workbook = build_rollup(params, detail=True).suppressor.marks
        api = build_rollup(params).suppressor.marks
        page_rollup = build_rollup(params, codes=DASHBOARD_MEASURES, totals_only=True)
        page = page_rollup.suppressor.marks
        assert api == workbook
        assert page == {k: m for k, m in workbook.items() if _measure_of(k) in DASHBOARD_MEASURES}
        tables = {k: m for k, m in page.items() if k[0] != "report"}
        for_reports_sake += tables != _tables_alone(page_rollup.suppressor)
    # The Detail rows' protection reaches the tables the page shows: a figure is hidden there for
    # a report's sake (the gap this closes: the page once showed it and the workbook hid it).
    assert for_reports_sake


def _tables_alone(s: Suppressor) -> dict:
    """The marks the tables would get if no report's own figures were published."""
    alone = Suppressor(s.threshold)
    for key, value in s.values.items():
        if key[0] != "report":
            alone.cell(key, value, exempt=key in s.exempt)
    for total, parts in s.relations:
        if total[0] != "report" and all(p[0] != "report" for p in parts):
            alone.relate(total, parts)
    return alone.run()
