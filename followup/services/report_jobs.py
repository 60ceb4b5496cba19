"""PDF report jobs: requesting, rendering (the Celery task), expiring."""

import copy
import datetime
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import ReportJob, report_upload_to
from ..reports.data import report_checksum, report_data_build
from ..reports.params import ReportRequest, report_request_for_job
from ..reports.render import BrokenReportError, report_pdf_render
from .status_reports import user_may_report_for

logger = logging.getLogger(__name__)


def report_may_request(user: AbstractBaseUser, request: ReportRequest) -> bool:
    """Editors request every kind of report; those who read the follow-up
    (``followup.request_annual_report``: approvers, readers) the annual
    follow-up report; a reporter the period report of their own organisation
    (to attach in ILS). Nothing else."""
    if not user.is_authenticated:
        return False
    if user.has_perm("followup.request_reports"):
        return True
    if request.kind == ReportJob.Kind.ANNUAL:
        return user.has_perm("followup.request_annual_report")
    return request.kind == ReportJob.Kind.PERIOD and user_may_report_for(user, request.organisation)


def report_may_force(user: AbstractBaseUser, request: ReportRequest) -> bool:
    """Who may have a report rendered anew from unchanged data: editors, and a
    reporter their own period report. Readers may not: their request returns
    the job already waiting for the same report, or reuses the file of the
    same data, so asking again and again costs no rendering."""
    if not report_may_request(user, request):
        return False
    return user.has_perm("followup.request_reports") or request.kind == ReportJob.Kind.PERIOD


def report_job_request(
    *, request: ReportRequest, actor: AbstractBaseUser, force: bool = False
) -> ReportJob:
    """Create the job and queue its rendering once the transaction commits.

    An identical request that is still queued or running is returned instead
    of a second job. ``force`` renders anew even when an earlier file from the
    same data exists."""
    if not report_may_request(actor, request):
        raise PermissionDenied(_("You may not request this report."))
    if force and not report_may_force(actor, request):
        raise PermissionDenied(_("You may not have this report rendered anew."))
    return _job_queue(request=request, actor=actor, force=force)


def report_job_queue_annual(*, year: int, actor: AbstractBaseUser | None) -> ReportJob:
    """Queue the annual follow-up report of ``year``, unless one is already
    queued or running: closing a year's annual period (``period_close``) calls
    this, so that the latest annual report is always there. Not a user's
    request, so no permission is checked; ``actor`` is recorded as the one
    who asked (the editor who closed the period)."""
    return _job_queue(request=ReportRequest(kind=ReportJob.Kind.ANNUAL, year=year), actor=actor)


def _job_queue(
    *, request: ReportRequest, actor: AbstractBaseUser | None, force: bool = False
) -> ReportJob:
    """The pending job for the same report (unless ``force``), or a new one
    whose rendering is queued once the transaction commits. A pending job no
    worker will finish (see ``report_job_expiry_error``) is marked failed here
    rather than returned: it would never bring the file."""
    from ..tasks import render_report

    with transaction.atomic():
        pending = (
            ReportJob.objects.select_for_update()
            .filter(
                kind=request.kind,
                parameters=request.parameters,
                state__in=[ReportJob.State.QUEUED, ReportJob.State.RUNNING],
            )
            .order_by("-created_at", "-pk")
            .first()
        )
        if pending is not None:
            expired = report_job_expiry_error(pending)
            if expired:
                _job_fail(pending, expired)
            elif not force:
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


def _beat(job_id: int) -> None:
    ReportJob.objects.filter(pk=job_id, state=ReportJob.State.RUNNING).update(
        heartbeat_at=timezone.now()
    )


@contextmanager
def _heartbeat(job_id: int) -> Iterator[None]:
    """While the block runs, a background thread writes the time to the job's
    ``heartbeat_at`` every REPORT_HEARTBEAT_INTERVAL seconds, so that a job
    whose worker was killed is seen as lost within REPORT_HEARTBEAT_TIMEOUT
    seconds, not only after the hard time limit.

    Not inside a transaction (a test's, or a caller's atomic block): nobody
    else could see the writes before it commits, and the thread's own
    connection would wait for the row lock the transaction holds."""
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.REPORT_HEARTBEAT_INTERVAL):
                try:
                    _beat(job_id)
                except Exception:
                    logger.exception("Report job %s: the heartbeat could not be written", job_id)
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"report-job-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def report_job_run(*, job_id: int) -> ReportJob | None:
    """Render the job's report and store it (the Celery task calls this).

    Idempotent: a job that has finished is left as it is; the same report from
    the same data (the input checksum) reuses the earlier file unless the job
    asks for a new rendering. Every failure ends in ``failed`` with a readable
    error, and the file is stored whole before the job is marked done. While
    it renders, the job's heartbeat shows that its worker is alive."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.is_finished:
            return job
        now = timezone.now()
        _job_update(
            job,
            state=ReportJob.State.RUNNING,
            started_at=now,
            heartbeat_at=now,
            progress=_("Reading the follow-up data"),
            error="",
        )
    with _heartbeat(job.pk):
        return _render_job(job)


def _render_job(job: ReportJob) -> ReportJob:
    """The work of ``report_job_run`` once the job is marked running."""
    from celery.exceptions import SoftTimeLimitExceeded

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
                % {"date": date_format(timezone.localtime(earlier.finished_at), "DATETIME_FORMAT")},
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


# A job no worker will finish: running without a heartbeat for longer than
# REPORT_HEARTBEAT_TIMEOUT (the worker was killed or restarted mid-render),
# running for longer than the task's hard time limit (the worker was stopped),
# or queued for longer than REPORT_QUEUE_TIMEOUT (no worker took it). One rule
# for showing such a job as failed on read (report_job_as_shown) and for
# marking it failed (report_jobs_expire, which the beat task expire_report_jobs
# runs every REPORT_EXPIRY_INTERVAL seconds).

_RUNNING_GRACE = datetime.timedelta(seconds=60)


def _expiry_cutoffs(
    now: datetime.datetime,
) -> tuple[datetime.datetime, datetime.datetime, datetime.datetime]:
    """Started before the first, last heartbeat before the second, or queued
    before the third: expired."""
    running_before = now - datetime.timedelta(seconds=settings.REPORT_TIME_LIMIT) - _RUNNING_GRACE
    silent_before = now - datetime.timedelta(seconds=settings.REPORT_HEARTBEAT_TIMEOUT)
    queued_before = now - datetime.timedelta(seconds=settings.REPORT_QUEUE_TIMEOUT)
    return running_before, silent_before, queued_before


def _running_too_long_error() -> str:
    return _(
        "The rendering was still running after the time limit of %(seconds)s seconds: "
        "the worker was stopped. Request the report again."
    ) % {"seconds": settings.REPORT_TIME_LIMIT}


def _worker_lost_error() -> str:
    return _(
        "The rendering stopped: the worker making the report stopped responding "
        "(it was stopped or restarted). Nothing was stored. Request the report again."
    )


def _never_taken_error() -> str:
    return _("No worker took the job within %(minutes)s minutes. Request the report again.") % {
        "minutes": settings.REPORT_QUEUE_TIMEOUT // 60
    }


def report_job_expiry_error(job: ReportJob, *, now: datetime.datetime | None = None) -> str:
    """Why no worker will finish the job, or "" if it may still finish."""
    running_before, silent_before, queued_before = _expiry_cutoffs(now or timezone.now())
    if job.state == ReportJob.State.RUNNING and job.started_at is not None:
        if job.started_at < running_before:
            return _running_too_long_error()
        # A job started before heartbeats existed counts from its start.
        if (job.heartbeat_at or job.started_at) < silent_before:
            return _worker_lost_error()
    if job.state == ReportJob.State.QUEUED and job.created_at < queued_before:
        return _never_taken_error()
    return ""


def report_job_as_shown(job: ReportJob, *, now: datetime.datetime | None = None) -> ReportJob:
    """The job as pages show it. A job no worker will finish is shown failed,
    with the error ``report_jobs_expire`` will store, before that task has run.
    Reads only: returns a copy, the row is left as it is."""
    now = now or timezone.now()
    error = report_job_expiry_error(job, now=now)
    if not error:
        return job
    shown = copy.copy(job)
    shown.state = ReportJob.State.FAILED
    shown.error = error
    shown.progress = ""
    shown.finished_at = now
    return shown


def report_jobs_expire(*, now: datetime.datetime | None = None) -> int:
    """Mark failed the jobs no worker will finish (see ``report_job_expiry_error``).
    Returns how many. The periodic task ``expire_report_jobs`` calls this."""
    now = now or timezone.now()
    running_before, silent_before, queued_before = _expiry_cutoffs(now)
    failed = {"state": ReportJob.State.FAILED, "progress": "", "finished_at": now}
    stuck_running = ReportJob.objects.filter(
        state=ReportJob.State.RUNNING, started_at__lt=running_before
    ).update(**failed, error=_running_too_long_error())
    lost = (
        ReportJob.objects.filter(state=ReportJob.State.RUNNING, started_at__isnull=False)
        .alias(last_sign=Coalesce("heartbeat_at", "started_at"))
        .filter(last_sign__lt=silent_before)
        .update(**failed, error=_worker_lost_error())
    )
    if lost:
        logger.warning("%s report job(s) lost their worker and were marked failed", lost)
    never_started = ReportJob.objects.filter(
        state=ReportJob.State.QUEUED, created_at__lt=queued_before
    ).update(**failed, error=_never_taken_error())
    return stuck_running + lost + never_started
