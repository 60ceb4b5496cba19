"""The editors' follow-up overview: the periods, the matrix of actions ×
organisations, the exports, horizon drift and one report with its history.

Everyone with ``followup.view_followup`` (editors, approvers, readers) reads
these pages; reporters report under "Mina rapporter" and get 403 here. Only
editors (``followup.manage_periods``) reopen a report of a closed period: the
view checks the permission before it reads the form, and the service checks it
again. Periods are created, opened and closed in the admin (its actions call
the services).
"""

import re
from dataclasses import dataclass
from io import BytesIO
from itertools import groupby

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from fardplan import limits
from fardplan.exports import csv_response, xlsx_append
from fardplan.forms import add_service_errors
from fardplan.inputs import is_valid_value
from fardplan.limits import with_limit_help_text
from roadmap.models import FocusArea, Organisation

from .models import ReportingPeriod, Status, StatusReport
from .selectors import (
    EXPORT_COLUMNS,
    ActionRow,
    horizon_drift,
    period_export_rows,
    period_matrix,
    periods_with_completion,
    report_detail,
)
from .services import status_report_reopen

VIEW = "followup.view_followup"
MANAGE = "followup.manage_periods"

# ?fokusomrade=<id>: show one focus area of the matrix.
FOCUS_AREA_PARAM = "fokusomrade"
# ?organisation=<code>: one organisation's reports as a list (suits a phone).
ORGANISATION_PARAM = "organisation"
# In print, the matrix is split into tables of this many organisation columns,
# each repeating the action column.
PRINT_COLUMNS = 5


# --- Labels: abbreviations for the columns and cells of the matrix -----------------------


def organisation_abbreviation(organisation: Organisation) -> str:
    """A short column label: "Bromma", "R-K" (Rinkeby-Kista), "Kun." (Kungsholmen).
    The full name is always given beside it (``<abbr title>``, hidden text)."""
    name = organisation.short_name or organisation.name
    if len(name) <= 6:
        return name
    parts = [p for p in name.split("-") if p]
    if len(parts) > 1:
        return "-".join(p[0] for p in parts)
    return name[:3] + "."


def status_abbreviation(name: str) -> str:
    """Abbreviates "Pågår enligt plan" to "Pågår…"; short names stay whole."""
    return name if len(name) <= 9 else name[:6].rstrip() + "…"


_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


@dataclass
class StatusLabel:
    status: Status
    abbreviation: str
    css_class: str
    colour: str | None  # only a valid hex colour reaches the style sheet


@dataclass
class Column:
    organisation: Organisation
    abbreviation: str


@dataclass
class Cell:
    report: StatusReport | None  # None: the organisation is not responsible
    label: StatusLabel | None  # None: nothing submitted yet ("Missing")
    url: str = ""


@dataclass
class Row:
    row: ActionRow
    cells: list[Cell]
    distribution: list[tuple[StatusLabel | None, int]]
    disagreement: bool


@dataclass
class RowGroup:
    focus_area: FocusArea
    rows: list[Row]


def _status_labels(statuses: list[Status]) -> dict[int, StatusLabel]:
    return {
        s.pk: StatusLabel(
            status=s,
            abbreviation=status_abbreviation(s.name),
            css_class=f"cell--status-{s.pk}",
            colour=s.colour if _COLOUR.match(s.colour or "") else None,
        )
        for s in statuses
    }


def _columns(organisations: list[Organisation]) -> list[Column]:
    abbreviations = [organisation_abbreviation(o) for o in organisations]
    # Two organisations must never share a label: fall back to the name.
    return [
        Column(o, a if abbreviations.count(a) == 1 else (o.short_name or o.name))
        for o, a in zip(organisations, abbreviations, strict=True)
    ]


def _row_groups(
    rows: list[ActionRow], columns: list[Column], labels: dict[int, StatusLabel]
) -> list[RowGroup]:
    """The matrix rows in the roadmap's order, one group per focus area, with
    the cells in the order of the columns."""
    # One URL per cell: reversed once, then filled in (thousands of cells).
    placeholder = 2**31 - 1
    url_pattern = reverse("followup:report", args=[placeholder]).replace(str(placeholder), "{}")
    built = []
    for row in rows:
        cells = []
        for column in columns:
            report = row.cells.get(column.organisation.pk)
            if report is None:
                cells.append(Cell(None, None))
                continue
            label = labels.get(report.status_id) if report.is_submitted else None
            cells.append(Cell(report, label, url_pattern.format(report.pk)))
        distribution = [
            (labels[status.pk] if status is not None else None, count)
            for status, count in row.distribution
        ]
        submitted = {status.pk for status, _count in row.distribution if status is not None}
        built.append(Row(row, cells, distribution, disagreement=len(submitted) > 1))
    groups = []
    for _focus_area_id, items in groupby(built, key=lambda r: r.row.action.need.focus_area_id):
        rows_of_group = list(items)
        groups.append(RowGroup(rows_of_group[0].row.action.need.focus_area, rows_of_group))
    return groups


# --- Forms ----------------------------------------------------------------------------


class FocusAreaFilterForm(forms.Form):
    fokusomrade = forms.TypedChoiceField(
        label=_("Focus area"), required=False, coerce=int, empty_value=None
    )
    organisation = forms.ChoiceField(
        label=_("Organisation"),
        required=False,
        help_text=_("One organisation at a time, as a list: easier to read on a phone."),
    )

    def __init__(
        self,
        *args,
        focus_areas: list[FocusArea],
        organisations: list[Organisation] = (),
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields[FOCUS_AREA_PARAM].choices = [
            ("", _("All focus areas")),
            *[(fa.pk, fa.title) for fa in focus_areas],
        ]
        self.fields[ORGANISATION_PARAM].choices = [
            ("", _("All organisations (table)")),
            *[(o.code, o.name) for o in organisations],
        ]


class ReopenForm(forms.Form):
    reason = with_limit_help_text(
        forms.CharField(
            label=_("Reason for reopening"),
            max_length=limits.REOPEN_REASON,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("The reporter sees the report open again and must submit it anew."),
            error_messages={"required": _("Give a reason for reopening the report.")},
        )
    )


# --- Helpers -------------------------------------------------------------------------


def _get_period(pk: int) -> ReportingPeriod:
    return get_object_or_404(ReportingPeriod.objects.select_related("revision"), pk=pk)


def _focus_area_id(raw: str) -> int | None:
    """The focus area asked for; -1 (matches nothing) for a value that is no id."""
    raw = raw.strip()
    if not raw:
        return None
    if not is_valid_value(FocusArea._meta.pk, raw):
        return -1
    return int(raw)


# --- The periods ---------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def period_list_view(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "followup/periods.html",
        {
            "periods": periods_with_completion(),
            "may_manage": request.user.has_perm(MANAGE),
        },
    )


# --- The matrix ----------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def period_matrix_view(request: HttpRequest, pk: int) -> HttpResponse:
    period = _get_period(pk)
    wanted = _focus_area_id(request.GET.get(FOCUS_AREA_PARAM, ""))
    matrix = period_matrix(period=period, focus_area_id=wanted)
    form = FocusAreaFilterForm(
        request.GET or None,
        focus_areas=matrix.focus_areas,
        organisations=_period_organisations(period),
    )
    status = 200
    groups: list[RowGroup] = []
    labels = _status_labels(matrix.statuses)
    columns = _columns(matrix.organisations)
    selected = None
    selected_organisation = None
    organisation_groups: list[tuple[FocusArea, list[tuple[Row, Cell]]]] = []
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        groups = _row_groups(matrix.rows, columns, labels)
        selected = next((fa for fa in matrix.focus_areas if fa.pk == wanted), None)
        code = form.cleaned_data.get(ORGANISATION_PARAM) if form.is_bound else None
        if code:
            selected_organisation = Organisation.objects.get(code=code)
            organisation_groups = _organisation_groups(groups, columns, selected_organisation)
    submitted = sum(c.submitted for c in matrix.completion)
    total = sum(c.total for c in matrix.completion)
    context = {
        "period": period,
        "matrix": matrix,
        "form": form,
        "error_forms": [form] if form.is_bound and form.errors else [],
        "columns": columns,
        "groups": groups,
        "labels": [labels[s.pk] for s in matrix.statuses],
        "styled_labels": [label for label in labels.values() if label.colour],
        "selected_focus_area": selected,
        "completion_rows": list(zip(columns, matrix.completion, strict=True)),
        "submitted": submitted,
        "total": total,
        "total_percent": round(100 * submitted / total) if total else 0,
        "focus_area_param": FOCUS_AREA_PARAM,
        "selected_organisation": selected_organisation,
        "organisation_groups": organisation_groups,
        "column_groups": _column_groups(columns),
    }
    return render(request, "followup/matrix.html", context, status=status)


def _period_organisations(period: ReportingPeriod) -> list[Organisation]:
    """The organisations that report in the period, districts first."""
    organisations = Organisation.objects.filter(
        pk__in=StatusReport.objects.filter(period=period).values("organisation_id")
    )
    return sorted(organisations, key=lambda o: (o.kind != Organisation.Kind.DISTRICT, o.name))


def _organisation_groups(
    groups: list[RowGroup], columns: list[Column], organisation: Organisation
) -> list[tuple[FocusArea, list[tuple[Row, Cell]]]]:
    """One organisation's column of the matrix: per focus area, the actions it
    reports on, each with its cell."""
    index = next((i for i, c in enumerate(columns) if c.organisation.pk == organisation.pk), None)
    if index is None:
        return []
    built = []
    for group in groups:
        items = [(row, row.cells[index]) for row in group.rows if row.cells[index].report]
        if items:
            built.append((group.focus_area, items))
    return built


@dataclass
class ColumnGroup:
    columns: list[Column]
    cells: str  # the slice of each row's cells, for the template's |slice
    first: int
    last: int


def _column_groups(columns: list[Column]) -> list[ColumnGroup]:
    """The organisation columns in groups of PRINT_COLUMNS, for print."""
    return [
        ColumnGroup(
            columns[start : start + PRINT_COLUMNS],
            f"{start}:{start + PRINT_COLUMNS}",
            start + 1,
            min(start + PRINT_COLUMNS, len(columns)),
        )
        for start in range(0, len(columns), PRINT_COLUMNS)
    ]


# --- Exports --------------------------------------------------------------------------


def _export_filename(period: ReportingPeriod, extension: str) -> str:
    return f"uppfoljning-{period.year}-{period.kind}.{extension}"


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def period_export_csv_view(request: HttpRequest, pk: int) -> HttpResponse:
    period = _get_period(pk)
    return csv_response(
        _export_filename(period, "csv"), EXPORT_COLUMNS, period_export_rows(period=period)
    )


# The column headings of the XLSX (the CSV keeps the stable keys, as the
# redline CSV does), and the width of each column in characters.
EXPORT_HEADINGS = {
    "period": (_("Period"), 10),
    "focus_area": (_("Focus area"), 30),
    "need": (_("Need"), 30),
    "action_type": (_("Kind of action"), 14),
    "action": (_("Action"), 60),
    "horizons": (_("Time horizon"), 18),
    "organisation": (_("Organisation"), 30),
    "status": (_("Status"), 18),
    "comment": (_("Comment"), 50),
    "planned_next_action": (_("Planned next action"), 40),
    "expected_completion": (_("Expected completion"), 18),
    "state": (_("State"), 12),
    "submitted_at": (_("Submitted"), 18),
    "submitted_by": (_("Submitted by"), 22),
    "lineage_id": (_("Lineage id of the action"), 38),
}
ACTION_TYPES = {"next_step": _("Next step"), "city_action": _("City action")}


def period_xlsx(*, period: ReportingPeriod) -> bytes:
    """The period's reports as an Excel workbook: bold, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{period.year} {period.kind}"
    sheet.append([str(EXPORT_HEADINGS[key][0]) for key in EXPORT_COLUMNS])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    for index, key in enumerate(EXPORT_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = EXPORT_HEADINGS[key][1]
    sheet.freeze_panes = "A2"
    for row in period_export_rows(period=period):
        row["action_type"] = str(ACTION_TYPES.get(row["action_type"], row["action_type"]))
        # A comment that starts with "=" is text, never a formula.
        xlsx_append(sheet, [row[key] for key in EXPORT_COLUMNS])
    sheet.auto_filter.ref = sheet.dimensions
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def period_export_xlsx_view(request: HttpRequest, pk: int) -> HttpResponse:
    period = _get_period(pk)
    return HttpResponse(
        period_xlsx(period=period),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{_export_filename(period, "xlsx")}"'
        },
    )


# --- Horizon drift -------------------------------------------------------------------


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def period_drift_view(request: HttpRequest, pk: int) -> HttpResponse:
    period = _get_period(pk)
    return render(
        request,
        "followup/drift.html",
        {"period": period, "rows": horizon_drift(period=period)},
    )


# --- One report, and reopening it -----------------------------------------------------


def _render_report(
    request: HttpRequest, pk: int, *, reopen_form: ReopenForm | None = None, status: int = 200
) -> HttpResponse:
    detail = report_detail(report_id=pk)
    if detail is None:
        raise Http404
    report = detail.report
    may_reopen = request.user.has_perm(MANAGE) and report.period.is_closed and not report.reopened
    if reopen_form is None and may_reopen:
        reopen_form = ReopenForm()
    context = {
        "detail": detail,
        "report": report,
        "period": report.period,
        "action": report.action,
        "reopen_form": reopen_form,
        "error_forms": [reopen_form] if reopen_form is not None and reopen_form.errors else [],
    }
    return render(request, "followup/report_detail.html", context, status=status)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_safe
def report_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_report(request, pk)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def report_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(StatusReport, pk=pk)
    # Refuse before the form is read: a user who may not reopen gets 403
    # whatever they post. The service checks the permission again.
    if not request.user.has_perm(MANAGE):
        raise PermissionDenied
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            status_report_reopen(
                report=report, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                gettext(
                    "The report was reopened. %(organisation)s can change it and must "
                    "submit it again."
                )
                % {"organisation": report.organisation},
            )
            return redirect("followup:report", pk=report.pk)
    return _render_report(request, pk, reopen_form=form, status=400)
