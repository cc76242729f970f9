"""Leadership's dashboard (also open to program officers): headline figures, charts, the table by
community with a drill-down to the reports behind a row, every measure by program, and the same
view as an Excel workbook."""
from __future__ import annotations

import tempfile
from dataclasses import replace

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from markupsafe import Markup

from forms.rollups import MEASURE_TABLES, DashboardFilterForm, MeasuresFilterForm
from grants import web
from grants.errors import NotFound
from grants.extensions import db
from grants.formatting import fmt_number
from grants.models import Community
from grants.security import roles_required
from grants.services import access
from reporting import workbooks
from reporting.rollup import TREND_MEASURES, TREND_YEARS, Agg, Rollup, build_rollup, report_rows
from reporting.suppression import note
from reporting.workbooks.rollup import generated_filename

bp = Blueprint("rollups", __name__)
VIEWERS = ("leadership", "program_officer")
# The measures the page shows: in the headline, in the chart by program (and its table), in the
# table by community; the trend shows reporting.rollup.TREND_MEASURES.
HEADLINE_MEASURES = ("CLI-01", "CLI-02", "PRT-01", "FIN-01")
CHART_MEASURES = ("CLI-01", "CLI-02", "CLI-03")
COMMUNITY_MEASURES = ("CLI-01", "CLI-02")
DASHBOARD_MEASURES = tuple(dict.fromkeys((*HEADLINE_MEASURES, *CHART_MEASURES, *COMMUNITY_MEASURES, *TREND_MEASURES)))
# Short column headings for the narrow tables (the full names are in the headline and the workbook).
SHORT_NAMES = {"CLI-01": "Clients served", "CLI-02": "New clients", "CLI-03": "Cases closed",
               "PRT-01": "Partnerships", "FIN-01": "Funds expended"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register(app) -> None:
    app.register_blueprint(bp)
    web.register_nav("Dashboard", "rollups.dashboard", VIEWERS)


@bp.app_template_filter("rollup_figure")
def rollup_figure(value, value_type: str = "count") -> Markup:
    """A published figure: the number in its format, or its suppression label, marked as such."""
    if isinstance(value, str):
        return Markup('<span class="app-suppressed">%s</span>') % value
    return Markup.escape(fmt_number(value, value_type))


@bp.app_template_filter("rollup_rate")
def rollup_rate(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _page_context(rollup: Rollup) -> dict:
    """What the dashboard and its community page both show of a roll-up besides its tables."""
    return {"rollup": rollup, "note": note(rollup.threshold), "names": {m.code: m.name for m in rollup.measures},
            "short": SHORT_NAMES, "headline_measures": HEADLINE_MEASURES, "chart_measures": CHART_MEASURES,
            "community_measures": COMMUNITY_MEASURES, "trend_measures": TREND_MEASURES}


def _filters(community_id: int | None = None):
    form = DashboardFilterForm(request.args)
    return form, form.to_params(community_id=community_id)


@bp.route("/dashboard")
@roles_required(*VIEWERS)
def dashboard():
    form, params = _filters()
    rollup = build_rollup(params, codes=DASHBOARD_MEASURES, totals_only=True)
    return render_template("rollups/dashboard.html", form=form, params=params, charts=dashboard_charts(rollup),
                           trend_years=TREND_YEARS, **_page_context(rollup))


@bp.route("/dashboard/measures")
@roles_required(*VIEWERS)
def measures():
    """Every measure by program (the workbook's Summary, on the web), region or state, with the
    dashboard's filters."""
    form = MeasuresFilterForm(request.args)
    params = form.to_params()
    by = form.to_columns()
    rollup = build_rollup(params)
    return render_template("rollups/measures.html", form=form, params=params, by=by, table=MEASURE_TABLES[by],
                           columns=rollup.columns(by), rows=rollup.measure_table(by), **_page_context(rollup))


@bp.route("/dashboard/communities/<int:community_id>")
@roles_required(*VIEWERS)
def community_detail(community_id: int):
    community = db.session.get(Community, community_id)
    if community is None:
        raise NotFound("We could not find that community.")
    _, params = _filters(community_id)
    dashboard_params = replace(params, community_id=None)
    # The row as the dashboard publishes it, suppression marks included: computed for this
    # community alone, a figure hidden there to protect another would show.
    rollup = build_rollup(dashboard_params, codes=DASHBOARD_MEASURES, totals_only=True)
    rows = report_rows(params, (access.grant_scope(current_user),))
    return render_template("rollups/community.html", params=params, community=community, rows=rows,
                           row=rollup.communities.get(community_id, Agg()),
                           dashboard_args=dashboard_params.query_args(), **_page_context(rollup))


@bp.route("/dashboard/export.xlsx")
@roles_required(*VIEWERS)
def rollup_download():
    _, params = _filters()
    stream = tempfile.TemporaryFile()
    try:
        workbooks.build("rollup", params, stream)
    except workbooks.WorkbookTooLarge as exc:
        stream.close()
        flash(str(exc), "error")
        return redirect(url_for("rollups.dashboard", **params.query_args()))
    stream.seek(0)
    return send_file(stream, mimetype=XLSX, as_attachment=True, download_name=generated_filename(params),
                     max_age=0)


def _chart_value(rollup: Rollup, key: tuple, value):
    shown = rollup.shown(key, value)
    return None if isinstance(shown, str) or shown is None else round(shown, 1)


def _pct(rate: float | None):
    return None if rate is None else round(rate * 100, 1)


def dashboard_charts(rollup: Rollup) -> dict[str, dict]:
    """Chart.js specs (static/js/app.js draws them); suppressed figures are gaps, and the page
    shows every number in a table next to its chart."""
    programs = list(rollup.programs)
    names = {m.code: m.name for m in rollup.measures}
    percent_axis = {"scales": {"y": {"min": 0, "max": 100, "title": {"display": True, "text": "Percent"}}}}
    charts = {
        "chart-measures": {
            "type": "bar", "labels": programs, "options": {"scales": {"y": {"beginAtZero": True}}},
            "datasets": [{"label": SHORT_NAMES[code], "data": [_chart_value(rollup, ("program", p, code),
                                                                      rollup.programs[p].value(code)) for p in programs]}
                         for code in CHART_MEASURES if code in names],
        },
        "chart-rates": {
            "type": "bar", "labels": programs, "options": percent_axis,
            "datasets": [
                {"label": "Completeness (%)", "data": [_pct(rollup.programs[p].completeness) for p in programs]},
                {"label": "On-time rate (%)", "data": [_pct(rollup.programs[p].on_time_rate) for p in programs]},
            ],
        },
    }
    periods = list(rollup.periods)
    labels = [f"FY{fy} {half}" for fy, half in periods]
    charts["chart-trend-rates"] = {
        "type": "line", "labels": labels, "options": percent_axis,
        "datasets": [
            {"label": "Completeness (%)", "data": [_pct(rollup.periods[p].completeness) for p in periods]},
            {"label": "On-time rate (%)", "data": [_pct(rollup.periods[p].on_time_rate) for p in periods]},
        ],
    }
    if "CLI-01" in names:
        # A period whose reports are not all in the figures yet is drawn dashed, its label saying
        # how many are (app.js: "incomplete"); the trend table gives the same counts.
        incomplete = [rollup.periods[p].uncounted > 0 for p in periods]
        charts["chart-trend-clients"] = {
            "type": "line", "incomplete": incomplete,
            "options": {"scales": {"y": {"beginAtZero": True}, "x": {"ticks": {"maxRotation": 0}}}},
            "labels": [[label, _counted_label(rollup.periods[p])] if partial else label
                       for label, p, partial in zip(labels, periods, incomplete)],
            "datasets": [{"label": SHORT_NAMES["CLI-01"], "data": [
                _chart_value(rollup, ("period", p, "CLI-01"), rollup.periods[p].value("CLI-01")) for p in periods]}],
        }
    return charts


def _counted_label(agg: Agg) -> str:
    """'11 of 38 in': how many of a period's reports (not excused) its figures count."""
    return f"{agg.counted:,} of {agg.countable:,} in"
