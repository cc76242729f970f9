"""The roll-up workbook: About, Summary by program, By HHS region, By state, By community, Timeliness, Detail.

The figures are the dashboard's (`reporting.rollup.build_rollup`, with the Detail sheet's report
cells added to the suppression), so a download shows exactly what the page showed for the same
filters. Native Excel charts sit on Summary and Timeliness.
"""
from __future__ import annotations

from datetime import datetime

from grants.measures import MeasureSpec, cell_label, column_heading
from grants.periods import EASTERN, TIMELINESS_LABELS
from grants.services.reports import STATUS_LABELS
from reporting.rollup import (
    TREND_YEARS,
    Agg,
    Rollup,
    RollupParams,
    aggregation_label,
    build_rollup,
)
from reporting.suppression import note
from reporting.workbooks.writer import Book, Sheet, eastern_stamp, wrapped_height

COUNT_HEADERS = ("Grants", "Reports expected", "Submitted", "On time", "Completeness", "On-time rate")
COUNT_KINDS = ("int", "int", "int", "int", "rate", "rate")
CHART_ROWS = 16  # rows kept free under a 300-pixel chart
DETAIL_MEASURE_WIDTH = 14  # characters: a measure column of the Detail sheet
SUMMARY_LABEL_WIDTH = 58  # characters: the Summary's figure labels and how each is combined wrap in these
SUMMARY_HOW_WIDTH = 44
DETAIL_FIXED = (
    ("Award number", "text", 16), ("Program", "text", 9), ("Organization", "text", 32), ("Community", "text", 28),
    ("State", "text", 6), ("HHS region", "code", 7), ("Fiscal year", "code", 7), ("Period", "text", 7),
    ("Report type", "text", 8), ("Status", "text", 16), ("Effective due date", "date", 11),
    ("First submitted (ET)", "datetime", 16), ("Timeliness", "text", 16), ("Version counted", "code", 8),
)
DEFINITIONS = (
    ("Reports expected", "Reports whose effective due date (the due date, or an approved extension's date) has "
                         "passed, minus reports the program officer excused."),
    ("Submitted", "Expected reports that have been submitted at least once."),
    ("On time", "Expected reports first submitted by 11:59:59 p.m. Eastern on the effective due date."),
    ("Completeness", "Submitted / expected. Cannot exceed 100%."),
    ("On-time rate", "On time / expected. Cannot exceed 100%."),
    ("Reports in the figures", "Reports whose values the measure figures count (see Values counted). A period "
                               "whose reports are still under review has fewer, and lower figures, until they are "
                               "accepted."),
    ("Not in the figures yet", "Reports, not excused, whose values the figures do not count yet: not yet due, not "
                               "submitted, or submitted and not yet accepted. While there are any, the figures "
                               "can still rise."),
    ("Values counted", "Only each report's official (accepted) version, unless the filters say submitted "
                       "reports are included; an accepted amendment replaces the version it amends."),
    ("Point-in-time measures", "Partnerships and agreements in effect at period end are not added up over "
                               "periods: each grant's latest period in the filter counts."),
)


def _measure_kind(spec: MeasureSpec, total: bool = False) -> str:
    kind = {"currency": "currency", "percent": "rate"}.get(spec.value_type, "int")
    return f"total_{kind}" if total else kind


def _excel(spec: MeasureSpec, figure):
    """A published figure for a cell: percents as fractions, for Excel's % format."""
    return figure / 100 if spec.value_type == "percent" and figure is not None else figure


def _figure(rollup: Rollup, level: tuple, agg: Agg, spec: MeasureSpec, key: str):
    return _excel(spec, rollup.figure(level, agg, spec, key))


def _counts(agg: Agg) -> list:
    return [agg.grants, agg.expected, agg.submitted, agg.on_time, agg.completeness, agg.on_time_rate]


def _total_kinds(kinds) -> list[str]:
    return [f"total_{k}" if k in ("int", "rate", "number", "currency") else "total_text" for k in kinds]


def build_rollup_workbook(params: RollupParams, stream, *, record: bool = False) -> Book:
    """Write the roll-up workbook for `params` to `stream` (a path or a binary file object)."""
    rollup = build_rollup(params, detail=True, parallel=True)
    specs = rollup.measures
    table_specs = [m for m in specs if m.has_total]
    detail_specs = [(m, c) for m in specs for c in m.cells]
    Sheet.reserve("Detail", len(rollup.details) + 1, len(DETAIL_FIXED) + len(detail_specs))
    book = Book(stream, record=record,
                running_head="Performance roll-up: " + ", ".join(value for _, value in rollup.params.filters()),
                running_foot=f"Generated {eastern_stamp(rollup.generated_at)}")
    _about(book, rollup)
    _summary(book, rollup)
    _places(book, rollup, "By HHS region", table_specs)
    _places(book, rollup, "By state", table_specs)
    _places(book, rollup, "By community", table_specs)
    _timeliness(book, rollup)
    _detail(book, rollup, detail_specs)
    book.close()
    return book


def _chart(book: Book, sheet: Sheet, kind: dict, title: str, series: list[dict], *, percent: bool = False) -> None:
    """A native chart under the tables, inside the print area (rows are kept free for it). The
    first chart of a sheet starts a printed page, so neither it nor the one under it (two fit on
    a landscape page) is cut in two by a page break."""
    chart = book.workbook.add_chart(kind)
    for item in series:
        chart.add_series(item)
    chart.set_title({"name": title})
    if percent:
        chart.set_y_axis({"num_format": "0%", "min": 0, "max": 1})
    if len(series) == 1:
        chart.set_legend({"none": True})
    chart.set_size({"width": 640, "height": 300})
    sheet.skip()
    if not sheet.charts:
        sheet.new_page()
    sheet.ws.insert_chart(sheet.next_row, 0, chart)
    sheet.charts += 1
    sheet.skip(CHART_ROWS)


def _about(book: Book, rollup: Rollup) -> None:
    sheet = book.sheet("About")
    text_width = 100
    sheet.row(["Performance roll-up workbook"], "title", height=22)
    sheet.row(["Generated", eastern_stamp(rollup.generated_at)], ("bold", "text"))
    sheet.skip()
    sheet.row(["Filters"], "bold")
    for label, value in rollup.params.describe():
        sheet.row([label, value], ("text", "text"))
    sheet.skip()
    privacy = note(rollup.threshold)
    sheet.row(["Privacy", privacy], ("bold", "wrap"), height=wrapped_height(privacy, text_width))
    sheet.skip()
    sheet.row(["Definitions"], "bold")
    for term, text in DEFINITIONS:
        sheet.row([term, text], ("text", "wrap"), height=wrapped_height(text, text_width))
    sheet.skip()
    header = sheet.header(["Measure", "Name", "Type", "How it is combined"], ("text",) * 4)
    names = {m.code: m.name for m in rollup.measures}
    how_width = 60
    for spec in rollup.measures:
        how = aggregation_label(spec, names)
        sheet.row([spec.code, spec.name, spec.value_type, how], ("text", "text", "text", "wrap"),
                  height=wrapped_height(how, how_width))
    sheet.finish(header_row=None, widths=(24, text_width, 10, how_width), filter_rows=(header, sheet.next_row - 1))


def _summary(book: Book, rollup: Rollup) -> None:
    sheet = book.sheet("Summary by program")
    programs = list(rollup.programs.items())
    sheet.row(["Summary by program"], "title", height=22)
    kinds = ("text", "text", *COUNT_KINDS)
    counts_header = sheet.header(["Program", "Name", *COUNT_HEADERS], kinds)
    first = sheet.next_row
    for code, agg in programs:
        sheet.row([code, rollup.program_names.get(code, code), *_counts(agg)], kinds)
    last = sheet.next_row - 1
    sheet.row(["All programs", "", *_counts(rollup.total)], _total_kinds(kinds))
    sheet.skip()
    measures_header = sheet.header(["Measure", "Figure", *[c for c, _ in programs], "All programs", "How it is combined"],
                                   ("text", "text", *["int"] * (len(programs) + 1), "text"))
    rows = rollup.measure_table("program")
    # the codes column fits the longest cell key; labels and how-it-is-combined wrap in theirs
    widths = (max([len("All programs"), *(len(row.cell.key) + 1 for row in rows)]), SUMMARY_LABEL_WIDTH,
              *[13] * (len(programs) + 1), SUMMARY_HOW_WIDTH)
    clients_row = None
    for spec, cell, how, by_program, total in rows:
        label = cell_label(spec, cell)
        r = sheet.row(
            [cell.key, label, *[_excel(spec, figure) for figure in by_program], _excel(spec, total), how],
            ("text", "wrap", *[_measure_kind(spec)] * (len(programs) + 1), "wrap"),
            height=wrapped_height(label, SUMMARY_LABEL_WIDTH, how, SUMMARY_HOW_WIDTH))
        if cell.key == "CLI-01":
            clients_row = r
    measures_last = sheet.next_row - 1
    name = sheet.name
    if programs:
        _chart(book, sheet, {"type": "column"}, "Completeness and on-time rate by program", [
            {"name": label, "categories": [name, first, 0, last, 0], "values": [name, first, col, last, col]}
            for col, label in ((6, "Completeness"), (7, "On-time rate"))], percent=True)
    if programs and clients_row is not None:
        _chart(book, sheet, {"type": "column"}, "Clients served (CLI-01) by program", [
            {"name": "Clients served", "categories": [name, measures_header, 2, measures_header, 1 + len(programs)],
             "values": [name, clients_row, 2, clients_row, 1 + len(programs)]}])
    sheet.finish(header_row=counts_header, widths=widths, freeze_cols=1,
                 filter_rows=(measures_header, measures_last), repeat_header=False)


PLACES = {  # sheet -> (its leading columns, their kinds and widths, the name of its "all" row)
    "By HHS region": (("HHS region", "States"), ("code", "text"), (12, 30), "All regions"),
    "By state": (("State", "HHS region"), ("text", "code"), (11, 8), "All states"),
    "By community": (("Community", "State", "HHS region", "Type"), ("text", "text", "code", "text"), (32, 6, 8, 10),
                     "All communities"),
}


def _places(book: Book, rollup: Rollup, title: str, specs: list[MeasureSpec]) -> None:
    """By HHS region, By state or By community: counts and each measure's total."""
    sheet = book.sheet(title)
    lead, lead_kinds, lead_widths, all_label = PLACES[title]
    kinds = (*lead_kinds, *COUNT_KINDS, *[_measure_kind(m) for m in specs])
    if title == "By community":
        rows = [(("community", cid), [rollup.community_info[cid].name, rollup.community_info[cid].state,
                                      rollup.community_info[cid].hhs_region,
                                      rollup.community_info[cid].community_type], agg)
                for cid, agg in rollup.communities.items()]
    elif title == "By state":
        rows = [(("state", state), [state, rollup.state_region(state)], agg) for state, agg in rollup.states.items()]
    else:
        states = rollup.region_states()
        rows = [(("region", region), [region, ", ".join(states[region])], agg) for region, agg in rollup.regions.items()]
    Sheet.reserve(title, len(rows) + 4, len(kinds))
    widths = (*lead_widths, *[13] * (len(COUNT_HEADERS) + len(specs)))
    sheet.row([title], "title", height=22)
    header = sheet.header([*lead, *COUNT_HEADERS, *[f"{m.code} {m.name}" for m in specs]], kinds, widths)
    for level, lead_values, agg in rows:
        sheet.row([*lead_values, *_counts(agg), *[_figure(rollup, level, agg, m, m.code) for m in specs]], kinds)
    last = sheet.next_row - 1
    sheet.row([all_label, *[None] * (len(lead) - 1),
               *_counts(rollup.total), *[_figure(rollup, ("total",), rollup.total, m, m.code) for m in specs]],
              _total_kinds(kinds))
    sheet.finish(header_row=header, widths=widths, freeze_cols=1, filter_rows=(header, last))


def _timeliness(book: Book, rollup: Rollup) -> None:
    sheet = book.sheet("Timeliness")
    sheet.row(["Timeliness by program"], "title", height=22)
    headers = ("Reports in scope", "Not yet due", "Excused", "Expected", "Submitted on time", "Submitted late",
               "Not submitted", "Completeness", "On-time rate")
    kinds = ("text",) + ("int",) * 7 + ("rate", "rate")
    header = sheet.header(["Program", *headers], kinds)

    def figures(agg: Agg) -> list:
        return [agg.reports, agg.not_yet_due, agg.excused, agg.expected, agg.on_time, agg.late, agg.not_submitted,
                agg.completeness, agg.on_time_rate]

    first = sheet.next_row
    for code, agg in rollup.programs.items():
        sheet.row([code, *figures(agg)], kinds)
    last = sheet.next_row - 1
    sheet.row(["All programs", *figures(rollup.total)], _total_kinds(kinds))
    sheet.skip()
    sheet.row([f"Trend over periods (same filters, the last {TREND_YEARS} fiscal years)"], "bold")
    trend_kinds = ("text", "int", "int", "int", "rate", "rate", "int", "int", "int")
    trend_header = sheet.header(["Period", "Expected", "Submitted", "On time", "Completeness", "On-time rate",
                                 "Reports in the figures", "Not in the figures yet", "CLI-01 Clients served"],
                                trend_kinds)
    trend_first = sheet.next_row
    for period, agg in rollup.periods.items():
        sheet.row([f"FY{period[0]} {period[1]}", agg.expected, agg.submitted, agg.on_time, agg.completeness,
                   agg.on_time_rate, agg.counted, agg.uncounted,
                   rollup.shown(("period", period, "CLI-01"), agg.value("CLI-01"))], trend_kinds)
    trend_last = sheet.next_row - 1
    name = sheet.name
    if rollup.programs:
        _chart(book, sheet, {"type": "column", "subtype": "stacked"}, "Expected reports by timeliness", [
            {"name": label, "categories": [name, first, 0, last, 0], "values": [name, first, col, last, col],
             "fill": {"color": color}}
            for col, label, color in ((5, "On time", "#00A91C"), (6, "Late", "#FFBE2E"), (7, "Not submitted", "#D83933"))])
    if rollup.periods:
        _chart(book, sheet, {"type": "line"}, "Completeness and on-time rate by period", [
            {"name": label, "categories": [name, trend_first, 0, trend_last, 0],
             "values": [name, trend_first, col, trend_last, col], "marker": {"type": "circle"}}
            for col, label in ((4, "Completeness"), (5, "On-time rate"))], percent=True)
    sheet.finish(header_row=header, widths=(16, *[13] * len(headers)), freeze_cols=1,
                 filter_rows=(trend_header, trend_last), repeat_header=False)


def _detail(book: Book, rollup: Rollup, cells: list) -> None:
    """One row per report; every measure cell of its counted version as a column."""
    sheet = book.sheet("Detail")
    kinds = (*(k for _, k, _ in DETAIL_FIXED), *(_measure_kind(m) for m, _ in cells))
    widths = (*(w for _, _, w in DETAIL_FIXED), *[DETAIL_MEASURE_WIDTH] * len(cells))
    # short headings (the Summary sheet has each cell's key and full label): the heading row is
    # frozen, so a tall one would take much of the window
    header = sheet.header([*(h for h, _, _ in DETAIL_FIXED), *(column_heading(m, c) for m, c in cells)],
                          kinds, widths)
    keys = [c.key for _, c in cells]
    column = {key: i for i, key in enumerate(keys)}
    percent = [i for i, (m, _) in enumerate(cells) if m.value_type == "percent"]
    labels = rollup.suppressor.labels
    hidden: dict[int, list[tuple[int, str]]] = {}  # report id -> (column, label) of its suppressed cells
    for key, mark in rollup.suppressor.marks.items():
        if key[0] == "report" and key[2] in column:
            hidden.setdefault(key[1], []).append((column[key[2]], labels[mark]))

    def cells(r) -> tuple:
        figures = list(map(r.values.get, keys))
        for i in percent:
            if figures[i] is not None:
                figures[i] /= 100
        for i, label in hidden.get(r.report_id, ()):
            figures[i] = label
        return (r.award_number, r.program, r.organization, r.community, r.state, r.hhs_region, r.fiscal_year,
                r.half, r.report_type, STATUS_LABELS.get(r.status, r.status), r.effective_due_date,
                r.first_submitted_at, TIMELINESS_LABELS.get(r.timeliness, r.timeliness), r.version_number, *figures)

    sheet.rows(rollup.details, kinds, cells)
    sheet.finish(header_row=header, widths=widths, freeze_cols=1, filter_rows=(header, sheet.next_row - 1))


def generated_filename(params: RollupParams, now: datetime | None = None) -> str:
    """rollup-FY2026-H1-YCCR-20261201.xlsx: what the download is called."""
    parts = ["rollup", f"FY{params.fiscal_year}" if params.fiscal_year else "all-years"]
    parts += [p for p in (params.half, params.program, params.state,
                          f"region{params.region}" if params.region else None, params.community_type) if p]
    stamp = (now or datetime.now(EASTERN)).strftime("%Y%m%d")
    return "-".join([*parts, stamp]) + ".xlsx"
