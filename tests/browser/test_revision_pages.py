"""The revision workflow in a real browser, checked with axe-core."""

import pytest
from django.utils.translation import gettext as _

from roadmap.demo import demo_draft_build

pytestmark = pytest.mark.django_db(transaction=True)


def test_reader_reads_the_roadmap(
    browser_page, login, axe_check, live_server, roadmap_2021, reader
):
    page = browser_page
    login(page, reader)
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert "Färdplan för äldreomsorgens utveckling" in page.title()
    assert page.locator("table").count() == 4
    assert page.get_by_text("Införa mobil röntgen").is_visible()
    axe_check(page)
    # The skip link leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"


def test_editor_and_approver_take_a_revision_through_review(
    browser_page, login, axe_check, live_server, roadmap_2021, editor, approver
):
    page = browser_page
    login(page, editor)
    page.goto(f"{live_server.url}/revisioner/")
    axe_check(page)
    page.get_by_label(_("Year")).fill("2022")
    page.get_by_role("button", name=_("Start new revision")).click()
    page.wait_for_url(f"{live_server.url}/revisioner/2022/")
    assert page.get_by_text(_("Draft")).first.is_visible()
    axe_check(page)
    page.get_by_role("button", name=_("Submit for review")).click()
    page.wait_for_load_state()
    assert page.get_by_text(_("In review")).first.is_visible()

    page.context.clear_cookies()
    login(page, approver)
    page.goto(f"{live_server.url}/revisioner/2022/faststall/")
    axe_check(page)
    page.get_by_label(_("Deciding body")).select_option(label="Kommunfullmäktige")
    page.get_by_label(_("Decision date")).fill("2022-11-30")
    page.get_by_label(_("Case number (Dnr)")).fill("KS 2022/100")
    page.get_by_role("button", name=_("Approve the revision")).click()
    page.wait_for_url(f"{live_server.url}/revisioner/2022/")
    assert page.get_by_text(_("Approved")).first.is_visible()
    axe_check(page)
    roadmap_2021.refresh_from_db()
    assert roadmap_2021.status == "superseded"


def test_redline_page_is_accessible(
    browser_page, login, axe_check, live_server, roadmap_2021, editor
):
    draft = demo_draft_build(actor=editor)
    page = browser_page
    login(page, editor)
    page.goto(f"{live_server.url}/revisioner/{draft.year}/jamforelse/")
    assert page.get_by_text("Införa mobil röntgen").first.is_visible()
    axe_check(page)
