"""The analyst's way, for comparison: pandas read_sql + pivot_table + to_excel (openpyxl) writing
the roll-up workbook's Detail sheet (one row per report, every measure cell as a column) for a
fiscal year, from the official versions. No suppression: it is only the cost of the usual route."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import text

REPORTS = text("""
SELECT r.id AS report_id, g.award_number AS "Award number", p.code AS "Program", o.legal_name AS "Organization",
       c.name AS "Community", c.state AS "State", c.hhs_region AS "HHS region", r.fiscal_year AS "Fiscal year",
       r.half AS "Period", r.report_type AS "Report type", r.status AS "Status",
       r.effective_due_date AS "Effective due date", r.first_submitted_at AS "First submitted",
       r.deadline_at AS deadline_at, v.number AS "Version counted"
FROM report r
JOIN grant_award g ON g.id = r.grant_id
JOIN program p ON p.id = g.program_id
JOIN organization o ON o.id = g.organization_id
JOIN community c ON c.id = g.community_id
LEFT JOIN report_version v ON v.id = r.official_version_id AND r.status <> 'excused'
WHERE r.fiscal_year = :fy
ORDER BY p.code, g.award_number, r.period_start, r.id
""")
VALUES = text("""
SELECT r.id AS report_id, rv.measure_code, rv.dimension, rv.category, rv.value
FROM report r JOIN report_value rv ON rv.version_id = r.official_version_id
WHERE r.fiscal_year = :fy AND r.status <> 'excused' AND rv.valid AND rv.value IS NOT NULL
""")


def detail_sheet(engine, fiscal_year: int, today: date, path: str) -> tuple[int, int]:
    """Write the Detail sheet with pandas; returns (rows, columns)."""
    with engine.connect() as conn:
        reports = pd.read_sql(REPORTS, conn, params={"fy": fiscal_year},
                              parse_dates=["Effective due date", "First submitted", "deadline_at"])
        values = pd.read_sql(VALUES, conn, params={"fy": fiscal_year})
    values["cell"] = np.where(values["dimension"] == "", values["measure_code"],
                              values["measure_code"] + "." + values["dimension"] + "." + values["category"])
    wide = values.pivot_table(index="report_id", columns="cell", values="value", aggfunc="first")
    submitted = reports["First submitted"].notna()
    late = submitted & (reports["First submitted"] > reports["deadline_at"])
    due = reports["Effective due date"].dt.date
    reports["Timeliness"] = np.select(
        [reports["Status"] == "excused", late, submitted, due < today],
        ["Excused", "Submitted late", "Submitted on time", "Overdue"], default="Open")
    reports["First submitted"] = reports["First submitted"].dt.tz_localize(None)
    detail = reports.drop(columns=["deadline_at"]).merge(wide, left_on="report_id", right_index=True, how="left")
    detail = detail.drop(columns=["report_id"])
    detail.to_excel(path, sheet_name="Detail", index=False, engine="openpyxl")
    return detail.shape
