"""The latest annual follow-up report is always there: closing a year's annual
period (VB) queues it, readers and approvers may ask for a fresh one (and for
nothing else), and the "Reports" page opens with it.

The jobs render through the eager Celery task with the fake renderer (the PDF
itself is tested in test_report_pdf.py); on_commit callbacks run only where a
test captures them with ``execute=True``.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.translation import gettext, ngettext

from followup.models import ReportingPeriod, ReportJob
from followup.reports.params import report_request_clean
from followup.selectors import annual_report_panel
from followup.services import (
    period_close,
    period_create,
    period_open,
    report_job_queue_annual,
    report_job_request,
    report_may_force,
    report_may_request,
)
from tests.helpers import parse_html

pytestmark = pytest.mark.usefixtures("media_root")

REPORTS = "/uppfoljning/pdf/"
YEAR = 2030  # the year of the conftest's small_period (2030-T1)


@pytest.fixture
def vb_period(small_period, small_roadmap, editor) -> ReportingPeriod:
    """2030-VB on the small revision, open."""
    period = period_create(year=YEAR, kind="VB", revision=small_roadmap, actor=editor)
    return period_open(period=period, actor=editor)


def _close(period: ReportingPeriod, actor) -> ReportingPeriod:
    return period_close(
        period=period, actor=actor, today=period.deadline + datetime.timedelta(days=1)
    )


def _annual_jobs():
    return ReportJob.objects.filter(kind=ReportJob.Kind.ANNUAL).order_by("pk")


# --- Closing the annual period ------------------------------------------------------


def test_closing_the_annual_period_renders_the_annual_report(
    vb_period, editor, django_capture_on_commit_callbacks, fake_pdf
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _close(vb_period, editor)
    assert len(callbacks) == 1  # the rendering is queued once the close commits
    job = _annual_jobs().get()
    assert (job.parameters, job.requested_by, job.force) == ({"year": YEAR}, editor, False)
    assert job.state == ReportJob.State.DONE, job.error
    assert job.file and job.page_count


def test_closing_a_tertial_period_queues_no_report(small_period, editor):
    _close(small_period, editor)
    assert not ReportJob.objects.exists()


def test_closing_does_not_queue_a_second_report_while_one_is_pending(
    vb_period, editor, reader, django_capture_on_commit_callbacks
):
    # A reader asked for the year's report; it still waits for a worker.
    waiting = report_job_request(
        request=report_request_clean(kind="annual", year=YEAR), actor=reader
    )
    with django_capture_on_commit_callbacks() as callbacks:
        _close(vb_period, editor)
    assert list(_annual_jobs()) == [waiting]
    assert callbacks == []
    # Closing again is refused, and queues nothing either.
    with pytest.raises(ValidationError):
        _close(vb_period, editor)
    assert list(_annual_jobs()) == [waiting]


def test_closing_queues_a_new_report_when_the_pending_one_was_lost(vb_period, editor, settings):
    lost = report_job_queue_annual(year=YEAR, actor=editor)
    ReportJob.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - datetime.timedelta(seconds=settings.REPORT_QUEUE_TIMEOUT + 60)
    )
    _close(vb_period, editor)
    lost.refresh_from_db()
    assert lost.state == ReportJob.State.FAILED and lost.error
    new = _annual_jobs().last()
    assert new != lost and new.state == ReportJob.State.QUEUED


def test_closing_the_annual_period_in_the_admin_queues_the_report(vb_period, editor, client_for):
    today = timezone.localdate()
    ReportingPeriod.objects.filter(pk=vb_period.pk).update(
        opens_on=today - datetime.timedelta(days=30), deadline=today - datetime.timedelta(days=1)
    )
    response = client_for(editor).post(
        reverse("admin:followup_reportingperiod_changelist"),
        {"action": "close_periods", "_selected_action": [vb_period.pk]},
        follow=True,
    )
    assert response.status_code == 200
    said = [str(m) for m in response.context["messages"]]
    assert (
        gettext(
            "The annual follow-up report %(year)s is being made. "
            "It will be under Reports when it is ready."
        )
        % {"year": YEAR}
        in said
    )
    vb_period.refresh_from_db()
    assert vb_period.is_closed
    assert _annual_jobs().get().parameters == {"year": YEAR}


# --- Who may ask for it --------------------------------------------------------------


def test_who_may_request_the_annual_report_and_have_it_rendered_anew(
    small_period, editor, approver, reader, bromma_reporter, no_role_user, anonymous
):
    annual = report_request_clean(kind="annual", year=YEAR)
    period = report_request_clean(kind="period", period="2030-T1", organisation="bromma")
    citywide = report_request_clean(kind="citywide", period="2030-T1")
    allowed = {
        "editor": {annual, period, citywide},
        "approver": {annual},
        "reader": {annual},
        "bromma_reporter": {period},
        "no_role_user": set(),
        "anonymous": set(),
    }
    forced = {"editor": {annual, period, citywide}, "bromma_reporter": {period}}
    users = {
        "editor": editor,
        "approver": approver,
        "reader": reader,
        "bromma_reporter": bromma_reporter,
        "no_role_user": no_role_user,
        "anonymous": anonymous,
    }
    for who, user in users.items():
        for request in (annual, period, citywide):
            assert report_may_request(user, request) is (request in allowed[who]), (who, request)
            assert report_may_force(user, request) is (request in forced.get(who, set())), who


def test_a_reader_cannot_have_the_annual_report_rendered_anew(small_period, reader):
    annual = report_request_clean(kind="annual", year=YEAR)
    with pytest.raises(PermissionDenied):
        report_job_request(request=annual, actor=reader, force=True)
    assert not ReportJob.objects.exists()


# --- A reader on the "Reports" page ----------------------------------------------------


def test_reader_with_no_annual_report_yet_is_told_so_and_offered_the_button(
    small_period, reader, client_for
):
    response = client_for(reader).get(REPORTS)
    assert response.status_code == 200
    content = response.content.decode()
    panel = content[content.index('class="annual-latest"') : content.index("report-request")]
    assert escape(gettext("No annual follow-up report has been made yet.")) in panel
    html = parse_html(panel)
    assert {
        (a["name"], a["value"]) for t, a in html.tags if t == "input" and a["type"] == "hidden"
    } >= {
        ("kind", "annual"),
        ("year", str(YEAR)),
    }
    button = gettext("Request the annual follow-up for %(year)s") % {"year": YEAR}
    assert f'<button type="submit">{escape(button)}</button>' in panel
    # The panel comes before the form and the list.
    assert content.index("annual-latest") < content.index("report-jobs-heading")


def test_reader_requests_the_annual_report_and_finds_it_first_on_the_page(
    small_period, reader, client_for, django_capture_on_commit_callbacks, fake_pdf
):
    client = client_for(reader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(REPORTS, {"kind": "annual", "year": str(YEAR)})
    job = _annual_jobs().get()
    assert response.status_code == 302
    assert response["Location"] == reverse("followup:report_job", args=[job.pk])
    assert (job.requested_by, job.force, job.state) == (reader, False, ReportJob.State.DONE)

    page = client.get(REPORTS)
    content = page.content.decode()
    panel = content[content.index('class="annual-latest"') : content.index("report-request")]
    made = date_format(timezone.localtime(job.finished_at), "j F Y")
    assert (
        escape(
            gettext("Latest annual follow-up: %(year)s, made %(date)s")
            % {"year": YEAR, "date": made}
        )
        in panel
    )
    file_url = reverse("followup:report_job_file", args=[job.pk])
    link = ngettext(
        "Download (PDF, %(pages)s page)", "Download (PDF, %(pages)s pages)", job.page_count
    ) % {"pages": job.page_count}
    assert f'<a href="{file_url}" download>{escape(link)}</a>' in panel
    download = client.get(file_url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    # Asked again with the data unchanged: a new job, the same file, no rendering.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(REPORTS, {"kind": "annual", "year": str(YEAR), "force": "on"})
    again = _annual_jobs().last()
    assert again != job and again.reused_from == job and not again.force


def test_a_second_request_while_one_is_made_returns_that_one(small_period, reader, client_for):
    client = client_for(reader)
    first = client.post(REPORTS, {"kind": "annual", "year": str(YEAR)})
    again = client.post(REPORTS, {"kind": "annual", "year": str(YEAR)}, follow=True)
    job = _annual_jobs().get()  # queued: on_commit callbacks do not run here
    assert first["Location"] == again.redirect_chain[0][0]
    messages = [str(m) for m in again.context["messages"]]
    assert messages == [
        gettext("The same report was already waiting to be made: this is that request.")
    ]
    # The page says it is being made, links to it, and offers no second button.
    content = client.get(REPORTS).content.decode()
    panel = content[content.index('class="annual-latest"') : content.index("report-request")]
    assert reverse("followup:report_job", args=[job.pk]) in panel
    assert "<button" not in panel


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"kind": "period", "period": "2030-T1", "organisation": "bromma"},
            "You may request the annual follow-up report only.",
        ),
        (
            {"kind": "citywide", "period": "2030-T1"},
            "You may request the annual follow-up report only.",
        ),
    ],
)
def test_reader_cannot_request_other_kinds(data, message, small_period, reader, client_for):
    response = client_for(reader).post(REPORTS, data)
    assert response.status_code == 403
    assert escape(gettext(message)) in response.content.decode()
    assert not ReportJob.objects.exists()


def test_reporter_cannot_request_the_annual_report(small_period, bromma_reporter, client_for):
    client = client_for(bromma_reporter)
    response = client.post(REPORTS, {"kind": "annual", "year": str(YEAR)})
    assert response.status_code == 403
    assert (
        escape(gettext("You may request the period report of your own organisation only."))
        in response.content.decode()
    )
    assert not ReportJob.objects.exists()
    # No button either; the page tells there is none yet all the same.
    content = client.get(REPORTS).content.decode()
    panel = content[content.index('class="annual-latest"') : content.index("report-request")]
    assert "<form" not in panel


def test_approver_requests_the_annual_report(small_period, approver, client_for):
    response = client_for(approver).post(REPORTS, {"kind": "annual", "year": str(YEAR)})
    assert response.status_code == 302
    assert _annual_jobs().get().requested_by == approver


def test_reader_asking_for_a_year_without_follow_up_gets_a_field_error(
    small_period, reader, client_for
):
    response = client_for(reader).post(REPORTS, {"kind": "annual", "year": "1999"})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["year"]
    content = response.content.decode()
    assert 'href="#id_year"' in content and 'id="id_year"' in content
    assert not ReportJob.objects.exists()


# --- Which report heads the page ------------------------------------------------------------


def test_the_panel_shows_the_latest_year_and_offers_the_latest_closed_year(
    vb_period, editor, reader, client_for, django_capture_on_commit_callbacks, fake_pdf
):
    assert annual_report_panel().year == YEAR  # no report yet: the latest opened year
    with django_capture_on_commit_callbacks(execute=True):
        _close(vb_period, editor)
    done = _annual_jobs().get()
    panel = annual_report_panel()
    assert (panel.latest, panel.latest_year, panel.year, panel.pending) == (done, YEAR, YEAR, None)
    # A newer report of the same year replaces it; a missing file passes it over.
    with django_capture_on_commit_callbacks(execute=True):
        newer = report_job_request(
            request=report_request_clean(kind="annual", year=YEAR), actor=editor, force=True
        )
    newer.refresh_from_db()
    assert annual_report_panel().latest == newer
    newer.file.storage.delete(newer.file.name)
    assert annual_report_panel().latest == done


# --- The demo data ---------------------------------------------------------------------------


def test_the_demo_leaves_the_annual_report_on_the_reports_page(
    roadmap_2021, statuses, editor, reader, client_for, django_capture_on_commit_callbacks, fake_pdf
):
    """seed_demo closes 2022-VB: its annual report is queued once the demo is
    committed, and rendered (here eagerly, under `make run` by the worker)."""
    from followup.demo import DEMO_YEAR, demo_followup_build

    with django_capture_on_commit_callbacks(execute=True):
        demo_followup_build(actor=editor, today=datetime.date(2026, 11, 22))
    job = _annual_jobs().get()
    assert (job.parameters, job.state) == ({"year": DEMO_YEAR}, ReportJob.State.DONE)
    content = client_for(reader).get(REPORTS).content.decode()
    panel = content[content.index('class="annual-latest"') : content.index("report-request")]
    assert reverse("followup:report_job_file", args=[job.pk]) in panel
    # The year offered for a fresh report is the demo's closed year, not this year's.
    button = gettext("Request a fresh annual follow-up for %(year)s") % {"year": DEMO_YEAR}
    assert escape(button) in panel
