"""Writes for the follow-up. Views, the admin, commands and tasks call these."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from simple_history.utils import bulk_create_with_history

from roadmap.models import CityAction, NextStep, Organisation, Revision

from .models import (
    PeriodClosedError,
    ReminderLog,
    ReportingPeriod,
    Status,
    StatusReport,
    StatusReportReopening,
)

# Default opening dates and deadlines of the ILS periods.
PERIOD_DEFAULTS = {
    ReportingPeriod.Kind.T1: ((4, 1), (5, 10)),
    ReportingPeriod.Kind.T2: ((8, 15), (9, 10)),
    ReportingPeriod.Kind.VB: ((12, 1), (1, 20)),  # the deadline falls in the next year
}


def _require(actor: AbstractBaseUser | None, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def period_default_dates(*, year: int, kind: str) -> tuple[datetime.date, datetime.date]:
    (om, od), (dm, dd) = PERIOD_DEFAULTS[ReportingPeriod.Kind(kind)]
    deadline_year = year + 1 if kind == ReportingPeriod.Kind.VB else year
    return datetime.date(year, om, od), datetime.date(deadline_year, dm, dd)


def period_create(
    *,
    year: int,
    kind: str,
    revision: Revision,
    actor: AbstractBaseUser,
    opens_on: datetime.date | None = None,
    deadline: datetime.date | None = None,
) -> ReportingPeriod:
    """A planned period following up an approved (or since superseded) revision."""
    _require(actor, "followup.manage_periods")
    if revision.status not in (Revision.Status.APPROVED, Revision.Status.SUPERSEDED):
        raise ValidationError({"revision": _("Only an approved revision can be followed up.")})
    default_open, default_deadline = period_default_dates(year=year, kind=kind)
    period = ReportingPeriod(
        year=year,
        kind=kind,
        revision=revision,
        opens_on=opens_on or default_open,
        deadline=deadline or default_deadline,
    )
    period.full_clean()
    period._history_user = actor  # type: ignore[attr-defined]
    period.save()
    return period


def obligations_for(revision: Revision) -> list[tuple[NextStep | CityAction, Organisation]]:
    """Every pair of action (next step or city action) and responsible
    organisation in the revision, with "alla stadsdelsnämnder" expanded."""
    districts = list(Organisation.objects.districts())
    pairs: list[tuple[NextStep | CityAction, Organisation]] = []
    for model in (NextStep, CityAction):
        actions = (
            model.objects.active()
            .filter(revision=revision, need__retired=False, need__focus_area__retired=False)
            .prefetch_related("responsible_organisations")
            .order_by("need__focus_area__position", "need__position", "position")
        )
        for action in actions:
            organisations = {org.pk: org for org in action.responsible_organisations.all()}
            if action.all_districts:
                organisations.update({org.pk: org for org in districts})
            pairs.extend((action, org) for org in organisations.values())
    return pairs


def period_open(*, period: ReportingPeriod, actor: AbstractBaseUser) -> ReportingPeriod:
    """Planned → open: creates one empty report per action and organisation."""
    _require(actor, "followup.manage_periods")
    with transaction.atomic():
        period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
        if period.state != ReportingPeriod.State.PLANNED:
            raise ValidationError(_("Only a planned period can be opened."), code="invalid_state")
        reports = [
            StatusReport(
                period=period,
                organisation=org,
                next_step=action if isinstance(action, NextStep) else None,
                city_action=action if isinstance(action, CityAction) else None,
                lineage_id=action.lineage_id,
            )
            for action, org in obligations_for(period.revision)
        ]
        bulk_create_with_history(
            reports,
            StatusReport,
            batch_size=500,
            default_user=actor,
            default_change_reason=_("Period opened"),
        )
        period.state = ReportingPeriod.State.OPEN
        period.opened_at = timezone.now()
        period._history_user = actor  # type: ignore[attr-defined]
        period.save()
    return period


def period_close(
    *, period: ReportingPeriod, actor: AbstractBaseUser, today: datetime.date | None = None
) -> ReportingPeriod:
    """Open → closed, once the deadline has passed. Locks every report."""
    _require(actor, "followup.manage_periods")
    today = today or timezone.localdate()
    with transaction.atomic():
        period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
        if period.state != ReportingPeriod.State.OPEN:
            raise ValidationError(_("Only an open period can be closed."), code="invalid_state")
        if today <= period.deadline:
            raise ValidationError(
                _("The period can be closed after its deadline, %(deadline)s.")
                % {"deadline": period.deadline.isoformat()},
                code="before_deadline",
            )
        period.state = ReportingPeriod.State.CLOSED
        period.closed_at = timezone.now()
        period._history_user = actor  # type: ignore[attr-defined]
        period.save()
    return period


# --- Status reports -----------------------------------------------------------------


def user_may_report_for(user: AbstractBaseUser, organisation: Organisation) -> bool:
    return (
        user.is_authenticated
        and user.has_perm("followup.report_status")
        and user.organisations.filter(pk=organisation.pk).exists()
    )


@dataclass
class ReportInput:
    status: Status | None
    comment: str = ""
    planned_next_action: str = ""
    expected_completion: str = ""
    expected_version: int | None = None


def status_report_validate(
    *, report: StatusReport, data: ReportInput, previous: StatusReport | None, submit: bool
) -> dict[str, list[str]]:
    """Field errors for saving (``submit=False``: a draft) or submitting."""
    errors: dict[str, list[str]] = {}
    if data.status is not None and not data.status.is_active:
        errors.setdefault("status", []).append(_("Choose one of the listed statuses."))
    if submit:
        if data.status is None:
            errors.setdefault("status", []).append(_("Choose a status before you submit."))
        elif not data.comment.strip():
            if data.status.requires_comment:
                errors.setdefault("comment", []).append(
                    _("A comment is required when the status is “%(status)s”.")
                    % {"status": data.status.name}
                )
            elif previous is not None and previous.status_id != data.status.pk:
                errors.setdefault("comment", []).append(
                    _(
                        "The status has changed since the previous period "
                        "(“%(before)s”): explain the change in a comment."
                    )
                    % {"before": previous.status.name}
                )
    return errors


def status_report_save(
    *,
    report: StatusReport,
    data: ReportInput,
    actor: AbstractBaseUser,
    submit: bool,
    previous: StatusReport | None = None,
) -> StatusReport:
    """Save one report as a draft, or submit it. Checks the reporter's
    organisation, the period's state, the fields, and the version the user
    loaded. Raises PermissionDenied, PeriodClosedError, ConcurrentEditError or
    ValidationError (with field errors); nothing is saved then."""
    # A submitted report stays submitted: changing it submits the change, with
    # the same checks as a first submission.
    submit = submit or report.is_submitted
    if not user_may_report_for(actor, report.organisation):
        raise PermissionDenied(_("You can only report for your own organisation."))
    if report.period.state != ReportingPeriod.State.OPEN and not report.reopened:
        raise PeriodClosedError()
    errors = status_report_validate(report=report, data=data, previous=previous, submit=submit)
    if errors:
        raise ValidationError(errors)
    report.status = data.status
    report.comment = data.comment.strip()
    report.planned_next_action = data.planned_next_action.strip()
    report.expected_completion = data.expected_completion.strip()
    report.updated_by = actor
    if submit:
        report.state = StatusReport.State.SUBMITTED
        report.submitted_at = timezone.now()
        report.submitted_by = actor
        report.reopened = False
    report.expected_version = data.expected_version
    report._history_user = actor  # type: ignore[attr-defined]
    report.save()
    return report


def status_report_reopen(
    *, report: StatusReport, actor: AbstractBaseUser, reason: str
) -> StatusReportReopening:
    """An editor reopens one report of a closed period, giving a reason."""
    _require(actor, "followup.manage_periods")
    if not reason.strip():
        raise ValidationError({"reason": [_("Give a reason for reopening the report.")]})
    with transaction.atomic():
        report = StatusReport.objects.select_for_update().select_related("period").get(pk=report.pk)
        if report.period.state != ReportingPeriod.State.CLOSED:
            raise ValidationError(_("Only reports of a closed period need reopening."))
        if report.reopened:
            raise ValidationError(_("The report is already reopened."))
        log = StatusReportReopening.objects.create(
            report=report, reason=reason.strip(), reopened_by=actor
        )
        report.reopened = True
        report._history_user = actor  # type: ignore[attr-defined]
        report._change_reason = reason.strip()  # type: ignore[attr-defined]
        # Allowed although the period is closed: this save sets the flag.
        StatusReport.objects.filter(pk=report.pk).update(reopened=True)
        report.save()
    return log


# --- Reminders ----------------------------------------------------------------------


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
                        % {"period": period.label, "deadline": period.deadline.isoformat()},
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
                            "deadline": period.deadline.isoformat(),
                        },
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        recipient_list=[user.email],
                    )
            except IntegrityError:
                continue  # already reminded today
            sent += 1
    return sent
