"""The reporting calendar page and the private iCalendar feed (parsed back with icalendar)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from icalendar import Calendar

from grants.extensions import db
from grants.models import User
from grants.periods import eastern_today
from grants.security import token_digest
from grants.services import extensions as extension_service
from tests.test_review import client_for, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)


def create_feed(client) -> str:
    """Create (or replace) the feed address through the page; returns its path. The address is
    in that answer only: the calendar page shown afterwards never repeats it."""
    state = re.search(r'name="feed_state" value="([^"]+)"', client.get("/calendar").get_data(as_text=True)).group(1)
    response = client.post("/calendar/feed", data={"feed_state": state})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="feed-url"' not in client.get("/calendar").get_data(as_text=True)
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', html).group(1)
    return url.removeprefix("http://localhost")


def events(app, path: str) -> dict[str, dict]:
    response = app.test_client().get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    cal = Calendar.from_ical(response.data)
    return {str(e["uid"]): e for e in cal.walk("VEVENT")}


def test_month_grid_and_list_show_the_grants_due_dates(app, world):
    client = client_for(app, world.certifier)
    grid = client.get("/calendar?month=2026-04").get_data(as_text=True)
    assert "April 2026" in grid and f"{world.grant.award_number} FY2026 H1" in grid
    listing = client.get("/calendar?month=2026-04&view=list").get_data(as_text=True)
    assert "Apr 30, 2026" in listing and "Overdue" in listing
    assert "No report is due this month." in client.get("/calendar?month=2026-06&view=list").get_data(as_text=True)
    assert client.get("/calendar?month=garbage").status_code == 200
    today = eastern_today()
    this_month = client.get(f"/calendar?month={today:%Y-%m}").get_data(as_text=True)
    cell = re.search(r'<td class="[^"]*app-today[^"]*">\s*<span class="text-bold">(\d+)</span><span class="usa-sr-only"> \(today\)', this_month)
    assert cell and int(cell.group(1)) == today.day  # today's cell is marked for the eye and for screen readers


def test_officers_see_the_grants_assigned_to_them_and_others_see_nothing_of_them(app, world):
    label = f"{world.grant.award_number} FY2026 H1"
    assert label in client_for(app, world.officer).get("/calendar?month=2026-04").get_data(as_text=True)
    assert label not in client_for(app, world.outsider_officer).get("/calendar?month=2026-04").get_data(as_text=True)
    assert label not in client_for(app, world.other_certifier).get("/calendar?month=2026-04").get_data(as_text=True)


def test_feed_has_one_all_day_event_per_report_with_a_stable_uid_summary_and_link(app, world):
    path = create_feed(client_for(app, world.certifier))
    found = events(app, path)
    report = world.report("FY2026 H1")
    event = found[f"report-{report.id}@localhost"]
    assert event.decoded("dtstart") == date(2026, 4, 30)
    assert event.decoded("dtend") == date(2026, 5, 1)
    assert str(event["summary"]) == f"{world.grant.award_number} FY2026 H1 interim report due"
    assert str(event["url"]) == f"http://localhost/reports/{report.id}"
    assert len(found) == len(world.reports)
    officer_events = events(app, create_feed(client_for(app, world.officer)))
    assert str(officer_events[f"report-{report.id}@localhost"]["url"]) == f"http://localhost/review/reports/{report.id}"


def test_an_approved_extension_moves_the_event_and_keeps_its_uid(app, world):
    path = create_feed(client_for(app, world.certifier))
    report = world.report("FY2026 H1")
    extension = extension_service.request_extension(report, world.certifier, date(2026, 5, 29), "Staff on leave.")
    extension_service.decide_extension(extension, world.officer, True, None, "")
    db.session.commit()
    found = events(app, path)
    assert found[f"report-{report.id}@localhost"].decoded("dtstart") == date(2026, 5, 29)
    assert len(found) == len(world.reports)


def test_feed_token_is_stored_hashed_and_replacing_or_turning_off_stops_the_old_address(app, world):
    client = client_for(app, world.certifier)
    old = create_feed(client)
    token = old.removeprefix("/calendar/feed/").removesuffix(".ics")
    db.session.expire_all()
    stored = db.session.get(User, world.certifier.id).calendar_token_digest
    assert stored == token_digest(token) and token not in stored
    new = create_feed(client)
    assert app.test_client().get(old).status_code == 404
    assert app.test_client().get(new).status_code == 200
    assert client.post("/calendar/feed/off").status_code == 302
    assert app.test_client().get(new).status_code == 404
    assert "You have no calendar address yet." in client.get("/calendar").get_data(as_text=True)


def test_feed_of_a_deactivated_user_or_an_unknown_token_is_404(app, world):
    path = create_feed(client_for(app, world.certifier))
    assert app.test_client().get("/calendar/feed/not-a-token.ics").status_code == 404
    world.certifier.active = False
    db.session.commit()
    assert app.test_client().get(path).status_code == 404


def test_calendar_page_needs_a_grantee_or_officer_sign_in(app, world):
    assert app.test_client().get("/calendar").status_code == 302
    assert client_for(app, world.certifier).get("/calendar").status_code == 200


def test_reloading_the_page_that_showed_a_new_address_does_not_replace_it(app, world):
    """A reload sends the form again, with the state of the page it came from: nothing changes,
    and the address just copied keeps working."""
    client = client_for(app, world.certifier)
    before = re.search(r'name="feed_state" value="([^"]+)"', client.get("/calendar").get_data(as_text=True)).group(1)
    path = create_feed(client)
    again = client.post("/calendar/feed", data={"feed_state": before}, follow_redirects=True)
    assert "nothing changed" in again.get_data(as_text=True)
    assert events(app, path)  # the copied address still answers


def test_a_returned_report_is_due_on_its_revision_date_in_the_calendar_and_the_feed(app, world):
    from sqlalchemy import select

    from grants.models import Report
    from grants.services import reports as report_service
    from tests.test_review import file_report

    path = create_feed(client_for(app, world.certifier))
    report = world.report("FY2026 H1")
    file_report(report, world.certifier)
    report_service.return_report(report, world.officer, "Explain CLI-01.", date(2026, 5, 27))
    db.session.commit()
    event = events(app, path)[f"report-{report.id}@localhost"]
    assert event.decoded("dtstart") == date(2026, 5, 27) and "revised report due" in str(event["summary"])
    page = client_for(app, world.certifier).get("/calendar?month=2026-05&view=list").get_data(as_text=True)
    assert "Revision due" in page and "extended from" not in page
    # the Python rules and their SQL twins agree on every report
    for r in world.reports:
        db.session.refresh(r)
        pending, due = db.session.execute(select(report_service.revision_pending_sql(), report_service.due_by_sql())
                                          .where(Report.id == r.id)).one()
        assert (bool(pending), due) == (report_service.revision_pending(r), report_service.due_by(r)), r.period_label

