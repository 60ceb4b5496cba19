"""Writes for the follow-up. Views, the admin, commands and tasks call these.

One module per subdomain; every public name is re-exported here, so
``from followup.services import period_open`` works wherever it is used:

* ``periods``: planning, opening and closing reporting periods;
* ``status_reports``: the rules of one report, saving, submitting, reopening;
* ``reporter``: the reporter page's batch, all or nothing, with conflicts;
* ``reminders``: reminder e-mails before a deadline;
* ``report_jobs``: the PDF report jobs, from request to file or failure.
"""

from .periods import (
    PERIOD_DEFAULTS,
    obligations_for,
    period_close,
    period_create,
    period_default_dates,
    period_open,
)
from .reminders import reminders_due, reminders_send
from .report_jobs import (
    report_file_intact,
    report_job_as_shown,
    report_job_expiry_error,
    report_job_queue_annual,
    report_job_request,
    report_job_run,
    report_jobs_expire,
    report_may_force,
    report_may_request,
)
from .reporter import (
    BatchResult,
    BatchRow,
    CopyForwardResult,
    RowConflict,
    status_report_batch_save,
    status_report_copy_forward,
)
from .status_reports import (
    ReportInput,
    input_values,
    report_values,
    status_report_editable,
    status_report_reopen,
    status_report_save,
    status_report_validate,
    user_may_report_for,
)

__all__ = [
    "PERIOD_DEFAULTS",
    "BatchResult",
    "BatchRow",
    "CopyForwardResult",
    "ReportInput",
    "RowConflict",
    "input_values",
    "obligations_for",
    "period_close",
    "period_create",
    "period_default_dates",
    "period_open",
    "reminders_due",
    "reminders_send",
    "report_file_intact",
    "report_job_as_shown",
    "report_job_expiry_error",
    "report_job_queue_annual",
    "report_job_request",
    "report_job_run",
    "report_jobs_expire",
    "report_may_force",
    "report_may_request",
    "report_values",
    "status_report_batch_save",
    "status_report_copy_forward",
    "status_report_editable",
    "status_report_reopen",
    "status_report_save",
    "status_report_validate",
    "user_may_report_for",
]
