"""Follow-up in the city's ILS periods: reporting periods and status reports.

A ``ReportingPeriod`` (year + T1, T2 or VB) follows up one approved revision.
Opening it creates one ``StatusReport`` per pair of action (next step or city
action) and responsible organisation; "alla stadsdelsnämnder" expands to all
13 districts. A closed period is locked.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fardplan import limits
from fardplan.limits import limited_text, max_length_constraint
from fardplan.locks import lock_errors_readable
from roadmap.models import (
    CityAction,
    ConcurrentEditError,
    NextStep,
    Organisation,
    Revision,
    VersionedModel,
)

__all__ = [
    "ConcurrentEditError",
    "PeriodClosedError",
    "ReminderLog",
    "ReportJob",
    "ReportingPeriod",
    "Status",
    "StatusReport",
    "StatusReportReopening",
]


class PeriodClosedError(ValidationError):
    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message or _("The reporting period is closed. Its reports can no longer be changed."),
            code="period_closed",
        )


class StatusManager(models.Manager["Status"]):
    def get_by_natural_key(self, code: str) -> "Status":
        return self.get(code=code)


class Status(models.Model):
    """A status word a report can have (configurable reference data)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    symbol = models.CharField(
        _("symbol"), max_length=4, help_text=_("Shown beside the colour, e.g. ✓ or !")
    )
    colour = models.CharField(_("colour"), max_length=7, default="#777777")
    position = models.PositiveSmallIntegerField(_("position"), unique=True)
    counts_as_done = models.BooleanField(_("counts as done"), default=False)
    is_problem = models.BooleanField(_("counts as a problem"), default=False)
    requires_comment = models.BooleanField(_("requires a comment"), default=False)
    is_active = models.BooleanField(_("in use"), default=True)

    objects = StatusManager()

    class Meta:
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        ordering = ["position"]
        constraints = [
            models.CheckConstraint(
                condition=~(Q(counts_as_done=True) & Q(is_problem=True)),
                name="status_not_done_and_problem",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)


class ReportingPeriodQuerySet(models.QuerySet["ReportingPeriod"]):
    def open(self) -> "ReportingPeriodQuerySet":
        return self.filter(state=ReportingPeriod.State.OPEN)


class ReportingPeriod(models.Model):
    class Kind(models.TextChoices):
        T1 = "T1", _("Tertial report 1 (through 30 April)")
        T2 = "T2", _("Tertial report 2 (through 31 August)")
        VB = "VB", _("Annual report (Verksamhetsberättelse)")

    class State(models.TextChoices):
        PLANNED = "planned", _("Planned")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    year = models.PositiveSmallIntegerField(_("year"))
    kind = models.CharField(_("period"), max_length=2, choices=Kind.choices)
    revision = models.ForeignKey(
        Revision,
        verbose_name=_("revision followed up"),
        on_delete=models.PROTECT,
        related_name="reporting_periods",
    )
    opens_on = models.DateField(_("opens on"))
    deadline = models.DateField(_("deadline"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PLANNED
    )
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    history = HistoricalRecords()
    objects = ReportingPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        ordering = ["-year", "-kind"]
        permissions = [
            ("manage_periods", _("Can open and close periods and reopen reports")),
            ("view_followup", _("Can view the follow-up of all organisations")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "kind"],
                name="reportingperiod_unique_year_kind",
                violation_error_message=_("There is already such a period for this year."),
            ),
            models.CheckConstraint(
                condition=Q(opens_on__lte=F("deadline")),
                name="reportingperiod_opens_before_deadline",
                violation_error_message=_("The period must open on or before its deadline."),
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["T1", "T2", "VB"]), name="reportingperiod_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["planned", "open", "closed"]),
                name="reportingperiod_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}-{self.kind}"

    def save(self, *args, **kwargs) -> None:
        # A closed period, and a move of the state other than planned → open →
        # closed, are refused by the database (followup/locks.py); say why.
        with lock_errors_readable():
            super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with lock_errors_readable():
            return super().delete(*args, **kwargs)

    @property
    def label(self) -> str:
        return f"{self.get_kind_display()} {self.year}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.OPEN

    @property
    def is_closed(self) -> bool:
        return self.state == self.State.CLOSED

    def sort_key(self) -> tuple[int, int]:
        return (self.year, ["T1", "T2", "VB"].index(self.kind))


class StatusReportQuerySet(models.QuerySet["StatusReport"]):
    def for_organisations(self, organisations) -> "StatusReportQuerySet":
        return self.filter(organisation__in=organisations)

    def submitted(self) -> "StatusReportQuerySet":
        return self.filter(state=StatusReport.State.SUBMITTED)


class StatusReport(VersionedModel):
    """One organisation's report on one action for one period.

    Created as an empty obligation when the period opens; the reporter saves
    it as a draft and submits it. The ``lineage_id`` of the action links the
    reports on the same action across periods and revisions.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    period = models.ForeignKey(
        ReportingPeriod, verbose_name=_("period"), on_delete=models.CASCADE, related_name="reports"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="status_reports",
    )
    next_step = models.ForeignKey(
        NextStep,
        verbose_name=_("next step"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status_reports",
    )
    city_action = models.ForeignKey(
        CityAction,
        verbose_name=_("city action"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="status_reports",
    )
    lineage_id = models.UUIDField(_("lineage id of the action"), db_index=True)
    status = models.ForeignKey(
        Status,
        verbose_name=_("status"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reports",
    )
    comment = models.TextField(_("comment"), blank=True, **limited_text(limits.REPORT_COMMENT))
    planned_next_action = models.TextField(
        _("planned next action"), blank=True, **limited_text(limits.PLANNED_NEXT_ACTION)
    )
    expected_completion = models.CharField(
        _("expected completion"),
        max_length=100,
        blank=True,
        help_text=_("E.g. a date, a month or a tertial."),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    reopened = models.BooleanField(
        _("reopened"),
        default=False,
        help_text=_("Reopened by an editor after the period closed; locked again on submission."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()
    objects = StatusReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("status report")
        verbose_name_plural = _("status reports")
        ordering = ["period", "organisation", "pk"]
        permissions = [
            ("report_status", _("Can report status for their own organisations")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(next_step__isnull=False) & Q(city_action__isnull=True))
                | (Q(next_step__isnull=True) & Q(city_action__isnull=False)),
                name="statusreport_one_action",
            ),
            models.UniqueConstraint(
                fields=["period", "organisation", "next_step"],
                condition=Q(next_step__isnull=False),
                name="statusreport_unique_next_step",
            ),
            models.UniqueConstraint(
                fields=["period", "organisation", "city_action"],
                condition=Q(city_action__isnull=False),
                name="statusreport_unique_city_action",
            ),
            models.CheckConstraint(
                condition=Q(state="draft")
                | (Q(status__isnull=False) & Q(submitted_at__isnull=False)),
                name="statusreport_submitted_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["draft", "submitted"]), name="statusreport_state_valid"
            ),
            max_length_constraint("statusreport", "comment", limits.REPORT_COMMENT),
            max_length_constraint(
                "statusreport", "planned_next_action", limits.PLANNED_NEXT_ACTION
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} · {self.organisation} · {self.action}"

    @property
    def action(self) -> NextStep | CityAction:
        return self.next_step if self.next_step_id else self.city_action

    @property
    def is_submitted(self) -> bool:
        return self.state == self.State.SUBMITTED

    def save(self, *args, **kwargs) -> None:
        if self.period_id is not None:
            state = ReportingPeriod.objects.values_list("state", flat=True).get(pk=self.period_id)
            if state == ReportingPeriod.State.CLOSED and not self._editable_after_close():
                raise PeriodClosedError()
        self._bump_version()
        # The check above gives the message first; the database's triggers
        # (followup/locks.py) refuse whatever slips past it.
        with lock_errors_readable():
            super().save(*args, **kwargs)

    def _editable_after_close(self) -> bool:
        # A report reopened by an editor may be saved until it is submitted
        # again; the save that submits it also clears the flag.
        if self.pk is None:
            return False
        return StatusReport._base_manager.filter(pk=self.pk, reopened=True).exists()


class StatusReportReopening(models.Model):
    """An editor reopened one report of a closed period, with a reason."""

    report = models.ForeignKey(
        StatusReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="reopenings"
    )
    reason = models.TextField(_("reason"), **limited_text(limits.REOPEN_REASON))
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reopened by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    reopened_at = models.DateTimeField(_("reopened"), auto_now_add=True)

    class Meta:
        verbose_name = _("reopened report")
        verbose_name_plural = _("reopened reports")
        ordering = ["-reopened_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reason=""), name="statusreportreopening_has_reason"
            ),
            max_length_constraint("statusreportreopening", "reason", limits.REOPEN_REASON),
        ]

    def __str__(self) -> str:
        return f"{self.report} ({self.reopened_at:%Y-%m-%d})"


class ReminderLog(models.Model):
    """At most one reminder per person and day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE
    )
    sent_on = models.DateField(_("sent on"))
    period = models.ForeignKey(ReportingPeriod, verbose_name=_("period"), on_delete=models.CASCADE)
    open_reports = models.PositiveIntegerField(_("unsubmitted reports"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        constraints = [
            models.UniqueConstraint(fields=["user", "sent_on"], name="reminderlog_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.sent_on}"


def report_upload_to(instance: "ReportJob", filename: str) -> str:
    """A unique name per file: reports/<year>/<month>/<uuid>-<name>.pdf."""
    from django.utils import timezone

    return f"reports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}-{filename}"


class ReportJob(models.Model):
    """One request for a PDF report, and its rendering by a Celery worker.

    queued → running → done or failed. The file is stored only once it is a
    complete PDF, and the job is marked done only after that; a job that is
    still running after the task's hard time limit, or whose worker stopped
    sending its heartbeat, is marked failed by ``report_jobs_expire``.
    """

    class Kind(models.TextChoices):
        ANNUAL = "annual", _("Annual follow-up report")
        PERIOD = "period", _("Period report for one organisation")
        CITYWIDE = "citywide", _("Citywide period report")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind of report"), max_length=10, choices=Kind.choices)
    parameters = models.JSONField(_("parameters"), default=dict)
    title = models.CharField(_("title"), max_length=300)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="report_jobs",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    force = models.BooleanField(
        _("new rendering requested"),
        default=False,
        help_text=_("Render anew even if an identical report from the same data exists."),
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.CharField(_("progress"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)
    file = models.FileField(_("file"), upload_to=report_upload_to, blank=True, max_length=300)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"), null=True, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    input_checksum = models.CharField(
        _("checksum of the input data"), max_length=64, blank=True, db_index=True
    )
    reused_from = models.ForeignKey(
        "self",
        verbose_name=_("file reused from"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # While a job renders, its task writes the time here every
    # REPORT_HEARTBEAT_INTERVAL seconds (report_job_run); a running job whose
    # heartbeat is older than REPORT_HEARTBEAT_TIMEOUT lost its worker.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("report job")
        verbose_name_plural = _("report jobs")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("request_reports", _("Can request PDF reports of every kind")),
            ("request_annual_report", _("Can request the annual follow-up report")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["annual", "period", "citywide"]),
                name="reportjob_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed"]),
                name="reportjob_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(state="done") | (~Q(file="") & Q(input_checksum__length=64)),
                name="reportjob_done_has_file",
            ),
            models.CheckConstraint(
                condition=~Q(state="failed") | ~Q(error=""),
                name="reportjob_failed_has_error",
            ),
            models.CheckConstraint(
                condition=~Q(kind="period") | Q(organisation__isnull=False),
                name="reportjob_period_has_organisation",
            ),
        ]
        indexes = [models.Index(fields=["kind", "state"], name="reportjob_kind_state")]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def is_done(self) -> bool:
        return self.state == self.State.DONE

    def download_name(self) -> str:
        """The file name a user downloads, e.g. arsuppfoljning-2022.pdf or
        periodrapport-2022-t1-bromma.pdf."""
        from django.utils.text import slugify
        from django.utils.translation import gettext

        names = {
            self.Kind.ANNUAL: gettext("annual follow-up"),
            self.Kind.PERIOD: gettext("period report"),
            self.Kind.CITYWIDE: gettext("citywide period report"),
        }
        parts = [names[self.kind], *(str(v) for v in self.parameters.values())]
        return f"{slugify(' '.join(parts)) or 'report'}.pdf"
