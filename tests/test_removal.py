"""Deleting an organization, a community or a grant entered by mistake: only while nothing depends
on it, refused from an out-of-date page, one transaction, and kept in the audit trail."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import AuditEvent, Community, Grant, Organization, Report
from tests.factories import CommunityFactory, GrantFactory, OrganizationFactory, UserFactory, open_reports
from tests.test_review import client_for, file_report, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)


def _lock(html: str) -> str:
    section = re.search(r'<section[^>]*aria-labelledby="delete-heading">(.*?)</section>', html, re.S).group(1)
    return re.search(r'name="lock_version" value="(\d+)"', section).group(1)


def _delete(client, page: str) -> tuple:
    html = client.get(page).get_data(as_text=True)
    return client.post(f"{page}/delete", data={"lock_version": _lock(html)}), html


def test_an_unused_organization_is_deleted_and_the_audit_trail_keeps_its_values(app, world, admin):
    org = OrganizationFactory(legal_name="Typo Services, Inc.")
    db.session.commit()
    client = client_for(app, admin)
    response, html = _delete(client, f"/admin/organizations/{org.id}")
    assert "Nothing depends on Typo Services, Inc. yet" in html
    assert response.status_code == 302 and response.location.endswith("/admin/organizations")
    assert db.session.get(Organization, org.id) is None
    assert "Typo Services, Inc. deleted. The audit trail keeps its values." in client.get(response.location).get_data(
        as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "organization.delete",
                                                       AuditEvent.entity_id == org.id))
    assert event.user_id == admin.id and event.changes["legal_name"] == ["Typo Services, Inc.", None]


def test_an_organization_with_grants_or_accounts_is_kept_and_says_why(app, world, admin):
    client = client_for(app, admin)
    org = world.grant.organization
    html = client.get(f"/admin/organizations/{org.id}").get_data(as_text=True)
    # The world's organization has its grant and two staff accounts (certifier and editor).
    assert "It cannot be deleted: 1 grant and 2 staff accounts belong to it." in html
    assert 'aria-labelledby="delete-heading">' in html and f"/admin/organizations/{org.id}/delete" not in html
    response = client.post(f"/admin/organizations/{org.id}/delete", data={"lock_version": str(org.lock_version)})
    assert response.status_code == 302 and response.location.endswith(f"/admin/organizations/{org.id}")
    assert "It cannot be deleted" in client.get(response.location).get_data(as_text=True)
    assert db.session.get(Organization, org.id) is not None
    only_staff = OrganizationFactory()
    UserFactory(role="grantee_editor", organization=only_staff)
    db.session.commit()
    html = client.get(f"/admin/organizations/{only_staff.id}").get_data(as_text=True)
    assert "It cannot be deleted: 1 staff account belongs to it." in html


def test_a_community_is_deleted_only_when_no_grant_serves_it(app, world, admin):
    client = client_for(app, admin)
    served = world.grant.community
    html = client.get(f"/admin/communities/{served.id}").get_data(as_text=True)
    assert "It cannot be deleted: 1 grant serves it. Move them to another community first." in html
    response = client.post(f"/admin/communities/{served.id}/delete", data={"lock_version": str(served.lock_version)})
    assert response.status_code == 302 and db.session.get(Community, served.id) is not None
    empty = CommunityFactory(name="Nowhere County, KS")
    db.session.commit()
    response, _ = _delete(client, f"/admin/communities/{empty.id}")
    assert response.status_code == 302 and db.session.get(Community, empty.id) is None


def test_a_grant_whose_reports_are_untouched_goes_with_its_reports(app, world, admin):
    mistaken = GrantFactory(award_number="90ZV0999-01-00")
    reports = open_reports(mistaken)
    db.session.commit()
    assert reports
    report_ids = [r.id for r in reports]
    client = client_for(app, admin)
    response, html = _delete(client, f"/admin/grants/{mistaken.id}")
    assert "Nothing depends on grant 90ZV0999-01-00 yet" in html
    assert response.status_code == 302 and response.location.endswith("/admin/grants")
    assert db.session.get(Grant, mistaken.id) is None
    assert db.session.scalar(select(func.count(Report.id)).where(Report.id.in_(report_ids))) == 0
    deleted = db.session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "report.delete")).all()
    assert sorted(deleted) == sorted(report_ids)


def test_a_grant_with_a_report_worked_on_is_kept(app, world, admin):
    file_report(world.report("FY2026 H1"), world.certifier)
    client = client_for(app, admin)
    html = client.get(f"/admin/grants/{world.grant.id}").get_data(as_text=True)
    assert "It cannot be deleted: its reports have been worked on" in html
    response = client.post(f"/admin/grants/{world.grant.id}/delete",
                           data={"lock_version": str(world.grant.lock_version)})
    assert response.status_code == 302
    assert db.session.get(Grant, world.grant.id) is not None
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action.like("%.delete"))) == 0


def test_a_deletion_from_an_out_of_date_page_is_refused(app, world, admin):
    org = OrganizationFactory(legal_name="Renamed Later, Inc.")
    db.session.commit()
    client = client_for(app, admin)
    stale = _lock(client.get(f"/admin/organizations/{org.id}").get_data(as_text=True))
    org.city = "Dayton"  # someone else saves the organization meanwhile
    db.session.commit()
    response = client.post(f"/admin/organizations/{org.id}/delete", data={"lock_version": stale})
    assert response.status_code == 302
    assert "changed by someone else after you opened it" in client.get(response.location).get_data(as_text=True)
    assert db.session.get(Organization, org.id) is not None


def test_only_admins_delete_and_unknown_ids_are_404(app, world, admin):
    org = OrganizationFactory()
    db.session.commit()
    for user in (world.officer, world.certifier):
        assert client_for(app, user).post(f"/admin/organizations/{org.id}/delete",
                                          data={"lock_version": "1"}).status_code == 403
    assert db.session.get(Organization, org.id) is not None
    client = client_for(app, admin)
    for path in ("/admin/organizations/99999/delete", "/admin/communities/99999/delete", "/admin/grants/99999/delete"):
        assert client.post(path, data={"lock_version": "1"}).status_code == 404
