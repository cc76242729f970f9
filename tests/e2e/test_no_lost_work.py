"""No lost work in the browser: typed values survive a crash (autosave and restore), and two people
editing one draft in two browsers never overwrite each other silently."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from grants.extensions import db
from grants.models import Report, ReportValue
from tests.e2e.conftest import axe_check, first_editable_report, save_draft, screenshot, sign_in

pytestmark = pytest.mark.e2e


def _stored(app, report_id: int, code: str) -> str | None:
    with app.app_context():
        report = db.session.get(Report, report_id)
        value = db.session.scalar(select(ReportValue.raw).where(
            ReportValue.version_id == report.current_version_id, ReportValue.measure_code == code,
            ReportValue.dimension == "")) if report.current_version_id else None
        db.session.remove()
    return value


def test_typed_values_are_restored_after_the_browser_loses_the_page(page, live_server):
    sign_in(page, "grantee@demo.test")
    report_id, href = first_editable_report(page)
    page.goto(href)
    page.locator("[name=m_CLI_01]").fill("4321")
    page.locator("[name=narrative_accomplishments]").fill("Typed before the crash.")
    page.wait_for_function(  # the autosave is debounced: wait until it has stored the typed text
        "() => Object.keys(localStorage).some(k => (localStorage.getItem(k) || '').includes('Typed before the crash.'))")
    page.reload()  # a crash, a lost connection, or a closed tab: nothing was sent to the server
    assert page.locator("[name=m_CLI_01]").input_value() != "4321"
    restore = page.get_by_role("button", name="Restore unsaved changes")
    expect(restore).to_be_visible()
    screenshot(page, "restore-offered")
    axe_check(page)
    restore.click()
    assert page.locator("[name=m_CLI_01]").input_value() == "4321"
    assert page.locator("[name=narrative_accomplishments]").input_value() == "Typed before the crash."
    save_draft(page)
    assert _stored(live_server.app, report_id, "CLI-01") == "4321"


def test_second_browser_saving_a_stale_draft_is_refused_and_shows_both_values(new_page, live_server):
    first = sign_in(new_page(), "grantee@demo.test")
    report_id, href = first_editable_report(first)
    first.goto(href)
    first.locator("[name=m_CLI_01]").fill("10")
    save_draft(first)
    second = sign_in(new_page(), "editor@demo.test")
    second.goto(href)
    first.locator("[name=m_CLI_01]").fill("11")
    save_draft(first)
    second.locator("[name=m_CLI_01]").fill("12")
    with second.expect_navigation():
        second.get_by_role("button", name="Save draft").click()
    expect(second.locator("main")).to_contain_text("Someone else saved this draft first")
    expect(second.locator("main table").first).to_contain_text("11")
    assert second.locator("[name=m_CLI_01]").input_value() == "12"
    screenshot(second, "stale-save-refused")
    axe_check(second)
    assert _stored(live_server.app, report_id, "CLI-01") == "11"


def test_after_a_save_the_browser_offers_nothing_to_restore(page, live_server):
    """The server keeps " 7 " as "7": the browser's copy of the form differs from the saved page,
    but it was saved, so the page confirming the save drops the copy."""
    sign_in(page, "grantee@demo.test")
    report_id, href = first_editable_report(page)
    page.goto(href)
    page.locator("[name=m_CLI_01]").fill(" 7 ")
    page.wait_for_function("() => Object.keys(localStorage).some(k => (localStorage.getItem(k) || '').includes(' 7 '))")
    save_draft(page)
    assert _stored(live_server.app, report_id, "CLI-01") == "7"
    page.goto(href)
    expect(page.locator("main")).to_contain_text("Clients served")
    assert page.get_by_role("button", name="Restore unsaved changes").count() == 0


def test_a_saved_narrative_is_counted_as_soon_as_the_page_opens(page, live_server):
    sign_in(page, "grantee@demo.test")
    _, href = first_editable_report(page)
    page.goto(href)
    page.locator("[name=narrative_accomplishments]").fill("We served survivors.")
    save_draft(page)
    page.goto(href)
    status = page.locator("[name=narrative_accomplishments]").locator(
        "xpath=ancestor::*[contains(@class,'usa-character-count')][1]").locator(".usa-character-count__status")
    expect(status).to_contain_text("9980 characters left")
    assert page.get_by_role("button", name="Restore unsaved changes").count() == 0
