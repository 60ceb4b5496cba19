"""``manage.py runall``: the development server with a Celery worker beside it.

``make run`` calls it with ``CELERY_BROKER_URL=filesystem://``, so PDF reports
are rendered by the worker in the background while the request returns at once.
The worker stops when the server stops (Ctrl-C, SIGTERM, an error). Without a
broker URL tasks run in-process and no worker is started.
"""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import autoreload


def worker_command(*, beat: bool) -> list[str]:
    """The worker's command line: one process rendering at a time (SQLite has
    one writer), and no broadcast chatter the filesystem broker would poll."""
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "fardplan",
        "worker",
        "--loglevel=info",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat:
        schedule = Path(settings.BASE_DIR) / "var" / "celerybeat-schedule"
        command += ["--beat", f"--schedule={schedule}"]
    return command


class Command(BaseCommand):
    help = "Run the development server and, with a broker, a Celery worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--beat",
            action="store_true",
            help="Also run Celery beat (reminders, expiry of lost report jobs) in the worker.",
        )
        parser.add_argument("--noreload", action="store_true", help="No autoreloader.")

    def handle(self, *args, addrport, beat, noreload, **options):
        worker = None
        # The autoreloader runs this command again in a child process
        # (RUN_MAIN=true): only the outer process starts the worker.
        reloaded_child = os.environ.get(autoreload.DJANGO_AUTORELOAD_ENV) == "true"
        if settings.CELERY_BROKER_URL and not reloaded_child:
            self.stdout.write(f"Starting a Celery worker on {settings.CELERY_BROKER_URL}")
            worker = subprocess.Popen(worker_command(beat=beat), cwd=settings.BASE_DIR)  # noqa: S603
        elif not settings.CELERY_BROKER_URL:
            self.stdout.write("No CELERY_BROKER_URL: tasks run in-process (eager).")
        try:
            call_command("runserver", addrport, use_reloader=not noreload)
        finally:
            if worker is not None:
                self.stdout.write("Stopping the Celery worker")
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
