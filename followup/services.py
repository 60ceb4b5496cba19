"""Writes for the follow-up. Views, the admin, commands and tasks call these."""

import datetime
import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
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
    ReportJob,
    Status,
    StatusReport,
    StatusReportReopening,
    report_upload_to,
)
from .reports.data import report_checksum, report_data_build
from .reports.params import ReportRequest, report_request_for_job
from .reports.render import BrokenReportError, report_pdf_render

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


# --- PDF reports ----------------------------------------------------------------------

logger = logging.getLogger(__name__)


def report_may_request(user: AbstractBaseUser, request: ReportRequest) -> bool:
    """Editors request every kind of report; a reporter requests the period
    report of their own organisation (to attach in ILS), nothing else."""
    if not user.is_authenticated:
        return False
    if user.has_perm("followup.request_reports"):
        return True
    return request.kind == ReportJob.Kind.PERIOD and user_may_report_for(user, request.organisation)


def report_job_request(
    *, request: ReportRequest, actor: AbstractBaseUser, force: bool = False
) -> ReportJob:
    """Create the job and queue its rendering once the transaction commits.

    An identical request that is still queued or running is returned instead
    of a second job. ``force`` renders anew even when an earlier file from the
    same data exists."""
    if not report_may_request(actor, request):
        raise PermissionDenied(_("You may not request this report."))
    from .tasks import render_report

    with transaction.atomic():
        pending = (
            ReportJob.objects.select_for_update()
            .filter(
                kind=request.kind,
                parameters=request.parameters,
                state__in=[ReportJob.State.QUEUED, ReportJob.State.RUNNING],
            )
            .first()
        )
        if pending is not None and not force:
            return pending
        job = ReportJob.objects.create(
            kind=request.kind,
            parameters=request.parameters,
            title=request.title,
            organisation=request.organisation,
            requested_by=actor,
            force=force,
            progress=_("Waiting for a worker"),
        )
        transaction.on_commit(partial(render_report.delay, job.pk))
    return job


def _job_update(job: ReportJob, **values) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    job.save(update_fields=list(values))


def _job_fail(job: ReportJob, error: str) -> ReportJob:
    _job_update(
        job,
        state=ReportJob.State.FAILED,
        error=error,
        progress="",
        finished_at=timezone.now(),
    )
    return job


def _reusable(job: ReportJob, checksum: str) -> ReportJob | None:
    """An earlier finished job with the same report from the same data, whose
    file is still there whole."""
    for earlier in ReportJob.objects.filter(
        kind=job.kind,
        parameters=job.parameters,
        state=ReportJob.State.DONE,
        input_checksum=checksum,
    ).exclude(pk=job.pk):
        if report_file_intact(earlier):
            return earlier
    return None


def report_file_intact(job: ReportJob) -> bool:
    """The job's file exists and has the size it had when it was stored."""
    if not job.file:
        return False
    try:
        return job.file.storage.size(job.file.name) == job.file_size
    except OSError:
        return False


def report_job_run(*, job_id: int) -> ReportJob | None:
    """Render the job's report and store it (the Celery task calls this).

    Idempotent: a job that has finished is left as it is; the same report from
    the same data (the input checksum) reuses the earlier file unless the job
    asks for a new rendering. Every failure ends in ``failed`` with a readable
    error, and the file is stored whole before the job is marked done."""
    from celery.exceptions import SoftTimeLimitExceeded

    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return job
        _job_update(
            job,
            state=ReportJob.State.RUNNING,
            started_at=timezone.now(),
            progress=_("Reading the follow-up data"),
            error="",
        )
    stored_name = ""
    try:
        request = report_request_for_job(job)
        data = report_data_build(request)
        checksum = report_checksum(data)
        earlier = None if job.force else _reusable(job, checksum)
        if earlier is not None:
            _job_update(
                job,
                state=ReportJob.State.DONE,
                file=earlier.file.name,
                file_size=earlier.file_size,
                page_count=earlier.page_count,
                input_checksum=checksum,
                reused_from=earlier,
                progress=_(
                    "The data has not changed since the report of %(date)s: its file is reused."
                )
                % {"date": timezone.localtime(earlier.finished_at).strftime("%Y-%m-%d %H:%M")},
                finished_at=timezone.now(),
            )
            return job
        _job_update(job, progress=_("Rendering the PDF"))
        rendered = report_pdf_render(data, generated_at=timezone.now())
        _job_update(job, progress=_("Storing the file"))
        stored_name = job.file.storage.save(
            report_upload_to(job, job.download_name()), ContentFile(rendered.pdf)
        )
        _job_update(
            job,
            state=ReportJob.State.DONE,
            file=stored_name,
            file_size=len(rendered.pdf),
            page_count=rendered.pages,
            input_checksum=checksum,
            progress=ngettext("Done: %(pages)s page.", "Done: %(pages)s pages.", rendered.pages)
            % {"pages": rendered.pages},
            finished_at=timezone.now(),
        )
        return job
    except SoftTimeLimitExceeded:
        error = _(
            "The report took longer than the time limit (%(seconds)s seconds) and was stopped."
        ) % {"seconds": settings.REPORT_SOFT_TIME_LIMIT}
    except ValidationError as exc:
        error = _("The report can no longer be made: %(reason)s") % {
            "reason": " ".join(exc.messages)
        }
    except BrokenReportError:
        error = _("The rendering did not produce a complete PDF. Nothing was stored.")
    except Exception as exc:
        logger.exception("Report job %s failed", job.pk)
        error = _("The report could not be rendered: %(error)s") % {
            "error": f"{type(exc).__name__}: {exc}"
        }
    if stored_name:
        job.file.storage.delete(stored_name)
    job.file = ""
    return _job_fail(job, error)


def report_jobs_expire(*, now: datetime.datetime | None = None) -> int:
    """Mark failed the jobs no worker will finish: running for longer than the
    task's hard time limit (the worker was stopped), or queued for longer than
    ``REPORT_QUEUE_TIMEOUT`` (no worker took them). Returns how many."""
    now = now or timezone.now()
    grace = datetime.timedelta(seconds=60)
    stuck_running = ReportJob.objects.filter(
        state=ReportJob.State.RUNNING,
        started_at__lt=now - datetime.timedelta(seconds=settings.REPORT_TIME_LIMIT) - grace,
    ).update(
        state=ReportJob.State.FAILED,
        progress="",
        finished_at=now,
        error=_(
            "The rendering was still running after the time limit of %(seconds)s seconds: "
            "the worker was stopped. Request the report again."
        )
        % {"seconds": settings.REPORT_TIME_LIMIT},
    )
    never_started = ReportJob.objects.filter(
        state=ReportJob.State.QUEUED,
        created_at__lt=now - datetime.timedelta(seconds=settings.REPORT_QUEUE_TIMEOUT),
    ).update(
        state=ReportJob.State.FAILED,
        progress="",
        finished_at=now,
        error=_("No worker took the job within %(minutes)s minutes. Request the report again.")
        % {"minutes": settings.REPORT_QUEUE_TIMEOUT // 60},
    )
    return stuck_running + never_started
