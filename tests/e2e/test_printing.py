"""Printed pages (the browser's print media): what is for acting stays on screen, what a page
reports goes to paper, and a chart keeps its heading."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_a_printed_review_page_has_the_report_not_the_forms(page):
    sign_in(page, "officer@demo.test")
    page.goto("/portfolio")
    page.locator("a[href^='/review/reports/']").first.click()
    expect(page.get_by_role("heading", name="Actions")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", name="Actions")).to_be_hidden()
    expect(page.get_by_role("button", name="Add the remark")).to_be_hidden()
    for heading in ("Remarks", "History", "Reminders"):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def test_a_printed_chart_keeps_its_heading(page):
    sign_in(page, "leader@demo.test")
    page.goto("/dashboard")
    page.emulate_media(media="print")
    section = page.locator("section[aria-labelledby='chart-measures-title']")
    assert section.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
    assert page.locator("#chart-measures-title").evaluate("e => getComputedStyle(e).breakAfter") == "avoid"
    assert page.locator("tbody tr").first.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
