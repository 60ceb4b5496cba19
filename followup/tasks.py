"""Celery tasks of the follow-up. Each takes plain values, fetches what it needs
again and calls one service, so running it twice does no harm."""

import datetime

from celery import shared_task
from django.conf import settings

from .services import reminders_send, report_job_run, report_jobs_expire


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def send_reminders(today: str | None = None) -> int:
    """E-mail reporters with unsubmitted reports before a deadline. At most one
    e-mail per person and day, however often it runs."""
    day = datetime.date.fromisoformat(today) if today else None
    return reminders_send(today=day)


@shared_task(
    acks_late=True,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT,
)
def render_report(job_id: int) -> str | None:
    """Render one report job. A job that has finished already is left alone;
    failures end as a failed job with the error, not as a task exception."""
    job = report_job_run(job_id=job_id)
    return job.state if job is not None else None


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def expire_report_jobs() -> int:
    """Mark failed the report jobs that no worker will finish."""
    return report_jobs_expire()
