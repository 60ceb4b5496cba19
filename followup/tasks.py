"""Celery tasks of the follow-up. Each takes plain values, fetches what it needs
again and calls one service, so running it twice does no harm."""

import datetime

from celery import shared_task

from .services import reminders_send


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def send_reminders(today: str | None = None) -> int:
    """E-mail reporters with unsubmitted reports before a deadline. At most one
    e-mail per person and day, however often it runs."""
    day = datetime.date.fromisoformat(today) if today else None
    return reminders_send(today=day)
