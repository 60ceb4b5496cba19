"""Status reports: the rules of one report, saving or submitting it, reopening it."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fardplan import limits
from fardplan.limits import text_error
from fardplan.locks import locks_lifted
from roadmap.models import Organisation

from ..locks import REOPENING
from ..models import (
    PeriodClosedError,
    ReportingPeriod,
    Status,
    StatusReport,
    StatusReportReopening,
)
from ._auth import require_perm as _require


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


def input_values(data: ReportInput) -> tuple:
    """The entries as the service stores them (stripped), comparable with
    ``report_values``."""
    return (
        data.status.pk if data.status is not None else None,
        data.comment.strip(),
        data.planned_next_action.strip(),
        data.expected_completion.strip(),
    )


def report_values(report) -> tuple:
    """A saved report's (or a history record's) values, comparable with
    ``input_values``."""
    return (
        report.status_id,
        (report.comment or "").strip(),
        (report.planned_next_action or "").strip(),
        (report.expected_completion or "").strip(),
    )


# ``report_values`` of a report nobody has touched.
EMPTY_VALUES = (None, "", "", "")


def status_report_editable(report: StatusReport) -> bool:
    """A report may be saved while its period is open; after the period has
    closed only a report an editor reopened, until it is submitted again (the
    database enforces this too, see ``StatusReport.save``)."""
    return report.period.state == ReportingPeriod.State.OPEN or report.reopened


# The longest text each field of a report may hold.
REPORT_TEXT_LIMITS = {
    "comment": limits.REPORT_COMMENT,
    "planned_next_action": limits.PLANNED_NEXT_ACTION,
    "expected_completion": StatusReport._meta.get_field("expected_completion").max_length,
}


def status_report_validate(
    *, report: StatusReport, data: ReportInput, previous: StatusReport | None, submit: bool
) -> dict[str, list[str]]:
    """Field errors for saving (``submit=False``: a draft) or submitting."""
    errors: dict[str, list[str]] = {}
    for name, limit in REPORT_TEXT_LIMITS.items():
        if message := text_error(getattr(data, name).strip(), limit):
            errors.setdefault(name, []).append(message)
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
    if not status_report_editable(report):
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
    if message := text_error(reason.strip(), limits.REOPEN_REASON):
        raise ValidationError({"reason": [message]})
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
        # The database refuses writes to a closed period's reports
        # (followup/locks.py); this service alone may lift that lock, and only
        # for the write that sets the flag.
        with locks_lifted(REOPENING):
            StatusReport.objects.filter(pk=report.pk).update(reopened=True)
            report.save()
    return log
