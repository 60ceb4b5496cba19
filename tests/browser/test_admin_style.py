"""The admin looks like part of the site: the site's name in its header, linking
back to the site, in the site's colours, with one (light) colour scheme that
holds WCAG AA contrast even where the browser asks for a dark one."""

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from roadmap.services import revision_start

pytestmark = pytest.mark.django_db(transaction=True)

HEADER_BG = "getComputedStyle(document.querySelector('{}')).backgroundColor"
COLOUR = "getComputedStyle(document.querySelector('{}')).color"


def _assert_site_header(page, live_server) -> None:
    name = page.locator("#header #site-name a")
    assert name.inner_text() == _("Roadmap for elderly care")
    assert name.get_attribute("href") == reverse("roadmap:current")
    section = page.locator("#header .site-section a")
    assert section.inner_text() == _("Administration")
    assert page.title().endswith(f"– {_('City of Stockholm')}")
    # One colour scheme: no theme toggle, no dark-mode style sheet.
    assert page.locator(".theme-toggle").count() == 0
    assert page.locator("link[href*='dark_mode']").count() == 0


def _axe_in_second_tab(page, axe_check, url: str) -> None:
    """axe-core, run on Django's admin change forms, makes Chromium report
    inline styles refused by the Content-Security-Policy (the page alone
    reports none): the fixture's page loads the form, axe runs in a second tab
    (as in test_reflow.py)."""
    axe_page = page.context.new_page()
    axe_page.goto(url)
    axe_page.wait_for_load_state()
    axe_check(axe_page)
    axe_page.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_carries_the_site_header_and_colours(
    browser_page, login, axe_check, live_server, small_roadmap, editor, scheme
):
    page = browser_page
    page.emulate_media(color_scheme=scheme)
    login(page, editor)
    page.goto(live_server.url + reverse("roadmap:current"))
    site_bg = page.evaluate(HEADER_BG.format(".site-header"))
    link_colour = page.evaluate(COLOUR.format("main a"))

    draft = revision_start(actor=editor, year=small_roadmap.year + 1)
    changelist = live_server.url + reverse("admin:roadmap_nextstep_changelist")
    page.goto(changelist)
    page.wait_for_load_state()
    _assert_site_header(page, live_server)
    # The site's colours: the header's blue, the site's link colour, white paper.
    assert page.evaluate(HEADER_BG.format("#header")) == site_bg == "rgb(0, 74, 135)"
    assert page.evaluate(COLOUR.format("#result_list tbody a")) == link_colour
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == (
        "rgb(255, 255, 255)"
    )
    assert page.locator("#result_list tbody tr").count() >= 1
    axe_check(page)

    # The name links back to the site.
    page.locator("#header #site-name a").click()
    page.wait_for_load_state()
    assert page.url == live_server.url + reverse("roadmap:current")

    need = draft.focus_areas.first().needs.first()
    change_form = live_server.url + reverse("admin:roadmap_need_change", args=[need.pk])
    page.goto(change_form)
    page.wait_for_load_state()
    _assert_site_header(page, live_server)
    assert page.evaluate(HEADER_BG.format("#header")) == site_bg
    assert page.locator("#content-main form").count() == 1
    _axe_in_second_tab(page, axe_check, change_form)
