"""Handing a program officer's grants over to another officer: all of them or one program's, in one
transaction, refused from an out-of-date page, audited, told to both officers, and the grants' work
(reviews, extension requests) following the grants."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import AuditEvent, ExtensionRequest, Grant, UserMessage
from tests.factories import GrantFactory, UserFactory, open_reports, program
from tests.test_extensions import OVERDUE, ask, decide, pending_of
from tests.test_review import client_for, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)


def _page(client, officer) -> str:
    response = client.get(f"/admin/users/{officer.id}/grants")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _expected(html: str) -> str:
    return re.search(r'id="expected" name="expected" type="hidden" value="([0-9a-f]+)"', html).group(1)


def _officer_grants(officer) -> list[str]:
    return list(db.session.scalars(select(Grant.award_number).where(Grant.officer_id == officer.id)
                                   .order_by(Grant.award_number)))


@pytest.fixture(name="portfolio")
def portfolio_fixture(world):
    """The world's officer with a second YCCR grant and a DVHT grant besides the world's own."""
    second = GrantFactory(award_number="90ZV0900-01-00", officer=world.officer, program=program("YCCR"))
    dvht = GrantFactory(award_number="90TS0900-01-00", officer=world.officer, program=program("DVHT"))
    db.session.commit()
    return world.grant, second, dvht


def test_the_page_lists_the_officers_grants_by_program_with_the_work_that_moves(app, world, admin, portfolio):
    report = world.report(OVERDUE)
    assert ask(app, world, report, date(2026, 6, 15)).status_code == 302
    html = _page(client_for(app, admin), world.officer)
    assert "is the program officer of 3 grants" in html
    yccr = re.search(r"<th scope=\"row\">YCCR: [^<]*</th>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r">(\d+)</td>", yccr) == ["2", "2", "0", "1"]  # grants, active, awaiting review, extensions
    assert re.search(r"<th scope=\"row\">DVHT: [^<]*</th>", html)
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', html)
    assert ("all", f"All {world.officer.name}&#39;s grants (3)") in options
    assert (str(world.officer.id), world.officer.name) not in options  # not a receiver of their own grants
    assert (str(world.program_colleague.id), world.program_colleague.name) in options


def test_one_programs_grants_move_and_both_officers_are_told(app, world, admin, portfolio):
    grant, second, dvht = portfolio
    client = client_for(app, admin)
    html = _page(client, world.officer)
    response = client.post(f"/admin/users/{world.officer.id}/grants", data={
        "program_id": str(program("YCCR").id), "to_officer_id": str(world.program_colleague.id), "expected": _expected(html)})
    assert response.status_code == 302
    assert _officer_grants(world.program_colleague) == sorted([grant.award_number, second.award_number])
    assert _officer_grants(world.officer) == [dvht.award_number]
    page = client.get(response.location).get_data(as_text=True)
    assert f"2 grants moved from {world.officer.name} to {world.program_colleague.name}. Both were told in the app." in page
    received = db.session.scalar(select(UserMessage).where(UserMessage.user_id == world.program_colleague.id))
    assert received.subject == f"2 grants handed over to you by {world.officer.name}"
    assert grant.award_number in received.body and second.award_number in received.body
    left = db.session.scalar(select(UserMessage).where(UserMessage.user_id == world.officer.id))
    assert left.subject == f"2 grants handed over to {world.program_colleague.name}"
    assert dvht.award_number not in left.body
    # Each grant's change is in the audit trail like an edit on its own page, and the handover as a whole.
    changes = db.session.scalars(select(AuditEvent.changes).where(
        AuditEvent.action == "grant_award.update", AuditEvent.grant_id.in_([grant.id, second.id]))).all()
    assert [c["officer_id"] for c in changes] == [[world.officer.id, world.program_colleague.id]] * 2
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "grant.handover"))
    assert event.entity_id == world.officer.id and event.user_id == admin.id
    assert event.changes["grants moved"] == [None, 2]


def test_all_grants_move_and_their_pending_work_follows_them(app, world, admin, portfolio):
    report = world.report(OVERDUE)
    assert ask(app, world, report, date(2026, 6, 15)).status_code == 302
    extension = pending_of(report)
    client = client_for(app, admin)
    response = client.post(f"/admin/users/{world.officer.id}/grants", data={
        "program_id": "all", "to_officer_id": str(world.program_colleague.id), "expected": _expected(_page(client, world.officer))})
    assert response.status_code == 302
    assert _officer_grants(world.officer) == []
    assert len(_officer_grants(world.program_colleague)) == 3
    # The extension request is now the new officer's to decide, and no longer the previous one's.
    assert decide(app, world.officer, extension, "approve", date(2026, 6, 15)).status_code in (403, 404)
    assert db.session.get(ExtensionRequest, extension.id).status == "pending"
    db.session.refresh(extension)
    assert decide(app, world.program_colleague, extension, "approve", date(2026, 6, 15)).status_code == 302
    assert db.session.get(ExtensionRequest, extension.id).status == "approved"
    assert "There is nothing to hand over." in _page(client, world.officer)


def test_a_page_older_than_the_officers_grants_moves_nothing(app, world, admin, portfolio):
    client = client_for(app, admin)
    stale = _expected(_page(client, world.officer))
    GrantFactory(award_number="90ZV0901-01-00", officer=world.officer, program=program("YCCR"))  # assigned meanwhile
    db.session.commit()
    response = client.post(f"/admin/users/{world.officer.id}/grants", data={
        "program_id": "all", "to_officer_id": str(world.program_colleague.id), "expected": stale})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "grants changed since the page was opened. Check the figures below and move them again." in html
    assert "All " in html and "grants (4)" in html  # today's figures
    assert _officer_grants(world.program_colleague) == []
    assert db.session.scalar(select(func.count(UserMessage.id))) == 0
    # The page drawn again carries today's grants: moving from it works.
    response = client.post(f"/admin/users/{world.officer.id}/grants", data={
        "program_id": "all", "to_officer_id": str(world.program_colleague.id), "expected": _expected(html)})
    assert response.status_code == 302 and len(_officer_grants(world.program_colleague)) == 4


@pytest.mark.parametrize("field, value, message", [
    ("to_officer_id", "", "Choose the active program officer who takes over"),
    ("to_officer_id", "self", "Choose the active program officer who takes over"),
    ("to_officer_id", "grantee", "Choose the active program officer who takes over"),
    ("to_officer_id", "inactive", "Choose the active program officer who takes over"),
    ("to_officer_id", "99999999999999999999", "Choose the active program officer who takes over"),
    ("program_id", "other", "Choose which of"),
    ("program_id", "x", "Choose which of"),
])
def test_bad_choices_move_nothing_and_are_named_beside_their_field(app, world, admin, portfolio, field, value, message):
    inactive = UserFactory(role="program_officer", active=False)
    other_program = program("HTYPE")
    db.session.commit()
    client = client_for(app, admin)
    data = {"program_id": "all", "to_officer_id": str(world.program_colleague.id),
            "expected": _expected(_page(client, world.officer))}
    data[field] = {"self": str(world.officer.id), "grantee": str(world.certifier.id), "inactive": str(inactive.id),
                   "other": str(other_program.id)}.get(value, value)
    response = client.post(f"/admin/users/{world.officer.id}/grants", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error-message"|{field}-error', html)
    assert message.lower() in html.lower().replace("&#39;", "'")
    assert len(_officer_grants(world.officer)) == 3


def test_only_admins_hand_over_and_only_officers_have_a_handover_page(app, world, admin, portfolio):
    for user in (world.officer, world.program_colleague, world.certifier):
        client = client_for(app, user)
        assert client.get(f"/admin/users/{world.officer.id}/grants").status_code == 403
        assert client.post(f"/admin/users/{world.officer.id}/grants", data={
            "program_id": "all", "to_officer_id": str(world.program_colleague.id), "expected": "x"}).status_code == 403
    assert len(_officer_grants(world.officer)) == 3
    client = client_for(app, admin)
    assert client.get(f"/admin/users/{world.certifier.id}/grants").status_code == 404
    assert client.get("/admin/users/99999/grants").status_code == 404


def test_a_deactivated_officers_page_says_their_grants_wait_for_them(app, world, admin, portfolio):
    world.officer.active = False
    db.session.commit()
    html = _page(client_for(app, admin), world.officer)
    assert "their account is deactivated: their grants wait for them until they are moved" in html


def test_the_grant_list_filters_by_officer_and_unassigned(app, world, admin, portfolio):
    unassigned = GrantFactory(award_number="90ZV0950-01-00", officer=None)
    open_reports(unassigned)
    db.session.commit()
    client = client_for(app, admin)
    html = client.get(f"/admin/grants?officer={world.officer.id}").get_data(as_text=True)
    assert "3 grants." in html and unassigned.award_number not in html
    html = client.get("/admin/grants?officer=none").get_data(as_text=True)
    assert "1 grant." in html and unassigned.award_number in html
    assert client.get("/admin/grants?officer=junk").status_code == 200
