"""The heartbeat of a rendering job: a running job whose worker stopped
writing it is lost, shown failed and marked failed, long before the time
limit. (A real worker killed mid-render: test_worker_killed.py.)"""

import datetime

import pytest
from django.utils import timezone

from followup.models import ReportJob
from followup.services import report_job_as_shown, report_job_run, report_jobs_expire

pytestmark = pytest.mark.usefixtures("media_root", "fake_pdf")


def _running(editor, *, started: datetime.timedelta, heartbeat: datetime.timedelta | None):
    now = timezone.now()
    return ReportJob.objects.create(
        kind="citywide",
        parameters={"period": "2030-T1"},
        title="Test",
        requested_by=editor,
        state=ReportJob.State.RUNNING,
        started_at=now - started,
        heartbeat_at=None if heartbeat is None else now - heartbeat,
    )


def test_a_silent_job_is_lost_and_a_beating_one_is_not(editor, settings):
    settings.REPORT_HEARTBEAT_TIMEOUT = 60
    minute = datetime.timedelta(seconds=61)
    second = datetime.timedelta(seconds=1)
    lost = _running(editor, started=minute * 3, heartbeat=minute)
    # Rendering for three minutes, still beating: it may finish.
    beating = _running(editor, started=minute * 3, heartbeat=second)
    # Started before heartbeats existed: counts from its start.
    legacy = _running(editor, started=minute, heartbeat=None)
    fresh = _running(editor, started=second, heartbeat=None)

    shown = {job.pk: report_job_as_shown(job).state for job in (lost, beating, legacy, fresh)}
    assert shown == {
        lost.pk: "failed",
        beating.pk: "running",
        legacy.pk: "failed",
        fresh.pk: "running",
    }
    message = report_job_as_shown(lost).error
    assert message.startswith("Rapporten kunde inte skapas klart")
    assert "Beställ rapporten igen" in message

    assert report_jobs_expire() == 2
    states = dict(ReportJob.objects.values_list("pk", "state"))
    assert states == {
        lost.pk: "failed",
        beating.pk: "running",
        legacy.pk: "failed",
        fresh.pk: "running",
    }
    assert ReportJob.objects.get(pk=lost.pk).error == message
    assert report_jobs_expire() == 0


def test_the_time_limit_still_wins_over_a_beating_heartbeat(editor, settings):
    """A rendering that beats but runs past the hard limit: the time-limit message."""
    job = _running(
        editor,
        started=datetime.timedelta(seconds=settings.REPORT_TIME_LIMIT + 61),
        heartbeat=datetime.timedelta(seconds=1),
    )
    assert str(settings.REPORT_TIME_LIMIT) in report_job_as_shown(job).error
    assert report_jobs_expire() == 1
    assert str(settings.REPORT_TIME_LIMIT) in ReportJob.objects.get(pk=job.pk).error


def test_a_rendering_job_starts_with_a_heartbeat(small_period, editor):
    job = ReportJob.objects.create(
        kind="citywide", parameters={"period": "2030-T1"}, title="Test", requested_by=editor
    )
    job = report_job_run(job_id=job.pk)
    assert job.state == ReportJob.State.DONE
    assert job.heartbeat_at is not None and job.heartbeat_at >= job.started_at


def test_the_beat_schedule_expires_jobs_every_expiry_interval(settings):
    from fardplan import celery_app

    entry = celery_app.conf.beat_schedule["followup-expire-report-jobs"]
    assert entry["task"] == "followup.tasks.expire_report_jobs"
    assert entry["schedule"] == float(settings.REPORT_EXPIRY_INTERVAL) <= 60
