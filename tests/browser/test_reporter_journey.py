"""A reporter's day in a real browser: two open periods, copying every
unchanged report from the previous period, a partial submission, the saving
state, at 1280 px and at 320 px, checked with axe-core.

Bromma submitted all 101 reports in 2022 T1 (closed). 2022 T2 is due in 21
days and the 2022 Verksamhetsberättelse in 159: the page opens T2 and links
to the other.
"""

import datetime

import pytest
from django.utils.translation import gettext

from followup.models import Status, StatusReport
from followup.services import (
    ReportInput,
    period_close,
    period_create,
    period_open,
    status_report_save,
)
from tests.browser.conftest import axe_check, browser_page, login  # noqa: F401 - fixtures

TODAY = datetime.date.today()
PHONE = {"width": 320, "height": 800}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def thirty_a_page(settings):
    """The figures below count with 30 rows a page."""
    settings.FOLLOWUP_REPORTS_PER_PAGE = 30


def _period(revision, editor, kind, opens_on, deadline):
    period = period_create(
        year=2022, kind=kind, revision=revision, actor=editor, opens_on=opens_on, deadline=deadline
    )
    return period_open(period=period, actor=editor)


@pytest.fixture
def two_open_periods(roadmap_2021, editor, bromma_reporter):
    statuses = {s.code: s for s in Status.objects.all()}
    t1 = _period(roadmap_2021, editor, "T1", datetime.date(2022, 4, 1), datetime.date(2022, 5, 10))
    reports = StatusReport.objects.filter(period=t1, organisation__code="bromma").select_related(
        "period", "organisation"
    )
    for index, report in enumerate(reports.order_by("pk")):
        late = index % 20 == 0
        status_report_save(
            report=report,
            data=ReportInput(
                status=statuses["forsenad" if late else "pagar-enligt-plan"],
                comment="Väntar på upphandling." if late else "",
                expected_version=report.version,
            ),
            actor=bromma_reporter,
            submit=True,
        )
    period_close(period=t1, actor=editor, today=datetime.date(2022, 5, 11))
    t2 = _period(
        roadmap_2021, editor, "T2", TODAY - datetime.timedelta(3), TODAY + datetime.timedelta(21)
    )
    vb = _period(
        roadmap_2021, editor, "VB", TODAY - datetime.timedelta(1), TODAY + datetime.timedelta(159)
    )
    return t1, t2, vb


def _fits_and_is_accessible(page, axe_check) -> None:  # noqa: F811
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], f"{page.url} is {width} px wide at {size['width']} px"
        axe_check(page)
    page.set_viewport_size(DESKTOP)


@pytest.mark.django_db(transaction=True)
def test_a_reporter_with_two_open_periods_copies_forward_and_submits_in_part(
    browser_page,  # noqa: F811
    login,  # noqa: F811
    axe_check,  # noqa: F811
    live_server,
    two_open_periods,
    bromma_reporter,
):
    t1, t2, vb = two_open_periods
    page = browser_page
    login(page, bromma_reporter)

    # Home: Mina rapporter, on the period due first, with the other one linked.
    assert page.url.startswith(f"{live_server.url}/uppfoljning/mina-rapporter/")
    assert t2.label in page.locator("h1").inner_text()
    other = page.locator(".report-other-periods")
    assert vb.label in other.inner_text() and "101" in other.inner_text()
    assert page.locator("fieldset.report").count() == 30
    _fits_and_is_accessible(page, axe_check)

    # Copy every unchanged report from T1, as drafts.
    page.get_by_role("button", name=gettext("Copy all unchanged from last period")).click()
    page.wait_for_load_state()
    told = page.locator(".messages").inner_text()
    assert "101" in told and t1.label in told
    drafts = StatusReport.objects.filter(period=t2, organisation__code="bromma")
    assert drafts.filter(status__isnull=False, state=StatusReport.State.DRAFT).count() == 101

    # The first row changes to "Avbruten" without the comment that needs:
    # "Submit" submits the 29 complete rows and says what the other lacks.
    first = page.locator("fieldset.report").first.get_attribute("id").removeprefix("report-")
    page.locator(f"#id_r{first}-status").select_option(label="Avbruten")
    page.locator(f"#id_r{first}-comment").fill("")
    page.get_by_role("button", name=gettext("Submit")).first.click()
    page.wait_for_load_state()
    told = page.locator(".messages").inner_text()
    assert "29" in told and "1" in told
    assert drafts.filter(state=StatusReport.State.SUBMITTED).count() == 29
    left = page.locator(f"#report-{first}-left")
    assert "Avbruten" in left.inner_text()
    # Progress: the banner and the focus areas count the 29.
    assert "29" in page.locator("#report-progress").inner_text()
    _fits_and_is_accessible(page, axe_check)

    # While a save is on its way the page says so ("Sparar…"). The test stops
    # the POST after the page's own script has run, to see that state.
    page.evaluate(
        "document.querySelector('form.report-form')"
        ".addEventListener('submit', (event) => event.preventDefault())"
    )
    page.get_by_role("button", name=gettext("Save draft")).first.click()
    busy = gettext("Saving…")
    assert page.locator(".report-saving").first.inner_text() == busy
    assert page.locator("form.report-form").get_attribute("aria-busy") == "true"

    # The other period is one link away.
    page.goto(f"{live_server.url}/uppfoljning/mina-rapporter/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name=vb.label).click()
    page.wait_for_load_state()
    assert vb.label in page.locator("h1").inner_text()
    assert t2.label in page.locator(".report-other-periods").inner_text()
