"""Amendments of accepted reports, and comparing a report's versions.

The accepted version stays the official one (what roll-ups read) until the amendment is accepted.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from grants.extensions import db
from grants.models import ReportVersion
from grants.services import reports as report_service
from tests.test_review import client_for, file_report, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)
FIRST = "FY2025 H1"


@pytest.fixture
def accepted(world):
    report = world.report(FIRST)
    file_report(report, world.certifier, seed=1, narrative="First accomplishments.")
    report_service.accept_report(report, world.officer)
    db.session.commit()
    return report


def amend(app, world, report, reason="A data-entry error in the age breakdown."):
    return client_for(app, world.certifier).post(f"/reports/{report.id}/amend", data={"reason": reason})


def version(report, number) -> ReportVersion:
    return db.session.query(ReportVersion).filter_by(report_id=report.id, number=number).one()


def test_certifier_opens_an_amendment_and_the_accepted_version_stays_official(app, world, accepted):
    official = accepted.official_version_id
    page = client_for(app, world.certifier).get(f"/reports/{accepted.id}/amend")
    assert page.status_code == 200 and "stays the official report" in page.get_data(as_text=True)
    response = amend(app, world, accepted)
    assert response.status_code == 302 and response.location.endswith(f"/reports/{accepted.id}/edit")
    db.session.expire_all()
    assert accepted.status == "draft"
    assert accepted.official_version_id == official and version(accepted, 1).status == "accepted"
    draft = version(accepted, 2)
    assert draft.is_amendment and draft.amendment_reason == "A data-entry error in the age breakdown."
    assert accepted.current_version_id == draft.id


def test_amendment_needs_a_reason_and_the_certifier_role(app, world, accepted):
    assert amend(app, world, accepted, reason="").status_code == 400
    assert client_for(app, world.editor).post(f"/reports/{accepted.id}/amend", data={"reason": "x"}).status_code == 403
    assert client_for(app, world.other_certifier).post(f"/reports/{accepted.id}/amend",
                                                       data={"reason": "x"}).status_code == 404
    assert client_for(app, world.other_certifier).get(f"/reports/{accepted.id}/amend").status_code == 404
    db.session.expire_all()
    assert accepted.status == "accepted" and len(accepted.versions) == 1


def test_amendment_is_refused_for_a_report_that_is_not_accepted(app, world):
    report = world.report(FIRST)
    file_report(report, world.certifier)
    client = client_for(app, world.certifier)
    response = client.post(f"/reports/{report.id}/amend", data={"reason": "Fix."},
                           headers={"Referer": f"/reports/{report.id}"})
    assert response.status_code == 302
    assert "cannot be opened for amendment now" in client.get(f"/reports/{report.id}").get_data(as_text=True)
    db.session.expire_all()
    assert report.status == "submitted" and len(report.versions) == 1


def test_accepted_version_stays_official_until_the_amendment_is_accepted(app, world, accepted):
    first = accepted.official_version_id
    amend(app, world, accepted)
    db.session.expire_all()
    file_report(accepted, world.certifier, seed=5, narrative="Corrected accomplishments.")
    db.session.expire_all()
    assert accepted.status == "submitted"
    assert accepted.official_version_id == first, "a submitted amendment is not yet official"
    officer = client_for(app, world.officer)
    html = officer.get(f"/review/reports/{accepted.id}").get_data(as_text=True)
    assert "This is an amendment (version 2)" in html
    lock = re.search(r'action="[^"]*/accept".*?name="accept-lock_version" type="hidden" value="(\d+)"', html, re.S).group(1)
    assert officer.post(f"/review/reports/{accepted.id}/accept", data={"accept-lock_version": lock}).status_code == 302
    db.session.expire_all()
    assert accepted.official_version_id == version(accepted, 2).id
    assert version(accepted, 1).status == "superseded" and version(accepted, 2).status == "accepted"


def test_a_returned_amendment_leaves_the_accepted_version_official(app, world, accepted):
    first = accepted.official_version_id
    amend(app, world, accepted)
    db.session.expire_all()
    file_report(accepted, world.certifier, seed=5)
    db.session.expire_all()
    report_service.return_report(accepted, world.officer, "Explain the change.", date.today() + timedelta(days=7))
    db.session.commit()
    db.session.expire_all()
    assert accepted.status == "returned" and accepted.official_version_id == first
    assert version(accepted, 1).status == "accepted"


# --- Comparing versions ----------------------------------------------------------------------


@pytest.fixture
def amended(app, world, accepted):
    amend(app, world, accepted)
    db.session.expire_all()
    file_report(accepted, world.certifier, seed=5, narrative="Corrected <b>accomplishments</b>.")
    db.session.expire_all()
    return accepted


def test_compare_shows_each_changed_cell_and_narrative_old_to_new(app, world, amended):
    old_raw = report_service.raw_values(version(amended, 1))
    new_raw = report_service.raw_values(version(amended, 2))
    changed = [k for k in new_raw if old_raw.get(k) != new_raw[k]]
    assert changed
    for user in (world.certifier, world.editor, world.officer, world.program_colleague):
        response = client_for(app, user).get(f"/reports/{amended.id}/compare?a=1&b=2")
        assert response.status_code == 200, user.email
        html = response.get_data(as_text=True)
        assert f"{len(changed)} value{'s' if len(changed) != 1 else ''} changed from version 1 to version 2" in html
        assert "First accomplishments." in html
        assert "Corrected &lt;b&gt;accomplishments&lt;/b&gt;." in html


def test_compare_defaults_to_the_latest_two_versions(app, world, amended):
    html = client_for(app, world.certifier).get(f"/reports/{amended.id}/compare").get_data(as_text=True)
    assert "from version 1 to version 2" in html


def test_compare_is_404_for_other_organizations_other_programs_and_unknown_versions(app, world, amended):
    assert client_for(app, world.other_certifier).get(f"/reports/{amended.id}/compare?a=1&b=2").status_code == 404
    assert client_for(app, world.outsider_officer).get(f"/reports/{amended.id}/compare?a=1&b=2").status_code == 404
    assert client_for(app, world.certifier).get(f"/reports/{amended.id}/compare?a=1&b=9").status_code == 404


def test_officers_cannot_compare_a_draft_the_grantee_has_not_filed(app, world, accepted):
    amend(app, world, accepted)
    assert client_for(app, world.certifier).get(f"/reports/{accepted.id}/compare?a=1&b=2").status_code == 200
    assert client_for(app, world.officer).get(f"/reports/{accepted.id}/compare?a=1&b=2").status_code == 404
