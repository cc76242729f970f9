"""Program and measure administration: new programs, new versions of a program's measures (for
reports opened from their date on, never rewriting an opened report), and rewording measures."""
from __future__ import annotations

import re
from datetime import date, datetime

import pytest
import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.measures import CATALOG
from grants.models import AuditEvent, MeasureDefinition, MeasureSet, Program, Report
from grants.periods import EASTERN
from grants.services.open_periods import open_reporting_periods
from tests.factories import GrantFactory, program
from tests.test_review import client_for, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)



def _codes(measure_set: MeasureSet) -> list[str]:
    return [item.measure.code for item in measure_set.items]


def test_only_admins_manage_programs_and_measures(app, world):
    yccr = program("YCCR")
    measure = db.session.scalar(select(MeasureDefinition).where(MeasureDefinition.code == "CLI-01"))
    db.session.commit()
    client = client_for(app, world.officer)
    for path in ("/admin/programs", "/admin/programs/new", f"/admin/programs/{yccr.id}", "/admin/measures",
                 f"/admin/measures/{measure.id}"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/admin/measures/{measure.id}", data={"name": "Renamed"}).status_code == 403
    assert client.post(f"/admin/programs/{yccr.id}/measure-sets",
                       data={"set-measures": ["CLI-01"], "set-effective_from": "2026-06-01"}).status_code == 403
    db.session.expire_all()
    assert measure.name == "Clients served in the period" and len(yccr.measure_sets) == 1


def test_a_new_version_of_measures_applies_to_reports_opened_from_its_date(app, world, admin):
    client = client_for(app, admin)
    yccr = program("YCCR")
    db.session.commit()
    v1 = _codes(yccr.measure_sets[0])
    page = client.get(f"/admin/programs/{yccr.id}").get_data(as_text=True)
    assert 'value="2026-05-15"' in page, "a new version may start today at the earliest"
    chosen = [*v1, "CLI-04"]
    response = client.post(f"/admin/programs/{yccr.id}/measure-sets",
                           data={"set-measures": chosen, "set-effective_from": "2026-10-01"})
    assert response.status_code == 302
    assert "Version 2 of YCCR&#39;s measures saved: reports opened from Oct 1, 2026 on collect them." in \
        client.get(response.location).get_data(as_text=True)
    db.session.expire_all()
    assert [s.version for s in yccr.measure_sets] == [1, 2]
    assert _codes(yccr.measure_sets[1]) == sorted(chosen, key=list(CATALOG).index), "catalogue order"
    # A grant starting in FY2027: its first report opens on Oct 1, 2026 on version 2; the world's
    # reports, opened before, keep version 1.
    grant = GrantFactory(program=yccr, start_date=date(2026, 10, 1), end_date=date(2028, 9, 30))
    db.session.commit()
    with time_machine.travel(date(2026, 10, 2), tick=False):
        open_reporting_periods(date(2026, 10, 2))
    db.session.commit()
    new_report = db.session.scalar(select(Report).where(Report.grant_id == grant.id))
    assert new_report.measure_set.version == 2 and "CLI-04" in _codes(new_report.measure_set)
    assert {r.measure_set.version for r in db.session.scalars(select(Report).where(Report.grant_id == world.grant.id))} == {1}
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "measure_set.insert")) is not None


@pytest.mark.parametrize("measures, effective, message", [
    (["CLI-02", "CLI-03", "FIN-01"], "2026-06-01", "CLI-02 and CLI-03 cannot exceed CLI-01, so CLI-01 must be collected with them."),
    ([], "2026-06-01", "Choose at least one measure."),
    (["CLI-01", "NOPE-9"], "2026-06-01", "Choose measures from the list."),
    (["CLI-01"], "2026-05-14", "Choose today or a later date"),
    (["CLI-01"], "", "Enter the date the measures take effect."),
    ("V1", "2026-06-01", "These are the measures of version 1 already."),
])
def test_a_bad_new_version_is_refused_beside_its_field(app, world, admin, measures, effective, message):
    yccr = program("YCCR")
    db.session.commit()
    if measures == "V1":
        measures = _codes(yccr.measure_sets[0])
    response = client_for(app, admin).post(f"/admin/programs/{yccr.id}/measure-sets",
                                           data={"set-measures": measures, "set-effective_from": effective})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'class="usa-error-message" id="set-(measures|effective_from)-error-1">' + re.escape(message), html), html[-4000:]
    db.session.expire_all()
    assert len(yccr.measure_sets) == 1


def test_a_version_cannot_take_effect_before_the_newest_one(app, world, admin):
    client = client_for(app, admin)
    yccr = program("YCCR")
    db.session.commit()
    v1 = _codes(yccr.measure_sets[0])
    assert client.post(f"/admin/programs/{yccr.id}/measure-sets",
                       data={"set-measures": [*v1, "CLI-04"], "set-effective_from": "2027-04-01"}).status_code == 302
    page = client.get(f"/admin/programs/{yccr.id}").get_data(as_text=True)
    assert 'value="2027-04-01"' in page, "the earliest date a newer version may take"
    refused = client.post(f"/admin/programs/{yccr.id}/measure-sets",
                          data={"set-measures": v1, "set-effective_from": "2026-12-01"})
    assert "Version 2 takes effect on Apr 1, 2027; a new version cannot take effect before it." in \
        refused.get_data(as_text=True)


def test_admin_adds_a_program_with_its_first_measures(app, world, admin):
    client = client_for(app, admin)
    bad = client.post("/admin/programs/new", data={"code": "yccr", "name": "", "funding_office": "OTIP",
                                                   "measures": ["CCR-03"], "effective_from": "2026-05-15"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "There is already a program YCCR." in html  # the world's program: codes are compared in capitals
    assert "Enter the program&#39;s name." in html
    assert "CCR-03 cannot exceed CCR-02, so CCR-02 must be collected with it." in html
    response = client.post("/admin/programs/new", data={
        "code": "tvap", "name": "Trafficking Victim Assistance Program", "funding_office": "Office on Trafficking in Persons",
        "measures": ["CLI-01", "CLI-04", "FIN-01"], "effective_from": "2026-05-15"})
    assert response.status_code == 302
    tvap = db.session.scalar(select(Program).where(Program.code == "TVAP"))
    assert _codes(tvap.measure_sets[0]) == ["CLI-01", "CLI-04", "FIN-01"]
    assert tvap.measure_sets[0].effective_from == date(2026, 5, 15)
    # It is one of the programs a grant can be added to, and a roll-up's choices.
    assert "TVAP: Trafficking Victim Assistance Program" in client.get("/admin/grants/new").get_data(as_text=True)


def test_rewording_a_measure_shows_on_past_reports_and_is_refused_from_an_out_of_date_page(app, world, admin):
    client = client_for(app, admin)
    program("YCCR")
    measure = db.session.scalar(select(MeasureDefinition).where(MeasureDefinition.code == "CLI-01"))
    db.session.commit()
    page = client.get(f"/admin/measures/{measure.id}").get_data(as_text=True)
    lock = re.search(r'name="lock_version" type="hidden" value="(\d+)"', page).group(1)
    assert 'name="value_type"' not in page and "These stay as they are" in page
    assert client.post(f"/admin/measures/{measure.id}", data={
        "lock_version": lock, "name": "Survivors served in the period", "help_text": "Count each person once."}
    ).status_code == 302
    stale = client.post(f"/admin/measures/{measure.id}", data={"lock_version": lock, "name": "Another name"})
    assert stale.status_code == 409
    assert re.search(r"Name</th><td>Another name</td><td>Survivors served in the period</td>", stale.get_data(as_text=True))
    with time_machine.travel(date(2026, 5, 15), tick=False):
        html = client_for(app, world.certifier).get(f"/reports/{world.report('FY2026 H1').id}/edit").get_data(as_text=True)
    assert "Survivors served in the period" in html and "Count each person once." in html
    listing = client.get("/admin/measures").get_data(as_text=True)
    assert "Survivors served in the period" in listing and "YCCR" in listing


def test_program_list_says_which_version_reports_open_on(app, world, admin):
    client = client_for(app, admin)
    yccr = program("YCCR")
    db.session.commit()
    v1 = _codes(yccr.measure_sets[0])
    client.post(f"/admin/programs/{yccr.id}/measure-sets", data={"set-measures": [*v1, "CLI-04"],
                                                                 "set-effective_from": "2026-07-01"})
    html = client.get("/admin/programs").get_data(as_text=True)
    assert f"Version 1 (since Oct 1, 2010): {len(v1)} measures" in html
    assert "Version 2 from Jul 1, 2026" in html
    with time_machine.travel(datetime(2026, 7, 2, 12, 0, tzinfo=EASTERN), tick=False):
        later = client_for(app, admin).get("/admin/programs").get_data(as_text=True)
    assert f"Version 2 (since Jul 1, 2026): {len(v1) + 1} measures" in later
