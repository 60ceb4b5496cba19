"""The roadmap pages: the roadmap in force, the revisions and their lifecycle.

The lifecycle views are thin: they check who may see the revision, validate
the form and call the service (``roadmap.services``), which checks the
permission again, validates the transition and records the event. A refused
request changes nothing and says why, in an error summary at the top of the
page and next to the field.

Who may see what: approved and superseded revisions are for everyone with
``roadmap.view_revision``; drafts and revisions in review only for those who
work on them (``roadmap.change_revision``: editors and approvers). To everyone
else they do not exist (404).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from fardplan.forms import add_service_errors

from .forms import ApproveForm, ReturnForm, StartRevisionForm, SubmitForm
from .models import LOCKED_STATUSES, Revision
from .selectors import next_steps_overdue, revision_current, revision_tree
from .services import revision_approve, revision_return, revision_start, revision_submit

VIEW = "roadmap.view_revision"
SEE_UNPUBLISHED = "roadmap.change_revision"
EDIT_CONTENT = "roadmap.change_focusarea"
START = "roadmap.start_revision"
SUBMIT = "roadmap.submit_revision"
APPROVE = "roadmap.approve_revision"

OPEN_STATUSES = (Revision.Status.DRAFT, Revision.Status.IN_REVIEW)

# The submit and return forms share a page and a field name ("comment"):
# their own id prefixes keep the ids, labels and error links apart.
SUBMIT_AUTO_ID = "id_submit_%s"
RETURN_AUTO_ID = "id_return_%s"


# --- Helpers -----------------------------------------------------------------------


def _visible_revisions(user) -> QuerySet[Revision]:
    revisions = Revision.objects.select_related("decision_body", "based_on")
    if not user.has_perm(SEE_UNPUBLISHED):
        revisions = revisions.filter(status__in=LOCKED_STATUSES)
    return revisions


def _get_revision(request: HttpRequest, year: int) -> Revision:
    """The revision of ``year``, or 404 if there is none the user may see."""
    return get_object_or_404(_visible_revisions(request.user), year=year)


def _require(request: HttpRequest, perm: str) -> None:
    """Refuse before any form is validated, so that a user who may not act
    gets 403 whatever they post. The service checks the permission again."""
    if not request.user.has_perm(perm):
        raise PermissionDenied


# --- The roadmap in force and one revision -----------------------------------------


def _render_revision(
    request: HttpRequest,
    revision: Revision,
    *,
    submit_form: SubmitForm | None = None,
    return_form: ReturnForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    in_review = revision.status == Revision.Status.IN_REVIEW
    may_submit = revision.is_draft and user.has_perm(SUBMIT)
    may_review = in_review and user.has_perm(APPROVE)
    # A form that comes back with errors is shown again, with the user's input,
    # even when the step has become impossible in the meantime.
    if submit_form is None and may_submit:
        submit_form = SubmitForm(auto_id=SUBMIT_AUTO_ID)
    if return_form is None and may_review:
        return_form = ReturnForm(auto_id=RETURN_AUTO_ID)
    error_forms = [f for f in (submit_form, return_form) if f is not None and f.errors]
    context = {
        "revision": revision,
        "focus_areas": revision_tree(revision=revision),
        "events": list(revision.events.all()),
        "submit_form": submit_form,
        "return_form": return_form,
        "may_approve": may_review,
        "may_edit_content": (
            revision.is_draft and user.has_perm(SEE_UNPUBLISHED) and user.has_perm(EDIT_CONTENT)
        ),
        "error_forms": error_forms,
    }
    return render(request, "roadmap/revision_detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def revision_current_view(request: HttpRequest) -> HttpResponse:
    revision = revision_current()
    if revision is None:
        return render(request, "roadmap/no_revision.html", status=404)
    return _render_revision(request, revision)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def revision_detail_view(request: HttpRequest, year: int) -> HttpResponse:
    return _render_revision(request, _get_revision(request, year))


# --- The list of revisions and starting a new one ----------------------------------


def _render_list(
    request: HttpRequest, *, start_form: StartRevisionForm | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    revisions = list(_visible_revisions(user).order_by("-year"))
    open_revision = None
    if user.has_perm(START):
        open_revision = Revision.objects.filter(status__in=OPEN_STATUSES).order_by("-year").first()
        base = Revision.objects.current()
        if start_form is None and open_revision is None and base is not None:
            start_form = StartRevisionForm(base=base)
    context = {
        "revisions": revisions,
        "open_revision": open_revision,
        "start_form": start_form,
        "error_forms": [start_form] if start_form is not None and start_form.errors else [],
    }
    return render(request, "roadmap/revision_list.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def revision_list_view(request: HttpRequest) -> HttpResponse:
    return _render_list(request)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def revision_start_view(request: HttpRequest) -> HttpResponse:
    _require(request, START)
    form = StartRevisionForm(request.POST)
    if form.is_valid():
        try:
            draft = revision_start(
                actor=request.user,
                year=form.cleaned_data["year"],
                title=form.cleaned_data["title"].strip() or None,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                gettext("The draft %(revision)s was started as a copy of %(base)s.")
                % {"revision": draft, "base": draft.based_on},
            )
            return redirect("roadmap:detail", year=draft.year)
    return _render_list(request, start_form=form, status=400)


# --- Submit, return, approve ---------------------------------------------------------


def _transition_view(
    request: HttpRequest,
    year: int,
    *,
    perm: str,
    form_class,
    auto_id: str,
    form_key: str,
    service,
    done: str,
) -> HttpResponse:
    """Submit or return: check, validate the comment form, call the service;
    on refusal re-render the revision page with the errors and the input."""
    revision = _get_revision(request, year)
    _require(request, perm)
    form = form_class(request.POST, auto_id=auto_id)
    if form.is_valid():
        try:
            revision = service(
                revision=revision, actor=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done % {"revision": revision})
            return redirect("roadmap:detail", year=revision.year)
    return _render_revision(request, revision, status=400, **{form_key: form})


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def revision_submit_view(request: HttpRequest, year: int) -> HttpResponse:
    return _transition_view(
        request,
        year,
        perm=SUBMIT,
        form_class=SubmitForm,
        auto_id=SUBMIT_AUTO_ID,
        form_key="submit_form",
        service=revision_submit,
        done=gettext("%(revision)s was submitted for review."),
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def revision_return_view(request: HttpRequest, year: int) -> HttpResponse:
    return _transition_view(
        request,
        year,
        perm=APPROVE,
        form_class=ReturnForm,
        auto_id=RETURN_AUTO_ID,
        form_key="return_form",
        service=revision_return,
        done=gettext("%(revision)s was returned to draft."),
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def revision_approve_view(request: HttpRequest, year: int) -> HttpResponse:
    revision = _get_revision(request, year)
    _require(request, APPROVE)
    status = 200
    if request.method == "POST":
        form = ApproveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                revision = revision_approve(
                    revision=revision,
                    actor=request.user,
                    decision_body=data["decision_body"],
                    decision_date=data["decision_date"],
                    case_number=data["case_number"],
                    decision_paragraph=data["decision_paragraph"],
                    comment=data["comment"],
                    title=data["title"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    gettext("%(revision)s was approved and is now the roadmap in force.")
                    % {"revision": revision},
                )
                return redirect("roadmap:detail", year=revision.year)
        status = 400
    elif revision.status == Revision.Status.IN_REVIEW:
        form = ApproveForm(initial={"title": revision.title})
    else:
        form = None
    context = {
        "revision": revision,
        "form": form,
        "in_force": revision_current() if form is not None else None,
        "error_forms": [form] if form is not None and form.errors else [],
    }
    return render(request, "roadmap/revision_approve.html", context, status=status)


# --- Overdue next steps -------------------------------------------------------------


class OverdueYearForm(forms.Form):
    """The year as of which steps count as overdue (``?ar=2025``)."""

    ar = forms.IntegerField(
        label=_("Overdue as of year"),
        min_value=2000,
        max_value=2100,
        required=False,
        help_text=_("Steps whose due year is before this year are shown."),
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def revision_overdue_view(request: HttpRequest, year: int) -> HttpResponse:
    revision = _get_revision(request, year)
    this_year = timezone.localdate().year
    form = OverdueYearForm(request.GET or None, initial={"ar": this_year})
    status = 200
    as_of_year = this_year
    steps = None
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        if form.is_bound and form.cleaned_data["ar"] is not None:
            as_of_year = form.cleaned_data["ar"]
        steps = next_steps_overdue(revision=revision, as_of_year=as_of_year)
    context = {
        "revision": revision,
        "form": form,
        "as_of_year": as_of_year,
        "steps": steps,
        "error_forms": [form] if form.is_bound and form.errors else [],
    }
    return render(request, "roadmap/revision_overdue.html", context, status=status)
