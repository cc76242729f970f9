"""The SQL timeliness expression agrees with the pure rule (grants.periods.timeliness) row by row,
on whichever database the suite runs on (SQLite or PostgreSQL)."""
from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.models import Report
from grants.periods import TIMELINESS, deadline_instant, fiscal_year_of, half_of, timeliness
from grants.services.timeliness import expected_expr, on_time_expr, submitted_expr, timeliness_expr
from tests.factories import GrantFactory

STATUSES = ("not_started", "draft", "submitted", "returned", "accepted", "excused")
# Days from today to the effective due date: overdue, the due day itself, due-soon boundaries 14/15.
DUE_OFFSETS = (-30, -1, 0, 1, 13, 14, 15, 60)
# First submission relative to the deadline instant (23:59:59 Eastern on the effective due date).
SUBMITTED = {
    "never": None,
    "a day early": timedelta(days=-1),
    "one second early": timedelta(seconds=-1),
    "at 23:59:59 ET": timedelta(0),
    "half a second late": timedelta(microseconds=500_000),
    "at 00:00:00 ET next day": timedelta(seconds=1),
    "five days late": timedelta(days=5),
}
EXTENDED = (False, True)


def build_grid(today: date) -> list[tuple[Report, str]]:
    grant = GrantFactory()
    mset = grant.program.measure_sets[-1]
    rows = []
    combos = itertools.product(STATUSES, DUE_OFFSETS, SUBMITTED.items(), EXTENDED)
    for n, (status, offset, (when, delta), extended) in enumerate(combos):
        effective = today + timedelta(days=offset)
        due = effective - timedelta(days=20) if extended else effective
        deadline = deadline_instant(effective)
        start = date(2000, 1, 1) + timedelta(days=n)
        report = Report(
            grant=grant, fiscal_year=fiscal_year_of(start), half=half_of(start), report_type="interim",
            period_start=start, period_end=start, due_date=due, effective_due_date=effective,
            deadline_at=deadline, status=status, measure_set=mset,
            first_submitted_at=None if delta is None else deadline + delta,
        )
        rows.append((report, f"{status}, due in {offset} days, submitted {when}, extended={extended}"))
    db.session.add_all(r for r, _ in rows)
    db.session.flush()
    return rows


@pytest.mark.parametrize("today", [date(2026, 1, 10), date(2026, 7, 10), date(2026, 3, 1)],
                         ids=["winter EST", "summer EDT", "across the DST change"])
def test_sql_timeliness_matches_the_pure_rule_for_every_report_state(app, today):
    rows = build_grid(today)
    sql_state = dict(db.session.execute(select(Report.id, timeliness_expr(today))).all())
    mismatches = []
    for report, description in rows:
        expected = timeliness(report.status, report.first_submitted_at, report.effective_due_date, today)
        if sql_state[report.id] != expected:
            mismatches.append(f"{description}: SQL {sql_state[report.id]!r}, rule {expected!r}")
    assert not mismatches, "\n".join(mismatches)
    assert set(sql_state.values()) == set(TIMELINESS)


def test_sql_timeliness_reads_stored_values_back_from_the_database(app):
    today = date(2026, 4, 20)
    build_grid(today)
    db.session.commit()
    db.session.expire_all()
    states = Counter()
    for report, state in db.session.execute(select(Report, timeliness_expr(today))).all():
        assert state == timeliness(report.status, report.first_submitted_at, report.effective_due_date, today)
        states[state] += 1
    assert set(states) == set(TIMELINESS)


def test_expected_submitted_and_on_time_conditions_agree_with_the_rule(app):
    today = date(2026, 1, 10)
    build_grid(today)
    query = select(Report, expected_expr(today), submitted_expr(today), on_time_expr(today))
    counts = Counter()
    for report, expected, submitted, on_time in db.session.execute(query).all():
        state = timeliness(report.status, report.first_submitted_at, report.effective_due_date, today)
        assert bool(expected) == (state != "excused" and report.effective_due_date < today)
        assert bool(submitted) == (bool(expected) and state in ("submitted_on_time", "submitted_late"))
        assert bool(on_time) == (bool(expected) and state == "submitted_on_time")
        counts.update(expected=bool(expected), submitted=bool(submitted), on_time=bool(on_time))
    assert 0 < counts["on_time"] < counts["submitted"] < counts["expected"]
