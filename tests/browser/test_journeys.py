"""Each role's day in a real browser, on the adopted 2021 roadmap: logged in
through the login form, each person lands where their work is, with the
navigation's counts, and walks their main journey. Every page on the way is
checked with axe-core at 1280 px and at 320 px, where it must not scroll
sideways (except the full-size matrix, which test_every_page.py checks on
small data: on the 2021 roadmap it has 13,000 elements).

The approver's day is in test_revision_pages.py, the reporter's in the tests
of "Mina rapporter".
"""

import datetime

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from followup.models import ReportingPeriod, ReportJob, Status, StatusReport
from followup.reports.params import ReportRequest
from followup.services import (
    ReportInput,
    period_create,
    period_open,
    report_job_request,
    status_report_save,
)
from roadmap.demo import demo_draft_build
from roadmap.models import NextStep, Organisation
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.django_db(transaction=True)

STEP = "Införa mobil röntgen"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def _open_period(revision, editor, *, kind: str = "T1") -> ReportingPeriod:
    today = datetime.date.today()
    period = period_create(
        year=today.year,
        kind=kind,
        revision=revision,
        actor=editor,
        opens_on=today - datetime.timedelta(days=7),
        deadline=today + datetime.timedelta(days=21),
    )
    return period_open(period=period, actor=editor)


def test_reader_reads_the_roadmap_the_follow_up_and_a_report(
    browser_page,
    login,
    both_widths_check,
    live_server,
    media_root,
    fake_pdf,
    roadmap_2021,
    editor,
    bromma_reporter,
    reader,
):
    period = _open_period(roadmap_2021, editor)
    step = NextStep.objects.get(revision=roadmap_2021, text__startswith=STEP)
    report = StatusReport.objects.get(period=period, next_step=step, organisation__code="bromma")
    status_report_save(
        report=report,
        data=ReportInput(status=Status.objects.get(code="pagar-enligt-plan")),
        actor=bromma_reporter,
        submit=True,
    )
    job = report_job_request(
        request=ReportRequest(
            kind=ReportJob.Kind.PERIOD,
            period=period,
            organisation=Organisation.objects.get(code="bromma"),
        ),
        actor=editor,
    )
    job.refresh_from_db()
    assert job.state == ReportJob.State.DONE, job.error
    page = browser_page
    base = live_server.url

    # Logged in, the reader lands on the roadmap; nothing waits for a reader.
    login(page, reader)
    assert page.url == f"{base}/"
    assert page.locator("html").get_attribute("lang") == "sv"
    assert "Färdplan för äldreomsorgens utveckling" in page.title()
    assert page.locator(".nav-count").count() == 0
    both_widths_check(page)
    # The skip link leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"

    # A need, through the table of contents.
    focus_area = step.need.focus_area
    page.locator("nav.toc").get_by_role("link", name=focus_area.title).click()
    need = page.locator(f"#need-{step.need.lineage_id}")
    assert need.is_visible()
    assert STEP in need.inner_text()

    # Its follow-up: the period's matrix, Bromma's report on the step.
    page.get_by_role("link", name=_("Follow-up"), exact=True).click()
    page.get_by_role("link", name=period.label).click()
    page.wait_for_url(f"{base}/uppfoljning/perioder/{period.pk}/")
    cell = page.locator(f"table.matrix a[href$='/uppfoljning/rapporter/{report.pk}/']")
    assert cell.get_attribute("title") == "Pågår enligt plan"
    page.set_viewport_size(PHONE)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)  # the matrix scrolls inside its own region
    page.set_viewport_size({"width": 1280, "height": 900})
    cell.click()
    page.wait_for_url(f"{base}/uppfoljning/rapporter/{report.pk}/")
    assert "Pågår enligt plan" in page.locator("main").inner_text()
    both_widths_check(page)

    # The reports: the period report is there, ready to download.
    page.get_by_role("link", name=_("Reports"), exact=True).click()
    page.wait_for_url(f"{base}/uppfoljning/pdf/")
    row = page.get_by_role("row").filter(has_text=job.title)
    link = row.get_by_role("link", name=_("Download PDF"))
    assert link.is_visible()
    assert link.get_attribute("href").endswith(f"/uppfoljning/pdf/{job.pk}/fil/")
    both_widths_check(page)


def test_editor_sees_the_work_edits_the_draft_and_opens_a_second_period(
    browser_page, login, both_widths_check, live_server, roadmap_2021, editor
):
    draft = demo_draft_build(actor=editor)
    current = _open_period(roadmap_2021, editor)
    planned = period_create(year=current.year, kind="T2", revision=roadmap_2021, actor=editor)
    page = browser_page
    base = live_server.url

    # The start page: the open period, with its deadline and what is left,
    # and the draft.
    login(page, editor)
    assert page.url == base + reverse("work_overview")
    periods = page.locator("section[aria-labelledby='open-periods']")
    row = periods.get_by_role("row").filter(has_text=current.label)
    left = StatusReport.objects.filter(period=current).count()
    assert row.locator("td").last.inner_text() == str(left)
    revisions = page.locator("section[aria-labelledby='open-revisions']")
    assert revisions.get_by_role("link", name=str(draft)).is_visible()
    both_widths_check(page)

    # The admin's next steps: the draft's, unless the editor asks for all.
    page.goto(base + reverse("admin:roadmap_nextstep_changelist"))
    selected = page.locator("#changelist-filter li.selected").first
    assert selected.inner_text().strip() == f"{draft.year} ({_('Draft').lower()})"
    in_draft = NextStep.objects.filter(revision=draft).count()
    counts = page.locator("#changelist-search").inner_text().split()  # "47 resultat (92 totalt)"
    assert (counts[0], counts[2]) == (str(in_draft), f"({NextStep.objects.count()}")
    revision_cells = page.locator("#result_list td.field-revision_column").all_inner_texts()
    assert revision_cells and set(revision_cells) == {f"{draft.year} ({_('Draft').lower()})"}
    both_widths_check(page)

    # A change form says which revision it edits and shows no lineage id.
    step = NextStep.objects.filter(revision=draft, text__startswith=STEP).get()
    page.goto(base + reverse("admin:roadmap_nextstep_change", args=[step.pk]))
    assert (
        _("Revision %(year)s (%(status)s)") % {"year": draft.year, "status": _("Draft").lower()}
    ) in (page.locator("#content").inner_text())
    assert str(step.lineage_id) not in page.content()
    assert page.locator("[name$='lineage_id']").count() == 0
    assert page.get_by_role("checkbox", name="Bromma stadsdelsnämnd").count() == 1
    both_widths_check(page)

    # A second open period: asked first, then opened.
    page.goto(base + reverse("admin:followup_reportingperiod_changelist"))
    page.locator(f"input[name='_selected_action'][value='{planned.pk}']").check()
    page.locator("select[name='action']").select_option("open_periods")
    page.locator("button[name='index']").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == _("Open a second reporting period?")
    assert current.label in page.locator("#content").inner_text()
    planned.refresh_from_db()
    assert planned.state == ReportingPeriod.State.PLANNED  # nothing happened yet
    both_widths_check(page)
    page.get_by_role("button", name=_("Yes, open them")).click()
    page.wait_for_load_state()
    planned.refresh_from_db()
    assert planned.state == ReportingPeriod.State.OPEN
    assert page.locator(".messagelist").inner_text().strip() == (
        _("%(period)s is open.") % {"period": planned.label}
    )
