"""The officer's review page and its actions: accept, return, remark, excuse; who may see and act;
two officers acting at once; private remarks never reaching the grantee.

The helpers at the top (a small world of one program, two organizations and three officers, and
a report filed through the real services) are shared by the other officer-side test modules.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from grants.demo import generate_values
from grants.errors import ValidationFailed
from grants.extensions import db
from grants.models import Grant, Remark, Report, ReportTransition, User
from grants.periods import EASTERN
from grants.services import reports as report_service
from tests.conftest import login
from tests.factories import (
    PASSWORD,
    GrantFactory,
    OrganizationFactory,
    UserFactory,
    assign_officer,
    open_reports,
    program,
)

# Mid-May 2026: FY2026 H1 (due Apr 30) is 15 days overdue, FY2026 H2 has started.
TODAY = datetime(2026, 5, 15, 12, 0, tzinfo=EASTERN)
PRIVATE_TEXT = "Private note: discuss staffing at the site visit."


@dataclass
class World:
    grant: Grant
    reports: list[Report]
    certifier: User
    editor: User
    other_certifier: User
    officer: User
    program_colleague: User
    outsider_officer: User

    def report(self, label: str) -> Report:
        return next(r for r in self.reports if r.period_label == label)


def make_world() -> World:
    yccr, dvht = program("YCCR"), program("DVHT")
    org = OrganizationFactory()
    certifier = UserFactory(role="grantee_certifier", organization=org)
    editor = UserFactory(role="grantee_editor", organization=org)
    other_certifier = UserFactory(role="grantee_certifier")
    officer = UserFactory(role="program_officer")
    colleague = UserFactory(role="program_officer")
    outsider = UserFactory(role="program_officer")
    assign_officer(officer, yccr)
    assign_officer(colleague, yccr)
    assign_officer(outsider, dvht)
    grant = GrantFactory(organization=org, officer=officer, program=yccr)
    reports = open_reports(grant)
    db.session.commit()
    return World(grant, reports, certifier, editor, other_certifier, officer, colleague, outsider)


def world_in_may(app):
    """The world, with the clock stopped at TODAY for the whole test."""
    with time_machine.travel(TODAY, tick=False):
        yield make_world()


world_fixture = pytest.fixture(name="world")(world_in_may)


def client_for(app, user: User):
    return login(app.test_client(), user.email, PASSWORD)


def file_report(report: Report, certifier: User, seed: int = 1, narrative: str = "We served survivors.",
                now: datetime | None = None, clients: float = 40) -> None:
    """Draft, explain any warning, certify and submit through the services; commits."""
    raw = generate_values(report_service.report_specs(report), clients, Decimal("1000.00"), random.Random(seed))
    narratives = {"narrative_accomplishments": narrative}
    if report.report_type == "final":
        narratives["narrative_cumulative"] = "Over the award we built a coordinated response."
    version, result = report_service.save_draft(report, certifier, raw, narratives, {}, None)
    if result.warnings:
        report_service.save_draft(report, certifier, raw, narratives,
                                  {w.code: "The period was shorter than usual." for w in result.warnings},
                                  version.lock_version)
    report_service.submit_report(report, certifier, {"name": certifier.name, "title": "Director", "phone": "202-555-0101",
                                                     "email": certifier.email, "agree": True}, None, now=now)
    db.session.commit()


def lock_of(html: str, action: str) -> str:
    """The lock_version hidden field of the form posting to .../<action>."""
    form = re.search(rf'action="[^"]*/{action}"(.*?)</form>', html, re.S)
    assert form, f"no {action} form on the page"
    return re.search(r'name="[a-z]+-lock_version" type="hidden" value="(\d+)"', form.group(1)).group(1)


ACTION_PREFIXES = {"accept": "accept", "return": "return", "remarks": "remark", "excuse": "excuse"}


def prefixed(action: str, fields: dict) -> dict:
    """Form data of one review action (each form on the page has its own field prefix)."""
    return {f"{ACTION_PREFIXES[action]}-{key}": value for key, value in fields.items()}


def review_url(report: Report, action: str = "") -> str:
    return f"/review/reports/{report.id}" + (f"/{action}" if action else "")


# --- Viewing -------------------------------------------------------------------------------


def test_review_page_shows_values_beside_previous_period_warnings_and_narratives(app, world):
    earlier, current = world.report("FY2025 H1"), world.report("FY2025 H2")
    file_report(earlier, world.certifier, seed=1)
    file_report(current, world.certifier, seed=9, narrative="Line one <script>alert(1)</script>\nLine two", clients=160)
    html = client_for(app, world.officer).get(review_url(current)).get_data(as_text=True)
    assert "Previous period" in html and "Change" in html
    state = report_service.load_state(current)
    assert state.previous, "the earlier period's values are the comparison"
    assert state.check.warnings, "quadrupled values raise change warnings"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Line two" in html
    for warning in state.check.warnings:
        assert "The period was shorter than usual." in html
        assert warning.message.split(":")[0] in html


def test_any_officer_of_the_program_may_view_but_only_the_assigned_one_sees_actions(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    assigned = client_for(app, world.officer).get(review_url(report)).get_data(as_text=True)
    colleague = client_for(app, world.program_colleague).get(review_url(report))
    assert f'action="/review/reports/{report.id}/accept"' in assigned
    assert colleague.status_code == 200
    assert "Read only" in colleague.get_data(as_text=True)
    assert "/accept" not in colleague.get_data(as_text=True)


def test_officer_of_another_program_and_grantees_cannot_open_the_review_page(app, world):
    report = world.report("FY2026 H1")
    assert client_for(app, world.outsider_officer).get(review_url(report)).status_code == 404
    assert client_for(app, world.outsider_officer).post(review_url(report, "accept"), data=prefixed("accept", {"lock_version": "1"})).status_code == 404
    assert client_for(app, world.certifier).get(review_url(report)).status_code == 403


# --- Accept ----------------------------------------------------------------------------------


def test_assigned_officer_accepts_a_submitted_report_with_a_remark(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    client = client_for(app, world.officer)
    lock = lock_of(client.get(review_url(report)).get_data(as_text=True), "accept")
    response = client.post(review_url(report, "accept"), data=prefixed("accept", {"lock_version": lock, "remark": "Thorough report."}))
    assert response.status_code == 302 and response.location.endswith(review_url(report))
    db.session.expire_all()
    assert report.status == "accepted"
    assert report.official_version_id == report.current_version_id
    assert db.session.query(Remark).filter_by(report_id=report.id, visibility="public", body="Thorough report.").count() == 1
    assert "The report is accepted." in client.get(review_url(report)).get_data(as_text=True)


def test_accept_is_refused_for_a_report_not_submitted(app, world):
    report = world.report("FY2026 H1")
    client = client_for(app, world.officer)
    response = client.post(review_url(report, "accept"), data=prefixed("accept", {"lock_version": str(report.lock_version)}),
                           headers={"Referer": review_url(report)})
    assert response.status_code == 302
    html = client.get(review_url(report)).get_data(as_text=True)
    assert "cannot be accepted now: it is not started" in html
    db.session.expire_all()
    assert report.status == "not_started"


def test_another_officer_of_the_program_cannot_accept(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    response = client_for(app, world.program_colleague).post(
        review_url(report, "accept"), data=prefixed("accept", {"lock_version": str(report.lock_version)}))
    assert response.status_code == 403
    db.session.expire_all()
    assert report.status == "submitted"


# --- Return ----------------------------------------------------------------------------------


def test_return_needs_remarks_and_a_revision_date_not_in_the_past(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    client = client_for(app, world.officer)
    lock = str(report.lock_version)
    missing = client.post(review_url(report, "return"), data=prefixed("return", {"lock_version": lock, "remarks": "",
                                                              "visibility": "public"}))
    assert missing.status_code == 400
    assert "Say what the grantee should revise." in missing.get_data(as_text=True)
    past = client.post(review_url(report, "return"), data=prefixed("return", {
        "lock_version": lock, "remarks": "Fix the age breakdown.", "visibility": "public",
        "revision_due_date": (TODAY.date() - timedelta(days=1)).isoformat()}))
    assert past.status_code == 400
    assert "cannot be in the past" in past.get_data(as_text=True)
    assert "Fix the age breakdown." in past.get_data(as_text=True), "typed remarks are kept"
    db.session.expire_all()
    assert report.status == "submitted"


def test_return_with_remarks_sets_revision_due_date(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    client = client_for(app, world.officer)
    due = date.today() + timedelta(days=10)
    response = client.post(review_url(report, "return"), data=prefixed("return", {
        "lock_version": str(report.lock_version), "remarks": "Reconcile the age breakdown.",
        "revision_due_date": due.isoformat(), "visibility": "public"}))
    assert response.status_code == 302
    db.session.expire_all()
    assert report.status == "returned" and report.revision_due_date == due
    assert report.current_version.status == "returned"


# --- Private remarks never reach the grantee ------------------------------------------------


def test_grantee_never_sees_a_private_remark_anywhere(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    officer = client_for(app, world.officer)
    officer.post(review_url(report, "remarks"), data=prefixed("remarks", {"lock_version": str(report.lock_version), "body": PRIVATE_TEXT,
                                                      "visibility": "private"}))
    officer.post(review_url(report, "remarks"), data=prefixed("remarks", {"lock_version": str(report.lock_version),
                                                      "body": "Public: thank you.", "visibility": "public"}))
    officer.post(review_url(report, "return"), data=prefixed("return", {
        "lock_version": str(report.lock_version), "remarks": "Please explain the drop in CLI-01.",
        "revision_due_date": (date.today() + timedelta(days=10)).isoformat()}))
    db.session.expire_all()
    assert report.status == "returned"
    assert PRIVATE_TEXT in officer.get(review_url(report)).get_data(as_text=True)

    grantee = client_for(app, world.certifier)
    pages = [f"/reports/{report.id}", f"/reports/{report.id}/compare", f"/reports/{report.id}/extension",
             "/calendar", "/calendar?view=list", "/reports"]
    for url in pages:
        html = grantee.get(url).get_data(as_text=True)
        assert "Private note" not in html, url
    page = grantee.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Public: thank you." in page and "Please explain the drop in CLI-01." in page  # what to revise
    assert all("Private note" not in t.comment for t in report_service.history(report))
    assert all(r.visibility == "public" for r in report_service.visible_remarks(report, world.certifier))


def test_remark_needs_text_and_only_the_assigned_officer_may_write_one(app, world):
    report = world.report("FY2026 H1")
    empty = client_for(app, world.officer).post(review_url(report, "remarks"), data=prefixed("remarks", {
        "lock_version": str(report.lock_version), "body": " ", "visibility": "public"}))
    assert empty.status_code == 400
    colleague = client_for(app, world.program_colleague).post(review_url(report, "remarks"), data=prefixed("remarks", {
        "lock_version": str(report.lock_version), "body": "Hello", "visibility": "public"}))
    assert colleague.status_code == 403
    assert db.session.query(Remark).filter_by(report_id=report.id).count() == 0


# --- Excuse ----------------------------------------------------------------------------------


def test_excuse_needs_a_reason_and_makes_the_report_excused(app, world):
    report = world.report("FY2026 H1")
    client = client_for(app, world.officer)
    assert client.post(review_url(report, "excuse"), data=prefixed("excuse", {"lock_version": str(report.lock_version),
                                                           "reason": ""})).status_code == 400
    response = client.post(review_url(report, "excuse"), data=prefixed("excuse", {"lock_version": str(report.lock_version),
                                                               "reason": "Award suspended for the period."}))
    assert response.status_code == 302
    db.session.expire_all()
    assert report.status == "excused" and report.excused_reason == "Award suspended for the period."


def test_excuse_is_refused_for_a_submitted_report(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    client = client_for(app, world.officer)
    assert f'action="/review/reports/{report.id}/excuse"' not in client.get(review_url(report)).get_data(as_text=True)
    client.post(review_url(report, "excuse"), data=prefixed("excuse", {"lock_version": str(report.lock_version), "reason": "No."}))
    db.session.expire_all()
    assert report.status == "submitted"


# --- Two actions at once -------------------------------------------------------------------


def test_second_of_two_simultaneous_actions_is_told_what_happened_and_who_did_it(app, world):
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    first, second = client_for(app, world.officer), client_for(app, world.officer)
    page = second.get(review_url(report)).get_data(as_text=True)
    stale_lock = lock_of(page, "return")
    assert first.post(review_url(report, "accept"), data=prefixed("accept", {"lock_version": lock_of(page, "accept")})).status_code == 302
    response = second.post(review_url(report, "return"), headers={"Referer": review_url(report)}, data=prefixed("return", {
        "lock_version": stale_lock, "remarks": "Please fix.", "visibility": "public",
        "revision_due_date": (date.today() + timedelta(days=7)).isoformat()}))
    assert response.status_code == 302
    html = second.get(review_url(report)).get_data(as_text=True)
    assert "cannot be returned now: it is accepted." in html
    assert f"{world.officer.name} accepted it on" in html
    db.session.expire_all()
    assert report.status == "accepted"


def test_action_on_a_page_older_than_the_report_is_refused_as_stale(app, world):
    report = world.report("FY2026 H1")
    client = client_for(app, world.officer)
    stale_lock = lock_of(client.get(review_url(report)).get_data(as_text=True), "excuse")
    report.revision_due_date = None
    report.excused_reason = "changed elsewhere"
    db.session.commit()
    response = client.post(review_url(report, "excuse"), headers={"Referer": review_url(report)},
                           data=prefixed("excuse", {"lock_version": stale_lock, "reason": "Suspended."}))
    assert response.status_code == 302
    assert "changed after you opened it" in client.get(review_url(report)).get_data(as_text=True)
    db.session.expire_all()
    assert report.status == "not_started"
    assert db.session.query(ReportTransition).filter_by(report_id=report.id, action="excuse").count() == 0


class TestWithCsrfProtection:
    @pytest.fixture
    def app_config(self, app_config):
        return type("CsrfConfig", (app_config,), {"WTF_CSRF_ENABLED": True})

    def test_review_actions_refuse_a_post_without_the_csrf_token(self, app, world):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"email": world.officer.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        report = world.report("FY2026 H1")
        response = client.post(review_url(report, "excuse"), data=prefixed("excuse", {"lock_version": "1", "reason": "Suspended."}))
        assert response.status_code == 400
        db.session.expire_all()
        assert report.status == "not_started"


def test_the_remarks_that_return_a_report_cannot_be_private(app, world):
    """They say what to revise: the grantee must see them (the API still takes the field)."""
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    with pytest.raises(ValidationFailed) as refused:
        report_service.return_report(report, world.officer, "Fix CLI-01.", date.today() + timedelta(days=10),
                                     visibility="private")
    assert "visibility" in refused.value.errors and report.status == "submitted"



def test_whoever_acts_next_hears_of_a_submission_a_return_and_an_extension_in_the_app(app, world):
    from grants.models import UserMessage
    from grants.services import extensions as extension_service

    def inbox(user):
        db.session.expire_all()
        return [(m.subject, m.body, m.link) for m in db.session.query(UserMessage).filter_by(user_id=user.id)
                .order_by(UserMessage.id)]

    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    (subject, _, link), = inbox(world.officer)
    assert subject == f"Submitted for your review: {world.grant.award_number}, FY2026 H1"
    assert link == f"/review/reports/{report.id}"
    assert inbox(world.certifier) == [] and inbox(world.program_colleague) == []  # not the actor; only the assigned officer

    report_service.return_report(report, world.officer, "Explain the drop in CLI-01.", date(2026, 6, 1))
    db.session.commit()
    for user in (world.certifier, world.editor):
        (subject, body, link), = inbox(user)
        assert subject.startswith("Returned for revision:") and link == f"/reports/{report.id}"
        assert body == "Revised report due Jun 1, 2026. What to revise: Explain the drop in CLI-01."
    assert inbox(world.other_certifier) == []

    later = world.report("FY2026 H2")
    extension = extension_service.request_extension(later, world.certifier, later.due_date + timedelta(days=20),
                                                    "Our data manager is on leave.")
    assert inbox(world.officer)[-1][0].startswith("Extension to ")
    extension_service.decide_extension(extension, world.officer, True, None, "")
    assert inbox(world.editor)[-1][0].startswith("Extension approved: now due ")
