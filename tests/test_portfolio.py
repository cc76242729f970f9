"""The officer's portfolio: which grants, which report is current, statuses, filters, counts,
pagination, and a fixed number of SQL statements whatever the number of grants."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event

from grants.extensions import db
from grants.models import ExtensionRequest
from grants.services import reports as report_service
from grants.services.portfolio import PER_PAGE, PortfolioFilters, load_portfolio
from tests.factories import CommunityFactory, GrantFactory, OrganizationFactory, open_reports, program
from tests.test_review import TODAY, client_for, file_report, world_in_may

world_fixture = pytest.fixture(name="world")(world_in_may)


def add_grants(officer, count: int, state: str = "OH") -> list:
    """More grants of the officer's program, with every report row, some overdue, some extended."""
    grants = []
    community = CommunityFactory(state=state)
    for i in range(count):
        grant = GrantFactory(program=program("YCCR"), officer=officer, organization=OrganizationFactory(),
                             community=community)
        reports = open_reports(grant)
        if i % 3 == 0:
            reports[0].status, reports[0].first_submitted_at = "submitted", reports[0].deadline_at - timedelta(days=2)
        if i % 4 == 0:
            db.session.add(ExtensionRequest(report_id=reports[1].id, requested_by_id=officer.id,
                                            requested_date=reports[1].due_date + timedelta(days=30), reason="r"))
        grants.append(grant)
    db.session.commit()
    return grants


@contextmanager
def counted_statements():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def rows(client, query: str = "") -> list[str]:
    """Award numbers listed on the portfolio page, in order."""
    html = client.get(f"/portfolio{query}").get_data(as_text=True)
    return re.findall(r'<th scope="row"><a class="usa-link[^"]*" href="/grants/\d+">([^<]+)</a>', html)


def test_statement_count_does_not_grow_with_the_number_of_grants(app, world):
    client = client_for(app, world.officer)
    client.get("/portfolio")
    queries = ("", "?scope=all&sort=overdue", "?status=overdue&q=90ZV", "?fiscal_year=2026&half=H1")
    counts: dict[str, list[int]] = {}

    def measure():
        for query in queries:
            with counted_statements() as statements:
                assert client.get(f"/portfolio{query}").status_code == 200
            counts.setdefault(query, []).append(len(statements))

    measure()
    add_grants(world.officer, 69)
    measure()
    for query, (small, large) in counts.items():
        assert small == large, f"{query or 'default'}: {small} statements with 1 grant, {large} with 70"
    assert max(max(c) for c in counts.values()) <= 15


def test_default_lists_grants_assigned_to_me_and_all_lists_the_programs_grants(app, world):
    award = world.grant.award_number
    assert rows(client_for(app, world.officer)) == [award]
    colleague = client_for(app, world.program_colleague)
    assert rows(colleague) == []
    assert rows(colleague, "?scope=all") == [award]
    outsider = client_for(app, world.outsider_officer)
    assert rows(outsider, "?scope=all") == []
    assert client_for(app, world.certifier).get("/portfolio").status_code == 403


def test_current_report_is_the_earliest_still_owed_then_the_latest_started(app, world):
    today = TODAY.date()

    def current(on=today):
        row = load_portfolio(world.officer, PortfolioFilters(), on).page.items[0]
        return row.report.period_label, row.timeliness, row.status_label

    assert current() == ("FY2025 H1", "overdue", "Overdue 380 days")
    for label in ("FY2025 H1", "FY2025 H2"):
        file_report(world.report(label), world.certifier)
        report_service.accept_report(world.report(label), world.officer)
        db.session.commit()
    assert current() == ("FY2026 H1", "overdue", "Overdue 15 days")
    file_report(world.report("FY2026 H1"), world.certifier)
    assert current() == ("FY2026 H1", "submitted_late", "Submitted late"), "awaiting review stays current"
    report_service.return_report(world.report("FY2026 H1"), world.officer, "Explain CLI-01.", today + timedelta(days=7))
    db.session.commit()
    assert current() == ("FY2026 H1", "submitted_late", "Returned: revision due May 22, 2026")
    assert current(today + timedelta(days=9))[2] == "Returned: revision overdue 2 days"
    file_report(world.report("FY2026 H1"), world.certifier)
    report_service.accept_report(world.report("FY2026 H1"), world.officer)
    db.session.commit()
    assert current() == ("FY2026 H2", "open", "Open")
    row = load_portfolio(world.officer, PortfolioFilters(), today).page.items[0]
    assert (row.next_report.label, row.next_report.due_date.isoformat()) == ("FY2027 H1", "2027-04-30")
    assert row.last_submitted_at is not None


def test_counts_at_the_top_cover_every_started_report(app, world):
    file_report(world.report("FY2025 H1"), world.certifier)
    result = load_portfolio(world.officer, PortfolioFilters(), TODAY.date())
    assert (result.due_soon, result.overdue, result.awaiting_review) == (0, 2, 1)
    html = client_for(app, world.officer).get("/portfolio").get_data(as_text=True)
    assert re.search(r'data-count="overdue">2<', html) and re.search(r'data-count="awaiting_review">1<', html)


def test_filters_by_status_search_program_state_and_period(app, world):
    others = add_grants(world.officer, 3, state="TX")
    client = client_for(app, world.officer)
    everyone = sorted([world.grant.award_number] + [g.award_number for g in others])
    assert sorted(rows(client)) == everyone
    assert rows(client, f"?q={world.grant.award_number[:8].lower()}") == [world.grant.award_number]
    assert rows(client, f"?q={others[1].organization.legal_name[-8:]}") == [others[1].award_number]
    assert sorted(rows(client, "?state=TX")) == sorted(g.award_number for g in others)
    assert rows(client, "?program=DVHT") == []
    assert sorted(rows(client, "?program=YCCR")) == everyone
    assert "Not a valid choice" not in client.get("/portfolio?program=YCCR&state=TX").get_data(as_text=True)
    awaiting = rows(client, "?status=awaiting_review")
    assert awaiting == [others[0].award_number], "the first added grant has its first report submitted"
    # A status lists every report in it: the first added grant's later report is overdue too.
    assert set(rows(client, "?status=overdue")) == set(everyone)
    portfolio = load_portfolio(world.officer, PortfolioFilters(), TODAY.date())
    for status, count in (("due_soon", portfolio.due_soon), ("overdue", portfolio.overdue),
                          ("awaiting_review", portfolio.awaiting_review)):  # each card's count is its list's length
        listed = load_portfolio(world.officer, PortfolioFilters(status=status), TODAY.date())
        assert listed.page.total == count and listed.rows_are_reports, status
    h1 = client.get("/portfolio?fiscal_year=2026&half=H1").get_data(as_text=True)
    assert "FY2026 H1 interim" in h1 and "FY2025 H1 interim" not in h1
    assert rows(client, "?q=%25") == [], "LIKE wildcards are searched literally"


def test_extended_status_and_sort_by_days_overdue(app, world):
    report = world.report("FY2025 H1")
    report.effective_due_date = TODAY.date() + timedelta(days=5)
    db.session.commit()
    others = add_grants(world.officer, 2)
    client = client_for(app, world.officer)
    html = client.get("/portfolio").get_data(as_text=True)
    assert "Extended to May 20, 2026" in html
    assert rows(client, "?status=extended") == [world.grant.award_number]
    ordered = rows(client, "?sort=overdue")
    assert ordered[-1] == world.grant.award_number, "not overdue: listed after the overdue ones"
    assert set(ordered[:2]) == {g.award_number for g in others}


def test_pages_of_fifty(app, world):
    add_grants(world.officer, PER_PAGE + 5)
    client = client_for(app, world.officer)
    assert len(rows(client)) == PER_PAGE
    assert len(rows(client, "?page=2")) == 6
    assert 'aria-label="Page 2"' in client.get("/portfolio").get_data(as_text=True)
