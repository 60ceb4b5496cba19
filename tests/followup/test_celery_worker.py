"""Layer 3: a real Celery worker process on Redis runs a real task.

Needs PostgreSQL (the worker must see the test database, which an in-memory
SQLite database is not) and Redis. Without them the test is skipped with its
reason; CI runs the suite on PostgreSQL with Redis and forbids skips.
"""

import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from followup.models import ReminderLog
from followup.tasks import send_reminders

# The worker takes tasks from a queue that every test process shares: these
# tests run in one process, one after another (pytest-xdist group).
pytestmark = pytest.mark.xdist_group("celery-worker")

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
# The worker's environment, for processes that talk to it as the app would.
WORKER_ENV: dict[str, str] = {}


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    if not _redis_reachable():
        pytest.skip(f"the Celery worker layer needs Redis at {REDIS_URL}")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_RESULT_BACKEND": REDIS_URL,
        "EMAIL_URL": f"filemail://{mail_dir}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    WORKER_ENV.clear()
    WORKER_ENV.update(env)
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "celery"),
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
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield mail_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_worker_sends_reminders_once(worker, make_period, bromma_reporter, settings):
    settings.FOLLOWUP_REMINDER_DAYS_BEFORE = [7]
    bromma_reporter.email = "cecilia@example.org"
    bromma_reporter.save()
    today = datetime.date(2022, 4, 20)
    make_period(
        2022, "T1", opens_on=datetime.date(2022, 4, 1), deadline=today + datetime.timedelta(days=7)
    )

    # A client of its own sends the task by name over Redis; the project's app
    # in this process stays eager for the other tests.
    # Not the current app: the project's tasks in this process must stay on
    # the project's eager app for the tests that run after this one.
    client = Celery(
        "fardplan-test-client", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False
    )
    try:
        first = client.send_task(send_reminders.name, args=[today.isoformat()])
        assert first.get(timeout=90) == 1
        # Idempotent: the same day again sends nothing more.
        second = client.send_task(send_reminders.name, args=[today.isoformat()])
        assert second.get(timeout=60) == 0
    finally:
        client.close()

    log = ReminderLog.objects.get()
    assert (log.user, log.sent_on) == (bromma_reporter, today)
    deadline = time.monotonic() + 10
    while not list(worker.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.2)
    messages = [p.read_text(encoding="utf-8") for p in worker.iterdir()]
    assert len(messages) == 1
    assert "cecilia@example.org" in messages[0]


# What a web process with a broker runs when an editor requests a report: the
# service creates the job and queues the task on commit, over Redis.
REQUEST_REPORT = """
from django.contrib.auth import get_user_model
from followup.reports.params import report_request_clean
from followup.services import report_job_request
request = report_request_clean(kind="citywide", period="2030-T1")
job = report_job_request(request=request, actor=get_user_model().objects.get(username="alice"))
print(job.pk)
"""


def _request_report_in_a_web_process() -> int:
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", REQUEST_REPORT],
        cwd=settings.BASE_DIR,
        env=WORKER_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return int(result.stdout.strip().splitlines()[-1])


def _wait_until_finished(job_id: int, timeout: float = 180):
    from followup.models import ReportJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ReportJob.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.5)
    raise AssertionError(f"report job {job_id} did not finish: {job.state} {job.progress}")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_real_worker_renders_a_report_and_reuses_it(worker, small_period, tmp_path):
    from tests.helpers import pdf_text

    first = _wait_until_finished(_request_report_in_a_web_process())
    assert first.state == "done", first.error
    path = tmp_path / "media" / first.file.name
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-") and len(pdf) == first.file_size
    text = pdf_text(pdf)
    assert "Stadsövergripande periodrapport" in text
    assert "Bemanningen räcker inte." in text
    assert first.started_at is not None and first.finished_at >= first.started_at

    # The same data again: the worker reuses the file instead of rendering.
    second = _wait_until_finished(_request_report_in_a_web_process())
    assert second.state == "done" and second.pk != first.pk
    assert second.reused_from_id == first.pk and second.file.name == first.file.name
