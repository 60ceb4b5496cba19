import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fardplan.settings")

app = Celery("fardplan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The beat schedule: reminders every morning; the task itself decides whom to
# remind (FOLLOWUP_REMINDER_DAYS_BEFORE and the deadline day).
app.conf.beat_schedule = {
    "followup-reminders": {
        "task": "followup.tasks.send_reminders",
        "schedule": crontab(hour=7, minute=30),
    },
    # Report jobs that a stopped worker left running are marked failed.
    "followup-expire-report-jobs": {
        "task": "followup.tasks.expire_report_jobs",
        "schedule": crontab(minute="*/5"),
    },
}
