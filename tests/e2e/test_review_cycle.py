"""An officer returns a submitted report with a remark, the grantee revises and resubmits, and the
officer accepts it: the whole review cycle in the browser, two people in two browser contexts."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from grants.periods import eastern_today
from tests.e2e.conftest import (
    axe_check,
    certify_and_submit,
    explain_warnings,
    file_report,
    fill_date,
    first_editable_report,
    save_draft,
    screenshot,
    sign_in,
    value_row,
)

pytestmark = pytest.mark.e2e
# The brief named the button "Return to grantee"; the review page says "Return the report".
RETURN_BUTTON = re.compile(r"^Return (to grantee|the report)$")
REMARK = "Please reconcile new clients enrolled with your intake log and resubmit."


def open_review(officer, report_id: int):
    officer.goto(f"/review/reports/{report_id}")
    expect(officer.locator("h1")).to_have_count(1)
    expect(officer.get_by_role("heading", name=re.compile("not found|error", re.I))).to_have_count(0)


def test_return_revise_resubmit_accept(page, new_page):
    sign_in(page, "grantee@demo.test")
    report_id, _ = first_editable_report(page)
    file_report(page, report_id)
    screenshot(page, "grantee-submitted")

    officer = new_page()
    sign_in(officer, "officer@demo.test")
    open_review(officer, report_id)
    screenshot(officer, "officer-review")
    axe_check(officer)
    # The review page holds several forms; their field names may carry a prefix (return-remarks).
    return_form = officer.locator("form[action$='/return']")
    return_form.locator("[name='remarks'], [name$='-remarks']").fill(REMARK)
    revision_due = eastern_today() + timedelta(days=14)
    fill_date(return_form, "revision_due_date", revision_due)
    with officer.expect_navigation():
        return_form.get_by_role("button", name=RETURN_BUTTON).click()
    expect(officer.locator("main")).to_contain_text("Returned")
    screenshot(officer, "officer-returned")
    axe_check(officer)

    page.goto(f"/reports/{report_id}")
    main = page.locator("main")
    expect(main).to_contain_text("Returned")
    expect(main).to_contain_text(REMARK)
    expect(main).to_contain_text(f"{revision_due:%B} {revision_due.day}, {revision_due.year}")
    screenshot(page, "grantee-sees-remark")
    axe_check(page)

    with page.expect_navigation():
        page.locator(f"main a[href$='/reports/{report_id}/edit']").first.click()
    expect(page.locator("main")).to_contain_text("Returned for revision")
    screenshot(page, "grantee-revising")
    axe_check(page)
    page.locator("input[name='m_CLI_02']").fill("18")
    save_draft(page)
    if explain_warnings(page):
        save_draft(page)
    expect(page.locator("input[name='m_CLI_02']")).to_have_value("18")
    with page.expect_navigation():
        page.get_by_role("button", name="Review and submit").click()
    certify_and_submit(page)
    expect(page.locator("main")).to_contain_text("Submitted")
    screenshot(page, "grantee-resubmitted")

    open_review(officer, report_id)
    expect(value_row(officer, "CLI-02").locator("td").first).to_have_text("18")
    with officer.expect_navigation():
        officer.locator("form[action$='/accept']").get_by_role("button", name=re.compile(r"^Accept")).click()
    expect(officer.locator("main")).to_contain_text("Accepted")
    screenshot(officer, "officer-accepted")
    axe_check(officer)

    page.goto(f"/reports/{report_id}")
    expect(page.locator("main")).to_contain_text("Accepted")
    expect(page.locator(f"main a[href$='/reports/{report_id}/edit']")).to_have_count(0)
    screenshot(page, "grantee-accepted")
