"""A person who forgot the password, in headless Chromium: from the sign-in page to the emailed
link (the outbox the live server writes to) to signing in with the new password."""
from __future__ import annotations

import email
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "a fresh passphrase for 2027"


def _emailed_link(outbox: Path, to: str) -> str:
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == to and "new password" in message["Subject"]:
            text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
            return re.search(r"https?://\S+(/password/reset/\S+)", text.get_payload(decode=True).decode()).group(1)
    raise AssertionError(f"no reset email to {to} in {outbox}")


def test_forgot_password_to_signed_in_with_the_new_one(page, live_server):
    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()  # not the sign-in page's field
    page.get_by_label("Email address").fill("editor@demo.test")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()  # waits for the answer
    axe_check(page)
    screenshot(page, "password-reset-sent")

    page.goto(_emailed_link(Path(live_server.app.config["OUTBOX_DIR"]), "editor@demo.test"))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.locator("input[name=new_password]").fill(NEW_PASSWORD)
    page.locator("input[name=confirm_password]").fill("not the same passphrase")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("The two passwords do not match.").first).to_be_visible()
    axe_check(page)
    screenshot(page, "password-reset-mismatch")
    page.locator("input[name=new_password]").fill(NEW_PASSWORD)  # its label now carries the error too
    page.locator("input[name=confirm_password]").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    screenshot(page, "password-reset-done")

    sign_in(page, "editor@demo.test", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="My reports")).to_be_visible()
