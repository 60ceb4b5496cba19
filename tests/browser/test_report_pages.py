"""The editor requests a PDF report in a real browser and downloads it; a job
that is still queued updates itself on its page and in the list. axe-core
checks each page."""

import re

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from followup.models import ReportJob

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _no_script_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_editor_requests_a_citywide_report_and_downloads_it(
    browser_page, login, axe_check, live_server, media_root, fake_pdf, small_open_period, editor
):
    page = browser_page
    errors = _no_script_errors(page)
    login(page, editor)
    page.goto(f"{live_server.url}/uppfoljning/pdf/")
    assert page.locator("h1").inner_text() == _("Reports")
    assert (
        page.get_by_role("link", name=_("Reports"), exact=True).get_attribute("aria-current")
        == "page"
    )
    axe_check(page)

    # Nothing chosen: refused with an error summary, nothing requested.
    page.get_by_role("button", name=_("Request the report")).click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    assert not ReportJob.objects.exists()
    axe_check(page)

    page.get_by_label(str(ReportJob.Kind.CITYWIDE.label)).check()
    page.get_by_label(_("Reporting period")).select_option(str(small_open_period))
    page.get_by_role("button", name=_("Request the report")).click()
    page.wait_for_load_state()

    # Eager Celery rendered the report during the POST: the page shows it done.
    job = ReportJob.objects.get()
    assert job.state == ReportJob.State.DONE, job.error
    assert page.url == f"{live_server.url}/uppfoljning/pdf/{job.pk}/"
    assert page.locator("h1").inner_text() == job.title
    status = page.locator("#job-status")
    assert status.get_attribute("aria-live") == "polite"
    assert _("Done") in status.inner_text()
    link = page.get_by_role("link", name=_("Download the PDF"))
    assert link.is_visible()
    axe_check(page)

    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == job.download_name()
    with open(download.path(), "rb") as file:
        assert file.read().startswith(b"%PDF-")
    assert errors == []


def _queued_job(period, editor) -> ReportJob:
    return ReportJob.objects.create(
        kind=ReportJob.Kind.CITYWIDE,
        parameters={"period": str(period)},
        title="Stadsövergripande periodrapport",
        requested_by=editor,
        progress="Väntar på en arbetare",
    )


def _finish(job: ReportJob) -> None:
    """What a worker does when it has rendered the job's file."""
    job.file.save("rapport.pdf", ContentFile(PDF), save=False)
    ReportJob.objects.filter(pk=job.pk).update(
        state=ReportJob.State.DONE,
        file=job.file.name,
        file_size=len(PDF),
        page_count=1,
        input_checksum="c" * 64,
        progress="Klar: 1 sida.",
        started_at=timezone.now(),
        finished_at=timezone.now(),
    )


def test_a_queued_job_updates_itself_when_it_is_done(
    browser_page, login, axe_check, live_server, media_root, small_open_period, editor
):
    job = _queued_job(small_open_period, editor)
    page = browser_page
    errors = _no_script_errors(page)
    login(page, editor)
    page.goto(f"{live_server.url}/uppfoljning/pdf/{job.pk}/")
    status = page.locator("#job-status")
    assert _("Queued") in status.inner_text()
    assert page.get_by_role("link", name=_("Update")).is_visible()
    assert not page.get_by_role("link", name=_("Download the PDF")).is_visible()
    assert page.locator("meta[http-equiv='refresh']").count() == 0
    axe_check(page)

    # A worker finishes the job; the page shows it without a reload.
    _finish(job)
    link = page.get_by_role("link", name=_("Download the PDF"))
    link.wait_for(state="visible", timeout=10_000)
    assert re.search(rf"/uppfoljning/pdf/{job.pk}/fil/$", link.get_attribute("href"))
    assert _("Done") in status.inner_text()
    assert "Klar: 1 sida." in status.inner_text()
    assert not page.get_by_role("link", name=_("Update")).is_visible()
    assert page.locator("[data-job-field='page_count']").inner_text() == "1"
    axe_check(page)
    assert errors == []


def test_the_list_updates_a_queued_job_when_it_is_done(
    browser_page, login, axe_check, live_server, media_root, small_open_period, editor
):
    job = _queued_job(small_open_period, editor)
    page = browser_page
    errors = _no_script_errors(page)
    login(page, editor)
    page.goto(f"{live_server.url}/uppfoljning/pdf/")
    row = page.get_by_role("row").filter(has_text=job.title)
    assert _("Queued") in row.inner_text()
    link = row.get_by_role("link", name=_("Download PDF"))
    assert not link.is_visible()
    axe_check(page)

    _finish(job)
    link.wait_for(state="visible", timeout=10_000)
    assert re.search(rf"/uppfoljning/pdf/{job.pk}/fil/$", link.get_attribute("href"))
    assert _("Done") in row.inner_text() and _("Queued") not in row.inner_text()
    assert row.locator("[data-job-field='page_count']").inner_text() == "1"
    axe_check(page)
    assert errors == []
