"""The grantee's filing journey through the web pages: drafts, errors, certification, submission,
unsubmission, history, and who may do what."""
from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from forms.report_form import explain_name, field_name
from grants.demo import generate_values
from grants.extensions import db
from grants.models import Grant, Organization, Report, ReportTransition, ReportVersion, User
from grants.services.grantee_home import deadline_for
from grants.services.reports import report_specs
from tests.conftest import login


def _org_id(email: str) -> int:
    return db.session.scalar(select(User.organization_id).where(User.email == email))


def editable_report(email: str = "grantee@demo.test", status: str = "not_started") -> Report:
    return db.session.scalars(
        select(Report).join(Grant).where(Grant.organization_id == _org_id(email), Report.status == status)
        .order_by(Report.effective_due_date)
    ).first()


def lock_of(html: str) -> str:
    match = re.search(r'name="lock_version" type="hidden" value="(\d*)"', html) or re.search(
        r'id="lock_version" name="lock_version" type="hidden" value="(\d*)"', html)
    return match.group(1) if match else ""


def valid_form(report: Report, seed: int = 1) -> dict[str, str]:
    raw = generate_values(report_specs(report), 40, Decimal("1000.00"), random.Random(seed))
    data = {field_name(k): v for k, v in raw.items()}
    data["narrative_accomplishments"] = "We served survivors and trained partners."
    if report.report_type == "final":
        data["narrative_cumulative"] = "Over the award we built a coordinated response."
    return data


def save(client, report: Report, data: dict[str, str], action: str = "save"):
    page = client.get(f"/reports/{report.id}/edit")
    payload = {"lock_version": lock_of(page.get_data(as_text=True)), "action": action, **data}
    return client.post(f"/reports/{report.id}/edit", data=payload)


def certify(client, report: Report, **overrides):
    page = client.get(f"/reports/{report.id}/submit").get_data(as_text=True)
    data = {"certifier_name": "Dana Whitfield", "certifier_title": "Executive Director", "certifier_phone": "614-555-0142",
            "certifier_email": "grantee@demo.test", "certify": "y", "lock_version": lock_of(page)}
    data.update(overrides)
    return client.post(f"/reports/{report.id}/submit", data=data)


def explain_warnings(client, report: Report, data: dict[str, str]) -> dict[str, str]:
    html = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    for name in set(re.findall(r'name="(explain__[^"]+)"', html)):
        data.setdefault(name, "The period was shorter than usual.")
    return data


def fill_completely(client, report: Report) -> None:
    """Every value valid, the narrative written, and each warning the values raise explained."""
    data = valid_form(report)
    save(client, report, data)
    save(client, report, explain_warnings(client, report, data))


def test_home_lists_reports_soonest_first_in_plain_language(signed_in):
    html = signed_in("grantee@demo.test").get("/reports").get_data(as_text=True)
    assert "What to file next" in html
    assert re.search(r"Overdue by \d+ days|Due in \d+ days", html, re.I)
    due_dates = [d for d in re.findall(r"(?:was due|on) ([A-Z][a-z]+ \d+, \d{4})", html)]
    assert due_dates, "deadlines are written out"


def test_draft_with_errors_saves_and_keeps_typed_values(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    response = save(client, report, {"m_CLI_01": "abc", "m_CLI_02": "12"})
    assert response.status_code == 302
    html = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert 'value="abc"' in html and 'value="12"' in html
    assert "Must be a whole number" in html
    db.session.expire_all()
    assert db.session.get(Report, report.id).status == "draft"


def test_breakdown_that_does_not_sum_is_shown_next_to_its_table(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    save(client, report, {"m_CLI_01": "10", "m_CLI_01__age__minor": "3", "m_CLI_01__age__adult": "3",
                          "m_CLI_01__age__unknown": "3"})
    html = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert "The age breakdown adds up to 9 but the total is 10" in html


def test_the_list_beside_the_form_says_where_each_measure_stands(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    specs = report_specs(report)
    partial = next(s for s in specs if len(s.cells) > 1 and s.code not in ("CLI-01", "CLI-02", "CLI-03"))
    save(client, report, {"m_CLI_01": "10", "m_CLI_01__age__minor": "3", "m_CLI_01__age__adult": "3",
                          "m_CLI_01__age__unknown": "3", "m_CLI_02": "abc", "m_CLI_03": "4",
                          field_name(partial.cells[0].key): "2"})
    html = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    nav = re.search(r'<nav class="app-form-nav".*?</nav>', html, re.S).group(0)
    listed = {code: (status, label) for code, status, label in re.findall(
        r'href="#measure-([A-Z0-9-]+)">.*?app-form-nav__status--(\w+)">([^<]*)<', nav)}
    codes = [spec.code for spec in specs]
    assert list(listed) == codes  # every measure, in the form's order
    # CLI-01's breakdown does not add up (no single input is wrong); CLI-02 is not a number
    assert {code: shown for code, shown in listed.items() if shown[0] != "blank"} == {
        "CLI-01": ("problem", "Has a problem"), "CLI-02": ("problem", "Has a problem"),
        "CLI-03": ("entered", "All entered"), partial.code: ("partial", f"1 of {len(partial.cells)} entered")}
    assert all(label == "Not entered yet" for status, label in listed.values() if status == "blank")
    assert f"1 of {len(codes)} measures fully entered, 2 with a problem." in nav
    assert all(f'id="measure-{code}"' in html for code in codes)
    assert 'href="#narratives"' in nav and 'id="narratives"' in html and 'id="form-actions"' in html


def test_cross_measure_ceiling_is_an_error_on_the_smaller_measure(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    save(client, report, {"m_CLI_01": "10", "m_CLI_02": "11"})
    html = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert "Cannot exceed CLI-01" in html


def test_certifier_submits_a_complete_report_and_it_is_frozen(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    fill_completely(client, report)
    response = certify(client, report)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    db.session.expire_all()
    report = db.session.get(Report, report.id)
    assert report.status == "submitted"
    assert report.current_version.status == "submitted"
    assert report.current_version.certifier_name == "Dana Whitfield"
    assert report.first_submitted_at is not None
    # Frozen: the edit page sends the grantee back; a forged POST changes nothing.
    assert client.get(f"/reports/{report.id}/edit").status_code == 302
    before = report.current_version.lock_version
    client.post(f"/reports/{report.id}/edit", data={"m_CLI_01": "999", "action": "save"})
    db.session.expire_all()
    version = db.session.get(ReportVersion, report.current_version_id)
    assert version.lock_version == before
    assert "999" not in {v.raw for v in version.values}
    page = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "Submitted, awaiting review" in page


def test_submission_is_refused_with_missing_values_and_narrative(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    save(client, report, {"m_CLI_01": "5"})
    page = client.get(f"/reports/{report.id}/submit").get_data(as_text=True)
    assert "to fix before this report can be submitted" in page
    assert "Certify and submit" not in page
    # problems are named as the form names them, not by internal keys
    problems = page.split("to fix before", 1)[1].split("</ul>", 1)[0]
    names = re.findall(r'<a class="usa-link" href="[^"]*">([^<]*)</a>', problems)
    assert "Accomplishments against objectives" in names and "CLI-02 New clients enrolled" in names
    assert not [n for n in names if n.startswith(("narrative", "explain:", "change:"))]
    response = certify(client, report)
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Report, report.id).status == "draft"


def test_warning_needs_a_written_explanation_before_submission(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    data = valid_form(report)
    for key in list(data):
        if key.startswith("m_") and data[key].isdigit():
            data[key] = "0"
    data["m_FIN_01"] = "0.00"
    save(client, report, data)
    html = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert "Every count is zero" in html
    assert certify(client, report).status_code == 400
    data[explain_name("all_zero")] = "Program paused while the shelter was rebuilt."
    save(client, report, explain_warnings(client, report, data))
    assert certify(client, report).status_code == 302
    db.session.expire_all()
    version = db.session.get(Report, report.id).current_version
    assert version.explanations["all_zero"].startswith("Program paused")


def test_editor_can_fill_but_cannot_submit(signed_in):
    editor = signed_in("editor@demo.test")
    report = editable_report()
    fill_completely(editor, report)
    page = editor.get(f"/reports/{report.id}/submit").get_data(as_text=True)
    assert "Only your organization's Authorized Official can certify" in page
    assert certify(editor, report).status_code == 403
    db.session.expire_all()
    assert db.session.get(Report, report.id).status == "draft"


def test_certification_requires_every_field_and_the_checkbox(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    fill_completely(client, report)
    response = certify(client, report, certify="", certifier_phone="")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Check the box to certify" in html and "Enter a phone number" in html
    assert 'value="Dana Whitfield"' in html


def test_unsubmit_returns_to_draft_in_a_new_version_and_history_lists_every_step(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    fill_completely(client, report)
    certify(client, report)
    response = client.post(f"/reports/{report.id}/unsubmit")
    assert response.status_code == 302
    db.session.expire_all()
    report = db.session.get(Report, report.id)
    assert report.status == "draft"
    numbers = {v.number: v.status for v in report.versions}
    assert numbers == {1: "withdrawn", 2: "draft"}
    actions = [t.action for t in db.session.scalars(
        select(ReportTransition).where(ReportTransition.report_id == report.id).order_by(ReportTransition.id))]
    assert actions == ["edit", "submit", "unsubmit"]
    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "History of this report" in html and "Submitted, awaiting review → Draft" in html


def test_an_unsubmitted_report_is_not_submitted_any_more_until_it_is_submitted_again(signed_in):
    """Withdrawing the first submission leaves nothing submitted: the report is due again, can be
    extended, and its timeliness comes from the next submission."""
    client = signed_in("grantee@demo.test")
    report = editable_report()
    fill_completely(client, report)
    certify(client, report)
    db.session.expire_all()
    first = db.session.get(Report, report.id).first_submitted_at
    assert first is not None
    client.post(f"/reports/{report.id}/unsubmit")
    db.session.expire_all()
    report = db.session.get(Report, report.id)
    assert (report.first_submitted_at, report.last_submitted_at) == (None, None)
    assert deadline_for(report).kind in ("open", "due_soon", "overdue")
    assert "Submitted on time" not in client.get(f"/reports/{report.id}").get_data(as_text=True)
    certify(client, report)
    db.session.expire_all()
    assert db.session.get(Report, report.id).first_submitted_at > first


def test_second_save_from_a_stale_page_is_refused_and_shows_both_values(demo):
    first = login(demo.test_client(), "grantee@demo.test")
    second = login(demo.test_client(), "editor@demo.test")
    report = editable_report()
    save(first, report, {"m_CLI_01": "10"})
    page_a = first.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    page_b = second.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    first.post(f"/reports/{report.id}/edit", data={"lock_version": lock_of(page_a), "action": "save", "m_CLI_01": "11"})
    response = second.post(f"/reports/{report.id}/edit",
                           data={"lock_version": lock_of(page_b), "action": "save", "m_CLI_01": "12"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved this draft first" in html
    assert 'value="12"' in html and '<td class="app-prewrap">11</td>' in html
    db.session.expire_all()
    values = {v.measure_code: v.raw for v in db.session.get(Report, report.id).current_version.values}
    assert values["CLI-01"] == "11"


def test_a_late_save_keeps_the_other_persons_changes_to_fields_its_writer_did_not_touch(demo):
    """Both open the draft; the first changes CLI-02 and saves; the second changes CLI-03 and a
    narrative and saves too late. The second's form comes back with both people's changes (no
    field of the first person's put back to what the second page showed), and saving it keeps
    all three."""
    first = login(demo.test_client(), "grantee@demo.test")
    second = login(demo.test_client(), "editor@demo.test")
    report = editable_report()
    save(first, report, valid_form(report))

    def form_of(page: str) -> dict[str, str]:
        fields = dict(re.findall(r'<input[^>]*name="(m_[^"]+)"[^>]*value="([^"]*)"', page))
        fields.update(re.findall(r'<textarea[^>]*name="(narrative_[^"]+)"[^>]*>\s*([^<]*)</textarea>', page))
        fields["base"] = re.search(r'name="base" type="hidden" value="([^"]*)"', page).group(1).replace("&#34;", '"')
        return {**fields, "lock_version": lock_of(page), "action": "save"}

    page_a, page_b = (c.get(f"/reports/{report.id}/edit").get_data(as_text=True) for c in (first, second))
    a, b = form_of(page_a), form_of(page_b)
    a["m_CLI_02"] = str(int(a["m_CLI_02"]) - 1)
    assert first.post(f"/reports/{report.id}/edit", data=a).status_code == 302
    b["m_CLI_03"] = str(int(b["m_CLI_03"]) - 1)
    b["narrative_next_period"] = "We will open a second shelter."
    late = second.post(f"/reports/{report.id}/edit", data=b)
    assert late.status_code == 409
    html = late.get_data(as_text=True)
    assert "You both changed" not in html  # different fields: nothing to decide
    merged = form_of(html)
    assert (merged["m_CLI_02"], merged["m_CLI_03"]) == (a["m_CLI_02"], b["m_CLI_03"])
    assert merged["narrative_next_period"].strip() == "We will open a second shelter."
    assert second.post(f"/reports/{report.id}/edit", data=merged).status_code == 302
    db.session.expire_all()
    version = db.session.get(Report, report.id).current_version
    values = {v.measure_code: v.raw for v in version.values if not v.dimension}
    assert (values["CLI-02"], values["CLI-03"]) == (a["m_CLI_02"], b["m_CLI_03"])
    assert version.narrative_next_period == "We will open a second shelter."


def test_other_grantee_gets_404_for_every_report_url_of_grantee(signed_in):
    other = signed_in("other-grantee@demo.test")
    org = _org_id("grantee@demo.test")
    reports = db.session.scalars(select(Report).join(Grant).where(Grant.organization_id == org)).all()
    grants = db.session.scalars(select(Grant).where(Grant.organization_id == org)).all()
    assert reports and grants
    for report in reports:
        for method, url in (("get", f"/reports/{report.id}"), ("get", f"/reports/{report.id}/edit"),
                            ("post", f"/reports/{report.id}/edit"), ("get", f"/reports/{report.id}/submit"),
                            ("post", f"/reports/{report.id}/submit"), ("post", f"/reports/{report.id}/unsubmit")):
            response = getattr(other, method)(url)
            assert response.status_code == 404, (method, url, response.status_code)
            assert db.session.get(Organization, org).legal_name not in response.get_data(as_text=True)
    for grant in grants:
        assert other.get(f"/grants/{grant.id}").status_code == 404


@pytest.mark.parametrize("email", ["officer@demo.test", "leader@demo.test"])
def test_officers_and_leadership_read_submitted_reports_but_not_drafts(signed_in, email):
    client = signed_in(email)
    submitted = editable_report(status="submitted")
    html = client.get(f"/reports/{submitted.id}").get_data(as_text=True)
    assert "CLI-01" in html and "Accomplishments against objectives" in html
    assert client.get(f"/reports/{submitted.id}/edit").status_code == 403
    draft = editable_report(status="draft")
    page = client.get(f"/reports/{draft.id}").get_data(as_text=True)
    assert "Nothing has been submitted for this period yet." in page or f"version {draft.current_version.number}, draft" not in page


def test_narrative_is_plain_text_never_html(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    save(client, report, {"narrative_accomplishments": "<script>alert(1)</script> & more"})
    html = client.get(f"/reports/{report.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_an_overlong_narrative_is_kept_in_the_draft_with_its_error_beside_it(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    data = valid_form(report)
    data["narrative_developments"] = "x" * 10_050
    response = save(client, report, data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Draft saved, with 1 error to fix" in page
    field = page.split('id="narrative_developments"', 1)[0].rsplit('<div class="usa-form-group', 1)[1]
    assert "Use at most 10,000 characters (this has 10,050)." in field  # beside the field, above its box
    db.session.expire_all()
    assert len(db.session.get(Report, report.id).current_version.narrative_developments) == 10_050


def test_a_deadline_phrase_is_shown_only_when_it_says_more_than_its_tag(signed_in):
    client = signed_in("grantee@demo.test")
    due = editable_report()
    assert deadline_for(due).says_more  # "Due in N days, on ..." under a "Due soon" or "Open" tag
    on_time = db.session.scalars(select(Report).join(Grant).where(
        Grant.organization_id == _org_id("grantee@demo.test"), Report.status == "accepted")).first()
    deadline = deadline_for(on_time)
    assert deadline.phrase == "Submitted on time" and not deadline.says_more
    html = client.get(f"/grants/{on_time.grant_id}").get_data(as_text=True)
    assert 'Submitted on time</span><span class="app-deadline">' not in html
    assert f'<span class="app-deadline">{deadline_for(due).phrase}</span>' in client.get(
        f"/grants/{due.grant_id}").get_data(as_text=True)


def test_the_submit_page_names_a_breakdown_that_does_not_add_up_and_links_to_its_table(signed_in):
    client = signed_in("grantee@demo.test")
    report = editable_report()
    data = valid_form(report)
    data["m_CLI_01__age__minor"] = str(int(data["m_CLI_01__age__minor"]) + 1)  # the ages no longer add up
    save(client, report, data)
    response = client.get(f"/reports/{report.id}/submit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="/reports/{report.id}/edit#bd-CLI-01-age">CLI-01 Age</a>: The age breakdown adds up to' in html
    edit = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert 'id="bd-CLI-01-age"' in edit and 'href="#bd-CLI-01-age">CLI-01 Age: The age breakdown adds up to' in edit
