"""Layer 4: Playwright drives Debian's Chromium against the live server, and
axe-core checks every page visited for WCAG 2.1 A/AA violations.

Without Chromium these tests skip with their reason; CI installs it and
forbids skips.
"""

import datetime
import shutil
from collections.abc import Iterator

import pytest
from django.utils.translation import gettext

from followup.services import period_create, period_open

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
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
        context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
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


@pytest.fixture
def axe_check():
    """axe_check(page): assert axe-core finds no WCAG 2.1 A/AA violation."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def check(page) -> None:
        results = axe.run(
            page,
            options={
                "runOnly": {"type": "tag", "values": WCAG_TAGS},
                "resultTypes": ["violations"],
            },
        )
        violations = results.response["violations"]
        assert violations == [], f"{page.url}: " + "; ".join(
            f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
            + ", ".join(n["target"][0] for n in v["nodes"][:3])
            + ")"
            for v in violations
        )

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
