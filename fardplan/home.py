"""Where each person's day starts.

``home_view`` (the ``LOGIN_REDIRECT_URL``) sends each person to their work:

* a reporter to "Mina rapporter";
* an approver with a revision in review to it (to the list if several wait);
* an editor to the work overview: the open periods and the open revisions;
* an approver with nothing waiting to the list of revisions;
* everyone else (a reader) to the roadmap in force.

Someone with several roles gets the most specific work, in that order. The
login page's ``?next=`` wins over all of this: Django's LoginView follows it
and only falls back on ``LOGIN_REDIRECT_URL`` without one.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from followup.models import ReportingPeriod, StatusReport
from roadmap.models import Revision

REPORT = "followup.report_status"
APPROVE = "roadmap.approve_revision"
# Editors start revisions and manage the periods; either makes the overview theirs.
EDIT = ("roadmap.start_revision", "followup.manage_periods")
# The overview shows unpublished revisions and the follow-up.
OVERVIEW = ("roadmap.change_revision", "followup.view_followup")

OPEN_REVISION_STATUSES = (Revision.Status.DRAFT, Revision.Status.IN_REVIEW)


def is_reporter(user) -> bool:
    # A superuser has every permission but reports for nobody.
    return user.has_perm(REPORT) and not user.is_superuser


def is_approver(user) -> bool:
    return user.has_perm(APPROVE)


def is_editor(user) -> bool:
    return any(user.has_perm(perm) for perm in EDIT)


def shows_overview(user) -> bool:
    """The work overview is the editors' start page."""
    return is_editor(user) and all(user.has_perm(perm) for perm in OVERVIEW)


def home_url(user) -> str:
    """The URL of the user's work (see the module docstring)."""
    if is_reporter(user):
        return reverse("followup:my_reports")
    approver = is_approver(user)
    if approver:
        waiting = list(
            Revision.objects.filter(status=Revision.Status.IN_REVIEW)
            .order_by("-year")
            .values_list("year", flat=True)[:2]
        )
        if len(waiting) == 1:
            return reverse("roadmap:detail", kwargs={"year": waiting[0]})
        if waiting:
            return reverse("roadmap:list")
    if shows_overview(user):
        return reverse("work_overview")
    if approver:
        return reverse("roadmap:list")
    return reverse("roadmap:current")


@login_required
@require_safe
def home_view(request: HttpRequest) -> HttpResponse:
    return redirect(home_url(request.user))


def open_periods_with_completion() -> list[ReportingPeriod]:
    """The open periods, the next deadline first, each with ``reports_total``
    and ``reports_submitted``. One query."""
    return list(
        ReportingPeriod.objects.open()
        .select_related("revision")
        .annotate(
            reports_total=Count("reports"),
            reports_submitted=Count(
                "reports", filter=Q(reports__state=StatusReport.State.SUBMITTED)
            ),
        )
        .order_by("deadline", "year", "kind")
    )


@login_required
@permission_required(OVERVIEW, raise_exception=True)
@require_safe
def work_overview_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    periods = open_periods_with_completion()
    for period in periods:
        period.days_left = (period.deadline - today).days
        period.reports_left = period.reports_total - period.reports_submitted
    revisions = list(Revision.objects.filter(status__in=OPEN_REVISION_STATUSES).order_by("-year"))
    return render(
        request,
        "home/overview.html",
        {"periods": periods, "revisions": revisions, "today": today},
    )
