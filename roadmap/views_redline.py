"""The redline (jämförelse) of a revision against an earlier one: a page and a CSV."""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from fardplan.exports import csv_response

from .models import LOCKED_STATUSES, Revision
from .redline import REDLINE_CSV_COLUMNS, revision_compare

# ?mot=<year>: the revision to compare against ("jämför mot").
OLD_PARAM = "mot"


def _may_see(request: HttpRequest, revision: Revision) -> bool:
    """Approved and superseded revisions are for everyone with read access;
    drafts and revisions in review only for those who work on them."""
    return revision.status in LOCKED_STATUSES or request.user.has_perm("roadmap.change_revision")


def _revisions(request: HttpRequest, year: int) -> tuple[Revision, Revision | None]:
    """The revision of ``year`` and the one to compare it against: ``?mot=<year>``,
    else the revision it is based on (None if there is none). 404 for an
    unknown year or one the user may not see."""
    new = get_object_or_404(Revision.objects.select_related("based_on"), year=year)
    if not _may_see(request, new):
        raise Http404
    old_year = request.GET.get(OLD_PARAM, "").strip()
    if old_year:
        try:
            old = get_object_or_404(Revision, year=int(old_year))
        except ValueError:
            raise Http404 from None
    else:
        old = new.based_on
    if old is not None and not _may_see(request, old):
        raise Http404
    return new, old


def _other_revisions(request: HttpRequest, new: Revision) -> list[Revision]:
    """The revisions the user may compare ``new`` against, newest first."""
    revisions = Revision.objects.exclude(pk=new.pk).order_by("-year")
    if not request.user.has_perm("roadmap.change_revision"):
        revisions = revisions.filter(status__in=LOCKED_STATUSES)
    return list(revisions)


@require_safe
@login_required
@permission_required("roadmap.view_revision", raise_exception=True)
def redline_view(request: HttpRequest, year: int) -> HttpResponse:
    new, old = _revisions(request, year)
    redline = revision_compare(old=old, new=new) if old is not None else None
    csv_url = None
    if old is not None:
        csv_url = f"{reverse('roadmap:redline_csv', args=[new.year])}?{OLD_PARAM}={old.year}"
    return render(
        request,
        "roadmap/redline.html",
        {
            "new": new,
            "old": old,
            "redline": redline,
            "csv_url": csv_url,
            "other_revisions": _other_revisions(request, new),
            "old_param": OLD_PARAM,
        },
    )


@require_safe
@login_required
@permission_required("roadmap.view_revision", raise_exception=True)
def redline_csv_view(request: HttpRequest, year: int) -> HttpResponse:
    new, old = _revisions(request, year)
    if old is None:
        raise Http404
    redline = revision_compare(old=old, new=new)
    filename = f"jamforelse-{old.year}-{new.year}.csv"
    return csv_response(filename, REDLINE_CSV_COLUMNS, redline.rows())
