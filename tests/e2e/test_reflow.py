"""WCAG 2.1 1.4.10 Reflow: every page, for a role that may open it, fits a 320-pixel-wide window
(a phone, or 1280 pixels zoomed to 400%) without sideways scrolling of the page. Wide tables may
scroll inside their own region (`.app-table-wrap`), which the criterion allows for data tables."""
from __future__ import annotations

import pytest

from tests.access_routes import EMAILS
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_every_page import _ids, _pages

pytestmark = pytest.mark.e2e
WIDTH = 320

# What sticks out of the window, outside any element that scrolls sideways by itself.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    const x = getComputedStyle(p).overflowX; if (x === "auto" || x === "scroll") { return true; } } return false; };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1 && !scrolls(el)) {
      out.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${Math.round(box.right)}px`);
    }
  }
  return {page: document.documentElement.scrollWidth, window: width, out: out.slice(0, 5)};
}"""


def test_every_page_fits_a_320_pixel_window(new_page, live_server):
    ids = _ids(live_server.app)
    pages: dict[str, object] = {}
    seen: set[str] = set()
    problems = []
    for actor, template in [("anon", "/login"), *_pages()]:
        if template in seen:
            continue
        seen.add(template)
        if actor not in pages:
            page = new_page()
            if actor != "anon":
                sign_in(page, EMAILS[actor])
            page.set_viewport_size({"width": WIDTH, "height": 800})
            pages[actor] = page
        page = pages[actor]
        page.goto(template.format(**ids))
        found = page.evaluate(OVERFLOW)
        if found["page"] > found["window"]:
            problems.append(f"{template} as {actor}: {found['page']}px wide; {found['out']}")
    assert len(seen) > 30  # the access matrix's pages, not a handful
    assert not problems, "\n".join(problems)
    pages["certifier"].goto(f"/reports/{ids['draft']}/edit")
    screenshot(pages["certifier"], "report-form-320px")
