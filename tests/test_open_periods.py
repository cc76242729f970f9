"""open-periods: a report for every started period of every active award, realigned when the
award's end date changes, never rewriting a submitted report."""
from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.models import ExtensionRequest, Report
from grants.periods import EASTERN, deadline_instant
from schedules.jobs import run_job
from tests.factories import GrantFactory, UserFactory


def open_on(day: date) -> dict:
    with time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=EASTERN), tick=False):
        run = run_job("open-periods")
    assert run.outcome == "succeeded", run.error
    return run.counts


def reports_of(grant) -> list[Report]:
    db.session.expire_all()
    return db.session.scalars(select(Report).where(Report.grant_id == grant.id).order_by(Report.period_start)).all()


def test_a_new_award_gets_a_report_for_each_started_period_once(app):
    grant = GrantFactory(start_date=date(2025, 1, 15), end_date=date(2027, 9, 30))
    db.session.commit()
    assert open_on(date(2025, 10, 1))["opened"] == 3
    assert open_on(date(2025, 10, 2))["opened"] == 0
    reports = reports_of(grant)
    assert [(r.period_label, r.period_start, r.period_end, r.due_date) for r in reports] == [
        ("FY2025 H1", date(2025, 1, 15), date(2025, 3, 31), date(2025, 4, 30)),
        ("FY2025 H2", date(2025, 4, 1), date(2025, 9, 30), date(2025, 10, 30)),
        ("FY2026 H1", date(2025, 10, 1), date(2026, 3, 31), date(2026, 4, 30)),
    ]
    assert all(r.status == "not_started" and r.report_type == "interim" for r in reports)
    assert reports[0].deadline_at == deadline_instant(date(2025, 4, 30))


def test_closed_awards_get_no_new_reports(app):
    grant = GrantFactory(start_date=date(2024, 10, 1), end_date=date(2025, 9, 30), status="closed")
    db.session.commit()
    open_on(date(2025, 10, 1))
    assert reports_of(grant) == []


def test_extended_end_date_turns_the_final_report_interim_and_opens_new_periods(app):
    grant = GrantFactory(start_date=date(2024, 10, 1), end_date=date(2025, 11, 15))
    db.session.commit()
    open_on(date(2025, 11, 1))
    final = reports_of(grant)[-1]
    assert (final.report_type, final.period_end, final.due_date) == ("final", date(2025, 11, 15), date(2026, 3, 15))
    certifier = UserFactory(role="grantee_certifier", organization=grant.organization)
    db.session.add(ExtensionRequest(report_id=final.id, requested_by_id=certifier.id, requested_date=date(2026, 5, 20),
                                    reason="More time", status="approved", approved_date=date(2026, 5, 20)))
    grant.end_date = date(2026, 9, 30)
    db.session.commit()
    counts = open_on(date(2026, 4, 2))
    assert counts["realigned"] == 1 and counts["opened"] == 1
    reports = reports_of(grant)
    old_final = reports[-2]
    assert (old_final.report_type, old_final.period_end, old_final.due_date) == ("interim", date(2026, 3, 31), date(2026, 4, 30))
    assert old_final.effective_due_date == date(2026, 5, 20)  # the approved extension still counts
    assert old_final.deadline_at == deadline_instant(date(2026, 5, 20))
    new_final = reports[-1]
    assert (new_final.report_type, new_final.period_start, new_final.due_date) == ("final", date(2026, 4, 1), date(2027, 1, 28))


def test_shortened_award_makes_the_new_last_period_final_but_never_rewrites_a_submitted_report(app):
    grant = GrantFactory(start_date=date(2024, 10, 1), end_date=date(2026, 9, 30))
    db.session.commit()
    open_on(date(2026, 4, 2))
    first, second, third, fourth = reports_of(grant)
    first.status, first.first_submitted_at = "submitted", datetime(2025, 4, 20, tzinfo=UTC)
    grant.end_date = date(2025, 2, 28)
    db.session.commit()
    counts = open_on(date(2026, 4, 3))
    first, *later = reports_of(grant)
    assert (first.report_type, first.period_end, first.due_date) == ("interim", date(2025, 3, 31), date(2025, 4, 30))
    assert counts["realigned"] == 0 and counts["outside_performance"] == 3
    assert len(later) == 3  # nothing of a report is deleted; the officer can excuse them
