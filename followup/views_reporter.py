"""The reporter page, "Mina rapporter": a reporter reports the status of every
action their organisations are responsible for in a period, on one page.

GET shows the open period (or, with ``?period=<pk>``, another open period or a
closed one, read-only): the deadline, how many reports are done, then every
obligation grouped by focus area and need, each with the previous period's
report beside the form.

POST has three buttons:

* "Save draft" saves every row the user changed. Drafts may still lack a
  status or a comment; a row that is already submitted stays submitted, so a
  change to it is checked and submitted again.
* "Submit" submits every row on the page: rows still in draft, and rows
  the user changed. A row without a status, or without a comment where one is
  needed, stops the submission with an error on that row.
* "Same as last period" (one per row, ``copy-<pk>``) copies the previous
  period's status and comment into that row's form. Nothing is saved.

All or nothing: if any row has an error nothing is saved, and the page comes
back (400) with an error summary, each error beside its field, and everything
the user entered. A POST naming a report that is not one of the user's own in
that period is refused (403) before anything is read from it. A POST to a
closed period is refused (400) with a clear message; only the reports an
editor reopened stay editable there, until they are submitted again.

Concurrent edits: each row carries the version the user loaded. A row someone
else saved since then is a conflict if the user changed it too (the message
shows what the other person saved, and saving again replaces it knowingly).
If only the other person changed it, a draft save leaves their version alone.
The save itself is a compare-and-set (``VersionedModel``), so a race between
this check and the save is caught as well, and rolls everything back.

Which rows are saved, the checks, the conflicts and the transaction are the
service's (``followup.services.reporter.status_report_batch_save``): this view
reads the forms into plain inputs, calls it, and shows its result.

Queries: GET runs a fixed number of queries; a POST costs a fixed number plus
the service's constant cost per saved row. Everything the checks need (rows,
statuses, previous reports) is loaded in bulk once.
"""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_http_methods

from fardplan.forms import add_service_errors

from .forms import REPORT_FIELDS, StatusReportForm
from .models import PeriodClosedError, ReportingPeriod, StatusReport
from .selectors import ReporterPage, period_open_for, reporter_page, statuses_active
from .services import (
    BatchRow,
    RowConflict,
    report_values,
    status_report_batch_save,
    status_report_editable,
)

REPORT = "followup.report_status"
TEMPLATE = "followup/my_reports.html"

ACTION_SUBMIT = "submit"  # the other button, "draft", saves drafts

# POST keys that name a report: the row list, the form fields, the copy buttons.
_ROW_KEY = re.compile(r"^r(\d+)-")
_COPY_KEY = re.compile(r"^copy-(\d+)$")


# --- Reading the request ------------------------------------------------------------


def _chosen_period(request: HttpRequest) -> ReportingPeriod | None:
    """``?period=<pk>`` (an open or closed period), else the open period."""
    raw = request.GET.get("period", "")
    if not raw:
        return period_open_for(request.user)
    if not raw.isdigit():
        raise Http404
    return get_object_or_404(
        ReportingPeriod.objects.exclude(state=ReportingPeriod.State.PLANNED).select_related(
            "revision"
        ),
        pk=int(raw),
    )


def _named_pks(post: QueryDict) -> tuple[list[int], set[int], int | None]:
    """The reports the POST lists (hidden ``report`` inputs), every report it
    names anywhere (field prefixes, copy buttons), and the row to copy into."""
    listed: list[int] = []
    for raw in post.getlist("report"):
        if not raw.isdigit():
            raise PermissionDenied
        listed.append(int(raw))
    named = set(listed)
    copy = None
    for key in post:
        if match := _ROW_KEY.match(key):
            named.add(int(match[1]))
        elif match := _COPY_KEY.match(key):
            copy = int(match[1])
            named.add(copy)
    return listed, named, copy


# --- Building the page --------------------------------------------------------------


def _build_forms(
    page: ReporterPage, statuses, data: QueryDict | None, bound: set[int]
) -> dict[int, StatusReportForm]:
    return {
        report.pk: StatusReportForm(
            data if report.pk in bound else None, report=report, statuses=statuses
        )
        for report in page.reports
        if status_report_editable(report)
    }


def _short(report: StatusReport) -> str:
    return Truncator(report.action.text).chars(70)


# More rows than this without a status become one line in the error summary.
MISSING_STATUS_LISTED = 5


def _missing_status(form: StatusReportForm, field) -> bool:
    """The error is the service's "choose a status before you submit"."""
    return field.name == "status" and not form["status"].data


def _error_summary(page: ReporterPage, forms: dict[int, StatusReportForm]) -> list[dict]:
    """Every error, in the order of the page, each with a link to its field.
    Many rows without a status (a first "Submit") are summed up in one line
    that leads to the first of them; each row still has its own error."""
    items, missing = [], []
    for group in page.groups:
        for need in group.needs:
            for report in need.reports:
                form = forms.get(report.pk)
                if form is None or not form.is_bound or not form.errors:
                    continue
                for error in form.non_field_errors():
                    items.append(
                        {
                            "href": f"#report-{report.pk}",
                            "field": "",
                            "action": _short(report),
                            "error": error,
                        }
                    )
                for field in form:
                    for error in field.errors:
                        item = {
                            "href": f"#{field.id_for_label}",
                            "field": field.label,
                            "action": _short(report),
                            "error": error,
                        }
                        if _missing_status(form, field):
                            missing.append(item)
                        items.append(item)
    if len(missing) > MISSING_STATUS_LISTED:
        summed_up = {id(item) for item in missing}
        items = [item for item in items if id(item) not in summed_up]
        count = len(missing)
        items.insert(
            0,
            {
                "href": missing[0]["href"],
                "field": "",
                "action": "",
                "error": ngettext(
                    "%(count)s report has no status yet. Each report needs a status "
                    "before you submit. Go to the first one.",
                    "%(count)s reports have no status yet. Each report needs a status "
                    "before you submit. Go to the first one.",
                    count,
                )
                % {"count": count},
            },
        )
    return items


def _render(
    request: HttpRequest,
    page: ReporterPage | None,
    forms: dict[int, StatusReportForm],
    *,
    status: int = 200,
    page_errors: list[str] | None = None,
    copied: int | None = None,
) -> HttpResponse:
    periods = list(
        ReportingPeriod.objects.exclude(state=ReportingPeriod.State.PLANNED).order_by(
            "-year", "-kind"
        )
    )
    context: dict = {
        "periods": periods,
        "page": page,
        "page_errors": page_errors or [],
        "field_labels": {name: StatusReportForm.base_fields[name].label for name in REPORT_FIELDS},
    }
    if page is not None:
        period = page.period
        several = len({r.organisation_id for r in page.reports}) > 1
        for report in page.reports:
            report.form = forms.get(report.pk)
            report.previous = page.previous.get(report.pk)
            report.copied = report.pk == copied
        today = timezone.localdate()
        summary = _error_summary(page, forms)
        context.update(
            period=period,
            several_organisations=several,
            editable=bool(forms),
            days_left=(period.deadline - today).days,
            error_summary=summary,
            has_errors=bool(summary or page_errors),
            form_action=f"{reverse('followup:my_reports')}?period={period.pk}",
        )
    return render(request, TEMPLATE, context, status=status)


def _load(request: HttpRequest, period: ReportingPeriod) -> ReporterPage:
    page = reporter_page(user=request.user, period=period)
    for report in page.reports:
        # One period object for all rows: the service reads report.period.
        report.period = period
    return page


# --- The view -----------------------------------------------------------------------


@login_required
@permission_required(REPORT, raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def my_reports_view(request: HttpRequest) -> HttpResponse:
    period = _chosen_period(request)
    if request.method == "POST":
        return _post(request, period)
    if period is None:
        return _render(request, None, {})
    page = _load(request, period)
    statuses = statuses_active()
    return _render(request, page, _build_forms(page, statuses, None, set()))


def _post(request: HttpRequest, period: ReportingPeriod | None) -> HttpResponse:
    listed, named, copy = _named_pks(request.POST)
    if period is None:
        # No open period and none named: nothing on the page could be posted.
        raise PermissionDenied
    page = _load(request, period)
    by_pk = {r.pk: r for r in page.reports}
    # Only the user's own reports in this period: refuse before reading anything.
    if not named <= by_pk.keys():
        raise PermissionDenied(gettext("You can only report for your own organisation."))
    statuses = statuses_active()
    data = request.POST.copy()

    if not all(status_report_editable(by_pk[pk]) for pk in named):
        return _closed(request, page, statuses)

    if copy is not None:
        previous = page.previous.get(copy)
        prefix = StatusReportForm.prefix_for(copy)
        if previous is not None:
            data[f"{prefix}-status"] = str(previous.status_id or "")
            data[f"{prefix}-comment"] = previous.comment
        forms = _build_forms(page, statuses, data, set(listed) | {copy})
        return _render(request, page, forms, copied=copy)

    submit = request.POST.get("action") == ACTION_SUBMIT
    forms = _build_forms(page, statuses, data, set(listed))
    rows = [
        BatchRow(
            report=by_pk[pk],
            data=forms[pk].report_input() if forms[pk].is_valid() else None,
            previous=page.previous.get(pk),
        )
        for pk in dict.fromkeys(listed)
    ]
    try:
        result = status_report_batch_save(rows=rows, actor=request.user, submit=submit)
    except PeriodClosedError:
        # The period closed after the page was loaded.
        return _closed(request, _load(request, period), statuses)

    if not result.ok:
        if result.rolled_back:
            # A race after the checks: everything was rolled back. Show the
            # rows as they are now, with the user's entries.
            page = _load(request, period)
            forms = _build_forms(page, statuses, data, set(listed))
        for pk, error in result.errors.items():
            add_service_errors(forms[pk], error)
        for pk, conflict in result.conflicts.items():
            _conflict(forms[pk], conflict, data)
        return _render(request, page, forms, status=400)

    saved = len(result.saved)
    if not saved:
        messages.info(request, gettext("There were no changes to save."))
    elif submit:
        messages.success(
            request,
            ngettext("Submitted %(count)s report.", "Submitted %(count)s reports.", saved)
            % {"count": saved},
        )
    else:
        messages.success(
            request,
            ngettext("Saved %(count)s report.", "Saved %(count)s reports.", saved)
            % {"count": saved},
        )
    return redirect(f"{reverse('followup:my_reports')}?period={period.pk}")


def _closed(request: HttpRequest, page: ReporterPage, statuses) -> HttpResponse:
    """The period is closed: the page read-only, with the reason."""
    return _render(
        request,
        page,
        _build_forms(page, statuses, None, set()),
        status=400,
        page_errors=[str(PeriodClosedError().message)],
    )


# --- Showing a conflict -------------------------------------------------------------


def _conflict(form: StatusReportForm, conflict: RowConflict, data: QueryDict) -> None:
    """Someone else saved the row after the user loaded it.

    If the user changed the row too, keep the user's entries and say what is
    saved now. If not, show what the other person saved. Either way the form
    now carries the current version, so the next save replaces the other
    person's version knowingly, never silently."""
    current = conflict.report
    name = conflict.saved_by or gettext("Someone else")
    if conflict.user_changed:
        message = gettext(
            "%(name)s saved this report after you opened the page. Your changes to it "
            "were not saved; they are still in the form. Saved now: status "
            "“%(status)s”, comment “%(comment)s”. Save again to replace that with your "
            "entries."
        ) % {
            "name": name,
            "status": current.status.name if current.status else gettext("no status"),
            "comment": Truncator(current.comment.strip() or "–").chars(200),
        }
    else:
        for field, value in zip(REPORT_FIELDS, report_values(current), strict=True):
            data[f"{form.prefix}-{field}"] = "" if value is None else str(value)
        message = gettext(
            "%(name)s saved this report after you opened the page. The form now shows "
            "what they saved. Check it and submit again."
        ) % {"name": name}
    form.add_error(None, ValidationError(message, code="concurrent_edit"))
    data[f"{form.prefix}-expected_version"] = str(current.version)
