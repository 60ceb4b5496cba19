"""Layer 3: a worker killed mid-render (SIGKILL: no clean-up, no exception in
the task) leaves its job "running". The job's heartbeat stops, so the job is
shown failed, and the beat task's expiry marks it failed, with a readable
Swedish message, within REPORT_HEARTBEAT_TIMEOUT seconds, not after the hard
time limit.

The worker is the real one, started as a process of its own, running the real
task with its real heartbeat thread, on PostgreSQL and Redis. Only WeasyPrint
is replaced, by a function that sleeps (tests/followup/slow_render_worker.py),
so that the rendering is certainly still running when the worker is killed.
The heartbeat is made faster (every second, lost after 5 s) in the worker and
in this process alike; the defaults' bound is checked below.
"""

import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.utils import timezone

from followup.models import ReportJob
from followup.services import report_job_as_shown
from followup.tasks import expire_report_jobs, render_report
from tests.followup.test_celery_worker import REDIS_URL, _database_url, _redis_reachable

pytestmark = pytest.mark.xdist_group("celery-worker")

HEARTBEAT_INTERVAL = 1
HEARTBEAT_TIMEOUT = 5


def test_defaults_end_a_lost_rendering_within_two_minutes():
    """Whatever the time limits: the heartbeat timeout plus the beat task's
    interval, the longest a lost job can stay running in the database."""
    assert django_settings.REPORT_HEARTBEAT_TIMEOUT + django_settings.REPORT_EXPIRY_INTERVAL <= 120
    assert django_settings.REPORT_HEARTBEAT_TIMEOUT >= 3 * django_settings.REPORT_HEARTBEAT_INTERVAL


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _forget_unacknowledged(url: str) -> None:
    """The killed worker's message stays unacknowledged in Redis (acks_late)
    until its visibility timeout; drop it so no later worker picks it up."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.delete("unacked", "unacked_index", "unacked_mutex")
    finally:
        client.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_killed_worker_job_ends_failed_with_a_readable_message(
    small_period, editor, tmp_path, settings
):
    if not _redis_reachable():
        pytest.skip(f"the Celery worker layer needs Redis at {REDIS_URL}")
    settings.REPORT_HEARTBEAT_INTERVAL = HEARTBEAT_INTERVAL
    settings.REPORT_HEARTBEAT_TIMEOUT = HEARTBEAT_TIMEOUT
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "MEDIA_ROOT": str(tmp_path / "media"),
        "REPORT_HEARTBEAT_INTERVAL": str(HEARTBEAT_INTERVAL),
        "REPORT_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    }
    job = ReportJob.objects.create(
        kind=ReportJob.Kind.CITYWIDE,
        parameters={"period": "2030-T1"},
        title="Stadsövergripande periodrapport 2030-T1",
        requested_by=editor,
        progress="Väntar på en arbetare",
    )
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.followup.slow_render_worker",
            "-A",
            "fardplan",
            "worker",
            "--loglevel=info",
            "--concurrency=1",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    client = Celery("fardplan-test-client", broker=REDIS_URL, set_as_current=False)
    try:
        client.send_task(render_report.name, args=[job.pk])

        def rendering():
            job.refresh_from_db()
            return job.state == ReportJob.State.RUNNING and job.progress == "Skapar PDF-filen"

        _wait_for(rendering, 90, "the worker to start rendering")
        first_beat = job.heartbeat_at
        assert first_beat is not None

        def beating():
            job.refresh_from_db()
            return job.heartbeat_at > first_beat

        _wait_for(beating, 10 * HEARTBEAT_INTERVAL, "a heartbeat while rendering")

        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed_at = time.monotonic()

        # Shown failed as soon as the heartbeat is older than the timeout...
        def shown_failed():
            job.refresh_from_db()
            return report_job_as_shown(job).state == ReportJob.State.FAILED

        _wait_for(shown_failed, HEARTBEAT_TIMEOUT + 10, "the job to be shown failed")
        assert job.state == ReportJob.State.RUNNING  # shown, not yet written
        shown_error = report_job_as_shown(job).error
        # ... and marked failed by the beat task, with the same message.
        assert expire_report_jobs() == 1
        elapsed = time.monotonic() - killed_at
    finally:
        client.close()
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
        _forget_unacknowledged(REDIS_URL)

    job.refresh_from_db()
    assert job.state == ReportJob.State.FAILED
    assert job.error == shown_error
    assert job.error.startswith("Rapporten kunde inte skapas klart"), job.error
    assert "Beställ rapporten igen" in job.error
    assert not job.file and job.finished_at is not None
    assert elapsed < HEARTBEAT_TIMEOUT + 10
    # Nothing else was touched: the heartbeat stopped when the worker died.
    assert job.heartbeat_at < timezone.now() - datetime.timedelta(seconds=HEARTBEAT_TIMEOUT)
