import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")

app = Celery("fardplan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

from django.conf import settings  # noqa: E402 - after DJANGO_SETTINGS_MODULE

# The beat schedule: reminders every morning; the task itself decides whom to
# remind (FOLLOWUP_REMINDER_DAYS_BEFORE and the deadline day).
app.conf.beat_schedule = {
    "followup-reminders": {
        "task": "followup.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    # Report jobs that a stopped worker left running are marked failed: often,
    # since a killed worker's job is to end failed within two minutes.
    "followup-expire-report-jobs": {
        "task": "followup.tasks.expire_report_jobs",
        "schedule": float(settings.REPORT_EXPIRY_INTERVAL),
    },
}
