"""Reminder e-mails before a period's deadline (the Celery beat task calls these)."""

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import ReminderLog, ReportingPeriod, StatusReport


def reminders_due(*, today: datetime.date) -> list[ReportingPeriod]:
    """Open periods whose deadline is today or the configured days ahead."""
    days = set(settings.FOLLOWUP_REMINDER_DAYS_BEFORE) | {0}
    dates = [today + datetime.timedelta(days=d) for d in days]
    return list(ReportingPeriod.objects.open().filter(deadline__in=dates))


def reminders_send(*, today: datetime.date | None = None) -> int:
    """E-mail each reporter who has unsubmitted reports in a period due for a
    reminder. At most one e-mail per person and day (the database guards it).
    Safe to run again: returns the number of e-mails sent this time."""
    today = today or timezone.localdate()
    sent = 0
    for period in reminders_due(today=today):
        open_by_org: dict[int, int] = {}
        for org_id in StatusReport.objects.filter(
            period=period, state=StatusReport.State.DRAFT
        ).values_list("organisation_id", flat=True):
            open_by_org[org_id] = open_by_org.get(org_id, 0) + 1
        if not open_by_org:
            continue
        users = (
            get_user_model()
            .objects.filter(is_active=True, organisations__in=open_by_org.keys())
            .filter(
                Q(groups__permissions__codename="report_status")
                | Q(user_permissions__codename="report_status")
            )
            .exclude(email="")
            .prefetch_related("organisations")
            .distinct()
        )
        for user in users:
            count = sum(open_by_org.get(org.pk, 0) for org in user.organisations.all())
            if not count:
                continue
            try:
                with transaction.atomic():
                    ReminderLog.objects.create(
                        user=user, sent_on=today, period=period, open_reports=count
                    )
                    send_mail(
                        subject=_("Reminder: %(period)s, deadline %(deadline)s")
                        % {"period": period.label, "deadline": date_format(period.deadline)},
                        message=ngettext(
                            "You have %(count)s unsubmitted status report in %(period)s. "
                            "The deadline is %(deadline)s. Report under “My reports”.",
                            "You have %(count)s unsubmitted status reports in %(period)s. "
                            "The deadline is %(deadline)s. Report under “My reports”.",
                            count,
                        )
                        % {
                            "count": count,
                            "period": period.label,
                            "deadline": date_format(period.deadline),
                        },
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        recipient_list=[user.email],
                    )
            except IntegrityError:
                continue  # already reminded today
            sent += 1
    return sent
