from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Revision
from .selectors import revision_current, revision_tree


def _render_revision(request: HttpRequest, revision: Revision) -> HttpResponse:
    return render(
        request,
        "roadmap/revision_detail.html",
        {"revision": revision, "focus_areas": revision_tree(revision=revision)},
    )


@login_required
@permission_required("roadmap.view_revision", raise_exception=True)
def revision_current_view(request: HttpRequest) -> HttpResponse:
    revision = revision_current()
    if revision is None:
        return render(request, "roadmap/no_revision.html", status=404)
    return _render_revision(request, revision)


@login_required
@permission_required("roadmap.view_revision", raise_exception=True)
def revision_detail_view(request: HttpRequest, year: int) -> HttpResponse:
    revision = get_object_or_404(Revision.objects.select_related("decision_body"), year=year)
    published = revision.status in (Revision.Status.APPROVED, Revision.Status.SUPERSEDED)
    if not published and not request.user.has_perm("roadmap.change_revision"):
        # Drafts are shown only to those who work on them.
        raise Http404
    return _render_revision(request, revision)


# Placeholders until the lifecycle pages are written.
def revision_list_view(request, *args, **kwargs):  # pragma: no cover
    raise Http404


revision_start_view = revision_submit_view = revision_return_view = revision_list_view
revision_approve_view = revision_overdue_view = revision_list_view
