"""Pages fit the screens people use: in real Chromium at 1366, 1280 and 768 px, the main pages
of several demo users have the navigation on one line (1280/1366) or behind a menu button
(768), never scroll sideways, and show no raw keys, None, null or Python reprs."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from tests.browser.test_customer_life import log_in
from tests.browser.test_review_flow import chromium, shot  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The users with the longest navigation, and each one's main pages.
JOURNEYS = {
    "admin": [
        "/inbox/",
        "/customers/",
        "/policies/",
        "/complaints/",
        "/reports/sla/",
        "/processes/",
        "/notifications/",
    ],
    "compliance.ho": [
        "/inbox/",
        "/customers/",
        "/compliance/reveals/",
        "/data-quality/",
        "/blacklist/",
        "/reports/sla/",
    ],
    "officer.sz": ["/inbox/", "/customers/", "/imports/", "/openings/new/", "/my-cases/", "/reports/collectors/"],
    "reviewer.sz": ["/inbox/", "/customers/", "/policies/", "/my-cases/"],
    "handler.sz": ["/inbox/", "/complaints/", "/complaints/analysis/"],
    "owner.ho": ["/inbox/", "/processes/", "/reports/sla/"],
    "manager.sz": ["/inbox/", "/manager-qualification/", "/visit-reports/", "/revisits/", "/my-cases/"],
    "head.sz": ["/inbox/", "/visit-reports/", "/revisits/", "/manager-transfers/"],
}
WIDTHS = (1366, 1280, 768)
# What must never reach a page: Python reprs, JSON nulls, untranslated template/message keys.
RAW = re.compile(
    r"\bNone\b|\bnull\b|\bundefined\b|\bNaN\b|\[object Object\]|<bound method|\{\{|\}\}|\{%|"
    r"\bQuerySet\b|\bdatetime\.|\bDecimal\(|\bTrue\b|\bFalse\b|\{'|'\}|\b[a-z]+(?:_[a-z]+)+\b"
)
MEASURE = """() => {
  const nav = document.querySelector('nav.nav');
  const links = nav ? [...nav.querySelectorAll('a')].filter(a => a.offsetParent !== null) : [];
  const tops = new Set(links.map(a => Math.round(a.getBoundingClientRect().top)));
  const bar = document.querySelector('.topbar');
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    navVisible: links.length,
    navLines: tops.size,
    barHeight: bar ? bar.getBoundingClientRect().height : 0,
    toggleVisible: !!document.querySelector('[data-testid=nav-toggle]') &&
      document.querySelector('[data-testid=nav-toggle]').offsetParent !== null,
    // Identifiers shown on purpose (process keys in code type, form inputs) are not prose.
    text: (() => {
      const main = document.querySelector('main').cloneNode(true);
      main.querySelectorAll('code, .mono, textarea, select, script').forEach(e => e.remove());
      const holder = document.createElement('div');
      holder.style.cssText = 'position:absolute;left:-99999px;width:1000px';
      holder.appendChild(main);
      document.body.appendChild(holder);
      const text = document.querySelector('.topbar').innerText + ' | ' + holder.innerText;
      holder.remove();
      return text;
    })(),
  };
}"""


def _visible_raw(text: str) -> list[str]:
    return sorted({m.group(0) for m in RAW.finditer(text)})


def test_main_pages_fit_1366_1280_and_768(live_server, transactional_db, chromium):  # noqa: F811
    from playwright.sync_api import expect

    call_command("seed_demo", with_policies=True, with_complaints=True, stdout=io.StringIO())
    problems = []
    for username, paths in JOURNEYS.items():
        context, page = log_in(chromium, live_server, username)
        try:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for path in paths:
                    page.goto(f"{live_server.url}{path}")
                    page.wait_for_load_state("networkidle")
                    m = page.evaluate(MEASURE)
                    shot(page, f"layout-{username}-{width}-{path.strip('/').replace('/', '-') or 'home'}")
                    where = f"{username} {path} @{width}px"
                    if m["scrollWidth"] > m["innerWidth"]:
                        problems.append(f"{where}: scrolls sideways ({m['scrollWidth']} > {m['innerWidth']})")
                    if width >= 1280:
                        if m["navLines"] != 1:
                            problems.append(f"{where}: navigation on {m['navLines']} lines")
                        if m["barHeight"] > 64:
                            problems.append(f"{where}: top bar {m['barHeight']}px high (wraps)")
                        if m["toggleVisible"]:
                            problems.append(f"{where}: menu button shown although the navigation fits")
                    else:
                        if not m["toggleVisible"] or m["navVisible"]:
                            problems.append(
                                f"{where}: no menu button, or the navigation is not folded into it"
                            )
                    raw = _visible_raw(m["text"])
                    if raw:
                        problems.append(f"{where}: raw values on the page: {raw}")
            # At 768 px the menu button opens the navigation, on lines that fit the screen.
            page.set_viewport_size({"width": 768, "height": 900})
            page.goto(f"{live_server.url}/inbox/")
            if not page.locator("[data-testid=nav-toggle]").is_visible():
                problems.append(f"{username} @768px: no menu button")
                continue
            page.click("[data-testid=nav-toggle]")
            expect(page.locator("[data-testid=nav-inbox]")).to_be_visible()
            shot(page, f"layout-{username}-768-menu-open")
            m = page.evaluate(MEASURE)
            if m["scrollWidth"] > m["innerWidth"]:
                problems.append(f"{username} menu open @768px: scrolls sideways")
            page.click("[data-testid=nav-customers]")
            page.wait_for_url(re.compile(r"/customers/$"))
            # English is switchable from the user menu and fits too.
            page.set_viewport_size({"width": 1280, "height": 900})
            page.click("[data-testid=user-menu] summary")
            page.click("button[name=language][value=en]")
            page.wait_for_load_state("networkidle")
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(f"{live_server.url}/inbox/")
                m = page.evaluate(MEASURE)
                shot(page, f"layout-{username}-{width}-inbox-en")
                where = f"{username} /inbox/ (English) @{width}px"
                if m["scrollWidth"] > m["innerWidth"]:
                    problems.append(f"{where}: scrolls sideways")
                if width >= 1280 and (m["navLines"] != 1 or m["barHeight"] > 64):
                    problems.append(f"{where}: navigation wraps")
        finally:
            context.close()
    assert problems == [], "\n".join(problems)


def test_public_verify_page_fits_and_answers_in_words(live_server, transactional_db, chromium):  # noqa: F811
    """A customer with the printed form's number: the page fits a phone-sized 768 px too."""
    from playwright.sync_api import expect

    call_command("seed_demo", stdout=io.StringIO())
    context = chromium.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/verify/")
            expect(page.locator("[data-testid=verify-start] input[name=document]")).to_be_visible()
            m = page.evaluate(MEASURE)
            assert m["scrollWidth"] <= m["innerWidth"], width
            assert _visible_raw(m["text"]) == []
        page.fill("input[name=document]", "00000000-0000-0000-0000-000000000000")
        page.click("[data-testid=verify-start] button[type=submit]")
        expect(page.locator("[data-testid=verify-result]")).to_have_attribute("data-answer", "unknown")
        expect(page.locator("[data-testid=verify-result]")).to_contain_text("无法确认")
        shot(page, "verify-unknown-768")
    finally:
        context.close()
