"""A GET (or HEAD) never writes to the database: pages only read.

Every page of the roadmap and the follow-up is read as the users who may see
it, with the queries captured; none may be an INSERT, UPDATE or DELETE. A
report job no worker will finish is shown as failed by its page and its
status without the row being touched: the periodic task ``expire_report_jobs``
marks it, with the same message.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from followup.models import ReportJob, StatusReport
from followup.tasks import expire_report_jobs

pytestmark = pytest.mark.usefixtures("media_root")

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def get_writes(client, url: str) -> tuple[object, list[str]]:
    """The response to a GET of ``url``, and every write it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    writes = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]
    return response, writes


# --- Report jobs no worker will finish -----------------------------------------------


@pytest.fixture
def stuck_jobs(small_period, editor, settings) -> dict[str, ReportJob]:
    """A job left running by a stopped worker and one no worker took."""
    now = timezone.now()
    running = ReportJob.objects.create(
        kind=ReportJob.Kind.CITYWIDE,
        parameters={"period": "2030-T1"},
        title="Hela staden",
        requested_by=editor,
        state=ReportJob.State.RUNNING,
        progress="Renderar PDF",
    )
    queued = ReportJob.objects.create(
        kind=ReportJob.Kind.ANNUAL,
        parameters={"year": 2030},
        title="Årsuppföljning",
        requested_by=editor,
        progress="Väntar på en arbetare",
    )
    ReportJob.objects.filter(pk=running.pk).update(
        started_at=now - datetime.timedelta(seconds=settings.REPORT_TIME_LIMIT + 3600)
    )
    ReportJob.objects.filter(pk=queued.pk).update(
        created_at=now - datetime.timedelta(seconds=settings.REPORT_QUEUE_TIMEOUT + 60)
    )
    return {"running": running, "queued": queued}


def _states(jobs: dict[str, ReportJob]) -> dict[str, str]:
    return {name: ReportJob.objects.get(pk=job.pk).state for name, job in jobs.items()}


@pytest.mark.parametrize("which", ["running", "queued"])
@pytest.mark.parametrize("page", ["report_job", "report_job_status", "report_job_file"])
def test_a_stuck_jobs_pages_write_nothing(stuck_jobs, editor, client_for, which, page):
    job = stuck_jobs[which]
    response, writes = get_writes(client_for(editor), reverse(f"followup:{page}", args=[job.pk]))
    assert writes == []
    assert response.status_code == (404 if page == "report_job_file" else 200)
    assert _states(stuck_jobs) == {"running": "running", "queued": "queued"}


@pytest.mark.parametrize("which", ["running", "queued"])
def test_a_stuck_job_is_shown_failed_with_the_message_the_task_stores(
    stuck_jobs, editor, reader, client_for, which
):
    job = stuck_jobs[which]
    status = client_for(reader).get(reverse("followup:report_job_status", args=[job.pk])).json()
    page = client_for(editor).get(reverse("followup:report_job", args=[job.pk]))
    assert status["state"] == "failed" and status["is_finished"]
    assert status["error"] and status["progress"] == "" and status["finished"]
    assert escape(status["error"]) in page.content.decode()
    assert ReportJob.objects.get(pk=job.pk).state == which  # shown, not written

    assert expire_report_jobs() == 2  # the beat task marks both
    stored = ReportJob.objects.get(pk=job.pk)
    assert stored.state == ReportJob.State.FAILED
    assert stored.error == status["error"]


def test_a_job_that_may_still_finish_is_shown_as_it_is(small_period, editor, client_for):
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.CITYWIDE,
        parameters={"period": "2030-T1"},
        title="Hela staden",
        requested_by=editor,
        state=ReportJob.State.RUNNING,
        started_at=timezone.now(),
        progress="Renderar PDF",
    )
    status = client_for(editor).get(reverse("followup:report_job_status", args=[job.pk])).json()
    assert (status["state"], status["error"], status["progress"]) == ("running", "", "Renderar PDF")


def test_the_report_list_writes_nothing(stuck_jobs, editor, client_for):
    response, writes = get_writes(client_for(editor), reverse("followup:reports"))
    assert response.status_code == 200
    assert writes == []


# --- Every other page -----------------------------------------------------------------


def _pages(period) -> dict[str, list[str]]:
    """The pages each user reads, by fixture name."""
    year = period.revision.year
    report = StatusReport.objects.filter(period=period, organisation__code="bromma").first()
    return {
        "editor": [
            reverse("roadmap:current"),
            reverse("roadmap:list"),
            reverse("roadmap:detail", args=[year]),
            reverse("roadmap:redline", args=[year]),
            reverse("roadmap:overdue", args=[year]),
            reverse("followup:periods"),
            reverse("followup:matrix", args=[period.pk]),
            reverse("followup:export_csv", args=[period.pk]),
            reverse("followup:export_xlsx", args=[period.pk]),
            reverse("followup:drift", args=[period.pk]),
            reverse("followup:report", args=[report.pk]),
        ],
        "approver": [reverse("roadmap:approve", args=[year])],
        "bromma_reporter": [
            reverse("followup:my_reports"),
            f"{reverse('followup:my_reports')}?period={period.pk}",
        ],
    }


@pytest.mark.parametrize("who", ["editor", "approver", "bromma_reporter"])
def test_no_page_writes_on_get(small_period, request, client_for, who):
    user = request.getfixturevalue(who)
    client = client_for(user)
    for url in _pages(small_period)[who]:
        response, writes = get_writes(client, url)
        assert response.status_code < 500, url
        assert writes == [], url
