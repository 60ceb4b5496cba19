"""Reminders before a deadline: at most one e-mail per person and day."""

import datetime

import pytest
from django.core import mail

from fardplan.celery import app as celery_app
from followup.models import ReminderLog, StatusReport
from followup.services import reminders_send
from followup.tasks import send_reminders

SWEDISH_MONTHS = (
    *("januari", "februari", "mars", "april", "maj", "juni"),
    *("juli", "augusti", "september", "oktober", "november", "december"),
)


@pytest.fixture
def with_emails(bromma_reporter, farsta_reporter, editor):
    for user in (bromma_reporter, farsta_reporter, editor):
        user.email = f"{user.username}@example.org"
        user.save()


def _period_due(make_period, days_ahead: int):
    today = datetime.date(2022, 4, 20)
    period = make_period(
        2022,
        "T1",
        opens_on=datetime.date(2022, 4, 1),
        deadline=today + datetime.timedelta(days=days_ahead),
    )
    return period, today


def test_reporters_with_open_reports_get_one_reminder(make_period, with_emails, settings):
    settings.FOLLOWUP_REMINDER_DAYS_BEFORE = [7]
    period, today = _period_due(make_period, 7)

    assert reminders_send(today=today) == 2
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["cecilia@example.org", "david@example.org"]
    bromma_mail = next(m for m in mail.outbox if m.to == ["cecilia@example.org"])
    count = StatusReport.objects.filter(period=period, organisation__code="bromma").count()
    assert str(count) in bromma_mail.body
    # The deadline as Swedish text is written (docs/sprakguide.md), not ISO.
    deadline = f"{period.deadline.day} {SWEDISH_MONTHS[period.deadline.month - 1]}"
    deadline += f" {period.deadline.year}"
    assert deadline in bromma_mail.subject and deadline in bromma_mail.body
    assert period.deadline.isoformat() not in bromma_mail.subject + bromma_mail.body
    # The editor reports for äldrenämnden but has no reporter role: no e-mail.
    assert "alice@example.org" not in recipients


def test_a_second_run_the_same_day_sends_nothing(make_period, with_emails, settings):
    settings.FOLLOWUP_REMINDER_DAYS_BEFORE = [7]
    _period, today = _period_due(make_period, 7)
    reminders_send(today=today)
    assert reminders_send(today=today) == 0
    assert len(mail.outbox) == 2
    assert ReminderLog.objects.count() == 2


def test_reminder_on_the_deadline_day_too(make_period, with_emails, settings):
    settings.FOLLOWUP_REMINDER_DAYS_BEFORE = [7]
    _period, today = _period_due(make_period, 0)
    assert reminders_send(today=today) == 2


def test_no_reminder_on_other_days(make_period, with_emails, settings):
    settings.FOLLOWUP_REMINDER_DAYS_BEFORE = [7]
    _period, today = _period_due(make_period, 5)
    assert reminders_send(today=today) == 0
    assert mail.outbox == []


def test_no_reminder_once_everything_is_submitted(make_period, with_emails, settings, statuses):
    settings.FOLLOWUP_REMINDER_DAYS_BEFORE = [7]
    period, today = _period_due(make_period, 7)
    bromma = StatusReport.objects.filter(period=period, organisation__code="bromma")
    for report in bromma:
        report.status = statuses["pagar-enligt-plan"]
        report.state = StatusReport.State.SUBMITTED
        report.submitted_at = datetime.datetime(2022, 4, 19, tzinfo=datetime.UTC)
        report.save()
    reminders_send(today=today)
    assert [m.to for m in mail.outbox] == [["david@example.org"]]


def test_the_task_runs_eagerly_in_unit_tests(make_period, with_emails, settings):
    settings.FOLLOWUP_REMINDER_DAYS_BEFORE = [7]
    _period, today = _period_due(make_period, 7)
    assert celery_app.conf.task_always_eager
    assert send_reminders.delay(today.isoformat()).get() == 2
    assert len(mail.outbox) == 2


def test_beat_schedule_runs_the_reminder_task():
    schedule = celery_app.conf.beat_schedule
    assert schedule["followup-reminders"]["task"] == send_reminders.name
