"""Roll-up queries: counts, measure totals and rates by program, community, state and period.

Everything is grouped in the database, for every caller (dashboard, API and workbook alike): the
queries group at the finest grain a table needs (program x community with measure totals for the
community and state tables, program with every breakdown category for the program tables, fiscal
year x half for the trend), so their cost does not grow with the data in Python; coarser tables
(state, all) are sums of those grouped cells, which is exact because a grant belongs to exactly
one program and one community. Each group's measure figures come back as one JSON object built
by the database (`_per_group`), a row per group rather than one per figure. The workbook's
Detail sheet also needs each report's own values: `detail_values` reads them once (one query over
the counted versions in scope), and that one read gives both the Detail rows and the report-level
people counts the suppression protects; every other publication reads those people counts alone
(`people_values`), so all of them suppress the same figures. The workbook runs these independent
reads at the same time on connections that share one snapshot (`_read_all`, grants.snapshots);
the page runs them one after the other.

Rules (DOMAIN.md 'Roll-ups'):
- Only the version that counts: `Report.official_version_id` (the accepted version; an accepted
  amendment moves it on), or with `include_submitted` the latest version now submitted or
  accepted. Excused reports count for nothing.
- Reports expected / submitted / on time use `grants.services.timeliness` (one rule).
- Count and currency measures are summed over cells (totals and breakdown categories).
- Point-in-time measures (PRT-01, PRT-02): per grant, the value of its latest period within the
  filter, summed across grants.
- Percents: the mean weighted by the denominator measure (PERCENT_WEIGHTS) over the reports that
  give both, else the simple mean; each figure says which.
- People counts are suppressed (`reporting.suppression`) in every cell smaller than a whole program
  (a report's own count included, unless it is its whole program's).
- HHS regions are sums of their states' rows (a community's region follows from its state).
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from queue import Queue
from typing import NamedTuple

import orjson
from flask import current_app
from sqlalchemy import Connection, Float, and_, case, cast, distinct, func, literal, select
from sqlalchemy.orm import aliased

from grants.extensions import db
from grants.measures import Cell, MeasureSpec
from grants.models import (
    Community,
    Grant,
    MeasureDefinition,
    MeasureSet,
    MeasureSetItem,
    Organization,
    Program,
    Report,
    ReportValue,
    ReportVersion,
)
from grants.periods import INTERIM_DUE_DAYS, eastern_today, fiscal_year_of, half_bounds, rates
from grants.services.timeliness import expected_expr, on_time_expr, submitted_expr, timeliness_expr
from grants.snapshots import SnapshotUnavailable, can_share_snapshot, snapshot_readers
from reporting.suppression import Suppressor

# Percent measure -> the count it is a percent of (its weight in a mean across reports).
PERCENT_WEIGHTS = {"CLI-05": "CLI-01", "EDU-04": "EDU-02"}
COUNTED_STATUSES = ("submitted", "accepted")
TREND_YEARS = 3
TREND_MEASURES = ("CLI-01",)


@dataclass(frozen=True)
class RollupParams:
    """The filters of a roll-up. `today` fixes what is 'expected' (due before today, Eastern)."""

    fiscal_year: int | None = None
    half: str | None = None
    program: str | None = None
    state: str | None = None
    region: int | None = None
    community_type: str | None = None
    community_id: int | None = None
    include_submitted: bool = False
    today: date | None = None

    @property
    def on(self) -> date:
        return self.today or eastern_today()

    @property
    def whole_program(self) -> bool:
        """True when program rows cover whole programs (no place filter narrows them)."""
        return not (self.state or self.region or self.community_type or self.community_id)

    def without_period(self) -> RollupParams:
        return replace(self, fiscal_year=None, half=None)

    def query_args(self) -> dict[str, str]:
        """The filters as URL query arguments (the dashboard form's field names)."""
        args = {"fy": self.fiscal_year, "period": self.half, "program": self.program, "state": self.state,
                "region": self.region, "community_type": self.community_type, "community": self.community_id,
                "include_submitted": "y" if self.include_submitted else None}
        return {k: str(v) for k, v in args.items() if v not in (None, "")}

    def filters(self) -> list[tuple[str, str]]:
        """Label and value of each filter: what the dashboard says it shows and a printed page's running head."""
        return [
            ("Fiscal year", f"FY{self.fiscal_year}" if self.fiscal_year else "All fiscal years"),
            ("Period", self.half or "Whole fiscal year"),
            ("Program", self.program or "All programs"),
            ("State", self.state or "All states"),
            ("HHS region", f"Region {self.region}" if self.region else "All regions"),
            ("Community type", (self.community_type or "All types").capitalize()),
        ]

    def describe(self) -> list[tuple[str, str]]:
        """The filters and what the figures count, for the workbook's About sheet and the page."""
        return [
            *self.filters(),
            ("Reports counted", "Accepted and submitted (latest submitted version)" if self.include_submitted
             else "Accepted only (the official version)"),
            ("Expected means", f"Due before {self.on.isoformat()} and not excused"),
        ]


@dataclass
class Agg:
    """Counts and measure figures of one roll-up cell (a program, a community, a period...)."""

    grants: int = 0
    reports: int = 0
    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    excused: int = 0
    counted: int = 0  # reports whose values the figures count (a counted version, not excused)
    values: dict[str, float] = field(default_factory=dict)
    # percent code -> [sum of percent x weight, sum of weights, sum of percents, number of reports]
    percents: dict[str, list] = field(default_factory=dict)

    def add_counts(self, grants, reports, expected, submitted, on_time, excused, counted) -> None:
        self.grants += int(grants or 0)
        self.reports += int(reports or 0)
        self.expected += int(expected or 0)
        self.submitted += int(submitted or 0)
        self.on_time += int(on_time or 0)
        self.excused += int(excused or 0)
        self.counted += int(counted or 0)

    def add_values(self, cells: dict[str, float]) -> None:
        values = self.values
        for key, value in cells.items():
            if value is not None:
                values[key] = values.get(key, 0.0) + value

    def add_percent(self, code: str, weighted, weights, total, n) -> None:
        acc = self.percents.setdefault(code, [0.0, 0.0, 0.0, 0])
        acc[0] += weighted or 0.0
        acc[1] += weights or 0.0
        acc[2] += total or 0.0
        acc[3] += int(n or 0)

    def merge(self, other: Agg) -> None:
        """Add another cell's figures."""
        self.add_counts(other.grants, other.reports, other.expected, other.submitted, other.on_time, other.excused,
                        other.counted)
        values = self.values
        for key, value in other.values.items():
            values[key] = values.get(key, 0.0) + value
        for code, acc in other.percents.items():
            self.add_percent(code, *acc)

    @property
    def late(self) -> int:
        return self.submitted - self.on_time

    @property
    def not_submitted(self) -> int:
        return self.expected - self.submitted

    @property
    def not_yet_due(self) -> int:
        return self.reports - self.expected - self.excused

    @property
    def countable(self) -> int:
        """Reports whose values the figures will count once accepted: every report but the excused."""
        return self.reports - self.excused

    @property
    def uncounted(self) -> int:
        """Reports (not excused) whose values are not in the figures yet: not yet due, not submitted,
        or submitted and not accepted. While there are any, the cell's measure figures can rise."""
        return self.countable - self.counted

    @property
    def completeness(self) -> float | None:
        return rates(self.expected, self.submitted, self.on_time)[0]

    @property
    def on_time_rate(self) -> float | None:
        return rates(self.expected, self.submitted, self.on_time)[1]

    def value(self, key: str) -> float | None:
        return self.values.get(key)

    def percent(self, code: str) -> tuple[float | None, str]:
        """(mean percent 0-100, "weighted" or "simple"); (None, "") when nothing was reported."""
        acc = self.percents.get(code)
        if not acc or not acc[3]:
            return None, ""
        if acc[1] > 0:
            return acc[0] / acc[1], "weighted"
        return acc[2] / acc[3], "simple"


@dataclass(frozen=True)
class CommunityInfo:
    id: int
    name: str
    state: str
    community_type: str
    hhs_region: int


class MeasureRow(NamedTuple):
    """One row of a table of every measure (`Rollup.measure_table`)."""

    spec: MeasureSpec
    cell: Cell
    how: str  # how the measure is combined across reports (aggregation_label)
    figures: list  # the figure of each column, in the order of Rollup.columns
    total: object  # the figure of them all


# A table of every measure can have a column per program (with every breakdown category: the
# roll-up groups categories by program), per HHS region or per state (measure totals).
MEASURE_COLUMNS = ("program", "region", "state")


@dataclass
class Rollup:
    """Every table of the dashboard and the roll-up workbook for one set of filters."""

    params: RollupParams
    generated_at: datetime
    measures: list[MeasureSpec]
    program_names: dict[str, str]
    total: Agg
    programs: dict[str, Agg]
    communities: dict[int, Agg]
    community_info: dict[int, CommunityInfo]
    states: dict[str, Agg]
    periods: dict[tuple[int, str], Agg]
    suppressor: Suppressor
    details: list[DetailRow] | None = None  # the Detail sheet's reports, with values (build_rollup(detail=True))
    links: tuple[tuple[str, int], ...] = ()  # (program, community) of every grant in scope
    regions: dict[int, Agg] = field(default_factory=dict)  # HHS region -> the sum of its states' rows

    def link_groups(self) -> list[tuple[list[str], list[int]]]:
        """(programs, communities) of each connected group: a grant links its program and its
        community, and within a group the program rows and the community rows add up the same
        grants, so their sums are equal (a reader who knows which programs run where, which the
        drill-down says, can compare them)."""
        parent: dict[tuple, tuple] = {}

        def root(node: tuple) -> tuple:
            while parent.setdefault(node, node) != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for program, community in self.links:
            parent[root(("p", program))] = root(("c", community))
        groups: dict[tuple, tuple[list, list]] = {}
        for node in sorted(parent, key=repr):
            group = groups.setdefault(root(node), ([], []))
            group[0 if node[0] == "p" else 1].append(node[1])
        return list(groups.values())

    @property
    def threshold(self) -> int:
        return self.suppressor.threshold

    def shown(self, key: tuple, value):
        """A figure as published: the number, or its suppression label."""
        return self.suppressor.shown(key, value)

    def measure(self, code: str) -> MeasureSpec | None:
        return next((m for m in self.measures if m.code == code), None)

    def figure(self, level: tuple, agg: Agg, spec: MeasureSpec, key: str):
        """A measure's figure in one of `level`'s cells, as published: a percent's mean (0-100),
        else the number or its suppression label; None when nothing counted gives it."""
        if spec.value_type == "percent":
            return agg.percent(spec.code)[0]
        return self.shown((*level, key), agg.value(key))

    def columns(self, by: str) -> dict:
        """The programs, HHS regions or states (MEASURE_COLUMNS) of the roll-up: key -> Agg."""
        return {"program": self.programs, "region": self.regions, "state": self.states}[by]

    def measure_table(self, by: str = "program") -> list[MeasureRow]:
        """Every published cell of every measure, per program, region or state and for them all:
        the dashboard's measures page, and the workbook's Summary sheet (by program)."""
        names = {m.code: m.name for m in self.measures}
        columns = self.columns(by).items()
        rows = []
        for spec in self.measures:
            how = aggregation_label(spec, names)
            rows += [MeasureRow(spec, cell, how, [self.figure((by, key), agg, spec, cell.key) for key, agg in columns],
                                self.figure(("total",), self.total, spec, cell.key))
                     for cell in published_cells(spec, breakdowns=by == "program")]
        return rows

    def state_region(self, state: str) -> int:
        return next(c.hhs_region for c in self.community_info.values() if c.state == state)

    def region_states(self) -> dict[int, list[str]]:
        """HHS region -> the states of its row, in state order."""
        region_of = {c.state: c.hhs_region for c in self.community_info.values()}
        out: dict[int, list[str]] = {}
        for state in self.states:
            out.setdefault(region_of[state], []).append(state)
        return dict(sorted(out.items()))


def aggregation_label(spec: MeasureSpec, names: dict[str, str] | None = None) -> str:
    """How a measure is combined across reports, in words (printed next to the figures)."""
    if spec.value_type == "percent":
        weight = PERCENT_WEIGHTS.get(spec.code)
        if weight:
            name = (names or {}).get(weight, weight)
            return (f"Mean weighted by {weight} ({name}) over reports giving both; "
                    "simple mean where no report gives it")
        return "Simple mean of the reports"
    if spec.point_in_time:
        return "Latest period's value of each grant, summed across grants"
    return "Sum"


def published_cells(spec: MeasureSpec, *, breakdowns: bool = True) -> tuple[Cell, ...]:
    """The cells of a measure a roll-up table gives: a percent its mean alone; any other its total
    and, with `breakdowns`, each category (a measure counted per category, SRV-01, has no total)."""
    if spec.value_type == "percent":
        return spec.cells[:1]
    if breakdowns:
        return spec.cells
    return spec.cells[:1] if spec.has_total else ()


def is_people_cell(spec: MeasureSpec) -> bool:
    return spec.people_count and spec.value_type == "count"


def default_fiscal_year(today: date | None = None) -> int:
    """The latest fiscal year with a report already due (a year's first reports are due Apr 30)."""
    today = today or eastern_today()
    year = fiscal_year_of(today)
    first_due = half_bounds(year, "H1")[1] + timedelta(days=INTERIM_DUE_DAYS)
    return year if today > first_due else year - 1


# --- filters and the version that counts -------------------------------------------------------

def _scope(params: RollupParams, *, with_period: bool = True) -> list:
    conditions = []
    if with_period and params.fiscal_year:
        conditions.append(Report.fiscal_year == params.fiscal_year)
    if with_period and params.half:
        conditions.append(Report.half == params.half)
    if params.program:
        conditions.append(Program.code == params.program)
    if params.state:
        conditions.append(Community.state == params.state)
    if params.region:
        conditions.append(Community.hhs_region == params.region)
    if params.community_type:
        conditions.append(Community.community_type == params.community_type)
    if params.community_id:
        conditions.append(Community.id == params.community_id)
    return conditions


ALL_JOINS = ("grant", "program", "community")


def _joins(params: RollupParams, keys: list) -> tuple[str, ...]:
    """The tables a grouped query needs besides report: only what its keys and filters use."""
    needed = {"program"} if params.program else set()
    if not params.whole_program:
        needed.add("community")
    if needed or any(getattr(k, "table", None) is Grant.__table__ for k in keys):
        needed.add("grant")
    return tuple(t for t in ALL_JOINS if t in needed)


def _joined(stmt, joins: tuple[str, ...] = ALL_JOINS):
    stmt = stmt.select_from(Report)
    if "grant" in joins:
        stmt = stmt.join(Grant, Grant.id == Report.grant_id)
    if "program" in joins:
        stmt = stmt.join(Program, Program.id == Grant.program_id)
    if "community" in joins:
        stmt = stmt.join(Community, Community.id == Grant.community_id)
    return stmt


def counted_version(params: RollupParams):
    """SQL for the id of the version of each report row that counts."""
    if not params.include_submitted:
        return Report.official_version_id
    return (
        select(ReportVersion.id)
        .where(ReportVersion.report_id == Report.id, ReportVersion.status.in_(COUNTED_STATUSES))
        .order_by(ReportVersion.number.desc()).limit(1)
        .correlate(Report).scalar_subquery()
    )


def _values_join(stmt, params: RollupParams, value=ReportValue):
    return stmt.join(value, value.version_id == counted_version(params))


def _valid(value=ReportValue) -> list:
    return [value.valid.is_(True), value.value.is_not(None)]


# The connection roll-up reads run on: the session's, or a snapshot reader (`_read_all`).
_reader: ContextVar[Connection | None] = ContextVar("rollup_reader", default=None)
READERS = 3  # connections of a parallel roll-up read: the Detail rows, and two for the grouped tables


def _connection() -> Connection:
    return _reader.get() or db.session.connection()


def _rows(stmt):
    """Result rows through Core (no ORM row processing)."""
    return _connection().execute(stmt)


def _read_all(units: dict[str, Callable[[], object]], parallel: bool) -> dict[str, object]:
    """Run a roll-up's independent reads: one after the other in the session's transaction, or
    (parallel, on any database but an in-memory SQLite one) at the same time on READERS
    connections that read one snapshot (grants.snapshots: committed data only; when the data
    keeps changing, one after the other after all). The database works on several cores
    meanwhile; the units come heaviest first, so the longest starts at once."""
    def one_after_the_other() -> dict[str, object]:
        return {name: unit() for name, unit in units.items()}

    if not (parallel and can_share_snapshot(db.engine)):
        return one_after_the_other()
    with ExitStack() as stack:
        try:
            readers = stack.enter_context(snapshot_readers(db.engine, READERS))
        except SnapshotUnavailable:  # the data kept changing: read it in the session's transaction
            return one_after_the_other()
        free: Queue[Connection] = Queue()
        for conn in readers:
            free.put(conn)

        def run(unit: Callable[[], object]) -> object:
            conn = free.get()
            token = _reader.set(conn)
            try:
                return unit()
            finally:
                _reader.reset(token)
                free.put(conn)

        with ThreadPoolExecutor(len(readers), thread_name_prefix="rollup-read") as pool:
            futures = {name: pool.submit(run, unit) for name, unit in units.items()}
            return {name: future.result() for name, future in futures.items()}


# --- grouped queries ----------------------------------------------------------------------------

# Statements built for one choice of filters and one grouping, reused while the filters are asked
# for again (building a SQLAlchemy statement costs more than the database takes to run the small
# ones); the database's values are read afresh every time. Bounded: emptied when full.
_STATEMENTS: dict[tuple, object] = {}
STATEMENTS_KEPT = 256


def _statements(key: tuple, build: Callable[[], object]):
    """What `build` makes for `key` on the roll-up connection's database, built once."""
    key = (_connection().dialect.name, *key)  # the JSON functions differ by database
    found = _STATEMENTS.get(key)
    if found is None:
        if len(_STATEMENTS) >= STATEMENTS_KEPT:
            _STATEMENTS.clear()
        found = _STATEMENTS[key] = build()
    return found


def _json(value) -> dict:
    """A JSON object the database built: text from SQLite (decoded by orjson: the FY2026 export's
    objects in a fifth of the standard library's time), already decoded by PostgreSQL's driver."""
    return orjson.loads(value) if isinstance(value, str) else value


def _count_stmt(params: RollupParams, keys: list, scope: list, places: tuple):
    today = params.on
    one = literal(1)
    stmt = _joined(select(
        *keys,
        func.count(distinct(Report.grant_id)),
        func.count(Report.id),
        func.sum(case((expected_expr(today), one), else_=0)),
        func.sum(case((submitted_expr(today), one), else_=0)),
        func.sum(case((on_time_expr(today), one), else_=0)),
        func.sum(case((Report.status == "excused", one), else_=0)),
        func.sum(case((and_(Report.status != "excused", counted_version(params).is_not(None)), one), else_=0)),
    ), places).where(*scope).group_by(*keys)
    return stmt


def _per_group(grouped, n: int):
    """From `grouped`, a statement of the n group keys, a cell key and a figure with one row per
    group and cell: a row per group of (the n keys..., a JSON object {cell key: figure}) built by
    the database, so Python reads a row per group instead of one per cell (`_cells_per_group`)."""
    sub = grouped.subquery()
    keys, (cell, figure) = list(sub.c)[:n], list(sub.c)[n:]
    return select(*keys, _json_object(cell, figure)).group_by(*keys)


def _cells_per_group(stmt, n: int) -> list[tuple]:
    return [(*row[:n], _json(row[n])) for row in _rows(stmt)]


def _cells_where(cells: str) -> list:
    """Which cells of the measures a grouped read gives: "all", "totals" or "categories"."""
    return {"all": [], "totals": [ReportValue.dimension == ""], "categories": [ReportValue.dimension != ""]}[cells]


def _flow_stmt(params: RollupParams, keys: list, codes: list[str], scope: list, places: tuple, cells: str):
    stmt = _values_join(_joined(select(*keys, ReportValue.cell, cast(func.sum(ReportValue.value), Float)), places),
                        params).where(*scope, Report.status != "excused", *_valid(), ReportValue.measure_code.in_(codes),
                                      *_cells_where(cells))
    return _per_group(stmt.group_by(*keys, ReportValue.cell), len(keys))


def _point_in_time_stmt(params: RollupParams, keys: list, time_keys: list, codes: list[str], scope: list,
                        places: tuple, cells: str):
    """Per grant the latest period with a counted value of the measure, summed across grants."""
    scope = [*scope, Report.status != "excused", *_valid(), ReportValue.measure_code.in_(codes)]
    latest = _values_join(_joined(select(
        Report.grant_id.label("grant_id"), ReportValue.measure_code.label("code"),
        *[k.label(f"t{i}") for i, k in enumerate(time_keys)], func.max(Report.period_start).label("latest"),
    ), places), params).where(*scope, ReportValue.dimension == "").group_by(
        Report.grant_id, ReportValue.measure_code, *time_keys).subquery()
    stmt = _values_join(_joined(select(*keys, ReportValue.cell, cast(func.sum(ReportValue.value), Float)), places),
                        params).join(latest, and_(
        latest.c.grant_id == Report.grant_id, latest.c.code == ReportValue.measure_code,
        latest.c.latest == Report.period_start,
        *[latest.c[f"t{i}"] == k for i, k in enumerate(time_keys)],
    )).where(*scope, *_cells_where(cells))
    return _per_group(stmt.group_by(*keys, ReportValue.cell), len(keys))


def _percent_stmt(params: RollupParams, keys: list, codes: list[str], scope: list, places: tuple):
    pct, weight = aliased(ReportValue), aliased(ReportValue)
    weight_code = case(*((pct.measure_code == p, literal(w)) for p, w in PERCENT_WEIGHTS.items()), else_=None)
    stmt = _values_join(_joined(select(
        *keys, pct.measure_code, func.sum(pct.value * weight.value, type_=Float), func.sum(weight.value, type_=Float),
        func.sum(pct.value, type_=Float), func.count(pct.id),
    ), places), params, pct).outerjoin(weight, and_(
        weight.version_id == pct.version_id, weight.measure_code == weight_code, weight.dimension == "",
        *_valid(weight),
    )).where(
        *scope, Report.status != "excused", *_valid(pct),
        pct.measure_code.in_(codes), pct.dimension == "",
    ).group_by(*keys, pct.measure_code)
    return stmt


def _grouped(params: RollupParams, keys: list, time_keys: list, measures: list[MeasureSpec], *,
             years: tuple[int, int] | None = None, cells: str = "all") -> dict[tuple, Agg]:
    """One Agg per distinct value of `keys`: counts, percent means and the measures' `cells` (`_cells_where`);
    "categories" gives the breakdown categories alone (no counts, no means). `years`: only the
    fiscal years from the first to the last."""
    out: dict[tuple, Agg] = {}
    n = len(keys)
    whole_reports = cells != "categories"  # counts and means are of whole reports
    flow = [m.code for m in measures if m.value_type != "percent" and not m.point_in_time]
    latest = [m.code for m in measures if m.value_type != "percent" and m.point_in_time]
    percent = [m.code for m in measures if m.value_type == "percent"] if whole_reports else []

    def build() -> tuple:
        scope = [*_scope(params), *([Report.fiscal_year.between(*years)] if years else [])]
        places = _joins(params, keys)
        return (_count_stmt(params, keys, scope, places) if whole_reports else None,
                _flow_stmt(params, keys, flow, scope, places, cells) if flow else None,
                _point_in_time_stmt(params, keys, time_keys, latest, scope, places, cells) if latest else None,
                _percent_stmt(params, keys, percent, scope, places) if percent else None)

    counts, flows, latests, percents = _statements(
        ("grouped", params, tuple(keys), tuple(time_keys), tuple(m.code for m in measures), years, cells), build)

    def agg(row) -> Agg:
        key = tuple(row[:n])
        if key not in out:
            out[key] = Agg()
        return out[key]

    for row in _rows(counts) if counts is not None else ():
        agg(row).add_counts(*row[n:])
    for stmt in (flows, latests):
        for row in _cells_per_group(stmt, n) if stmt is not None else ():
            agg(row).add_values(row[n])
    for row in _rows(percents) if percents is not None else ():
        agg(row).add_percent(*row[n:])
    return out


def measures_in_scope(params: RollupParams) -> list[MeasureSpec]:
    """The measures collected by the programs in scope, in catalogue order."""
    in_sets = select(MeasureSetItem.measure_id).join(MeasureSet, MeasureSet.id == MeasureSetItem.measure_set_id) \
        .join(Program, Program.id == MeasureSet.program_id)
    if params.program:
        in_sets = in_sets.where(Program.code == params.program)
    rows = db.session.scalars(select(MeasureDefinition).where(MeasureDefinition.id.in_(in_sets))
                              .order_by(MeasureDefinition.id))
    return [MeasureSpec.from_model(m) for m in rows]


def build_rollup(params: RollupParams, *, detail: bool = False, codes: tuple[str, ...] | None = None,
                 totals_only: bool = False, parallel: bool = False) -> Rollup:
    """Compute and suppress every roll-up table for `params`.

    Every publication of one choice of filters (the dashboard, its community drill-down, the API
    and the workbook) solves the same suppression problem, so none of them shows a figure another
    hides: each people measure's cells in every table (programs with their breakdown categories,
    communities, states, periods, the whole) and in every report in scope (the Detail sheet's
    rows, read by `people_values` when the Detail rows themselves are not needed). `codes` limits
    the measures: each measure is a problem of its own (no relation joins two measures), so a page
    showing a few measures hides exactly what the workbook hides of them. `totals_only` says the
    caller publishes measure totals alone (the dashboard): programs' breakdown categories are then
    read for the people measures only, which the suppression needs. `detail` adds the Detail
    sheet's reports with every value (`Rollup.details`, read once by `detail_values`, which also
    gives the report-level people counts); `parallel` runs the reads at the same time on
    connections sharing one snapshot (`_read_all`).
    """
    params = replace(params, today=params.on)  # one "today" for every read, whatever the clock does meanwhile
    measures = [m for m in measures_in_scope(params) if codes is None or m.code in codes]
    people_codes = {m.code for m in measures if is_people_cell(m)}
    last = params.fiscal_year or fiscal_year_of(params.on)
    units: dict[str, Callable[[], object]] = {}
    if detail:
        units["detail"] = lambda: detail_values(params, people_codes)
    elif people_codes:
        units["people"] = lambda: people_values(params, people_codes)
    # Every table adds up program x community cells: counts, means and measure totals (exact: a
    # grant belongs to one program and one community). Programs also publish breakdown categories.
    units["grain"] = lambda: _grouped(params, [Grant.program_id, Grant.community_id], [], measures, cells="totals")
    broken_down = [m for m in measures if any(c.dimension for c in m.cells) and (is_people_cell(m) or not totals_only)]
    if broken_down:
        units["categories"] = lambda: _grouped(params, [Grant.program_id], [], broken_down, cells="categories")
    units["trend"] = lambda: _grouped(
        params.without_period(), [Report.fiscal_year, Report.half], [Report.fiscal_year, Report.half],
        [m for m in measures if m.code in TREND_MEASURES], cells="totals",
        years=(last - TREND_YEARS + 1, last))
    units["programs_list"] = lambda: _rows(select(Program.id, Program.code, Program.name)).all()
    units["communities_list"] = lambda: _rows(select(
        Community.id, Community.name, Community.state, Community.community_type, Community.hhs_region)).all()
    read = _read_all(units, parallel)

    program_codes = {pid: code for pid, code, _ in read["programs_list"]}
    names = {code: name for _, code, name in read["programs_list"]}
    grain = {(program_codes[p], c): agg for (p, c), agg in read["grain"].items()}
    details, people = read["detail"] if detail else (None, read.get("people", []))
    in_grain = {community_id for _, community_id in grain}
    info = {row[0]: CommunityInfo(*row) for row in read["communities_list"] if row[0] in in_grain}
    total, programs, communities, states = Agg(), {}, {}, {}
    for (program_code, community_id), agg in sorted(grain.items()):
        communities.setdefault(community_id, Agg()).merge(agg)
        programs.setdefault(program_code, Agg()).merge(agg)
    for (program_id,), agg in read.get("categories", {}).items():
        programs.setdefault(program_codes[program_id], Agg()).add_values(agg.values)
    for agg in programs.values():
        total.merge(agg)
    for community_id, agg in communities.items():
        states.setdefault(info[community_id].state, Agg()).merge(agg)
    periods: dict[tuple[int, str], Agg] = dict(sorted(read["trend"].items()))
    rollup = Rollup(params, datetime.now(UTC), measures, names, total, dict(sorted(programs.items())),
                    dict(sorted(communities.items(), key=lambda kv: (info[kv[0]].state, info[kv[0]].name))),
                    info, dict(sorted(states.items())), periods,
                    Suppressor(current_app.config["SUPPRESSION_THRESHOLD"]), details, tuple(sorted(grain)))
    for region, in_region in rollup.region_states().items():
        for state in in_region:
            rollup.regions.setdefault(region, Agg()).merge(rollup.states[state])
    _register_suppression(rollup, people)
    rollup.suppressor.run()
    return rollup


# --- suppression --------------------------------------------------------------------------------

def _register_suppression(rollup: Rollup, people_in_reports: list[tuple]) -> None:
    """Publish every people-count cell of the roll-up and the additive relations among them;
    `people_in_reports` are the reports' own (`people_values`)."""
    sup, whole = rollup.suppressor, rollup.params.whole_program
    people = [m for m in rollup.measures if is_people_cell(m)]
    all_cells = [c.key for m in people for c in m.cells]
    total_cells = [m.code for m in people if m.has_total]

    def publish(level: tuple, agg: Agg, cells: list[str], exempt: bool = False) -> None:
        for key in cells:
            sup.cell((*level, key), agg.value(key), exempt=exempt)

    groups = [(m.code, [c.key for c in m.cells if c.dimension == dim]) for m in people for dim in m.breakdowns]

    def breakdowns(level: tuple) -> None:
        for code, keys in groups:
            sup.relate((*level, code), [(*level, key) for key in keys])

    publish(("total",), rollup.total, all_cells, exempt=whole)
    breakdowns(("total",))
    for code, agg in rollup.programs.items():
        publish(("program", code), agg, all_cells, exempt=whole)
        breakdowns(("program", code))
    for key in all_cells:
        sup.relate(("total", key), [("program", p, key) for p in rollup.programs])
    communities_of: dict[str, set[int]] = {}
    programs_of: dict[int, set[str]] = {}
    for program_code, cid in rollup.links:
        communities_of.setdefault(program_code, set()).add(cid)
        programs_of.setdefault(cid, set()).add(program_code)

    def whole_programs(cids: set[int]) -> bool:
        """These communities' grants are whole programs (every community of each of their
        programs is among them): with whole programs published, so is their row, exempt like
        the programs' own (hiding it would protect nothing, and would hide the programs)."""
        return whole and all(communities_of[p] <= cids for c in cids for p in programs_of.get(c, ()))

    in_state: dict[str, list[int]] = {}  # the communities of each state's row
    for cid in rollup.communities:
        in_state.setdefault(rollup.community_info[cid].state, []).append(cid)
    for cid, agg in rollup.communities.items():
        publish(("community", cid), agg, total_cells, exempt=whole_programs({cid}))
    for state, agg in rollup.states.items():
        publish(("state", state), agg, total_cells, exempt=whole_programs(set(in_state[state])))
    region_states = rollup.region_states()
    for region, agg in rollup.regions.items():
        publish(("region", region), agg, total_cells,
                exempt=whole_programs({cid for state in region_states[region] for cid in in_state[state]}))
    for key in total_cells:
        sup.relate(("total", key), [("state", s, key) for s in rollup.states])
        for state in rollup.states:
            sup.relate(("state", state, key), [("community", cid, key) for cid in in_state[state]])
        sup.relate(("total", key), [("region", r, key) for r in rollup.regions])
        for region, states in region_states.items():
            sup.relate(("region", region, key), [("state", s, key) for s in states])
    for i, (programs, communities) in enumerate(rollup.link_groups()):
        # The group's programs' sum (never published itself) = its communities' sum. Hiding it
        # means hiding one of its programs too.
        for key in total_cells:
            values = [v for v in (rollup.programs[p].value(key) for p in programs if p in rollup.programs) if v is not None]
            if values:
                sup.cell(("programs of group", i, key), sum(values), exempt=True)
                sup.relate(("programs of group", i, key), [("community", c, key) for c in communities])
                sup.relate(("programs of group", i, key), [("program", p, key) for p in programs])
    if rollup.periods:
        headline = [k for k in total_cells if k in TREND_MEASURES]
        for period, agg in rollup.periods.items():
            publish(("period", period), agg, headline, exempt=whole)
        if rollup.params.fiscal_year and not rollup.params.half:
            halves = [p for p in rollup.periods if p[0] == rollup.params.fiscal_year]
            for key in headline:
                sup.relate(("total", key), [("period", p, key) for p in halves])
    if people_in_reports:
        by_community: dict[int, set[int]] = {}
        by_program: dict[str, set[int]] = {}
        cell, last, programs = sup.cell, None, rollup.programs
        for report_id, program_code, community_id, key, value in people_in_reports:
            # A report whose count is its whole program's (the program's other reports counted 0)
            # is a whole-program figure, exempt like the program's own: hiding it would protect
            # nothing, and would hide the program.
            cell(("report", report_id, key), value, exempt=whole and value == programs[program_code].value(key))
            if report_id != last:
                last = report_id
                by_community.setdefault(community_id, set()).add(report_id)
                by_program.setdefault(program_code, set()).add(report_id)
        for report_id in {r for reports in by_program.values() for r in reports}:
            breakdowns(("report", report_id))
        for cid, reports in by_community.items():
            ordered = sorted(reports)
            for key in total_cells:
                sup.relate(("community", cid, key), (("report", r, key) for r in ordered))
        for code, reports in by_program.items():
            ordered = sorted(reports)
            for key in all_cells:
                sup.relate(("program", code, key), (("report", r, key) for r in ordered))


# --- the Detail sheet: one row per report ------------------------------------------------------

class DetailRow(NamedTuple):
    report_id: int
    award_number: str
    program: str
    organization: str
    community: str
    state: str
    hhs_region: int
    fiscal_year: int
    half: str
    report_type: str
    status: str
    effective_due_date: date
    first_submitted_at: datetime | None
    timeliness: str
    version_number: int | None
    values: dict[str, float]


def _detail_order():
    return (Program.code, Grant.award_number, Report.period_start, Report.id)


def _json_object(key, value):
    """The grouped rows' key -> value pairs as one JSON object, built by the database (one row per
    report instead of one per value). SQLite writes REAL values with 15 significant digits: exact
    for every valid value (counts up to 10 million, percents, currency up to the award amount's
    14 digits)."""
    if _connection().dialect.name == "postgresql":
        return func.json_object_agg(key, value)
    return func.json_group_object(key, value)


def detail_values(params: RollupParams, people_codes: set[str]) -> tuple[list[DetailRow], list[tuple]]:
    """Every report in scope with the values of its counted version (the Detail rows), and the
    people counts among them (`people_values`' rows), from one read of the values."""
    reports_stmt, values = _statements(("detail", params), lambda: (
        _reports_query(params, extra=(Grant.community_id,)),
        # grouped in the order the fiscal-year index gives the reports, so no sort is needed
        _values_join(_joined(select(Report.id, _json_object(ReportValue.cell, ReportValue.value)),
                             _joins(params, [])), params)
        .where(*_scope(params), Report.status != "excused", *_valid())
        .group_by(Report.fiscal_year, Report.half, Report.id)))
    reports = _rows(reports_stmt).all()
    by_report = {report_id: _json(cells) for report_id, cells in _rows(values)}
    details = [DetailRow._make((*row[:15], by_report.get(row[0]) or {})) for row in reports]
    # DetailRow: 0 report id, 2 program, 8 half; then the extra community id
    return details, _people_rows(((row[0], row[2], row[15], row[8], by_report.get(row[0])) for row in reports),
                                 people_codes)


def people_values(params: RollupParams, people_codes: set[str]) -> list[tuple]:
    """(report id, program, community id, cell key, value) of every counted value of the measures
    `people_codes` in the reports in scope: the suppression's report-level cells, what the
    workbook's Detail sheet publishes of them (the same rows as `detail_values` gives)."""
    codes = tuple(sorted(people_codes))
    stmt = _statements(("people", params, codes), lambda: _values_join(_joined(select(
        Report.id, Program.code, Grant.community_id, Report.half, _json_object(ReportValue.cell, ReportValue.value),
    )), params).where(
        *_scope(params), Report.status != "excused", *_valid(), ReportValue.measure_code.in_(codes),
    ).group_by(Report.id, Program.code, Grant.community_id, Report.half))
    return _people_rows(((*row[:4], _json(row[4])) for row in _rows(stmt)), people_codes)


def _people_rows(reports, people_codes: set[str]) -> list[tuple]:
    """From (report id, program, community id, half, {cell key: value} or None) of each report:
    its people counts, in period, report, cell order, so the suppression's choices depend neither
    on the order the database returns rows in nor on which read gave them."""
    reports = sorted((r for r in reports if r[4]), key=lambda r: (r[3], r[0]))
    keys = sorted(key for key in set().union(*(r[4] for r in reports)) if key.split(".", 1)[0] in people_codes)
    people: list[tuple] = []
    for report_id, program_code, community_id, _, cells in reports:
        people.extend((report_id, program_code, community_id, key, int(value))
                      for key, value in zip(keys, map(cells.get, keys)) if value is not None)
    return people


def detail_count(params: RollupParams) -> int:
    return db.session.scalar(_joined(select(func.count(Report.id))).where(*_scope(params))) or 0


def _reports_query(params: RollupParams, where: tuple = (), extra: tuple = ()):
    """The Detail row of each report in scope (DetailRow's fields in order), then `extra` columns."""
    version = aliased(ReportVersion)
    return _joined(select(
        Report.id, Grant.award_number, Program.code, Organization.legal_name, Community.name, Community.state,
        Community.hhs_region, Report.fiscal_year, Report.half, Report.report_type, Report.status,
        Report.effective_due_date, Report.first_submitted_at, timeliness_expr(params.on), version.number, *extra,
    )).join(Organization, Organization.id == Grant.organization_id) \
        .outerjoin(version, and_(version.id == counted_version(params), Report.status != "excused")) \
        .where(*_scope(params), *where).order_by(*_detail_order())


def report_rows(params: RollupParams, where: tuple = ()) -> list[DetailRow]:
    """The reports behind a roll-up row (no values): the dashboard's drill-down. `where` adds
    conditions such as the viewer's grant scope."""
    return [DetailRow(*row, values={}) for row in _rows(_reports_query(params, where))]
