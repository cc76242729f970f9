"""The JSON API: bearer tokens only, the same roles, ownership and validation as the web pages,
errors in one shape, ETag / If-Match on updates, and the per-token rate limit."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from grants.demo import generate_values
from grants.extensions import db
from grants.models import ApiRateWindow, ApiToken, Grant, Report, ReportVersion, User, utcnow
from grants.periods import eastern_today
from grants.services import api_tokens
from grants.services.reports import report_specs

API = "/api/v1"


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def token_for(email: str) -> str:
    _, secret = api_tokens.create_token(user(email), "test")
    db.session.commit()
    return secret


class Api:
    """A test client that sends one user's bearer token."""

    def __init__(self, app, email: str) -> None:
        self.client = app.test_client()
        self.token = token_for(email)

    def __call__(self, method: str, path: str, headers: dict | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.client.open(f"{API}{path}", method=method, headers=headers, **kwargs)

    def get(self, path, **kw):
        return self("GET", path, **kw)


@pytest.fixture
def as_user(demo):
    return lambda email: Api(demo, email)


def org_report(email: str = "grantee@demo.test", statuses=("not_started",), officer: str | None = None) -> Report:
    query = select(Report).join(Grant).where(Grant.organization_id == user(email).organization_id,
                                              Report.status.in_(statuses))
    if officer:
        query = query.where(Grant.officer_id == user(officer).id)
    return db.session.scalars(query.order_by(Report.effective_due_date, Report.id)).first()


def valid_values(report: Report, seed: int = 3) -> dict[str, str]:
    return generate_values(report_specs(report), 30, Decimal("1000.00"), random.Random(seed))


def assert_error_shape(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    body = response.get_json()
    assert set(body) == {"errors", "message"} and isinstance(body["errors"], dict) and body["message"]
    return body


# ---- authentication ---------------------------------------------------------------------------

def test_requests_without_a_token_get_401_json(demo):
    body = assert_error_shape(demo.test_client().get(f"{API}/programs"), 401)
    assert "Bearer" in body["message"]


def test_a_signed_in_session_cookie_is_not_accepted_by_the_api(signed_in):
    client = signed_in("grantee@demo.test")
    assert client.get("/profile/tokens").status_code == 200
    assert_error_shape(client.get(f"{API}/reports"), 401)


def test_a_revoked_token_stops_working_and_use_is_recorded(as_user):
    api = as_user("grantee@demo.test")
    assert api.get("/programs").status_code == 200
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user("grantee@demo.test").id))
    assert token.last_used_at is not None
    assert token.token_digest != api.token and api.token not in str(token.token_digest)
    api_tokens.revoke_token(user("grantee@demo.test"), token.id)
    db.session.commit()
    assert_error_shape(api.get("/programs"), 401)


def test_a_wrong_token_gets_401(demo):
    response = demo.test_client().get(f"{API}/programs", headers={"Authorization": "Bearer gpr_not-a-real-token"})
    assert_error_shape(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_rate_limit_answers_429_with_retry_after(demo, as_user):
    demo.config["API_RATE_LIMIT_PER_MINUTE"] = 3
    api = as_user("leader@demo.test")
    assert [api.get("/programs").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/programs")
    assert_error_shape(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert db.session.scalar(select(ApiRateWindow.count)) == 4


def test_the_rate_limit_is_per_token_and_per_minute(demo, as_user):
    demo.config["API_RATE_LIMIT_PER_MINUTE"] = 1
    first, second = as_user("leader@demo.test"), as_user("officer@demo.test")
    assert first.get("/programs").status_code == 200
    assert second.get("/programs").status_code == 200
    assert first.get("/programs").status_code == 429
    token = db.session.scalar(select(ApiToken).order_by(ApiToken.id))
    assert api_tokens.count_request(token, 1).allowed is False
    assert api_tokens.count_request(token, 1, now=utcnow() + timedelta(minutes=1)).allowed is True


def test_cli_creates_a_working_token(demo, as_user):
    result = demo.test_cli_runner().invoke(args=["tokens", "create", "officer@demo.test"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    response = demo.test_client().get(f"{API}/grants", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert demo.test_cli_runner().invoke(args=["tokens", "create", "nobody@demo.test"]).exit_code != 0


# ---- programs, measures, grants ---------------------------------------------------------------

def test_programs_and_measures_are_listed_with_their_cells(as_user):
    api = as_user("grantee@demo.test")
    programs = {p["code"]: p for p in api.get("/programs").get_json()}
    assert set(programs) == {"YCCR", "DVHT", "VHTNC", "ASPIRE", "HTYPE"}
    assert programs["HTYPE"]["measures"][:2] == ["EDU-01", "EDU-02"]
    assert api.get("/programs/yccr").get_json()["code"] == "YCCR"
    assert_error_shape(api.get("/programs/NOPE"), 404)
    cli = api.get("/measures/CLI-01").get_json()
    assert "CLI-01.age.minor" in cli["cells"] and [b["dimension"] for b in cli["breakdowns"]] == [
        "age", "trafficking_type", "citizenship"]
    assert len(api.get("/measures").get_json()) == 21


def test_a_program_shows_the_measure_set_in_effect_not_one_that_starts_later(as_user):
    from grants.models import MeasureSet, MeasureSetItem, Program

    program = db.session.scalar(select(Program).where(Program.code == "YCCR"))
    in_effect = {s.version: s for s in program.measure_sets}
    current = max(v for v, s in in_effect.items() if s.effective_from <= eastern_today())
    first = in_effect[current].items[0].measure_id
    db.session.add(MeasureSet(program_id=program.id, version=max(in_effect) + 1,
                              effective_from=eastern_today() + timedelta(days=90),
                              items=[MeasureSetItem(measure_id=first, position=1)]))
    db.session.commit()
    shown = as_user("grantee@demo.test").get("/programs/YCCR").get_json()
    assert shown["measure_set_version"] == current
    assert shown["measures"] == [item.measure.code for item in in_effect[current].items]


def test_grants_are_scoped_to_what_each_role_may_see(as_user):
    own_org = user("grantee@demo.test").organization_id
    grantee = as_user("grantee@demo.test").get("/grants?per_page=100").get_json()
    assert grantee["items"] and {g["organization"]["id"] for g in grantee["items"]} == {own_org}
    other = db.session.scalar(select(Grant.id).where(Grant.organization_id != own_org))
    assert_error_shape(as_user("grantee@demo.test").get(f"/grants/{other}"), 404)
    officer = as_user("officer@demo.test").get("/grants?per_page=100").get_json()
    assert {g["program"] for g in officer["items"]} <= {"YCCR", "DVHT"}
    leader = as_user("leader@demo.test").get("/grants?per_page=5").get_json()
    assert leader["meta"]["total"] == db.session.query(Grant).count() and len(leader["items"]) == 5
    assert as_user("admin@demo.test").get("/grants").get_json()["meta"]["total"] == 0
    assert as_user("leader@demo.test").get("/grants?program=HTYPE").get_json()["items"][0]["program"] == "HTYPE"


# ---- reports: list and read -------------------------------------------------------------------

def test_report_list_filters_and_pages(as_user):
    api = as_user("leader@demo.test")
    fy = db.session.scalar(select(Report.fiscal_year).order_by(Report.fiscal_year.desc()))
    page = api.get(f"/reports?fiscal_year={fy}&half=H1&per_page=7&page=2").get_json()
    assert page["meta"]["page"] == 2 and len(page["items"]) <= 7
    assert all(r["fiscal_year"] == fy and r["half"] == "H1" for r in page["items"])
    expected = db.session.query(Report).filter_by(fiscal_year=fy, half="H1").count()
    assert page["meta"]["total"] == expected
    accepted = api.get("/reports?status=accepted&program=DVHT&per_page=100").get_json()["items"]
    assert accepted and all(r["status"] == "accepted" and r["program"] == "DVHT" for r in accepted)
    grant_id = accepted[0]["grant_id"]
    by_grant = api.get(f"/reports?grant_id={grant_id}&per_page=100").get_json()
    assert {r["grant_id"] for r in by_grant["items"]} == {grant_id}


def test_report_list_rejects_bad_filters_as_json_naming_the_field(as_user):
    body = assert_error_shape(as_user("leader@demo.test").get("/reports?status=bogus&per_page=1000"), 422)
    assert set(body["errors"]) == {"status", "per_page"}


def test_grantees_see_only_their_organizations_reports(as_user):
    api = as_user("grantee@demo.test")
    items = api.get("/reports?per_page=100").get_json()["items"]
    assert {r["organization_id"] for r in items} == {user("grantee@demo.test").organization_id}
    theirs = org_report("other-grantee@demo.test", statuses=("submitted", "accepted", "draft", "returned", "not_started"))
    assert_error_shape(api.get(f"/reports/{theirs.id}"), 404)
    assert_error_shape(api.get("/reports/99999999999999"), 404)


def test_report_read_has_values_narratives_and_an_etag(as_user):
    report = org_report(statuses=("returned",))
    response = as_user("grantee@demo.test").get(f"/reports/{report.id}")
    body = response.get_json()
    assert response.headers["ETag"] == body["etag"]
    assert body["status"] == "returned" and body["version"]["number"] >= 1
    keys = [v["key"] for v in body["values"]]
    assert keys[0] == report_specs(report)[0].cells[0].key and "CLI-01.age.minor" in keys
    assert body["narratives"]["narrative_accomplishments"]


def test_officers_do_not_see_a_grantees_unsubmitted_draft(as_user):
    report = org_report(statuses=("returned",))
    api = as_user("grantee@demo.test")
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    values = valid_values(report)
    assert api("PATCH", f"/reports/{report.id}/values", json={"values": values}, headers={"If-Match": etag}).status_code == 200
    officer_view = as_user("officer@demo.test").get(f"/reports/{report.id}").get_json()
    assert officer_view["status"] == "draft" and officer_view["version"]["status"] == "returned"


# ---- reports: updates -------------------------------------------------------------------------

def test_update_needs_if_match_and_refuses_a_stale_etag(as_user):
    report = org_report()
    api = as_user("editor@demo.test")
    values = valid_values(report)
    assert_error_shape(api("PATCH", f"/reports/{report.id}/values", json={"values": values}), 428)
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    first = api("PATCH", f"/reports/{report.id}/values", json={"values": values}, headers={"If-Match": etag})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.headers["ETag"] != etag and first.get_json()["status"] == "draft"
    stale = api("PATCH", f"/reports/{report.id}/values", json={"values": {"CLI-01": "1"}}, headers={"If-Match": etag})
    assert_error_shape(stale, 412)
    again = api("PATCH", f"/reports/{report.id}/values", json={"narratives": {"narrative_next_period": "More outreach."}},
                headers={"If-Match": first.headers["ETag"]})
    assert again.status_code == 200
    body = again.get_json()
    assert body["narratives"]["narrative_next_period"] == "More outreach."
    assert {v["key"]: v["raw"] for v in body["values"]}["CLI-01"] == values["CLI-01"]


def test_invalid_values_are_refused_per_field_and_nothing_is_saved(as_user):
    report = org_report()
    api = as_user("grantee@demo.test")
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    response = api("PATCH", f"/reports/{report.id}/values", headers={"If-Match": etag},
                   json={"values": {"CLI-01": "12.5", "CLI-02": 5, "NOT-A-CELL": "1"}})
    body = assert_error_shape(response, 422)
    assert set(body["errors"]) == {"NOT-A-CELL"}
    response = api("PATCH", f"/reports/{report.id}/values", headers={"If-Match": etag},
                   json={"values": {"CLI-01": "12.5", "CLI-02": 5, "CLI-01.age.minor": "99"}})
    body = assert_error_shape(response, 422)
    assert body["errors"]["CLI-01"] == ["Must be a whole number, like 12."]
    db.session.expire_all()
    assert db.session.get(Report, report.id).status == "not_started"
    assert db.session.scalar(select(ReportVersion).where(ReportVersion.report_id == report.id)) is None


def test_body_schema_errors_name_each_field(as_user):
    report = org_report()
    api = as_user("grantee@demo.test")
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    response = api("PATCH", f"/reports/{report.id}/values", headers={"If-Match": etag},
                   json={"values": {"CLI-01": ["1"]}, "narratives": {"narrative_accomplishments": "x" * 10_001}})
    body = assert_error_shape(response, 422)
    assert set(body["errors"]) == {"values", "narratives"}


def test_put_replaces_all_values(as_user):
    report = org_report()
    api = as_user("grantee@demo.test")
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    etag = api("PATCH", f"/reports/{report.id}/values", json={"values": valid_values(report)},
               headers={"If-Match": etag}).headers["ETag"]
    response = api("PUT", f"/reports/{report.id}/values", json={"values": {"CLI-01": 7}}, headers={"If-Match": etag})
    assert response.status_code == 200
    raw = {v["key"]: v["raw"] for v in response.get_json()["values"]}
    assert raw["CLI-01"] == "7" and raw["CLI-02"] == ""


def test_only_the_organizations_staff_can_update(as_user):
    report = org_report(statuses=("not_started", "draft"), officer="officer@demo.test")
    for email in ("officer@demo.test", "leader@demo.test"):
        api = as_user(email)
        etag = api.get(f"/reports/{report.id}").headers["ETag"]
        response = api("PATCH", f"/reports/{report.id}/values", json={"values": {}}, headers={"If-Match": etag})
        assert_error_shape(response, 403)
    other = as_user("other-grantee@demo.test")
    assert_error_shape(other("PATCH", f"/reports/{report.id}/values", json={"values": {}}, headers={"If-Match": "*"}), 404)


def test_a_submitted_report_cannot_be_updated(as_user):
    report = org_report(statuses=("submitted",))
    api = as_user("grantee@demo.test")
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    assert_error_shape(api("PATCH", f"/reports/{report.id}/values", json={"values": {}}, headers={"If-Match": etag}), 409)


# ---- reports: workflow actions ----------------------------------------------------------------

def _fill(api, report: Report) -> str:
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    values = valid_values(report)
    body = {"values": values, "narratives": {"narrative_accomplishments": "We served survivors.",
                                             "narrative_cumulative": "Over the award we built a network."}}
    response = api("PATCH", f"/reports/{report.id}/values", json=body, headers={"If-Match": etag})
    assert response.status_code == 200, response.get_data(as_text=True)
    warnings = response.get_json()["warnings"]
    if warnings:
        response = api("PATCH", f"/reports/{report.id}/values", headers={"If-Match": response.headers["ETag"]},
                       json={"explanations": {w["code"]: "Explained." for w in warnings}})
    return response.headers["ETag"]


CERTIFICATION = {"certifier_name": "Dana Whitfield", "certifier_title": "Executive Director",
                 "certifier_phone": "614-555-0142", "certifier_email": "grantee@demo.test", "certify": True}


def test_submit_needs_the_certifier_and_the_certification(as_user):
    report = org_report(officer="officer@demo.test")
    editor, certifier = as_user("editor@demo.test"), as_user("grantee@demo.test")
    etag = _fill(editor, report)
    assert_error_shape(editor("POST", f"/reports/{report.id}/submit", json=CERTIFICATION), 403)
    body = assert_error_shape(certifier("POST", f"/reports/{report.id}/submit", json={**CERTIFICATION, "certify": False}), 422)
    assert "certify" in body["errors"]
    assert_error_shape(certifier("POST", f"/reports/{report.id}/submit", json=CERTIFICATION,
                                 headers={"If-Match": '"r0-v9-9"'}), 412)
    response = certifier("POST", f"/reports/{report.id}/submit", json=CERTIFICATION, headers={"If-Match": etag})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["status"] == "submitted"
    assert response.get_json()["version"]["certifier_name"] == "Dana Whitfield"
    assert_error_shape(certifier("POST", f"/reports/{report.id}/submit", json=CERTIFICATION), 409)


def test_an_incomplete_report_cannot_be_submitted(as_user):
    report = org_report()
    api = as_user("grantee@demo.test")
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    api("PATCH", f"/reports/{report.id}/values", json={"values": {"CLI-01": "5"}}, headers={"If-Match": etag})
    body = assert_error_shape(api("POST", f"/reports/{report.id}/submit", json=CERTIFICATION), 422)
    assert "narrative_accomplishments" in body["errors"] and "CLI-02" in body["errors"]


def test_only_the_assigned_officer_accepts_or_returns(as_user):
    report = org_report(statuses=("submitted",), officer="officer@demo.test")
    for email in ("grantee@demo.test", "leader@demo.test", "officer-b@demo.test"):
        assert_error_shape(as_user(email)("POST", f"/reports/{report.id}/accept", json={}), 403)
    assert_error_shape(as_user("other-grantee@demo.test")("POST", f"/reports/{report.id}/submit", json=CERTIFICATION), 404)
    officer = as_user("officer@demo.test")
    past = (eastern_today() - timedelta(days=1)).isoformat()
    body = assert_error_shape(officer("POST", f"/reports/{report.id}/return",
                                      json={"remarks": "Fix CLI-01.", "revision_due_date": past}), 422)
    assert "revision_due_date" in body["errors"]
    response = officer("POST", f"/reports/{report.id}/accept", json={"remarks": "Thank you."})
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    assert_error_shape(officer("POST", f"/reports/{report.id}/accept", json={}), 409)


def test_a_review_based_on_a_stale_read_of_the_report_is_refused(as_user):
    """The ETag covers the report itself, not only its version's values: a change to the report
    row after the officer read it (here its due date moves) makes the read stale."""
    report = org_report(statuses=("submitted",), officer="officer@demo.test")
    officer = as_user("officer@demo.test")
    etag = officer.get(f"/reports/{report.id}").headers["ETag"]
    report = db.session.get(Report, report.id)
    report.effective_due_date += timedelta(days=7)
    db.session.commit()
    fresh = officer.get(f"/reports/{report.id}").headers["ETag"]
    assert fresh != etag
    assert_error_shape(officer("POST", f"/reports/{report.id}/accept", json={}, headers={"If-Match": etag}), 412)
    assert db.session.get(Report, report.id).status == "submitted"
    response = officer("POST", f"/reports/{report.id}/accept", json={}, headers={"If-Match": fresh})
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"


def test_an_officer_returns_a_report_with_remarks(as_user):
    report = org_report(statuses=("submitted",), officer="officer@demo.test")
    due = (eastern_today() + timedelta(days=14)).isoformat()
    response = as_user("officer@demo.test")("POST", f"/reports/{report.id}/return",
                                             json={"remarks": "Explain the drop in clients.", "revision_due_date": due})
    assert response.status_code == 200 and response.get_json()["status"] == "returned"
    grantee_view = as_user("grantee@demo.test").get(f"/reports/{report.id}").get_json()
    assert grantee_view["status"] == "returned" and grantee_view["editable"] is True


# ---- roll-ups ---------------------------------------------------------------------------------

def test_rollups_give_the_dashboards_numbers_to_officers_and_leadership(as_user):
    from reporting.rollup import RollupParams, build_rollup

    fy = db.session.scalar(select(Report.fiscal_year).order_by(Report.fiscal_year.desc())) - 1
    body = as_user("leader@demo.test").get(f"/rollups?fiscal_year={fy}").get_json()
    expected = build_rollup(RollupParams(fiscal_year=fy))
    assert body["total"]["expected"] == expected.total.expected and body["total"]["submitted"] == expected.total.submitted
    by_program = {row["group"]["program"]: row for row in body["rows"]}
    assert set(by_program) == set(expected.programs)
    yccr = {f["key"]: f["value"] for f in by_program["YCCR"]["figures"]}
    assert yccr["CLI-01"] == str(round(expected.programs["YCCR"].value("CLI-01")))
    states = as_user("officer@demo.test").get(f"/rollups?fiscal_year={fy}&group_by=state").get_json()["rows"]
    assert states and all("state" in row["group"] for row in states)
    regions = as_user("leader@demo.test").get(f"/rollups?fiscal_year={fy}&group_by=region").get_json()["rows"]
    assert [row["group"]["hhs_region"] for row in regions] == list(expected.regions)
    for row in regions:
        region = row["group"]["hhs_region"]
        assert row["group"]["states"] == expected.region_states()[region]
        assert row["expected"] == expected.regions[region].expected == sum(
            expected.states[s].expected for s in row["group"]["states"])
    assert_error_shape(as_user("grantee@demo.test").get("/rollups"), 403)
    assert_error_shape(as_user("leader@demo.test").get("/rollups?group_by=galaxy"), 422)


def test_rollup_rows_say_how_many_reports_their_figures_count(as_user):
    """`counted`: reports whose values are in the figures; `uncounted`: the others, not excused,
    whose values may still come (not due, not submitted, not accepted); counted apart here."""
    from reporting.rollup import default_fiscal_year

    fy = default_fiscal_year()
    rows = as_user("leader@demo.test").get(f"/rollups?fiscal_year={fy}").get_json()["rows"]
    reports = db.session.scalars(select(Report).where(Report.fiscal_year == fy, Report.status != "excused")).all()
    assert rows and any(row["uncounted"] for row in rows) and any(row["counted"] for row in rows)
    for row in rows:
        mine = [r for r in reports if r.grant.program.code == row["group"]["program"]]
        assert row["counted"] == sum(r.official_version_id is not None for r in mine)
        assert row["uncounted"] == sum(r.official_version_id is None for r in mine)
        assert row["counted"] + row["uncounted"] + row["excused"] == row["reports"]


def test_rollups_suppress_small_people_counts_by_community(as_user):
    fy = db.session.scalar(select(Report.fiscal_year).order_by(Report.fiscal_year.desc())) - 1
    rows = as_user("leader@demo.test").get(f"/rollups?fiscal_year={fy}&group_by=community").get_json()["rows"]
    for row in rows:
        for figure in row["figures"]:
            if figure["measure"].startswith("CLI") and figure["value"] and not figure["suppressed"]:
                assert not 1 <= float(figure["value"]) <= 10


# ---- the document -----------------------------------------------------------------------------

def test_openapi_document_lists_every_resource_with_bearer_security(client):
    doc = client.get(f"{API}/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/programs", "/api/v1/measures", "/api/v1/grants", "/api/v1/reports",
                 "/api/v1/reports/{report_id}/values", "/api/v1/reports/{report_id}/submit",
                 "/api/v1/reports/{report_id}/accept", "/api/v1/reports/{report_id}/return", "/api/v1/rollups"):
        assert path in doc["paths"], path
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    patch = doc["paths"]["/api/v1/reports/{report_id}/values"]["patch"]
    assert {"412", "422", "428"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["required"] for p in patch["parameters"])


def test_api_updates_need_no_csrf_token(demo):
    demo.config["WTF_CSRF_ENABLED"] = True
    api = Api(demo, "grantee@demo.test")
    report = org_report()
    etag = api.get(f"/reports/{report.id}").headers["ETag"]
    response = api("PATCH", f"/reports/{report.id}/values", json={"values": {"CLI-01": "4"}}, headers={"If-Match": etag})
    assert response.status_code == 200


def test_the_report_list_costs_the_same_queries_whatever_the_page_size(as_user):
    """No query per row: an officer's list (whose drafts show the last submitted version) runs
    as many statements for 25 reports as for 5."""
    from sqlalchemy import event

    api = as_user("officer@demo.test")
    api.get("/reports?per_page=1")  # the token's first call of the minute opens its rate window
    counts = []
    for size in (10, 40):
        statements = []

        def count(conn, cursor, statement, *_args, statements=statements):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            body = api.get(f"/reports?per_page={size}").get_json()
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(body["items"]) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_unknown_or_incomplete_query_parameters_are_refused_by_name(as_user):
    api = as_user("leader@demo.test")
    body = assert_error_shape(api.get("/rollups?region=4"), 422)
    assert "region" in body["errors"]
    assert "foo" in assert_error_shape(api.get("/grants?foo=bar"), 422)["errors"]
    assert "fy" in assert_error_shape(api.get("/reports?fy=2026"), 422)["errors"]
    assert "half" in assert_error_shape(api.get("/rollups?half=H1"), 422)["errors"]
    assert api.get("/rollups?fiscal_year=2026&half=H1&hhs_region=4").status_code == 200


def test_a_method_the_api_does_not_take_answers_in_the_error_shape(as_user, client):
    api = as_user("leader@demo.test")
    response = api("DELETE", "/grants")
    body = assert_error_shape(response, 405)
    assert "GET" in response.headers["Allow"] and "DELETE is not allowed" in body["message"]
    page = client.get("/review/reports/1/return")  # a form's address opened as a page
    assert page.status_code == 405 and "This address is for a button" in page.get_data(as_text=True)
