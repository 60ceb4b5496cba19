"""Reflow, phone and print (WCAG 2.1 1.4.10): the navigation wraps, the
matrix scrolls inside its own area and has a narrow view, every status name is
shown in full, and the printed matrix has no navigation and every organisation.
That no page scrolls sideways at 320 px: test_every_page.py. Screenshots go to
/tmp/fardplan-shots/."""

import itertools
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import roles
from followup.models import Status, StatusReport
from followup.services import ReportInput, status_report_save
from roadmap.models import Organisation
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/fardplan-shots")

# The document is no wider than the viewport (the matrix scrolls inside itself).
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _assert_reflows(page, axe_check, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state()
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, location.pathname]"
    )
    assert page.evaluate(NO_SIDEWAYS_SCROLL), f"page wider than the viewport: {widths}"
    axe_check(page)


def _submit_all(period, make_user) -> list[Status]:
    """Every report of the period submitted, the statuses in turn."""
    codes = tuple(
        Organisation.objects.filter(status_reports__period=period)
        .values_list("code", flat=True)
        .distinct()
    )
    reporter = make_user("alla", roles.REPORTER, codes)
    statuses = list(Status.objects.all())
    reports = StatusReport.objects.filter(period=period).order_by("pk")
    for report, status in zip(reports, itertools.cycle(statuses)):
        comment = "Enligt plan." if status.requires_comment else ""
        status_report_save(
            report=report,
            data=ReportInput(status=status, comment=comment),
            actor=reporter,
            submit=True,
        )
    return statuses


def test_the_navigation_wraps_at_320_px(
    browser_page, login, live_server, small_open_period, editor, bromma_reporter
):
    """Every page's reflow and axe at 320 px: test_every_page.py. Here: the
    longest navigations (the reporter's, with its count; the editor's, with
    the overview and the administration) wrap, and "Log out" stays on screen."""
    page = browser_page
    page.set_viewport_size(PHONE)
    for user, url, shot in [
        (bromma_reporter, "/uppfoljning/mina-rapporter/", "reporter-320.png"),
        (editor, reverse("work_overview"), "editor-320.png"),
    ]:
        page.context.clear_cookies()
        login(page, user)
        page.goto(f"{live_server.url}{url}")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
        _shot(page, shot)
        name = _("Log out %(name)s") % {"name": user.get_username()}
        box = page.get_by_role("button", name=name).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_matrix_on_a_phone_and_one_organisation_at_a_time(
    browser_page, login, axe_check, live_server, small_open_period, editor, make_user
):
    statuses = _submit_all(small_open_period, make_user)
    page = browser_page
    page.set_viewport_size(PHONE)
    login(page, editor)
    url = f"{live_server.url}/uppfoljning/perioder/{small_open_period.pk}/"
    _assert_reflows(page, axe_check, url)
    # The matrix scrolls inside its own area, the document does not.
    assert page.evaluate(
        "(() => { const w = document.querySelector('.matrix-wrap');"
        " return w.scrollWidth > w.clientWidth && w.getBoundingClientRect().right"
        " <= window.innerWidth; })()"
    )
    # On a narrow screen the page suggests one organisation at a time.
    assert page.locator(".narrow-hint").is_visible()
    _shot(page, "matrix-320.png")

    # One organisation as a list: a form with a label and a button, no script.
    page.get_by_label(_("Organisation"), exact=True).select_option(label="Bromma stadsdelsnämnd")
    page.get_by_role("button", name=_("Show")).click()
    page.wait_for_load_state()
    assert "organisation=bromma" in page.url
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert page.locator("table.matrix").count() == 0
    items = page.locator(".organisation-list li")
    bromma_reports = StatusReport.objects.filter(
        period=small_open_period, organisation__code="bromma"
    )
    assert items.count() == bromma_reports.count() >= 1
    names = {s.name for s in statuses}
    for link in items.locator("a").all():
        assert link.inner_text().split(" ", 1)[1] in names
    axe_check(page)
    _shot(page, "matrix-bromma-320.png")

    # An unknown organisation is a form error, not a server error.
    response = page.goto(f"{url}?organisation=nowhere")
    assert response.status == 400
    axe_check(page)


def test_matrix_at_1280_px_keeps_the_page_still_and_names_statuses_in_full(
    browser_page, login, axe_check, live_server, small_open_period, editor, make_user
):
    statuses = _submit_all(small_open_period, make_user)
    page = browser_page
    page.set_viewport_size(DESKTOP)
    login(page, editor)
    page.goto(f"{live_server.url}/uppfoljning/perioder/{small_open_period.pk}/")
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    names = page.locator(".matrix-wrap .cell .cell-name")
    assert names.count() >= 15
    shown = set()
    for name in names.all():
        cell = name.evaluate_handle("n => n.closest('td')")
        full = name.evaluate_handle("n => n.closest('a')").get_attribute("title")
        assert name.inner_text() == full  # the name as text, whole
        assert cell.evaluate("c => getComputedStyle(c).textOverflow") != "ellipsis"
        assert cell.evaluate("c => c.scrollWidth <= c.clientWidth")  # nothing cut off
        assert "…" not in cell.evaluate("c => c.innerText")
        shown.add(full)
    assert shown == {s.name for s in statuses}
    axe_check(page)


def test_print_hides_the_navigation_and_shows_every_organisation(
    browser_page, login, live_server, small_open_period, editor
):
    page = browser_page
    login(page, editor)
    page.goto(f"{live_server.url}/uppfoljning/perioder/{small_open_period.pk}/")
    organisations = set(
        Organisation.objects.filter(status_reports__period=small_open_period).values_list(
            "name", flat=True
        )
    )
    assert len(organisations) == 15
    # On screen: one matrix, the print tables hidden.
    assert page.locator("nav").is_visible()
    assert not page.locator(".print-matrix").first.is_visible()

    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible()
    assert not page.locator(".skip-link").is_visible()
    assert page.locator("main button:visible").count() == 0
    assert not page.locator(".matrix-wrap").is_visible()
    tables = page.locator(".print-matrix table:visible")
    assert tables.count() == 3
    printed = set()
    for table in tables.all():
        headers = table.locator("thead th").all_inner_texts()
        assert headers[0] == _("Action and time horizon")  # repeated in each table
        printed.update(headers[1:])
        assert len(headers) - 1 <= 5
    assert printed == organisations
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.pdf(path=str(SHOTS / "matrix-print.pdf"), format="A4", landscape=True)
    _shot(page, "matrix-print.png")


def test_the_reporter_page_reflows_on_the_demo_data(
    browser_page,
    login,
    axe_check,
    live_server,
    media_root,
    fake_pdf,
    roadmap_2021,
    editor,
    bromma_reporter,
):
    """The demo data, as `make run` has it: several periods in the period
    picker (long option names) and the 2021 roadmap's long Swedish compounds
    ("arbetsmiljöuppgiftsfördelning"), which a fieldset would not wrap.
    (Closing the demo's 2022-VB renders the annual report as the demo is
    committed: with the fake renderer, not WeasyPrint, here.)"""
    from followup.demo import demo_followup_build

    demo_followup_build(actor=editor)
    page = browser_page
    page.set_viewport_size(PHONE)
    login(page, bromma_reporter)
    _assert_reflows(page, axe_check, f"{live_server.url}/uppfoljning/mina-rapporter/")
