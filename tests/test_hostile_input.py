"""Random and hostile input (hypothesis) through the report form and sign-in: never a server error,
always a clear message, nothing stored when refused, and text escaped wherever it is shown."""
from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import select

from grants.extensions import db
from grants.models import Grant, Report, ReportValue, User
from tests.conftest import login

HOSTILE = st.one_of(
    st.text(max_size=80),
    st.sampled_from([
        "<script>alert(1)</script>", "=HYPERLINK(\"http://x\")", "+1+1", "-1", "@SUM(A1)", "\t=1", "\r=1",
        "99999999999999999999999", "1e400", "NaN", "Infinity", "0x1F", "１２", "١٢٣", "12.5", "-0", " 7 ",
        "\x00", "a\x00b", "' OR 1=1 --", "😀" * 20, "Ω≈ç√∫", "1,000,000,000", "$1.999",
    ]),
)
PROFILE = settings(max_examples=25, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _report_and_client(demo):
    client = login(demo.test_client(), "grantee@demo.test")
    org = db.session.scalar(select(User.organization_id).where(User.email == "grantee@demo.test"))
    report = db.session.scalars(select(Report).join(Grant).where(
        Grant.organization_id == org, Report.status.in_(("not_started", "draft"))).order_by(Report.id)).first()
    return client, report


def _lock(page: str) -> str:
    match = re.search(r'name="lock_version" type="hidden" value="(\d*)"', page)
    return match.group(1) if match else ""


@PROFILE
@given(count=HOSTILE, narrative=HOSTILE, percent=HOSTILE)
def test_hostile_values_in_the_report_form_never_break_it(demo, count, narrative, percent):
    client, report = _report_and_client(demo)
    page = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    before = {(v.measure_code, v.dimension, v.category): v.raw for v in db.session.scalars(
        select(ReportValue).where(ReportValue.version_id == report.current_version_id))} if report.current_version_id else {}
    response = client.post(f"/reports/{report.id}/edit", data={
        "lock_version": _lock(page), "action": "save", "m_CLI_01": count, "m_SRV_02": percent,
        "narrative_accomplishments": narrative})
    assert response.status_code in (302, 400), response.status_code
    db.session.expire_all()
    if response.status_code == 400:
        assert "Nothing was saved" in response.get_data(as_text=True)
        current = db.session.get(Report, report.id)
        after = {(v.measure_code, v.dimension, v.category): v.raw for v in db.session.scalars(
            select(ReportValue).where(ReportValue.version_id == current.current_version_id))} if current.current_version_id else {}
        assert after == before
        return
    page = client.get(f"/reports/{report.id}/edit").get_data(as_text=True)
    assert response.status_code == 302
    typed = count.strip()[:64]
    if typed:
        assert str(escape(typed)) in page
    assert "<script>alert(1)</script>" not in page
    view = client.get(f"/reports/{report.id}")
    assert view.status_code == 200
    assert "<script>alert(1)</script>" not in view.get_data(as_text=True)


@PROFILE
@given(email=HOSTILE, password=HOSTILE)
def test_hostile_sign_in_input_gets_a_message_not_an_error(demo, email, password):
    response = demo.test_client().post("/login", data={"email": email, "password": password})
    assert response.status_code in (400, 429)
    body = response.get_data(as_text=True)
    assert ("not right" in body or "Enter your" in body or "NUL character" in body
            or "Too many" in body or "Field must be" in body)
