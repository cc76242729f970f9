"""Award administration: organizations, communities and grants set up by admins, their reports
opened at once, what stays fixed once reports exist, edits made on out-of-date pages, and the
programs a program officer works in."""
from __future__ import annotations

import re
from datetime import date

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import AuditEvent, Community, Grant, Organization, ProgramOfficer, Report, User, UserMessage
from tests.factories import CommunityFactory, OrganizationFactory, program
from tests.test_review import client_for, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)



def _lock(html: str) -> str:
    return re.search(r'name="lock_version" type="hidden" value="(\d+)"', html).group(1)


def _grant_data(world, **overrides) -> dict:
    community = CommunityFactory(name="Lucas County, OH")
    db.session.commit()
    data = {"award_number": "90ZV0777-01-00", "program_id": str(program("YCCR").id),
            "organization_id": str(world.certifier.organization_id), "community_id": str(community.id),
            "officer_id": str(world.officer.id), "title": "Youth response in Lucas County",
            "start_date": "2025-10-01", "end_date": "2028-09-30", "award_amount": "750,000", "status": "active"}
    data.update(overrides)
    return data


def test_only_admins_open_award_administration(app, world):
    data = _grant_data(world, award_number="90ZV0778-01-00")
    for user in (world.officer, world.certifier):
        client = client_for(app, user)
        for path in ("/admin/grants", "/admin/grants/new", f"/admin/grants/{world.grant.id}", "/admin/organizations",
                     "/admin/communities", f"/admin/users/{world.officer.id}/programs"):
            assert client.get(path).status_code == 403, path
        assert client.post("/admin/grants/new", data=data).status_code == 403
    assert db.session.scalar(select(Grant).where(Grant.award_number == "90ZV0778-01-00")) is None


def test_a_new_grant_gets_the_reports_of_its_started_periods_at_once(app, world, admin):
    client = client_for(app, admin)
    response = client.post("/admin/grants/new", data=_grant_data(world))
    assert response.status_code == 302
    grant = db.session.scalar(select(Grant).where(Grant.award_number == "90ZV0777-01-00"))
    assert grant.award_amount == 750_000 and grant.officer_id == world.officer.id
    reports = db.session.scalars(select(Report).where(Report.grant_id == grant.id).order_by(Report.period_start)).all()
    # Mid-May 2026: FY2026 H1 (due Apr 30) and FY2026 H2 (started Apr 1) have started; FY2027 H1 has not.
    assert [(r.period_label, r.due_date, r.status) for r in reports] == [
        ("FY2026 H1", date(2026, 4, 30), "not_started"), ("FY2026 H2", date(2026, 10, 30), "not_started")]
    page = client.get(response.location)
    html = page.get_data(as_text=True)
    assert "Grant 90ZV0777-01-00 created. 2 reports opened for started periods." in html
    assert "FY2026 H2" in html and "Oct 30, 2026" in html
    # The grantee sees it on their list, and the officer in the portfolio.
    assert "90ZV0777-01-00" in client_for(app, world.certifier).get("/reports").get_data(as_text=True)
    assert "90ZV0777-01-00" in client_for(app, world.officer).get("/portfolio").get_data(as_text=True)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "grant_award.insert",
                                                       AuditEvent.entity_id == grant.id))
    assert event.user_id == admin.id and event.changes["award_number"] == [None, "90ZV0777-01-00"]


@pytest.mark.parametrize("field, value, message", [
    ("award_number", "90-ZV-0777", "Enter the award number as on the Notice of Award"),
    ("award_number", None, "Another grant has award number"),  # the world's grant's number
    ("program_id", "0", "Choose the program."),
    ("organization_id", "999999", "Choose the grantee organization."),
    ("community_id", "0", "Choose the community the grant serves."),
    ("officer_id", "CERTIFIER", "Choose an active program officer"),
    ("start_date", "2025-02-30", "Not a valid date value."),
    ("end_date", "2025-09-30", "The period of performance must end after it starts."),
    ("end_date", "2040-09-30", "at most 10 years"),
    ("award_amount", "six hundred", "Enter the award amount in dollars"),
    ("award_amount", "0", "Enter an amount greater than $0"),
    ("award_amount", "100.001", "Use whole cents"),
    ("award_amount", "", "Enter the award amount."),
    ("status", "paused", "Choose the grant's status."),
])
def test_a_bad_grant_is_refused_beside_its_field_with_every_typed_value_kept(app, world, admin, field, value, message):
    if value is None:
        value = world.grant.award_number
    if value == "CERTIFIER":
        value = str(world.certifier.id)
    data = _grant_data(world, **{field: value})
    response = client_for(app, admin).post("/admin/grants/new", data=data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error-1">[^<]*{re.escape(escape(message))}', html)
    assert 'value="Youth response in Lucas County"' in html, "typed values stay in the form"
    assert db.session.scalar(select(Grant).where(Grant.award_number == "90ZV0777-01-00")) is None


def test_once_a_grant_has_reports_its_number_program_organization_and_start_stay(app, world, admin):
    client = client_for(app, admin)
    html = client.get(f"/admin/grants/{world.grant.id}").get_data(as_text=True)
    assert 'name="award_number"' not in html and 'name="program_id"' not in html and 'name="start_date"' not in html
    assert "These stay as they are" in html
    before = (world.grant.award_number, world.grant.program_id, world.grant.organization_id, world.grant.start_date)
    response = client.post(f"/admin/grants/{world.grant.id}", data={
        "lock_version": _lock(html), "award_number": "90ZV9999-01-00", "program_id": str(program("DVHT").id),
        "organization_id": str(OrganizationFactory().id), "start_date": "2020-10-01",
        "community_id": str(world.grant.community_id), "officer_id": str(world.officer.id), "title": "Renamed",
        "end_date": world.grant.end_date.isoformat(), "award_amount": "600000", "status": "active"})
    assert response.status_code == 302
    db.session.expire_all()
    grant = db.session.get(Grant, world.grant.id)
    assert (grant.award_number, grant.program_id, grant.organization_id, grant.start_date) == before
    assert grant.title == "Renamed"


def test_moving_the_end_date_moves_the_final_report(app, world, admin):
    client = client_for(app, admin)
    grant = world.grant  # Oct 1, 2024 to Sep 30, 2027: the final report is FY2027 H2
    final = next(r for r in world.reports if r.report_type == "final")
    assert final.period_label == "FY2027 H2"
    html = client.get(f"/admin/grants/{grant.id}").get_data(as_text=True)
    response = client.post(f"/admin/grants/{grant.id}", data={
        "lock_version": _lock(html), "community_id": str(grant.community_id), "officer_id": str(world.officer.id),
        "title": "", "end_date": "2027-03-31", "award_amount": "600,000.00", "status": "active"})
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "moved to the new period of performance" in page and "the program officer can excuse it" in page
    db.session.expire_all()
    by_label = {r.period_label: r for r in db.session.scalars(select(Report).where(Report.grant_id == grant.id))}
    assert by_label["FY2027 H1"].report_type == "final" and by_label["FY2027 H1"].due_date == date(2027, 7, 29)
    assert by_label["FY2027 H2"].status == "not_started", "kept (nothing is deleted), for the officer to excuse"


def test_an_edit_from_an_out_of_date_page_is_refused_and_shows_the_saved_values(app, world, admin):
    first, second = client_for(app, admin), client_for(app, admin)
    html = first.get(f"/admin/grants/{world.grant.id}").get_data(as_text=True)
    stale_lock = _lock(html)
    base = {"community_id": str(world.grant.community_id), "officer_id": str(world.officer.id),
            "end_date": world.grant.end_date.isoformat(), "award_amount": "600000", "status": "active"}
    assert second.post(f"/admin/grants/{world.grant.id}",
                       data={**base, "lock_version": stale_lock, "title": "Saved by the other admin"}).status_code == 302
    response = first.post(f"/admin/grants/{world.grant.id}", data={**base, "lock_version": stale_lock, "title": "Mine"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "changed by someone else after you opened it" in html
    assert re.search(r"Project title</th><td>Mine</td><td>Saved by the other admin</td>", html)
    db.session.expire_all()
    assert db.session.get(Grant, world.grant.id).title == "Saved by the other admin"
    # The form now carries the saved version: saving again is a deliberate choice, and works.
    again = first.post(f"/admin/grants/{world.grant.id}", data={**base, "lock_version": _lock(html), "title": "Mine"})
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Grant, world.grant.id).title == "Mine"


def test_admin_adds_and_corrects_an_organization(app, world, admin):
    client = client_for(app, admin)
    bad = client.post("/admin/organizations/new", data={
        "legal_name": "Harbor Light", "ein": "521234567", "uei": "OHLYS1234567", "state": "", "zip_code": "212"})
    assert bad.status_code == 400
    html = bad.get_data(as_text=True)
    for field, message in (("ein", "2 digits, a hyphen and 7 digits"), ("uei", "12-character Unique Entity ID"),
                           ("state", "Choose a state"), ("zip_code", "5-digit ZIP code")):
        assert re.search(rf'id="{field}-error-1">[^<]*{message}', html), field
    assert 'value="Harbor Light"' in html
    taken = client.post("/admin/organizations/new", data={
        "legal_name": "Harbor Light", "ein": world.certifier.organization.ein, "uei": "HLYS12345678", "state": "MD"})
    assert "Another organization has this EIN." in taken.get_data(as_text=True)
    created = client.post("/admin/organizations/new", data={
        "legal_name": "  Harbor Light Youth Services  ", "ein": "52-1234567", "uei": "hlys12345678",
        "address": "1 Pratt St", "city": "Baltimore", "state": "md", "zip_code": "21201"})
    assert created.status_code == 302
    org = db.session.scalar(select(Organization).where(Organization.ein == "52-1234567"))
    assert (org.legal_name, org.uei, org.state) == ("Harbor Light Youth Services", "HLYS12345678", "MD")
    html = client.get(created.location).get_data(as_text=True)
    edited = client.post(created.location, data={
        "lock_version": _lock(html), "legal_name": "Harbor Light Youth Services, Inc.", "ein": "52-1234567",
        "uei": "HLYS12345678", "state": "MD", "city": "Baltimore"})
    assert edited.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organization, org.id).legal_name == "Harbor Light Youth Services, Inc."
    assert "Harbor Light Youth Services, Inc." in client.get("/admin/organizations?q=harbor").get_data(as_text=True)


def test_a_community_s_region_follows_its_state(app, world, admin):
    client = client_for(app, admin)
    assert client.post("/admin/communities/new", data={
        "name": "Baltimore City, MD", "state": "MD", "community_type": "urban"}).status_code == 302
    community = db.session.scalar(select(Community).where(Community.name == "Baltimore City, MD"))
    assert community.hhs_region == 3
    duplicate = client.post("/admin/communities/new", data={
        "name": "baltimore city, md", "state": "MD", "community_type": "rural"})
    assert "There is already a community called baltimore city, md in MD." in duplicate.get_data(as_text=True)
    html = client.get(f"/admin/communities/{community.id}").get_data(as_text=True)
    assert client.post(f"/admin/communities/{community.id}", data={
        "lock_version": _lock(html), "name": "Baltimore City, MD", "state": "CA", "community_type": "urban"}
    ).status_code == 302
    db.session.expire_all()
    assert db.session.get(Community, community.id).hhs_region == 9


def test_admin_sets_the_programs_of_a_program_officer(app, world, admin):
    client = client_for(app, admin)
    yccr, dvht = program("YCCR"), program("DVHT")
    db.session.commit()
    officer = world.outsider_officer  # works in DVHT only: does not see the world's YCCR grant
    assert client_for(app, officer).get(f"/grants/{world.grant.id}").status_code == 404
    html = client.get(f"/admin/users/{officer.id}/programs").get_data(as_text=True)
    checked = {re.search(r'value="(\d+)"', tag).group(1) for tag in re.findall(r"<input[^>]*checkbox[^>]*>", html)
               if re.search(r"\bchecked\b", tag)}
    assert checked == {str(dvht.id)}
    assert client.post(f"/admin/users/{officer.id}/programs", data={"programs": [str(yccr.id)]}).status_code == 302
    rows = db.session.scalars(select(ProgramOfficer.program_id).where(ProgramOfficer.user_id == officer.id)).all()
    assert rows == [yccr.id]
    assert client_for(app, officer).get(f"/grants/{world.grant.id}").status_code == 200
    # Someone who is not a program officer has no such page.
    assert client.get(f"/admin/users/{world.certifier.id}/programs").status_code == 404
    assert client.post(f"/admin/users/{officer.id}/programs", data={"programs": ["999999"]}).status_code == 400


def test_lists_search_and_escape_what_admins_typed(app, world, admin):
    client = client_for(app, admin)
    world.grant.title = '<script>alert("x")</script>'
    db.session.commit()
    html = client.get("/admin/grants?q=script").get_data(as_text=True)
    assert world.grant.award_number in html and "<script>alert" not in html and "&lt;script&gt;" in html
    assert "1 grant." in html
    assert "0 grants." in client.get("/admin/grants?q=nothing-like-this").get_data(as_text=True)
    assert world.grant.award_number in client.get("/admin/grants?program=YCCR&status=active").get_data(as_text=True)
    assert world.grant.award_number not in client.get("/admin/grants?status=closed").get_data(as_text=True)
    assert world.grant.community.name in client.get("/admin/communities?state=OH").get_data(as_text=True)


def test_a_new_program_officer_s_account_page_leads_to_choosing_their_programs(app, world, admin):
    response = client_for(app, admin).post("/admin/users/new", data={
        "email": "new.officer@example.test", "name": "New Officer", "role": "program_officer",
        "organization_id": "0", "title": "", "phone": ""})
    officer = db.session.scalar(select(User).where(User.email == "new.officer@example.test"))
    assert f'href="/admin/users/{officer.id}/programs"' in response.get_data(as_text=True)
    grantee = client_for(app, admin).post("/admin/users/new", data={
        "email": "new.editor@example.test", "name": "New Editor", "role": "grantee_editor",
        "organization_id": str(world.certifier.organization_id), "title": "", "phone": ""})
    assert "Choose New Editor" not in grantee.get_data(as_text=True)


def test_the_new_and_the_previous_officer_hear_of_a_reassignment(app, world, admin):
    client = client_for(app, admin)
    html = client.get(f"/admin/grants/{world.grant.id}").get_data(as_text=True)
    assert client.post(f"/admin/grants/{world.grant.id}", data={
        "lock_version": _lock(html), "community_id": str(world.grant.community_id),
        "officer_id": str(world.program_colleague.id), "end_date": world.grant.end_date.isoformat(),
        "award_amount": "600000", "status": "active"}).status_code == 302
    new = client_for(app, world.program_colleague).get("/notifications").get_data(as_text=True)
    assert f"Assigned to you: {world.grant.award_number}" in new
    old = client_for(app, world.officer).get("/notifications").get_data(as_text=True)
    assert f"No longer assigned to you: {world.grant.award_number}" in old
    assert f"is now {world.program_colleague.name}&#39;s." in old
    # Saving again without a change of officer tells no one anything new.
    before = db.session.scalar(select(func.count(UserMessage.id)))
    html = client.get(f"/admin/grants/{world.grant.id}").get_data(as_text=True)
    client.post(f"/admin/grants/{world.grant.id}", data={
        "lock_version": _lock(html), "community_id": str(world.grant.community_id), "title": "Retitled",
        "officer_id": str(world.program_colleague.id), "end_date": world.grant.end_date.isoformat(),
        "award_amount": "600000", "status": "active"})
    assert db.session.scalar(select(func.count(UserMessage.id))) == before


def test_a_deactivated_officer_stays_assigned_until_someone_is_chosen(app, world, admin):
    world.officer.active = False
    db.session.commit()
    client = client_for(app, admin)
    html = client.get(f"/admin/grants/{world.grant.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{world.officer.id}">{world.officer.name} \(account deactivated\)', html)
    assert client.post(f"/admin/grants/{world.grant.id}", data={
        "lock_version": _lock(html), "community_id": str(world.grant.community_id), "title": "Retitled",
        "officer_id": str(world.officer.id), "end_date": world.grant.end_date.isoformat(),
        "award_amount": "600000", "status": "active"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Grant, world.grant.id).officer_id == world.officer.id, "not unassigned by an unrelated edit"
    other = client.post("/admin/grants/new", data=_grant_data(world, officer_id=str(world.officer.id)))
    assert "Choose an active program officer" in other.get_data(as_text=True), "but not given new grants"


def test_altered_pages_get_answers_not_errors(app, world, admin):
    """What the fuzzer found: a lock version that is not a number, ids too large for the database."""
    client = client_for(app, admin)
    base = {"community_id": str(world.grant.community_id), "end_date": world.grant.end_date.isoformat(),
            "award_amount": "600000", "status": "active"}
    assert client.post(f"/admin/grants/{world.grant.id}", data={**base, "lock_version": "Infinity"}).status_code == 409
    huge = "99999999999999999999"
    response = client.post("/admin/grants/new", data=_grant_data(world, program_id=huge, officer_id="abc"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose the program." in html and "Choose an active program officer" in html
    assert client.post(f"/admin/users/{world.officer.id}/programs", data={"programs": [huge]}).status_code == 400
    assert client.get(f"/admin/grants/{huge}").status_code == 404
