"""``make run``'s embedded default: a real Celery worker on the filesystem
broker, with a SQLite file both processes share, renders a requested report
in the background while the request returns at once. (The test asks for
Bromma's period report, a few seconds of WeasyPrint; the annual report takes
the same path and about 12 s to render, which `make run` was measured with.)
``seed_demo`` closes the demo's 2022-VB period, which queues the annual report
of 2022: the worker renders that one too, as under ``make run``.

Driven by subprocesses, as ``make run`` is: the test database (in-memory
SQLite, or PostgreSQL) is not used; the processes get a database file, a
broker folder and a media folder of their own under tmp_path.
"""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from followup.management.commands.runall import worker_command

# A real worker: not beside the other worker tests (pytest-xdist group).
pytestmark = pytest.mark.xdist_group("celery-worker")

BASE = Path(settings.BASE_DIR)

# `make setup` in one process (each Django start costs seconds on a busy machine).
SETUP = """
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
for command in ("load_roadmap", "load_statuses", "seed_demo"):
    call_command(command)
"""

# What the web process runs on POST /uppfoljning/pdf/: the service creates the
# job and queues the task on commit. Timed inside the process, without its start.
REQUEST_REPORT = """
import json, time
from django.contrib.auth import get_user_model
from followup.reports.params import report_request_clean
from followup.services import report_job_request
editor = get_user_model().objects.get(username="redaktor")
started = time.monotonic()
request = report_request_clean(kind="period", period="2022-VB", organisation="bromma")
job = report_job_request(request=request, actor=editor)
elapsed = time.monotonic() - started
job.refresh_from_db()
print(json.dumps({"pk": job.pk, "elapsed": elapsed, "state": job.state}))
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE", "CELERY_", "REDIS", "TEST_DATABASE"))
    }
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "fardplan.settings",
        "FARDPLAN_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_FOLDER": str(tmp_path / "celery"),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "EMAIL_URL": "consolemail://",
    }


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _job(database: Path, pk: int) -> tuple[str, str, str, int | None]:
    with sqlite3.connect(database, timeout=20) as db:
        row = db.execute(
            "SELECT state, error, file, file_size FROM followup_reportjob WHERE id = ?", (pk,)
        ).fetchone()
    return row


def _annual_job(database: Path) -> int:
    """The annual report seed_demo queued by closing 2022-VB (the only one)."""
    with sqlite3.connect(database, timeout=20) as db:
        rows = db.execute(
            "SELECT id, state FROM followup_reportjob WHERE kind = 'annual'"
        ).fetchall()
    assert len(rows) == 1 and rows[0][1] in ("queued", "running", "done"), rows
    return rows[0][0]


def test_worker_on_filesystem_broker_renders_in_the_background(tmp_path):
    env = _environment(tmp_path)
    _manage(env, "shell", "-c", SETUP)
    # The broker folders exist once settings are loaded with filesystem://.
    assert (tmp_path / "celery" / "queue").is_dir()

    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        worker_command(beat=False),
        cwd=BASE,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # The request returns at once, the job still waiting for or in the worker.
        output = _manage(env, "shell", "-c", REQUEST_REPORT)
        requested = json.loads(output.splitlines()[-1])
        assert requested["elapsed"] < 2, requested
        assert requested["state"] in ("queued", "running"), requested

        database = tmp_path / "db.sqlite3"
        annual = _annual_job(database)
        deadline = time.monotonic() + 120
        jobs = {}
        while time.monotonic() < deadline:
            jobs = {pk: _job(database, pk) for pk in (requested["pk"], annual)}
            if all(job[0] in ("done", "failed") for job in jobs.values()):
                break
            time.sleep(0.3)
        worker_log = (tmp_path / "worker.log").read_text(encoding="utf-8")
        for pk, (state, error, file, size) in jobs.items():
            assert state == "done", (pk, state, error, worker_log[-3000:])
            pdf = (tmp_path / "media" / file).read_bytes()
            assert pdf.startswith(b"%PDF-") and len(pdf) == size
        assert "followup.tasks.render_report" in worker_log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
