"""The reporter page, "Mina rapporter": a reporter reports the status of every
action their organisations are responsible for in a period.

GET shows one period: by default the open period with the nearest deadline
that still has reports left (the other open periods are linked), or with
``?period=<pk>`` another open period or a closed one, read-only. At the top:
the deadline, how many reports are done, progress per focus area, and the
views (``?show=``): what is left to do (the default), every row, the rows
whose status changed since the previous period, the rows with problems. The
rows of the view come a page at a time (``?page=``,
``FOLLOWUP_REPORTS_PER_PAGE``), grouped by focus area and need, each with the
previous period's report beside the form; only those rows are forms and only
they are loaded in full, so the page costs the same for 100 rows or 1,000.

POST has four kinds of buttons:

* "Save draft" saves every row the user changed. Drafts may still lack a
  status or a comment; a row that is already submitted stays submitted, so a
  change to it is checked and submitted again.
* "Submit" submits the complete rows on the page and saves the others'
  changes as drafts; the user is told what was submitted and, at each row
  left, what it lacks.
* "Same as last period" (one per row, ``copy-<pk>``) copies the previous
  period's report into that row's form. Nothing is saved.
* "Copy all unchanged from last period" saves the page's changes as drafts,
  then fills every untouched row of the period with its previous report, as a
  draft; rows already edited are kept.

An entry that cannot be saved (too long, a status out of use, a conflict)
stops the whole POST: nothing is saved, and the page comes back (400) with an
error summary, each error beside its field, and everything the user entered.
A POST naming a report that is not one of the user's own in that period is
refused (403) before anything is read from it. A POST to a closed period is
refused (400) with a clear message; only the reports an editor reopened stay
editable there, until they are submitted again.

Concurrent edits: each row carries the version the user loaded. A row someone
else saved since then is a conflict if the user changed it too (the message
shows what the other person saved, and saving again replaces it knowingly).
If only the other person changed it, a draft save leaves their version alone.
The save itself is a compare-and-set (``VersionedModel``), so a race between
this check and the save is caught as well, and rolls everything back.

Which rows are saved, the checks, the conflicts and the transaction are the
service's (``followup.services.reporter``): this view reads the forms into
plain inputs, calls it, and shows its result.

Queries: GET runs a fixed number of queries; a POST costs a fixed number plus
the service's constant cost per saved row. Unchanged rows cost nothing.
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
from .models import ConcurrentEditError, PeriodClosedError, ReportingPeriod, StatusReport
from .selectors import (
    REPORTER_VIEWS,
    SHOW_ALL,
    SHOW_TODO,
    ReporterPage,
    ReporterPeriod,
    reporter_default_period,
    reporter_page,
    reporter_periods,
    reporter_rows,
    statuses_active,
)
from .services import (
    BatchResult,
    BatchRow,
    RowConflict,
    report_values,
    status_report_batch_save,
    status_report_copy_forward,
    status_report_editable,
)

REPORT = "followup.report_status"
TEMPLATE = "followup/my_reports.html"

ACTION_SUBMIT = "submit"  # the other buttons: "draft" saves drafts,
ACTION_COPY_ALL = "copy_all"  # this one copies the previous period into untouched rows

# The session key of what the last "Submit" left as drafts, shown once.
LEFT_KEY = "followup.my_reports.left"

# POST keys that name a report: the row list, the form fields, the copy buttons.
_ROW_KEY = re.compile(r"^r(\d+)-")
_COPY_KEY = re.compile(r"^copy-(\d+)$")


# --- Reading the request ------------------------------------------------------------


def _chosen_period(request: HttpRequest, periods: list[ReporterPeriod]) -> ReportingPeriod | None:
    """``?period=<pk>`` (an open or closed period), else the open period with
    the nearest deadline that has reports left."""
    raw = request.GET.get("period", "")
    if not raw:
        chosen = reporter_default_period(periods)
        return chosen.period if chosen else None
    if not raw.isdigit():
        raise Http404
    return get_object_or_404(
        ReportingPeriod.objects.exclude(state=ReportingPeriod.State.PLANNED).select_related(
            "revision"
        ),
        pk=int(raw),
    )


def _view_of(request: HttpRequest, period: ReportingPeriod) -> str:
    """``?show=``; by default what is left to do, or in a closed period every
    row (nothing is left to do there but what an editor reopened)."""
    show = request.GET.get("show", "")
    if show in REPORTER_VIEWS:
        return show
    return SHOW_ALL if period.is_closed and "show" not in request.GET else SHOW_TODO


def page_url(period: ReportingPeriod, show: str = SHOW_TODO, page: int = 1) -> str:
    """The reporter page for a period, view and page."""
    url = f"{reverse('followup:my_reports')}?period={period.pk}"
    if show != SHOW_TODO or period.is_closed:
        url += f"&show={show}"
    if page > 1:
        url += f"&page={page}"
    return url


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
    periods: list[ReporterPeriod],
    status: int = 200,
    page_errors: list[str] | None = None,
    copied: int | None = None,
    left: dict[int, list[str]] | None = None,
) -> HttpResponse:
    closed = list(
        ReportingPeriod.objects.filter(state=ReportingPeriod.State.CLOSED).order_by(
            "-year", "-kind"
        )
    )
    context: dict = {
        "periods": [p.period for p in periods] + closed,
        "page": page,
        "page_errors": page_errors or [],
        "field_labels": {name: StatusReportForm.base_fields[name].label for name in REPORT_FIELDS},
    }
    if page is not None:
        period = page.period
        several = len({r.organisation_id for r in page.reports}) > 1
        left = left or {}
        for report in page.reports:
            report.form = forms.get(report.pk)
            report.previous = page.previous.get(report.pk)
            report.copied = report.pk == copied
            report.left = left.get(report.pk, [])
        for area in page.areas:
            area.link = page_url(period, page.show, area.first_page) if area.first_page else ""
        today = timezone.localdate()
        summary = _error_summary(page, forms)
        context.update(
            period=period,
            other_periods=[p for p in periods if p.period.pk != period.pk],
            several_organisations=several,
            editable=bool(forms),
            days_left=(period.deadline - today).days,
            error_summary=summary,
            has_errors=bool(summary or page_errors),
            form_action=page_url(period, page.show, page.page_number),
            views=[
                {
                    "key": key,
                    "label": label,
                    "count": page.counts.get(key, 0),
                    "url": page_url(period, key),
                    "current": key == page.show,
                }
                for key, label in _view_labels()
            ],
            pages=[
                {"number": n, "url": page_url(period, page.show, n)}
                for n in range(1, page.page_count + 1)
            ],
        )
    return render(request, TEMPLATE, context, status=status)


def _view_labels() -> list[tuple[str, str]]:
    return [
        ("todo", gettext("Not done")),
        ("all", gettext("All")),
        ("changed", gettext("Changed since last period")),
        ("problems", gettext("With problems")),
    ]


def _load(
    request: HttpRequest,
    period: ReportingPeriod,
    *,
    only: set[int] | None = None,
) -> ReporterPage:
    page = reporter_page(
        user=request.user,
        period=period,
        show=_view_of(request, period),
        page=request.GET.get("page"),
        only=only,
    )
    for report in page.reports:
        # One period object for all rows: the service reads report.period.
        report.period = period
    return page


def _left_shown(request: HttpRequest, period: ReportingPeriod) -> dict[int, list[str]]:
    """What the last "Submit" in this period left as drafts, once."""
    stored = request.session.pop(LEFT_KEY, None)
    if not stored or stored.get("period") != period.pk:
        return {}
    return {int(pk): reasons for pk, reasons in stored.get("left", {}).items()}


# --- The view -----------------------------------------------------------------------


@login_required
@permission_required(REPORT, raise_exception=True)
@require_http_methods(["GET", "HEAD", "POST"])
def my_reports_view(request: HttpRequest) -> HttpResponse:
    periods = reporter_periods(request.user)
    period = _chosen_period(request, periods)
    if request.method == "POST":
        return _post(request, period, periods)
    if period is None:
        return _render(request, None, {}, periods=periods)
    page = _load(request, period)
    statuses = statuses_active()
    return _render(
        request,
        page,
        _build_forms(page, statuses, None, set()),
        periods=periods,
        left=_left_shown(request, period),
    )


def _post(
    request: HttpRequest, period: ReportingPeriod | None, periods: list[ReporterPeriod]
) -> HttpResponse:
    listed, named, copy = _named_pks(request.POST)
    if period is None:
        # No open period and none named: nothing on the page could be posted.
        raise PermissionDenied
    # The rows as posted, loaded in full; the whole page (counts, progress)
    # only if it is shown again.
    reports, previous_of = reporter_rows(user=request.user, period=period, pks=named)
    for report in reports:
        report.period = period
    by_pk = {r.pk: r for r in reports}
    # Only the user's own reports in this period: refuse before reading anything.
    if not named <= by_pk.keys():
        raise PermissionDenied(gettext("You can only report for your own organisation."))
    statuses = statuses_active()
    data = request.POST.copy()
    action = request.POST.get("action")

    def the_page() -> ReporterPage:
        """The page as posted: exactly the rows the form listed."""
        return _load(request, period, only=named)

    if not all(status_report_editable(by_pk[pk]) for pk in named) or (
        action == ACTION_COPY_ALL and not period.is_open
    ):
        return _closed(request, the_page(), statuses, periods)

    if copy is not None:
        page = the_page()
        previous = page.previous.get(copy)
        prefix = StatusReportForm.prefix_for(copy)
        if previous is not None:
            for name in REPORT_FIELDS:
                value = previous.status_id if name == "status" else getattr(previous, name)
                data[f"{prefix}-{name}"] = "" if value is None else str(value)
        forms = _build_forms(page, statuses, data, set(listed) | {copy})
        return _render(request, page, forms, periods=periods, copied=copy)

    submit = action == ACTION_SUBMIT
    # Saving a draft skips the rows posted back as they were loaded: the
    # service would leave them alone anyway, and their forms cost time.
    posted = [
        pk
        for pk in dict.fromkeys(listed)
        if submit or not _posted_as_loaded(by_pk[pk], request.POST)
    ]
    forms = {
        pk: StatusReportForm(data, report=by_pk[pk], statuses=statuses)
        for pk in posted
        if status_report_editable(by_pk[pk])
    }
    rows = [
        BatchRow(
            report=by_pk[pk],
            data=forms[pk].report_input() if forms[pk].is_valid() else None,
            previous=previous_of.get(pk),
        )
        for pk in posted
    ]
    try:
        result = status_report_batch_save(rows=rows, actor=request.user, submit=submit)
    except PeriodClosedError:
        # The period closed after the page was loaded.
        return _closed(request, the_page(), statuses, periods)

    if not result.ok:
        # Show the rows as they are now (after a race everything was rolled
        # back), every one with the user's entries, and the errors.
        page = the_page()
        forms = _build_forms(page, statuses, data, set(listed))
        for pk, error in result.errors.items():
            add_service_errors(forms[pk], error)
        for pk, conflict in result.conflicts.items():
            _conflict(forms[pk], conflict, data)
        return _render(request, page, forms, periods=periods, status=400)

    if action == ACTION_COPY_ALL:
        return _copy_all(request, period, result)
    _tell_saved(request, result, submit)
    if result.left:
        request.session[LEFT_KEY] = {
            "period": period.pk,
            "left": {
                str(pk): [message for messages in fields.values() for message in messages]
                for pk, fields in result.left.items()
            },
        }
    return redirect(page_url(period, _view_of(request, period), _page_number(request)))


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _posted_as_loaded(report: StatusReport, post: QueryDict) -> bool:
    """The row is posted back exactly as it was loaded: the same version and
    the same values (text compared as the service stores it, stripped)."""
    prefix = StatusReportForm.prefix_for(report.pk)
    if post.get(f"{prefix}-expected_version") != str(report.version):
        return False
    status = "" if report.status_id is None else str(report.status_id)
    if post.get(f"{prefix}-status", "") != status:
        return False
    return all(
        post.get(f"{prefix}-{name}", "").strip() == (getattr(report, name) or "").strip()
        for name in REPORT_FIELDS
        if name != "status"
    )


def _tell_saved(request: HttpRequest, result: BatchResult, submit: bool) -> None:
    saved, submitted = len(result.saved), len(result.submitted)
    if not submit:
        if saved:
            messages.success(
                request,
                ngettext("Saved %(count)s report.", "Saved %(count)s reports.", saved)
                % {"count": saved},
            )
        else:
            messages.info(request, gettext("There were no changes to save."))
        return
    parts = []
    if submitted:
        parts.append(
            ngettext("Submitted %(count)s report.", "Submitted %(count)s reports.", submitted)
            % {"count": submitted}
        )
    if resubmitted := len(result.resubmitted):
        parts.append(
            ngettext(
                "Submitted a change to %(count)s report already submitted.",
                "Submitted changes to %(count)s reports already submitted.",
                resubmitted,
            )
            % {"count": resubmitted}
        )
    if result.left:
        missing_status = sum(1 for fields in result.left.values() if "status" in fields)
        missing_comment = len(result.left) - missing_status
        left = ngettext(
            "%(count)s report on the page is not complete and stays a draft",
            "%(count)s reports on the page are not complete and stay drafts",
            len(result.left),
        ) % {"count": len(result.left)}
        reasons = []
        if missing_status:
            reasons.append(
                ngettext(
                    "%(count)s has no status",
                    "%(count)s have no status",
                    missing_status,
                )
                % {"count": missing_status}
            )
        if missing_comment:
            reasons.append(
                ngettext(
                    "%(count)s needs a comment",
                    "%(count)s need a comment",
                    missing_comment,
                )
                % {"count": missing_comment}
            )
        parts.append(f"{left}: {', '.join(reasons)}.")
    if not parts:
        parts.append(gettext("There were no changes to save."))
    level = messages.success if (submitted or resubmitted) else messages.info
    level(request, " ".join(parts))


def _copy_all(request: HttpRequest, period: ReportingPeriod, saved: BatchResult) -> HttpResponse:
    """The page's changes are saved as drafts: now copy the previous period
    into every untouched row of the period."""
    if saved.saved:
        messages.success(
            request,
            ngettext(
                "Saved your changes to %(count)s report first.",
                "Saved your changes to %(count)s reports first.",
                len(saved.saved),
            )
            % {"count": len(saved.saved)},
        )
    try:
        result = status_report_copy_forward(actor=request.user, period=period)
    except ConcurrentEditError:
        messages.error(
            request,
            gettext(
                "Someone saved one of the reports while they were being copied. Nothing was "
                "copied. Try again."
            ),
        )
        return redirect(page_url(period))
    parts = []
    if result.copied:
        parts.append(
            ngettext(
                "Copied %(count)s report from %(period)s as a draft. Check it and submit it.",
                "Copied %(count)s reports from %(period)s as drafts. Check them and submit them.",
                result.copied,
            )
            % {"count": result.copied, "period": result.previous_period}
        )
    else:
        parts.append(gettext("There was nothing to copy."))
    if result.kept:
        parts.append(
            ngettext(
                "%(count)s report already edited or submitted was kept as it is.",
                "%(count)s reports already edited or submitted were kept as they are.",
                result.kept,
            )
            % {"count": result.kept}
        )
    if result.without_previous:
        parts.append(
            ngettext(
                "%(count)s report has no earlier report to copy.",
                "%(count)s reports have no earlier report to copy.",
                result.without_previous,
            )
            % {"count": result.without_previous}
        )
    if result.status_retired:
        parts.append(
            ngettext(
                "%(count)s report was not copied: its earlier status is no longer in use.",
                "%(count)s reports were not copied: their earlier status is no longer in use.",
                result.status_retired,
            )
            % {"count": result.status_retired}
        )
    (messages.success if result.copied else messages.info)(request, " ".join(parts))
    return redirect(page_url(period))


def _closed(
    request: HttpRequest, page: ReporterPage, statuses, periods: list[ReporterPeriod]
) -> HttpResponse:
    """The period is closed: the page read-only, with the reason."""
    return _render(
        request,
        page,
        _build_forms(page, statuses, None, set()),
        periods=periods,
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
