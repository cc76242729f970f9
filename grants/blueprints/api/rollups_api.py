"""API: roll-ups, the same figures as the dashboard (`reporting.rollup.build_rollup`), with the
same survivor-privacy suppression."""
from __future__ import annotations

from marshmallow import RAISE

from grants.blueprints.api.common import api_blueprint, documented, roles
from grants.blueprints.api.schemas import RollupQuerySchema, RollupSchema
from grants.measures import cell_label
from reporting.rollup import (
    TREND_MEASURES,
    Agg,
    Rollup,
    RollupParams,
    aggregation_label,
    build_rollup,
    published_cells,
)
from reporting.suppression import note

bp = api_blueprint("api_rollups", "Roll-ups for officers and leadership (the dashboard's figures).")


def _figure_text(spec, value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if spec.value_type == "currency":
        return f"{value:.2f}"
    if spec.value_type == "percent":
        return f"{value:.1f}"
    return str(round(value))


def _row(rollup: Rollup, level: tuple, agg: Agg, group: dict, label: str, *, all_cells: bool,
         only: tuple[str, ...] | None = None) -> dict:
    figures = []
    names = {m.code: m.name for m in rollup.measures}
    for spec in rollup.measures:
        if only is not None and spec.code not in only:
            continue
        aggregation = aggregation_label(spec, names)
        for cell in published_cells(spec, breakdowns=all_cells):
            shown = rollup.figure(level, agg, spec, cell.key)
            figures.append({"key": cell.key, "measure": spec.code, "label": cell_label(spec, cell),
                            "value_type": spec.value_type, "value": _figure_text(spec, shown),
                            "suppressed": isinstance(shown, str), "aggregation": aggregation})
    return {"group": group, "label": label, "grants": agg.grants, "reports": agg.reports, "expected": agg.expected,
            "submitted": agg.submitted, "on_time": agg.on_time, "excused": agg.excused, "counted": agg.counted,
            "uncounted": agg.uncounted, "completeness": agg.completeness, "on_time_rate": agg.on_time_rate, "figures": figures}


@bp.route("/rollups")
@documented(bp, 403, 422)
@roles("program_officer", "leadership")
@bp.arguments(RollupQuerySchema, location="query", unknown=RAISE)
@bp.response(200, RollupSchema)
def rollup_read(args: dict):
    """Counts of grants and reports, completeness, on-time rate and measure figures, grouped."""
    params = RollupParams(
        fiscal_year=args.get("fiscal_year"), half=args.get("half") if args.get("fiscal_year") else None,
        program=(args.get("program") or "").upper() or None, state=(args.get("state") or "").upper() or None,
        region=args.get("hhs_region"), community_type=args.get("community_type"),
        include_submitted=args["include_submitted"],
    )
    grouping = args["group_by"]
    rollup = build_rollup(params)
    rows = []
    if grouping == "program":
        rows = [_row(rollup, ("program", code), agg, {"program": code}, rollup.program_names.get(code, code),
                     all_cells=True) for code, agg in rollup.programs.items()]
    elif grouping == "community":
        for cid, agg in rollup.communities.items():
            info = rollup.community_info[cid]
            rows.append(_row(rollup, ("community", cid), agg, {"community_id": cid, "state": info.state,
                                                                "community_type": info.community_type,
                                                                "hhs_region": info.hhs_region},
                             info.name, all_cells=False))
    elif grouping == "state":
        rows = [_row(rollup, ("state", state), agg, {"state": state, "hhs_region": rollup.state_region(state)},
                     state, all_cells=False) for state, agg in rollup.states.items()]
    elif grouping == "region":
        states = rollup.region_states()
        rows = [_row(rollup, ("region", region), agg, {"hhs_region": region, "states": states[region]},
                     f"HHS Region {region}", all_cells=False) for region, agg in rollup.regions.items()]
    else:
        rows = [_row(rollup, ("period", period), agg, {"fiscal_year": period[0], "half": period[1]},
                     f"FY{period[0]} {period[1]}", all_cells=False, only=TREND_MEASURES)
                for period, agg in rollup.periods.items()]
    return {
        "filters": dict(params.describe()), "generated_at": rollup.generated_at,
        "suppression_note": note(rollup.threshold),
        "total": _row(rollup, ("total",), rollup.total, {}, "All in scope", all_cells=True),
        "rows": rows,
    }
