"""Adding many grants from a workbook: the template, the preview (exactly what confirming would do,
nothing saved), errors per row and column, and all-or-nothing confirmation."""
from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Community, Grant, Organization, Report
from grants.services.award_import import COLUMNS, ORGANIZATION_COLUMNS
from tests.factories import CommunityFactory, OrganizationFactory
from tests.test_review import client_for, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)
HEADINGS = [heading for heading, _, _ in COLUMNS]


@pytest.fixture
def places(world):
    org = OrganizationFactory(legal_name="Harbor Light Youth Services", ein="52-1234567")
    community = CommunityFactory(name="Baltimore City, MD", state="MD")
    db.session.commit()
    return org, community


def _workbook(rows, headings=HEADINGS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Grants"
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _row(award="90ZV0801-01-00", program="YCCR", ein="52-1234567", community="Baltimore City, MD", state="MD",
         officer="", title="Baltimore youth response", start=date(2025, 10, 1), end="2028-09-30", amount=750000,
         status="active"):
    return [award, program, ein, community, state, officer, title, start, end, amount, status]


def _upload(client, data: bytes, name: str = "grants.xlsx"):
    return client.post("/admin/grants/import", data={"workbook": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _grants() -> int:
    return db.session.scalar(select(func.count(Grant.id)))


def test_the_template_lists_the_columns_and_what_rows_may_name(app, world, admin, places):
    response = client_for(app, admin).get("/admin/grants/import/template.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    assert book.sheetnames == ["Grants", "New organizations", "New communities", "Programs", "Organizations",
                               "Communities", "Officers"]
    assert [c.value for c in next(book["New organizations"].iter_rows(max_row=1))] == [
        h for h, _, _ in ORGANIZATION_COLUMNS]
    assert [c.value for c in next(book["New communities"].iter_rows(max_row=1))] == ["Community", "State", "Type"]
    assert [c.value for c in next(book["Grants"].iter_rows(max_row=1))] == HEADINGS
    assert ("52-1234567", "Harbor Light Youth Services", "OH") in [tuple(r) for r in book["Organizations"].iter_rows(values_only=True)]
    assert ("Baltimore City, MD", "MD", 3) in [tuple(r) for r in book["Communities"].iter_rows(values_only=True)]
    assert (world.officer.email, world.officer.name) in [tuple(r) for r in book["Officers"].iter_rows(values_only=True)]


def test_the_preview_saves_nothing_and_confirming_adds_every_grant(app, world, admin, places):
    client = client_for(app, admin)
    before = _grants()
    data = _workbook([_row(officer=world.officer.email.upper()),
                      _row(award="90ZV0802-01-00", start="10/01/2026", end=datetime(2029, 9, 30), amount="1,200,000.00",
                           status="")])
    preview = _upload(client, data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    # Mid-May 2026: the first grant has FY2026 H1 and H2; the second starts in FY2027.
    assert "2 grants ready to add" in html and "Adding them opens 2 reports" in html
    assert _grants() == before, "the preview saves nothing"
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    confirmed = client.post("/admin/grants/import/confirm", data={"token": token})
    assert confirmed.status_code == 302
    assert "2 grants added; 2 reports opened for started periods." in client.get(confirmed.location).get_data(as_text=True)
    first = db.session.scalar(select(Grant).where(Grant.award_number == "90ZV0801-01-00"))
    second = db.session.scalar(select(Grant).where(Grant.award_number == "90ZV0802-01-00"))
    assert first.officer_id == world.officer.id and first.community.name == "Baltimore City, MD"
    assert (second.start_date, second.end_date, second.award_amount, second.status, second.officer_id) == (
        date(2026, 10, 1), date(2029, 9, 30), 1_200_000, "active", None)
    assert db.session.scalar(select(func.count(Report.id)).where(Report.grant_id == first.id)) == 2
    notices = client_for(app, world.officer).get("/notifications").get_data(as_text=True)
    assert "1 grant assigned to you" in notices and "You are now the program officer of 90ZV0801-01-00" in notices
    # The file is gone: confirming twice adds nothing more.
    again = client.post("/admin/grants/import/confirm", data={"token": token})
    assert "This upload has expired" in client.get(again.location).get_data(as_text=True)
    assert _grants() == before + 2


def test_each_row_s_errors_are_named_by_column_and_nothing_is_added(app, world, admin, places):
    client = client_for(app, admin)
    before = _grants()
    data = _workbook([
        _row(),
        _row(),  # the same award number again
        _row(award="90ZV0803-01-00", program="NOPE", ein="99-9999999", community="Nowhere County", state="ZZ"),
        _row(award="90ZV0804-01-00", officer="nobody@example.test", start="first of October", amount="lots"),
        _row(award="90ZV0805-01-00", officer=world.certifier.email, end="2024-01-01"),
    ])
    response = _upload(client, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "4 of 5 rows have errors" in html and "Nothing was added." in html
    for text in ("<strong>Award number:</strong> Another grant has award number 90ZV0801-01-00.",
                 "<strong>Program code:</strong> There is no program NOPE.",
                 "<strong>Organization EIN:</strong> No organization has EIN 99-9999999.",
                 "<strong>Community:</strong> There is no community Nowhere County in ZZ.",
                 "<strong>Program officer email:</strong> No account has the email nobody@example.test.",
                 "<strong>Start date:</strong> Enter the first day of the period of performance.",
                 "<strong>Award amount:</strong> Enter the award amount in dollars",
                 "<strong>Program officer email:</strong> Choose an active program officer",
                 "<strong>End date:</strong> The period of performance must end after it starts."):
        assert text in html, text
    assert 'action="/admin/grants/import/confirm"' not in html
    assert _grants() == before


def test_a_workbook_that_is_not_a_list_of_grants_is_refused(app, world, admin, places):
    client = client_for(app, admin)
    missing = _upload(client, _workbook([["90ZV0801-01-00"]], headings=["Award number"]))
    assert missing.status_code == 400
    assert "has no column &#39;Program code&#39;" in missing.get_data(as_text=True)
    empty = _upload(client, _workbook([]))
    assert "has no grant under its headings" in empty.get_data(as_text=True)
    assert "is not an Excel workbook" in _upload(client, b"award,program\n1,2\n", "grants.csv").get_data(as_text=True)


def test_confirming_checks_the_rows_again(app, world, admin, places):
    client = client_for(app, admin)
    html = _upload(client, _workbook([_row()])).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    # Meanwhile another admin adds a grant with that award number.
    other = client_for(app, admin)
    other_html = _upload(other, _workbook([_row(title="Added first")])).get_data(as_text=True)
    other.post("/admin/grants/import/confirm",
               data={"token": re.search(r'name="token" type="hidden" value="([^"]+)"', other_html).group(1)})
    refused = client.post("/admin/grants/import/confirm", data={"token": token})
    assert "1 row has errors, so nothing was added." in client.get(refused.location).get_data(as_text=True)
    assert db.session.scalar(select(Grant.title).where(Grant.award_number == "90ZV0801-01-00")) == "Added first"


NEW_ORG = ["Lakeshore Youth Alliance, Inc.", "34-7654321", "LKSH12345678", "1 Lake St", "Toledo", "oh", "43604"]
NEW_COMMUNITY = ["Lucas County, OH", "OH", "Urban"]


def _cohort_workbook(grants, organizations=(), communities=(), template: bytes | None = None) -> bytes:
    """A workbook with the New organizations and New communities sheets (the downloaded template's,
    its hint rows kept, when `template` is given)."""
    book = load_workbook(io.BytesIO(template)) if template else Workbook()
    if not template:
        book.active.title = "Grants"
        book["Grants"].append(HEADINGS)
        book.create_sheet("New organizations").append([h for h, _, _ in ORGANIZATION_COLUMNS])
        book.create_sheet("New communities").append(["Community", "State", "Type"])
    for name, rows in (("Grants", grants), ("New organizations", organizations), ("New communities", communities)):
        for row in rows:
            book[name].append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_cohort_brings_its_new_organizations_and_communities_with_its_grants(app, world, admin):
    client = client_for(app, admin)
    template = client.get("/admin/grants/import/template.xlsx").data
    data = _cohort_workbook([_row(ein="34-7654321", community="lucas county, oh", state="OH")], [NEW_ORG],
                            [NEW_COMMUNITY], template=template)
    preview = _upload(client, data)
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "1 grant, 1 organization, 1 community ready to add" in html
    for heading in ("<h2>New organizations</h2>", "<h2>New communities</h2>", "<h2>Grants</h2>"):
        assert heading in html
    assert "Lakeshore Youth Alliance, Inc." in html and "Lucas County, OH" in html
    assert db.session.scalar(select(Organization).where(Organization.ein == "34-7654321")) is None, "nothing saved yet"
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html).group(1)
    confirmed = client.post("/admin/grants/import/confirm", data={"token": token})
    assert "1 grant added with 1 new organization and 1 new community; 2 reports opened" in client.get(
        confirmed.location).get_data(as_text=True)
    org = db.session.scalar(select(Organization).where(Organization.ein == "34-7654321"))
    community = db.session.scalar(select(Community).where(Community.name == "Lucas County, OH"))
    assert (org.state, org.uei, community.community_type, community.hhs_region) == ("OH", "LKSH12345678", "urban", 5)
    grant = db.session.scalar(select(Grant).where(Grant.award_number == "90ZV0801-01-00"))
    assert (grant.organization_id, grant.community_id) == (org.id, community.id)


def test_a_bad_new_organization_row_adds_nothing_and_is_named_by_sheet_and_column(app, world, admin, places):
    client = client_for(app, admin)
    bad_org = ["", "34-76543", "LKSH12345678", "", "", "OH", ""]
    taken = ["Another Harbor Light", "52-1234567", "HRBR12345678", "", "", "MD", ""]  # the places fixture's EIN
    data = _cohort_workbook([_row(ein="34-76543"), _row(award="90ZV0802-01-00")], [bad_org, taken],
                            [["Lucas County, OH", "OH", "megalopolis"]])
    preview = _upload(client, data)
    assert preview.status_code == 400
    html = preview.get_data(as_text=True)
    assert "4 of 5 rows have errors" in html and "Nothing was added." in html
    assert "<strong>Legal name:</strong> Enter the organization&#39;s legal name." in html
    assert "<strong>EIN:</strong> Enter the EIN as 2 digits" in html
    assert "<strong>EIN:</strong> Another organization has this EIN." in html
    assert "<strong>Type:</strong> Choose the kind of community." in html
    assert "No organization has EIN 34-76543. Add it on the Organizations page, or in this workbook" in html
    assert 'name="token"' not in html
    assert db.session.scalar(select(func.count(Organization.id)).where(Organization.ein == "34-76543")) == 0
    assert db.session.scalar(select(func.count(Community.id)).where(Community.name == "Lucas County, OH")) == 0


def test_the_templates_untouched_new_sheets_are_ignored(app, world, admin, places):
    client = client_for(app, admin)
    template = client.get("/admin/grants/import/template.xlsx").data
    preview = _upload(client, _cohort_workbook([_row()], template=template))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "1 grant ready to add" in html and "<h2>New organizations</h2>" not in html
