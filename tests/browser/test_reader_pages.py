"""A reader's journey in a real browser: the roadmap with each action's latest
status, on to that action's row in the overview, and the latest annual report
on the "Reports" page, requested with one button. At 1280 px and at 320 px;
axe-core checks each page."""

import pytest
from django.utils.translation import gettext as _

from followup.models import ReportJob, Status, StatusReport
from followup.services import ReportInput, status_report_save
from roadmap.models import NextStep

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 320, "height": 800}
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def test_reader_follows_a_status_and_requests_the_annual_report(
    browser_page,
    login,
    axe_check,
    live_server,
    media_root,
    fake_pdf,
    small_open_period,
    reader,
    bromma_reporter,
):
    step = NextStep.objects.get(revision=small_open_period.revision)
    delayed = Status.objects.get(code="forsenad")
    status_report_save(
        report=StatusReport.objects.get(
            period=small_open_period, organisation__code="bromma", next_step=step
        ),
        data=ReportInput(status=delayed, comment="Bemanningen räcker inte."),
        actor=bromma_reporter,
        submit=True,
    )
    page = browser_page
    login(page, reader)
    page.goto(f"{live_server.url}/")
    status = page.locator("td.step .action-status")
    assert f"{delayed.name}: 1" in status.inner_text()
    axe_check(page)
    # The history of the revision comes after the content.
    heading_y = page.locator("#timeline-heading").bounding_box()["y"]
    assert heading_y > page.locator("table.roadmap-table").last.bounding_box()["y"]

    label = _("Latest follow-up, %(period)s") % {"period": small_open_period.label}
    status.get_by_role("link", name=label).click()
    page.wait_for_load_state()
    assert page.url.endswith(
        f"/uppfoljning/perioder/{small_open_period.pk}/#action-{step.lineage_id}"
    )
    row = page.locator(f"#action-{step.lineage_id}")
    assert row.is_visible() and step.text in row.inner_text()
    axe_check(page)

    # On a phone: the roadmap with its statuses reflows, and so does the
    # Reports page, which opens with the annual report.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    axe_check(page)
    page.goto(f"{live_server.url}/uppfoljning/pdf/")
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    panel = page.locator("section.annual-latest")
    assert _("No annual follow-up report has been made yet.") in panel.inner_text()
    axe_check(page)
    year = small_open_period.year
    panel.get_by_role(
        "button", name=_("Request the annual follow-up for %(year)s") % {"year": year}
    ).click()
    page.wait_for_load_state()
    # Eager Celery rendered it during the POST: its page shows it done.
    job = ReportJob.objects.get()
    assert (job.kind, job.requested_by, job.state) == ("annual", reader, "done")
    assert page.url == f"{live_server.url}/uppfoljning/pdf/{job.pk}/"
    page.goto(f"{live_server.url}/uppfoljning/pdf/")
    link = page.locator("section.annual-latest a[download]")
    assert link.get_attribute("href") == f"/uppfoljning/pdf/{job.pk}/fil/"
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    axe_check(page)
