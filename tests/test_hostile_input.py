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


# ---- the JSON API ---------------------------------------------------------------------------------

JSON_VALUES = st.one_of(HOSTILE, st.integers(min_value=-10**30, max_value=10**30), st.floats(allow_nan=True),
                        st.none(), st.booleans(), st.lists(st.integers(), max_size=3),
                        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@PROFILE
@given(key=st.one_of(st.sampled_from(["CLI-01", "CLI-01.age.minor", "SRV-01.service.housing", "FIN-01"]), HOSTILE),
       value=JSON_VALUES, narrative=HOSTILE)
def test_hostile_api_updates_are_refused_with_named_errors_and_change_nothing(demo, key, value, narrative):
    from tests.test_api import Api, org_report

    api = Api(demo, "grantee@demo.test")
    report = org_report()
    before = api.get(f"/reports/{report.id}")
    assert before.status_code == 200
    response = api("PATCH", f"/reports/{report.id}/values", headers={"If-Match": before.headers["ETag"]},
                   json={"values": {key: value}, "narratives": {"accomplishments": narrative}})
    assert response.status_code in (200, 412, 422), response.get_data(as_text=True)[:300]
    body = response.get_json()
    if response.status_code == 422:
        assert body["message"] and body["errors"], body
        after = api.get(f"/reports/{report.id}").get_json()
        assert after["values"] == before.get_json()["values"]
        assert after["narratives"] == before.get_json()["narratives"]
    elif response.status_code == 200 and isinstance(narrative, str) and "<script>" in narrative:
        page = login(demo.test_client(), "grantee@demo.test").get(f"/reports/{report.id}").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page


# ---- the spreadsheet upload -----------------------------------------------------------------------

@PROFILE
@given(blob=st.binary(max_size=2048))
def test_random_bytes_uploaded_as_a_workbook_get_a_clear_message(demo, blob):
    from tests.test_upload import upload

    client, report = _report_and_client(demo)
    before = report.current_version_id
    response = upload(client, report, blob)
    assert response.status_code in (200, 400), response.status_code
    html = response.get_data(as_text=True)
    assert "usa-alert--error" in html or "usa-error-message" in html
    db.session.expire_all()
    assert db.session.get(Report, report.id).current_version_id == before


@PROFILE
@given(text=HOSTILE, number=st.one_of(HOSTILE, st.floats(allow_nan=True, allow_infinity=True), st.integers()))
def test_hostile_cells_in_a_real_workbook_are_reported_per_cell_and_escaped(demo, text, number):
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    from tests.test_upload import download, fill, upload

    # Excel itself cannot hold control characters; what a person can type, the test types.
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    number = ILLEGAL_CHARACTERS_RE.sub("", number) if isinstance(number, str) else number
    client, report = _report_and_client(demo)
    data = fill(download(client, report), report, {"CLI-01": number}, {"narrative_accomplishments": text})
    response = upload(client, report, data)
    assert response.status_code in (200, 400), response.status_code
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
