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

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


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
    }
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
    client = Celery("fardplan-test-client", broker=REDIS_URL, backend=REDIS_URL)
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
