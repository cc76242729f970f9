"""Browser-test fixtures: the app served for real (CSRF on, demo data seeded) and Debian's Chromium
driven by Playwright, plus helpers to sign in, take screenshots and run axe-core.

Chromium is never downloaded: CHROMIUM_PATH (default /usr/bin/chromium) is launched directly.
axe-core comes from AXE_PATH, which `make test` sets after installing it with npm under .cache/node.
"""
from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from grants import create_app
from grants.extensions import db
from tests.conftest import DEMO_PASSWORD, IS_PG, _truncate_all

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 10_000


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: browser test (Playwright driving Chromium against a live server)")


def axe_path() -> Path | None:
    candidates = [os.environ.get("AXE_PATH"), REPO / ".cache/node/node_modules/axe-core/axe.min.js"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


class QuietHandler(WSGIRequestHandler):
    """No access log: a failing test's output should show the failure, not every static file."""

    def log_request(self, *args, **kwargs):
        pass


@dataclass
class LiveServer:
    app: object
    url: str


@pytest.fixture
def live_server(app_config):
    """The app with CSRF enabled and the demo data, served on a free local port in a thread."""
    from grants.demo import seed
    from schedules.jobs import run_job

    config = type("E2EConfig", (app_config,), {"WTF_CSRF_ENABLED": True})
    app = create_app(config)
    with app.app_context():
        seed()
        db.session.commit()
        scan = run_job("deadline-scan")  # reminders in the ledger: the review pages show their log
        assert scan.outcome == "succeeded", scan.error
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            if IS_PG:
                _truncate_all()
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH or apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageProblems:
    """Script errors and Content-Security-Policy violations seen in a page's console."""

    messages: list[str] = field(default_factory=list)


@pytest.fixture
def new_page(browser, live_server, request):
    """Factory: a page in a fresh browser context (its own cookies), i.e. a different person.

    axe-core is added as an init script (run by the browser before the page's own scripts, so the
    app's CSP, which forbids inline scripts, stays in force for everything the app serves).
    At the end, any script error or CSP violation reported by a page fails the test.
    """
    contexts = []
    problems = PageProblems()
    axe = axe_path()
    prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    shots = {"prefix": prefix, "count": 0}
    for old in SCREENSHOTS.glob(f"{prefix}-*.png"):
        old.unlink()

    def make():
        # Reduced motion: app.js then draws charts without animation, so screenshots show final bars.
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900},
                                      reduced_motion="reduce")
        context.set_default_timeout(TIMEOUT_MS)
        if axe is not None:
            context.add_init_script(path=str(axe))
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.on("pageerror", lambda exc: problems.messages.append(f"{page.url}: script error: {exc}"))
        page.on("console", lambda msg: problems.messages.append(f"{page.url}: {msg.text}")
                if msg.type == "error" and "Content Security Policy" in msg.text else None)
        page.shots = shots
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems.messages, "Problems reported by the browser:\n" + "\n".join(problems.messages)


@pytest.fixture
def page(new_page):
    return new_page()


def sign_in(page, email: str, password: str = DEMO_PASSWORD):
    """Sign in through the real form and wait until the browser has left the sign-in page."""
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def screenshot(page, name: str, element=None) -> Path:
    """A screenshot under tests/e2e/screenshots/, numbered in the order taken: the full page, or
    only `element` (a locator)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.shots["count"] += 1
    path = SCREENSHOTS / f"{page.shots['prefix']}-{page.shots['count']:02d}-{name}.png"
    if element is not None:
        element.screenshot(path=str(path))
    else:
        page.screenshot(path=str(path), full_page=True)
    return path


def axe_check(page, tags: list[str] | None = None) -> None:
    """Run axe-core on the current page; fail with a readable list of WCAG 2.1 A/AA violations."""
    axe = axe_path()
    if axe is None:
        pytest.skip("axe-core not found: set AXE_PATH, or run `make test`, which installs it under .cache/node")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
        " nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 300), summary: n.failureSummary}))})); }",
        tags or AXE_TAGS,
    )
    if result:
        lines = [f"axe found {len(result)} WCAG 2.1 A/AA violation(s) on {page.url}:"]
        for v in result:
            lines.append(f"- [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"][:8]:
                lines.append(f"    at {json.dumps(node['target'])}: {node['html']}")
                if node["summary"]:
                    lines.append("      " + node["summary"].replace("\n", "\n      "))
        pytest.fail("\n".join(lines), pytrace=False)


# --- filling in a report -------------------------------------------------------------------------

TOTALS = {"CLI-01": 40, "CLI-02": 20, "CLI-03": 10, "CCR-02": 90, "CCR-03": 12, "PRT-01": 8, "PRT-02": 3}
NARRATIVE = "Served survivors through case management and shelter referrals; trained partner agencies."


def cell_key(name: str) -> str:
    """The cell key of a form input name: m_CLI_01__age__minor -> CLI-01.age.minor."""
    parts = name.removeprefix("m_").split("__")
    return ".".join([parts[0].replace("_", "-"), *parts[1:]])


def valid_values(names: list[str]) -> dict[str, str]:
    """A value for every measure input that passes every error rule (breakdowns sum, ceilings hold)."""
    from grants.measures import CATALOG, Cell

    values: dict[str, str] = {}
    for name in names:
        cell = Cell.parse(cell_key(name))
        spec = CATALOG[cell.measure]
        if spec.value_type == "percent":
            values[name] = "75.5"
        elif spec.value_type == "currency":
            values[name] = "1000.00"
        elif spec.per_category:
            values[name] = "10"
        else:
            total = TOTALS.get(cell.measure, 25)
            if not cell.dimension:
                values[name] = str(total)
            else:
                cats = [c.category for c in spec.cells if c.dimension == cell.dimension]
                share = total // len(cats)
                values[name] = str(total - share * (len(cats) - 1) if cell.category == cats[-1] else share)
    return values


def measure_inputs(page) -> list[str]:
    return page.eval_on_selector_all("form input[name^='m_']", "els => els.map(e => e.name)")


SET_VALUES = """(values) => {
  for (const [name, value] of Object.entries(values)) {
    const el = document.querySelector(`form [name="${name}"]`);
    el.value = value;
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
  }
}"""


def set_values(page, values: dict[str, str]) -> None:
    """Set many form fields at once, with the input events typing would send (dozens of
    `fill` calls would make each test several seconds slower)."""
    page.evaluate(SET_VALUES, values)


def fill_report_form(page, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """A valid value in every measure input and text in every narrative; returns the values."""
    values = {**valid_values(measure_inputs(page)), **(overrides or {})}
    narratives = page.eval_on_selector_all("form textarea[name^='narrative_']", "els => els.map(e => e.name)")
    set_values(page, {**values, **{name: NARRATIVE for name in narratives}})
    return values


def save_draft(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Save draft").click()


def explain_warnings(page) -> int:
    """Fill every warning explanation shown (explain__...); returns how many there were."""
    names = page.eval_on_selector_all("form textarea[name^='explain__']", "els => els.map(e => e.name)")
    set_values(page, {name: "A new referral partner changed our numbers this period." for name in names})
    return len(names)


def certify_and_submit(page) -> None:
    """On /reports/<id>/submit: the certification fields, the box, and 'Certify and submit'."""
    for name, value in (("certifier_name", "Dana Whitfield"), ("certifier_title", "Executive Director"),
                        ("certifier_phone", "614-555-0142"), ("certifier_email", "grantee@demo.test")):
        page.locator(f"input[name='{name}']").fill(value)
    page.locator("label[for='certify']").click()
    assert page.locator("input[name='certify']").is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Certify and submit").click()


def page_text(page) -> str:
    return page.locator("main").inner_text()


def value_row(page, code: str):
    """The row of a measure's total in a read-only values table ("CLI-01 Clients served ... 40")."""
    return page.locator("main table tbody tr").filter(
        has=page.locator("th", has_text=re.compile(rf"^\s*{re.escape(code)}\s"))).first


def first_editable_report(page) -> tuple[int, str]:
    """The id and edit URL of the first report on the grantee home page that can be worked on."""
    from playwright.sync_api import expect

    link = page.locator("main a[href$='/edit']").first
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    return int(re.search(r"/reports/(\d+)/edit", href).group(1)), href


def file_report(page, report_id: int, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Fill the report's form validly, explain its warnings, review, certify and submit it."""
    from playwright.sync_api import expect

    page.goto(f"/reports/{report_id}/edit")
    values = fill_report_form(page, overrides)
    save_draft(page)
    if explain_warnings(page):
        save_draft(page)
    expect(page.locator(".usa-error-message")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_role("button", name="Review and submit").click()
    certify_and_submit(page)
    expect(page.locator("main")).to_contain_text("Submitted")
    return values


def fill_date(scope, name: str, day) -> None:
    """A date input in `scope` (a page or a form locator) whose name is `name` or ends with it
    (WTForms prefixes: return-revision_due_date): native type=date, a USWDS date picker, or text."""
    field = scope.locator(f"[name='{name}'], [name$='-{name}']").first
    if field.get_attribute("type") == "date":
        field.fill(day.isoformat())
    elif field.is_visible():
        field.fill(day.strftime("%m/%d/%Y"))
    else:
        scope.locator(f".usa-date-picker:has([name$='{name}']) .usa-date-picker__external-input").fill(
            day.strftime("%m/%d/%Y"))
