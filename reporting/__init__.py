"""Roll-ups for leadership and officers: set-based queries, survivor-privacy suppression, workbooks.

`reporting.rollup.build_rollup(params)` computes every table of the dashboard and the roll-up
workbook in a handful of GROUP BY queries; `reporting.workbooks.build(name, params, stream)` writes
a workbook (the download route, `flask reports export` and the scheduled job all call it).
"""
