"""Every page, for every role that may see it, in headless Chromium: axe-core finds no WCAG 2.1 A/AA
violation, in the empty state and in the error state of each form; and the Nu HTML checker
(vnu.jar, from npm's vnu-jar) finds no error in the pages' markup.

The list of pages is the access matrix (tests/test_access_matrix.py), so a new page is checked as
soon as it is placed in the matrix.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from grants.extensions import db
from grants.models import ExtensionRequest, Grant, MeasureDefinition, NotificationLedger, Report, User
from grants.services import password_reset
from tests.access_routes import EMAILS, MATRIX, OK
from tests.e2e.conftest import axe_check, screenshot, sign_in

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]

# Forms submitted empty (or wrong) to see their error state: (role, page to open, button to press).
ERROR_STATES = (
    ("certifier", "/profile/password", "Change password"),
    ("certifier", "/profile", None),
    ("certifier", "/reports/{draft}/extension", None),
    ("certifier", "/reports/{draft}/upload", None),
    ("officer", "/review/reports/{report}", "Return the report"),
    ("admin", "/admin/users/new", None),
)


def _ids(app) -> dict:
    with app.app_context():
        certifier = db.session.scalar(select(User).where(User.email == "grantee@demo.test"))
        officer = db.session.scalar(select(User).where(User.email == "officer@demo.test"))
        reports = db.session.scalars(select(Report).join(Grant).where(
            Grant.organization_id == certifier.organization_id, Grant.officer_id == officer.id)).all()
        by_status = {}
        for r in reports:
            by_status.setdefault(r.status, r)
        draft = by_status.get("draft") or by_status["not_started"]
        extension = db.session.scalar(select(ExtensionRequest).where(ExtensionRequest.status == "pending"))
        reminded = db.session.scalar(select(NotificationLedger.report_id).join(Report).join(Grant)
                                     .where(Grant.officer_id == officer.id).limit(1))
        ids = {"report": by_status["submitted"].id, "draft": draft.id, "accepted": by_status["accepted"].id,
               "grant": by_status["submitted"].grant_id, "community": by_status["submitted"].grant.community_id,
               "extension": extension.id, "reminded": reminded, "organization": certifier.organization_id,
               "officer_user": officer.id, "program": by_status["submitted"].grant.program_id,
               "measure": db.session.scalar(select(MeasureDefinition.id))}
        assert all(value is not None for value in ids.values()), ids
        db.session.remove()
    return ids


def _pages():
    """(actor, path) for every HTML page a role may open, with no id the demo data cannot fill."""
    for endpoint, (method, template, expected) in MATRIX.items():
        if method != "GET" or template.startswith("/api/") or template.endswith((".xlsx", ".ics")):
            continue
        if endpoint in ("main.home", "main.healthz", "auth.login"):
            continue
        if any(key in template for key in ("{message}", "{token}", "{user}")):
            continue
        for actor, want in expected.items():
            if want == OK and actor != "anon":
                yield actor, template


def _submit_first_form(page, button: str | None) -> str:
    """Empty the visible text fields of the form, then submit it; returns the HTML the server sent."""
    target = page.get_by_role("button", name=button).first if button else page.locator("main form button[type=submit]").first
    form = target.locator("xpath=ancestor::form[1]")
    form.evaluate("f => { f.noValidate = true; }")  # the server's messages, not the browser's
    for field in form.locator("input[type=text], input[type=email], input[type=tel], input:not([type]), textarea").all():
        if field.is_visible():
            field.fill("")
    with page.expect_response(lambda r: r.request.method == "POST" and r.request.resource_type == "document") as posted:
        if button:
            page.get_by_role("button", name=button).first.click()
        else:
            page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    return posted.value.text()


def test_every_page_for_every_role_is_accessible_and_valid_html(new_page, live_server, tmp_path):
    ids = _ids(live_server.app)
    pages: dict[str, object] = {}
    saved = []

    def page_for(actor):
        if actor not in pages:
            pages[actor] = sign_in(new_page(), EMAILS[actor])
        return pages[actor]

    # The HTML checker reads what the server sent (page.content() is the browser's repaired copy).
    anon = new_page()
    with live_server.app.app_context():  # a password reset link, as the emailed one
        reset = f"/password/reset/{password_reset.make_token(db.session.scalar(select(User).where(User.email == EMAILS['editor'])))}"
        db.session.remove()
    for path in ("/login", "/password/forgot", reset, "/password/reset/not-a-real-token", "/this-page-does-not-exist"):
        response = anon.goto(path)
        axe_check(anon)
        saved.append(_save(tmp_path, "anon", path.replace(reset, "/password/reset/valid"), response.text()))
    for path, button in (("/login", "Sign in"), ("/password/forgot", "Email me a link"), (reset, "Set new password")):
        anon.goto(path)
        html = _submit_first_form(anon, button)
        assert anon.locator(".usa-error-message, .usa-alert--error").count() > 0, f"no error shown on {path}"
        axe_check(anon)
        saved.append(_save(tmp_path, "anon", path.replace(reset, "/password/reset/valid") + "-error", html))
    anon.goto("/password/forgot")
    anon.get_by_label("Email address").fill(EMAILS["other"])
    with anon.expect_response(lambda r: r.request.method == "POST") as posted:
        anon.get_by_role("button", name="Email me a link").click()
    assert "Check your email" in posted.value.text()
    expect(anon.get_by_role("heading", name="Check your email")).to_be_visible()  # the answer is on screen
    axe_check(anon)
    saved.append(_save(tmp_path, "anon", "/password/forgot-sent", posted.value.text()))

    for actor, template in _pages():
        page = page_for(actor)
        path = template.format(**ids)
        response = page.goto(path)
        assert response.status < 400, f"{path} as {actor}: {response.status}"
        axe_check(page)
        saved.append(_save(tmp_path, actor, path, response.text()))

    page = page_for("officer")  # a review page with its reminder log filled in (the live server ran a scan)
    response = page.goto(f"/review/reports/{ids['reminded']}")
    assert page.locator("section.app-reminder-log tbody tr").count() > 0
    axe_check(page)
    saved.append(_save(tmp_path, "officer", "/review/reports/reminded", response.text()))

    for actor, template, button in ERROR_STATES:
        page = page_for(actor)
        page.goto(template.format(**ids))
        html = _submit_first_form(page, button)
        assert page.locator(".usa-error-message, .usa-alert--error").count() > 0, f"no error shown on {template}"
        axe_check(page)
        screenshot(page, f"error-{actor}-{template.strip('/').replace('/', '-')}")
        saved.append(_save(tmp_path, actor, template + "#error", html))

    _nu_html_check(saved)


def _save(folder: Path, actor: str, path: str, html: str) -> Path:
    name = f"{actor}-{path.strip('/').replace('/', '_').replace('?', '_').replace('#', '_') or 'home'}.html"
    target = folder / name
    target.write_text(html, encoding="utf-8")
    return target


def _nu_html_check(files: list[Path]) -> None:
    jar = os.environ.get("VNU_JAR") or str(REPO / ".cache/node/node_modules/vnu-jar/build/dist/vnu.jar")
    java = shutil.which("java")
    if not Path(jar).exists() or java is None:
        pytest.skip("The Nu HTML checker needs java and vnu.jar (make test installs vnu-jar under .cache/node)")
    result = subprocess.run([java, "-jar", jar, "--format", "json", "--errors-only", *map(str, files)],
                            capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or '{"messages": []}')["messages"]
    errors = [m for m in messages if m.get("type") in ("error", "non-document-error")]
    assert errors or result.returncode == 0, result.stderr[-2000:]
    assert not errors, "Nu HTML checker errors:\n" + "\n".join(
        f"{Path(m.get('url', '')).name}:{m.get('lastLine')}: {m.get('message')} [{m.get('extract', '').strip()[:120]}]"
        for m in errors[:40])
