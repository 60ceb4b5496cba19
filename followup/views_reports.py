"""PDF reports, "Rapporter": request a report, follow its rendering, download it.

Who may do what:

* Everyone who reads the follow-up (``followup.view_followup``: editors,
  approvers, readers) sees and downloads every report job.
* Editors (``followup.request_reports``) request every kind of report.
* Approvers and readers (``followup.request_annual_report``) request the annual
  follow-up report, and nothing else; they cannot have it rendered anew from
  unchanged data, so asking again returns the request still being made, or
  reuses the file of the same data.
* A reporter (``followup.report_status``) sees, requests and downloads only the
  period reports of their own organisations.
* A logged-in user with none of these gets 403; an anonymous one the login page.

A job the user may not see is "not found" (404), not "forbidden" (403): a
reporter who tries the id of another organisation's job, or of an annual or
citywide report, learns nothing about whether it exists.

The request form is only a way to enter the values: what they mean is checked
by ``report_request_clean`` and who may ask for it by ``report_may_request``,
the same checks the ``ils_report`` command and the task make. An invalid request
comes back (400) with the errors beside the fields, in a summary at the top, and
the user's entries kept; a request the user may not make is refused (403),
says why and creates nothing. A valid one creates the job (or finds an identical
one that is still pending) and redirects to the job's page, which follows the rendering
without a reload (``static/js/report_jobs.js`` polls ``status.json``) and has a
plain "Update" link for browsers without JavaScript.

No job shows as running forever: a job no worker will finish (its heartbeat
stopped, it ran past the task's time limit, or it was queued past
``REPORT_QUEUE_TIMEOUT``) is shown as failed, with the reason, by
``report_job_as_shown``. The job page, its ``status.json`` and the file never
write to the database; the periodic task ``expire_report_jobs`` (Celery beat,
every ``REPORT_EXPIRY_INTERVAL`` seconds) marks such jobs failed in the
database. No page writes on GET.

The page opens with the latest annual follow-up report (``annual_report_panel``):
the newest finished one of the latest year, to download, or a sentence that
there is none yet; and, for those who may, a button to request a fresh one.
Closing a year's annual period queues that report by itself (``period_close``).

Queries: the list page runs a fixed number of queries, however many jobs there
are (the jobs with their requester and organisation in one query; whether a
done job's file is whole is read from the file system).
"""

from dataclasses import dataclass
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from fardplan.forms import add_service_errors
from roadmap.models import Organisation

from .models import ReportingPeriod, ReportJob
from .reports.params import ReportRequest, report_request_clean
from .selectors import annual_report_panel, organisations_reporting, report_jobs_visible_to
from .services import (
    report_file_intact,
    report_job_as_shown,
    report_job_request,
    report_may_force,
    report_may_request,
)

VIEW = "followup.view_followup"
REPORT = "followup.report_status"
REQUEST = "followup.request_reports"
REQUEST_ANNUAL = "followup.request_annual_report"

# The list shows this many of the latest jobs the user may see.
LIST_LIMIT = 50

# How the job page shows a time (the JSON gives the same text to the script):
# "10 maj 2022 kl. 14.30" (fardplan/formats/sv/formats.py).
TIME_FORMAT = "DATETIME_FORMAT"


# --- Who may do what --------------------------------------------------------------------


def _may_see_reports(user) -> bool:
    return user.has_perm(VIEW) or user.has_perm(REPORT)


def _kinds_for(user) -> list[tuple[str, str]]:
    """The kinds of report the user may request: every kind for editors, the
    annual report for approvers and readers, the period report for reporters,
    none for everyone else."""
    if user.has_perm(REQUEST):
        return list(ReportJob.Kind.choices)
    kinds = []
    if user.has_perm(REQUEST_ANNUAL):
        kinds.append((ReportJob.Kind.ANNUAL, ReportJob.Kind.ANNUAL.label))
    if user.has_perm(REPORT):
        kinds.append((ReportJob.Kind.PERIOD, ReportJob.Kind.PERIOD.label))
    return kinds


def _may_force_any(user) -> bool:
    """Whether the user may have some report rendered anew (``report_may_force``):
    editors, and reporters their own period reports."""
    return user.has_perm(REQUEST) or user.has_perm(REPORT)


def _refusal(kinds: list[str]) -> str:
    """Why a request of another kind is refused, naming what the user may ask for."""
    if kinds == [ReportJob.Kind.ANNUAL]:
        return gettext("You may request the annual follow-up report only.")
    if kinds == [ReportJob.Kind.PERIOD]:
        return gettext("You may request the period report of your own organisation only.")
    return gettext("You may not request this kind of report.")


def reports_access_required(view):
    """403 for a logged-in user who neither reads the follow-up nor reports.
    Put it inside ``login_required``, outside the method check."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _may_see_reports(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _visible_job(request: HttpRequest, pk: int) -> ReportJob:
    """The job if the user may see it, as it is to be shown (a job no worker
    will finish as failed); 404 otherwise, also if it exists."""
    jobs = report_jobs_visible_to(request.user).select_related("reused_from")
    return report_job_as_shown(get_object_or_404(jobs, pk=pk))


def _download_url(job: ReportJob) -> str:
    """The download link, only for a done job whose file is whole."""
    if job.is_done and report_file_intact(job):
        return reverse("followup:report_job_file", args=[job.pk])
    return ""


# --- The request form -------------------------------------------------------------------


class ReportRequestForm(forms.Form):
    """The values of a report request, as entered. The selects only offer
    choices: the values are checked by ``report_request_clean``, so the errors
    are the same as the command's, and an entry that is not among the choices is
    kept (and shown) for the user to correct."""

    kind = forms.CharField(label=_("Kind of report"), required=False, widget=forms.RadioSelect)
    year = forms.CharField(
        label=_("Year"),
        required=False,
        widget=forms.Select,
        help_text=_("For the annual follow-up report."),
    )
    period = forms.CharField(
        label=_("Reporting period"),
        required=False,
        widget=forms.Select,
        help_text=_("For the period reports, citywide or of one organisation."),
    )
    organisation = forms.CharField(
        label=_("Organisation"),
        required=False,
        widget=forms.Select,
        help_text=_("For the period report of one organisation."),
    )
    force = forms.BooleanField(
        label=_("Render anew even if the data has not changed"),
        required=False,
        help_text=_(
            "Otherwise a report of the same data as an earlier one reuses that "
            "report's file, which is quicker."
        ),
    )

    def __init__(
        self,
        *args,
        kinds: list[tuple[str, str]],
        periods: list[ReportingPeriod],
        organisations: list[Organisation],
        may_force: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not may_force:
            # Readers: a request of unchanged data reuses the earlier file.
            del self.fields["force"]
        values = {value for value, _label in kinds}
        # What the template shows: the year for the annual report, the period
        # for the period reports, the organisation for one organisation's.
        self.asks_year = ReportJob.Kind.ANNUAL in values
        self.asks_period = bool(values & {ReportJob.Kind.PERIOD, ReportJob.Kind.CITYWIDE})
        self.asks_organisation = ReportJob.Kind.PERIOD in values
        years = sorted({p.year for p in periods}, reverse=True)
        self._set_choices("kind", kinds)
        self._set_choices("year", [("", _("Choose a year")), *[(str(y), y) for y in years]])
        self._set_choices(
            "period",
            [("", _("Choose a period")), *[(str(p), f"{p.label} ({p})") for p in periods]],
        )
        self._set_choices(
            "organisation",
            [("", _("Choose an organisation")), *[(o.code, o.name) for o in organisations]],
        )
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0][0]
        if len(organisations) == 1:
            self.fields["organisation"].initial = organisations[0].code

    def _set_choices(self, name: str, choices: list[tuple[str, object]]) -> None:
        """The choices to show; a submitted value that is not one of them is
        added, so that the user sees what they sent."""
        if self.is_bound and name != "kind":
            value = self.data.get(self.add_prefix(name), "")
            if value and value not in {str(v) for v, _label in choices}:
                choices = [*choices, (value, value)]
        self.fields[name].widget.choices = choices


def _request_form(user, data=None) -> ReportRequestForm | None:
    """The request form for the user; None if they may not request reports."""
    kinds = _kinds_for(user)
    if not kinds:
        return None
    if user.has_perm(REQUEST):
        # Only organisations that report: never an outside body such as
        # Socialstyrelsen, which has no period report to request.
        organisations = list(organisations_reporting().order_by("name"))
    else:
        organisations = list(user.organisations.order_by("name"))
    periods = list(ReportingPeriod.objects.exclude(state=ReportingPeriod.State.PLANNED))
    return ReportRequestForm(
        data,
        kinds=kinds,
        periods=periods,
        organisations=organisations,
        may_force=_may_force_any(user),
    )


def _error_summary(form: ReportRequestForm | None) -> list[dict[str, str]]:
    """The items of the error summary, each linking to its field (the first
    radio button for the kind)."""
    if form is None or not form.is_bound:
        return []
    items = []
    for field in form:
        target = f"{field.auto_id}_0" if field.name == "kind" else field.id_for_label
        for error in field.errors:
            items.append({"href": f"#{target}", "field": field.label, "error": error})
    return items


# --- The list and the request -----------------------------------------------------------


@dataclass
class JobRow:
    job: ReportJob
    download_url: str


def _render_list(
    request: HttpRequest, form: ReportRequestForm | None, *, status: int = 200
) -> HttpResponse:
    now = timezone.now()
    jobs = [
        report_job_as_shown(job, now=now)
        for job in report_jobs_visible_to(request.user)[: LIST_LIMIT + 1]
    ]
    error_summary = _error_summary(form)
    page_errors = list(form.non_field_errors()) if form is not None and form.is_bound else []
    user = request.user
    annual = annual_report_panel()
    if annual.pending is not None:
        annual.pending = report_job_as_shown(annual.pending, now=now)
        if annual.pending.is_finished:
            annual.pending = None  # no worker will finish it: a new request may be made
    may_request_annual = annual.year is not None and report_may_request(
        user, ReportRequest(kind=ReportJob.Kind.ANNUAL, year=annual.year)
    )
    context = {
        "annual": annual,
        "annual_download_url": _download_url(annual.latest) if annual.latest else "",
        "may_request_annual": may_request_annual,
        "form": form,
        "rows": [JobRow(job, _download_url(job)) for job in jobs[:LIST_LIMIT]],
        "more_jobs": len(jobs) > LIST_LIMIT,
        "list_limit": LIST_LIMIT,
        "error_summary": error_summary,
        "page_errors": page_errors,
        "has_errors": bool(error_summary or page_errors),
        "is_reporter_only": form is not None
        and _kinds_for(user) == [(ReportJob.Kind.PERIOD, ReportJob.Kind.PERIOD.label)],
    }
    return render(request, "followup/reports.html", context, status=status)


@login_required
@reports_access_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_list_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _report_request(request)
    return _render_list(request, _request_form(request.user))


def _report_request(request: HttpRequest) -> HttpResponse:
    user = request.user
    kinds = [value for value, _label in _kinds_for(user)]
    if not kinds:
        raise PermissionDenied(gettext("You can read and download the reports, not request them."))
    form = _request_form(user, request.POST)
    if not form.is_valid():
        return _render_list(request, form, status=400)
    values = form.cleaned_data
    if values["kind"] in ReportJob.Kind.values and values["kind"] not in kinds:
        # E.g. a reporter asking for an annual or citywide report, or a
        # reader for a period report.
        raise PermissionDenied(_refusal(kinds))
    try:
        wanted = report_request_clean(
            kind=values["kind"],
            year=values["year"],
            period=values["period"],
            organisation=values["organisation"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _render_list(request, form, status=400)
    if not report_may_request(user, wanted):
        # E.g. another organisation's period report.
        raise PermissionDenied(gettext("You may not request this report."))
    force = values.get("force", False) and report_may_force(user, wanted)
    requested_at = timezone.now()
    job = report_job_request(request=wanted, actor=user, force=force)
    if job.created_at < requested_at:
        if "force" in form.fields:
            text = gettext(
                "The same report was already waiting to be made: this is that request. "
                "Tick “Render anew” to request another one."
            )
        else:
            text = gettext("The same report was already waiting to be made: this is that request.")
        messages.info(request, text)
    return redirect("followup:report_job", pk=job.pk)


# --- One job: its page, its status and its file ------------------------------------------


def _job_status(job: ReportJob) -> dict[str, object]:
    """What the job page shows of the job, as the script updates it."""
    url = _download_url(job)
    return {
        "state": job.state,
        "state_label": job.get_state_display(),
        "progress": job.progress,
        "error": job.error,
        "download_url": url or None,
        "is_finished": job.is_finished,
        "page_count": job.page_count,
        "started": _when(job.started_at),
        "finished": _when(job.finished_at),
    }


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), TIME_FORMAT) if moment else ""


@login_required
@reports_access_required
@require_safe
def report_job_view(request: HttpRequest, pk: int) -> HttpResponse:
    job = _visible_job(request, pk)
    return render(
        request,
        "followup/report_job.html",
        {
            "job": job,
            "download_url": _download_url(job),
            "time_format": TIME_FORMAT,
        },
    )


@login_required
@reports_access_required
@require_safe
@never_cache
def report_job_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(_job_status(_visible_job(request, pk)))


@login_required
@reports_access_required
@require_safe
@never_cache
def report_job_file_view(request: HttpRequest, pk: int) -> FileResponse:
    job = _visible_job(request, pk)
    if not (job.is_done and report_file_intact(job)):
        raise Http404
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.download_name(),
        content_type="application/pdf",
    )
