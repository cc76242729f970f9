"""A grantee files a report in the browser, from the list of what is due to a certified submission
the program officer can see; and the same draft saved using only the keyboard."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    axe_check,
    certify_and_submit,
    explain_warnings,
    fill_report_form,
    first_editable_report,
    page_text,
    save_draft,
    screenshot,
    sign_in,
    value_row,
)

pytestmark = pytest.mark.e2e
DATE = re.compile(r"(January|February|March|April|May|June|July|August|September|October|November|December) "
                  r"(\d{1,2}), (\d{4})")
PHRASE = re.compile(r"^(Overdue by \d+ days?|Due today|Due in \d+ days?|Returned for revision: revised report due)")


def due_table_rows(page):
    return page.locator("main table").first.locator("tbody tr")


def test_grantee_files_report_end_to_end(page, new_page):
    page.goto("/login")
    screenshot(page, "sign-in")
    axe_check(page)
    sign_in(page, "grantee@demo.test")
    expect(page).to_have_url(re.compile(r"/reports$"))
    expect(page.locator("h1")).to_have_count(1)

    rows = due_table_rows(page)
    assert rows.count() >= 2, "the demo grantee should have several reports to file"
    deadlines = [" ".join(rows.nth(i).locator("td .app-deadline").first.text_content().split()) for i in range(rows.count())]
    for phrase in deadlines:
        assert PHRASE.match(phrase), f"deadline status is not plain language: {phrase!r}"
    dates = [datetime.strptime(" ".join(DATE.search(p).groups()), "%B %d %Y").date() for p in deadlines]
    assert dates == sorted(dates), f"reports are not listed soonest deadline first: {deadlines}"
    screenshot(page, "home")
    axe_check(page)

    report_id, edit_url = first_editable_report(page)
    page.locator(f"main a[href='{edit_url}']").click()
    expect(page).to_have_url(re.compile(rf"/reports/{report_id}/edit"))
    for name in ("m_CLI_01", "m_CLI_01__age__minor", "m_CLI_02", "narrative_accomplishments"):
        expect(page.locator(f"[name='{name}']")).to_have_count(1)
    expect(page.get_by_role("button", name="Save draft")).to_be_visible()
    expect(page.get_by_role("button", name="Review and submit")).to_be_visible()
    screenshot(page, "form")
    axe_check(page)

    # Invalid values: a word in a count, and an age breakdown that does not add up to the total.
    fill_report_form(page, {"m_CLI_01": "40", "m_CLI_01__age__minor": "10", "m_CLI_01__age__adult": "10",
                            "m_CLI_01__age__unknown": "10", "m_CLI_02": "abc"})
    save_draft(page)
    cli02 = page.locator("input[name='m_CLI_02']")
    expect(cli02).to_have_value("abc")
    expect(cli02).to_have_attribute("aria-invalid", "true")
    group = page.locator(".usa-form-group", has=cli02)
    expect(group.locator(".usa-error-message")).to_contain_text("whole number")
    expect(page.locator("#bd-CLI-01-age")).to_contain_text("adds up to 30 but the total is 40")
    expect(page.locator("input[name='m_CLI_01__age__unknown']")).to_have_value("10")
    screenshot(page, "errors")
    axe_check(page)

    # Fix everything, save, explain any warnings the values raise, then review.
    values = fill_report_form(page)
    save_draft(page)
    expect(page.locator(".usa-alert--success")).to_contain_text("Draft saved")
    if explain_warnings(page):
        save_draft(page)
    expect(page.locator(".usa-error-message")).to_have_count(0)
    expect(page.locator("input[name='m_CLI_02']")).to_have_value(values["m_CLI_02"])
    with page.expect_navigation():
        page.get_by_role("button", name="Review and submit").click()
    expect(page).to_have_url(re.compile(rf"/reports/{report_id}/submit(#.*)?$"))
    assert "to fix before this report can be submitted" not in page_text(page), page_text(page)[:2000]
    screenshot(page, "review")
    axe_check(page)

    certify_and_submit(page)
    expect(page).to_have_url(re.compile(rf"/reports/{report_id}(\?[^#]*)?(#.*)?$"))
    main = page.locator("main")
    expect(main).to_contain_text("Submitted")
    expect(page.locator("main input[name^='m_']")).to_have_count(0)
    expect(page.locator(f"main a[href$='/reports/{report_id}/edit']")).to_have_count(0)
    screenshot(page, "submitted")
    axe_check(page)

    officer = new_page()
    sign_in(officer, "officer@demo.test")
    screenshot(officer, "officer-home")
    axe_check(officer)
    officer.goto(f"/reports/{report_id}")
    expect(officer.locator("h1")).to_have_count(1)
    officer_main = officer.locator("main")
    expect(officer_main).to_contain_text("Submitted")
    expect(value_row(officer, "CLI-01").locator("td").first).to_have_text(values["m_CLI_01"])
    expect(value_row(officer, "CLI-02").locator("td").first).to_have_text(values["m_CLI_02"])
    expect(officer_main).to_contain_text("Dana Whitfield")
    screenshot(officer, "officer-report")
    axe_check(officer)


FOCUSED_IS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return {tag: el.tagName, name: el.name || el.textContent.trim().slice(0, 40),
          visible: outline || (s.boxShadow && s.boxShadow !== 'none')};
}"""


def tab_to(page, selector: str, limit: int = 400) -> list[dict]:
    """Press Tab until the element matching `selector` has focus; returns each element focused."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_IS_VISIBLE)
        if focused:
            seen.append(focused)
        if page.evaluate("(sel) => document.activeElement && document.activeElement.matches(sel)", selector):
            return seen
    raise AssertionError(f"{selector} never received focus after {limit} presses of Tab")


def assert_focus_visible(seen: list[dict]) -> None:
    hidden = [f for f in seen if not f["visible"]]
    assert not hidden, f"no visible focus indicator on: {hidden[:10]}"


def test_keyboard_only_grantee_journey(page):
    page.goto("/login")
    seen = tab_to(page, "input[name=email]")
    page.keyboard.type("grantee@demo.test")
    seen += tab_to(page, "input[name=password]", limit=3)
    page.keyboard.type("demo-pass-2026")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/reports$"))

    seen += tab_to(page, "main a[href$='/edit']")
    href = page.evaluate("() => document.activeElement.getAttribute('href')")
    screenshot(page, "focus-on-start-link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))

    seen += tab_to(page, "input[name=m_SRV_02]")
    page.keyboard.press("Control+A")
    page.keyboard.type("17")
    seen += tab_to(page, "textarea[name=narrative_accomplishments]")
    page.keyboard.press("Control+A")
    page.keyboard.type("Typed with the keyboard only.")
    seen += tab_to(page, "button[value=save]")
    screenshot(page, "focus-on-save")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".usa-alert").first).to_contain_text("Draft saved")
    expect(page.locator("input[name=m_SRV_02]")).to_have_value("17")
    expect(page.locator("textarea[name=narrative_accomplishments]")).to_have_value("Typed with the keyboard only.")
    assert_focus_visible(seen)
