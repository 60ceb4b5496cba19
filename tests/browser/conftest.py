"""Layer 4: Playwright drives Debian's Chromium against the live server, and
axe-core checks every page visited for WCAG 2.1 A/AA violations.

Without Chromium these tests skip with their reason; CI installs it and
forbids skips.
"""

import datetime
import functools
import shutil
from collections.abc import Iterator

import pytest
from django.utils.translation import gettext

from followup.services import period_create, period_open

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 320, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(monkeypatch, live_server) -> Iterator:
    if not shutil.which("chromium") and not shutil.which("/usr/bin/chromium"):
        pytest.skip("browser layer needs Debian's Chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; Django's ORM
    # would refuse to run beside it without this, which only these tests set.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="sv-SE", viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Chromium reports what the Content-Security-Policy blocked on the
        # console ("Refused to execute inline script ...", or in newer versions
        # "Applying inline style violates the following Content Security
        # Policy directive ..."): any such message fails the test.
        csp_violations: list[str] = []

        def note_csp_violation(message) -> None:
            text = message.text
            if text.startswith("Refused to") or "Content Security Policy" in text:
                csp_violations.append(f"{page.url}: {text}")

        page.on("console", note_csp_violation)
        try:
            yield page
        finally:
            context.close()
            browser.close()
    assert csp_violations == [], "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


# --- axe-core ---------------------------------------------------------------------------
#
# axe is injected into each document once (the checks at 1280 px and at 320 px
# of one page share it) and runs the WCAG 2.1 A/AA rules, without its "cssom"
# preload. That preload serves one rule, css-orientation-lock (WCAG 1.3.4),
# and cannot work under our Content-Security-Policy: for a style sheet with an
# @import rule (Django admin's forms.css, @import url('widgets.css'), on the
# admin's change forms) it fetches the imported sheet again and re-parses both
# as <style> elements in a helper document. The page's policy (style-src
# 'self', no 'unsafe-inline') covers that document too, so Chromium blocks the
# two elements ("Applying inline style violates the following Content Security
# Policy directive"), axe fails with "Couldn't load preload assets: TypeError:
# Cannot read properties of null (reading 'href')", and the rule ends as
# "incomplete": on those pages it was never checked. The preload also costs
# 0.1-0.2 s a run on the other pages. ORIENTATION_LOCKS does the rule's work
# instead, stricter and at no cost: it reads every sheet, imported ones
# included (same-origin, so readable), and reports any @media rule on
# orientation (a lock is always one).

ORIENTATION_LOCKS = """() => {
  const found = [];
  const walk = (sheet) => {
    let rules;
    try { rules = sheet.cssRules; }
    catch (error) { found.push(`unreadable: ${sheet.href}`); return; }
    for (const rule of rules) {
      if (rule instanceof CSSImportRule && rule.styleSheet) walk(rule.styleSheet);
      else if (rule instanceof CSSMediaRule && /orientation/i.test(rule.conditionText))
        found.push(`${sheet.href}: @media ${rule.conditionText}`);
      else if (rule.cssRules) walk(rule);
    }
  };
  for (const sheet of document.styleSheets) walk(sheet);
  return found;
}"""

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS},
    "resultTypes": ["violations"],
    "preload": False,
}


@functools.cache
def axe_script() -> str:
    from axe_playwright_python.base import AXE_SCRIPT

    return AXE_SCRIPT


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now, one line
    each: the rule, its help, and the first nodes with axe's own summary."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_script())
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    found = [
        f"{v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} nodes: "
        + " | ".join(
            f"{' '.join(map(str, n['target']))} -> {n['failureSummary']!r}" for n in v["nodes"][:3]
        )
        for v in results["violations"]
    ]
    found += [f"css-orientation-lock: {rule}" for rule in page.evaluate(ORIENTATION_LOCKS)]
    return found


@pytest.fixture
def axe_check():
    """axe_check(page): assert axe-core finds no WCAG 2.1 A/AA violation."""

    def check(page) -> None:
        violations = axe_violations(page)
        assert violations == [], f"{page.url}:\n" + "\n".join(violations)

    return check


def both_widths_failures(page, label: str) -> list[str]:
    """What fails on the page at 1280 px and at 320 px: axe's violations at
    both, and at 320 px a document wider than the viewport (WCAG 1.4.10; a
    wide table scrolls inside its own region, which the document's width does
    not count). The page is loaded at 1280 px and left at 1280 px."""
    failures = [f"{label} at 1280 px: {v}" for v in axe_violations(page)]
    page.set_viewport_size(PHONE)
    document, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if document > viewport:
        failures.append(f"{label} at 320 px: the document is {document} px wide")
    failures += [f"{label} at 320 px: {v}" for v in axe_violations(page)]
    page.set_viewport_size(DESKTOP)
    return failures


@pytest.fixture
def both_widths_check():
    """both_widths_check(page): no axe violation at 1280 px nor at 320 px, and
    no sideways scrolling at 320 px."""

    def check(page) -> None:
        failures = both_widths_failures(page, page.url)
        assert failures == [], "\n".join(failures)

    return check


@pytest.fixture
def login(live_server):
    """login(page, user): log in through the login form."""
    from tests.conftest import PASSWORD

    def do(page, user) -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label(gettext("User name")).fill(user.get_username())
        page.get_by_label(gettext("Password")).fill(PASSWORD)
        page.get_by_role("button", name=gettext("Log in")).click()
        page.wait_for_load_state()

    return do


@pytest.fixture
def small_open_period(small_roadmap, editor):
    """The small roadmap's T1 period, open since three days, due in ten."""
    today = datetime.date.today()
    period = period_create(
        year=small_roadmap.year,
        kind="T1",
        revision=small_roadmap,
        actor=editor,
        opens_on=today - datetime.timedelta(days=3),
        deadline=today + datetime.timedelta(days=10),
    )
    return period_open(period=period, actor=editor)
