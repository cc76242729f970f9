"""The audit trail: searched by admins, edited by no one (the database refuses UPDATE and DELETE)."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from grants import audit
from grants.extensions import db
from grants.models import AuditEvent
from tests.factories import UserFactory
from tests.test_review import TODAY, client_for, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)


@pytest.fixture
def admin(world):
    user = UserFactory(role="admin")
    db.session.commit()
    return user


def listed_actions(html: str) -> list[str]:
    return re.findall(r'<th scope="row">([a-z0-9_.]+)</th>', html)


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action = 'tampered'", "DELETE FROM audit_event"])
def test_the_database_refuses_to_change_or_delete_audit_rows(app, world, statement):
    audit.record("test.event", changes={"x": 1}, label="test")
    db.session.commit()
    before = db.session.query(AuditEvent).count()
    with pytest.raises(DBAPIError):
        db.session.execute(text(statement))
        db.session.commit()
    db.session.rollback()
    assert db.session.query(AuditEvent).count() == before
    assert db.session.query(AuditEvent).filter_by(action="tampered").count() == 0


def test_the_orm_refuses_to_change_an_audit_row(app, world):
    event = db.session.query(AuditEvent).first()
    event.action = "tampered"
    with pytest.raises(audit.AuditTamperingError):
        db.session.flush()
    db.session.rollback()


def test_no_page_accepts_a_change_to_the_audit_trail(app, world, admin):
    client = client_for(app, admin)
    for method in ("post", "put", "delete", "patch"):
        assert getattr(client, method)("/admin/audit").status_code == 405


def test_admin_searches_by_user_grant_report_and_date_range(app, world, admin):
    report = world.report("FY2026 H1")
    officer = client_for(app, world.officer)
    officer.post(f"/review/reports/{report.id}/excuse", data={"excuse-lock_version": str(report.lock_version),
                                                              "excuse-reason": "Suspended."})
    client = client_for(app, admin)
    by_user = client.get(f"/admin/audit?user={world.officer.email}").get_data(as_text=True)
    assert "report.update" in listed_actions(by_user)
    assert all(a not in ("grant_award.insert",) for a in listed_actions(by_user))
    by_grant = client.get(f"/admin/audit?award_number={world.grant.award_number}").get_data(as_text=True)
    assert "grant_award.insert" in listed_actions(by_grant) and "report.update" in listed_actions(by_grant)
    by_report = listed_actions(client.get(f"/admin/audit?report_id={report.id}").get_data(as_text=True))
    assert "report_transition.insert" in by_report
    assert "grant_award.insert" not in by_report
    day = TODAY.date()
    in_range = client.get(f"/admin/audit?report_id={report.id}&date_from={day}&date_to={day}").get_data(as_text=True)
    assert "report.update" in listed_actions(in_range)
    later = client.get(f"/admin/audit?date_from={day + timedelta(days=1)}").get_data(as_text=True)
    assert listed_actions(later) == [] and "No event matches." in later
    assert client.get("/admin/audit?report_id=abc").status_code == 400
    by_action = listed_actions(client.get("/admin/audit?action=Transition").get_data(as_text=True))
    assert by_action and set(by_action) == {"report_transition.insert"}
    assert listed_actions(client.get("/admin/audit?action=100%25").get_data(as_text=True)) == []  # % is a character


def test_audit_list_pages_fifty_events_newest_first(app, world, admin):
    base = datetime(2026, 5, 1, tzinfo=UTC)
    for i in range(60):
        db.session.add(AuditEvent(at=base + timedelta(minutes=i), action=f"bulk.e{i:02d}", actor_label="bulk"))
    db.session.commit()
    client = client_for(app, admin)
    first = listed_actions(client.get("/admin/audit?user=bulk").get_data(as_text=True))
    assert len(first) == 50 and first[0] == "bulk.e59"
    second = listed_actions(client.get("/admin/audit?user=bulk&page=2").get_data(as_text=True))
    assert second[-1] == "bulk.e00" and len(second) == 10


def test_recorded_instants_read_in_eastern_time_and_other_values_as_recorded(app, world, admin):
    db.session.add(AuditEvent(at=datetime(2026, 5, 1, tzinfo=UTC), action="test.changed", actor_label="fmt",
                              changes={"last_login_at": ["2026-11-30T23:14:15.100990+00:00", "2026-12-01T13:05:09+00:00"],
                                       "title": [None, "2026-12-01T13:05:09+00:00 is text"], "note": "<b>kept</b>"}))
    db.session.commit()
    html = client_for(app, admin).get("/admin/audit?user=fmt").get_data(as_text=True)
    assert "Nov 30, 2026, 6:14:15 p.m. ET → Dec 1, 2026, 8:05:09 a.m. ET" in html
    assert "∅ → 2026-12-01T13:05:09+00:00 is text" in html and "&lt;b&gt;kept&lt;/b&gt;" in html


def test_only_admins_open_the_audit_trail(app, world):
    assert client_for(app, world.officer).get("/admin/audit").status_code == 403
    assert client_for(app, world.certifier).get("/admin/audit").status_code == 403
