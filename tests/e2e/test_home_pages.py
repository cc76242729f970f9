"""Every demo account signs in and lands on its own home page, which works and passes axe."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.e2e
# Where each role lands (grants/blueprints/main.py HOME_ENDPOINTS); None: any page of its own.
HOMES = {
    "grantee@demo.test": "/reports",
    "editor@demo.test": "/reports",
    "other-grantee@demo.test": "/reports",
    "officer@demo.test": "/portfolio",
    "leader@demo.test": None,
    "admin@demo.test": None,
}


@pytest.mark.parametrize("email", list(HOMES))
def test_each_demo_account_home_page(page, email):
    sign_in(page, email)
    path = re.sub(r"^https?://[^/]+", "", page.url).split("?")[0].split("#")[0]
    assert path not in ("/profile", "/login"), f"{email} has no home page yet: landed on {path}"
    if HOMES[email]:
        assert path == HOMES[email], f"{email} landed on {path}, expected {HOMES[email]}"
    expect(page.locator("h1")).to_have_count(1)
    expect(page).not_to_have_title(re.compile(r"not found|error|forbidden", re.I))
    screenshot(page, "home")
    axe_check(page)
    if email == "other-grantee@demo.test":
        # Another organization's grants never show up on this grantee's page.
        expect(page.locator("main")).not_to_contain_text("Harbor Youth Alliance")


def test_the_dashboards_clients_trend_draws_incomplete_periods_dashed(page):
    """The browser draws the clients trend with the periods the page flags as incomplete as
    triangles on dashed segments, and every other period as a plain point."""
    sign_in(page, "leader@demo.test")
    page.goto("/dashboard")
    section = page.locator("section[aria-labelledby=chart-trend-clients-title]")
    expect(section.locator("[data-note=incomplete-periods]")).to_be_visible()
    drawn = page.evaluate("""() => {
        const canvas = document.querySelector("canvas[data-chart=chart-trend-clients]");
        const chart = window.Chart.getChart(canvas);
        const spec = JSON.parse(document.getElementById("chart-trend-clients").textContent);
        const meta = chart.getDatasetMeta(0);
        return {incomplete: spec.incomplete, styles: meta.data.map(p => p.options.pointStyle)};
    }""")
    assert True in drawn["incomplete"] and False in drawn["incomplete"]
    assert drawn["styles"] == ["triangle" if partial else "circle" for partial in drawn["incomplete"]]
    screenshot(page, "clients-trend", section)


def test_a_leader_goes_from_the_dashboard_to_every_measure_with_the_same_filters(page):
    """The filters chosen on the dashboard follow the link to the table of every measure, which
    can be filtered again there, have a column per region instead of per program, and keeps its
    way back."""
    sign_in(page, "leader@demo.test")
    page.goto("/dashboard")
    page.get_by_label("State", exact=True).select_option("OH")
    page.get_by_role("button", name="Apply filters").click()
    page.get_by_role("link", name="Every measure by program").click()
    expect(page.locator("h1")).to_have_text("Every measure by program")
    expect(page.get_by_label("State", exact=True)).to_have_value("OH")
    table = page.locator("table[data-table=measures]")
    expect(table.locator("tr[data-cell='CLI-01.age.minor'] th")).to_contain_text("Minor (under 18)")
    expect(table.locator("tr[data-cell='FIN-01'] td").last).to_have_text(re.compile(r"^\$[\d,]+\.\d\d$"))
    screenshot(page, "every-measure")
    axe_check(page)
    page.get_by_label("Program", exact=True).select_option("YCCR")
    page.get_by_role("button", name="Apply filters").click()
    expect(table.locator("thead abbr")).to_have_text(["YCCR"])
    page.get_by_label("State", exact=True).select_option("")
    page.get_by_label("Columns").select_option("region")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("h1")).to_have_text("Every measure by HHS region")
    expect(table.locator("thead th[data-column='5']")).to_contain_text("OH")
    expect(table.locator("tr[data-cell='CLI-01.age.minor']")).to_have_count(0)  # breakdowns are by program
    screenshot(page, "every-measure-by-region")
    axe_check(page)
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboard\?.*program=YCCR"))
