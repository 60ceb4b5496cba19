"""Reads for the follow-up. Prefetching is chosen here, once; every function
runs a fixed number of queries whatever the number of actions and reports."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from roadmap.models import CityAction, FocusArea, Need, NextStep, Organisation
from roadmap.selectors import next_steps_with_due_year

from .models import ReportingPeriod, ReportJob, Status, StatusReport


def organisations_reporting() -> QuerySet[Organisation]:
    """The organisations that report on the roadmap's actions: the district
    committees and every organisation with status reports. Outside bodies
    never report. (Here, not in roadmap: the roadmap knows nothing of the
    follow-up.)"""
    return (
        Organisation.objects.filter(
            Q(kind=Organisation.Kind.DISTRICT) | Q(status_reports__isnull=False)
        )
        .exclude(kind=Organisation.Kind.EXTERNAL)
        .distinct()
    )


def _earlier_periods_ranked(period: ReportingPeriod) -> dict[int, int]:
    """The opened periods before ``period``: pk → rank, 0 for the latest. One query."""
    earlier = [
        p
        for p in ReportingPeriod.objects.exclude(pk=period.pk).exclude(
            state=ReportingPeriod.State.PLANNED
        )
        if p.sort_key() < period.sort_key()
    ]
    earlier.sort(key=ReportingPeriod.sort_key, reverse=True)
    return {p.pk: i for i, p in enumerate(earlier)}


def previous_reports(reports: Iterable[StatusReport]) -> dict[int, StatusReport]:
    """For each report, the same organisation's submitted report on the same
    action (by lineage) in the latest earlier period. Two queries."""
    reports = list(reports)
    if not reports:
        return {}
    rank = _earlier_periods_ranked(reports[0].period)
    if not rank:
        return {}
    keys = {(r.organisation_id, r.lineage_id) for r in reports}
    candidates = (
        StatusReport.objects.submitted()
        .filter(
            period_id__in=rank,
            organisation_id__in={k[0] for k in keys},
            lineage_id__in={k[1] for k in keys},
        )
        .select_related("status", "period")
    )
    best: dict[tuple[int, object], StatusReport] = {}
    for cand in candidates:
        key = (cand.organisation_id, cand.lineage_id)
        if key in keys and (key not in best or rank[cand.period_id] < rank[best[key].period_id]):
            best[key] = cand
    return {
        r.pk: best[(r.organisation_id, r.lineage_id)]
        for r in reports
        if (r.organisation_id, r.lineage_id) in best
    }


def statuses_active() -> list[Status]:
    return list(Status.objects.filter(is_active=True))


def _report_queryset() -> QuerySet[StatusReport]:
    return StatusReport.objects.select_related(
        "organisation",
        "status",
        "submitted_by",
        "next_step__need__focus_area",
        "city_action__need__focus_area",
    ).prefetch_related(
        Prefetch("next_step__horizons"),
    )


@dataclass
class NeedGroup:
    need: Need
    reports: list[StatusReport] = field(default_factory=list)


@dataclass
class FocusAreaGroup:
    focus_area: FocusArea
    needs: list[NeedGroup] = field(default_factory=list)


def _action_order(report: StatusReport) -> tuple:
    action = report.action
    need = action.need
    return (
        need.focus_area.position,
        need.position,
        0 if report.next_step_id else 1,
        action.position,
        report.organisation.name,
    )


def group_reports(reports: list[StatusReport]) -> list[FocusAreaGroup]:
    """Reports grouped by focus area and need, in the roadmap's order."""
    groups: dict[int, FocusAreaGroup] = {}
    needs: dict[int, NeedGroup] = {}
    for report in sorted(reports, key=_action_order):
        need = report.action.need
        fa = need.focus_area
        if fa.pk not in groups:
            groups[fa.pk] = FocusAreaGroup(focus_area=fa)
        if need.pk not in needs:
            needs[need.pk] = NeedGroup(need=need)
            groups[fa.pk].needs.append(needs[need.pk])
        needs[need.pk].reports.append(report)
    return list(groups.values())


# --- The reporter page ("Mina rapporter") --------------------------------------------

# The views of the reporter page: what is left to do (the default), every row,
# the rows whose status changed since the previous period, the rows with problems.
SHOW_TODO, SHOW_ALL, SHOW_CHANGED, SHOW_PROBLEMS = "todo", "all", "changed", "problems"
REPORTER_VIEWS = (SHOW_TODO, SHOW_ALL, SHOW_CHANGED, SHOW_PROBLEMS)


@dataclass
class ReporterPeriod:
    """An open period with the user's own reports in it."""

    period: ReportingPeriod
    total: int
    done: int

    @property
    def left(self) -> int:
        return self.total - self.done


def reporter_periods(user: AbstractBaseUser) -> list[ReporterPeriod]:
    """The open periods, the nearest deadline first, each with how many of the
    user's organisations' reports it holds and how many are submitted. One query."""
    periods = (
        ReportingPeriod.objects.open()
        .select_related("revision")
        .annotate(
            mine_total=Count("reports", filter=Q(reports__organisation__members=user)),
            mine_done=Count(
                "reports",
                filter=Q(
                    reports__organisation__members=user,
                    reports__state=StatusReport.State.SUBMITTED,
                ),
            ),
        )
        .order_by("deadline", "year", "kind")
    )
    return [ReporterPeriod(period=p, total=p.mine_total, done=p.mine_done) for p in periods]


def reporter_default_period(periods: list[ReporterPeriod]) -> ReporterPeriod | None:
    """The open period with the nearest deadline that still has reports left;
    if none has, the one with the nearest deadline."""
    for candidate in periods:
        if candidate.left:
            return candidate
    return periods[0] if periods else None


@dataclass
class AreaProgress:
    """One focus area on the reporter page: the user's reports in it, how many
    are submitted, how many the current view shows and on which page they start."""

    focus_area: FocusArea
    total: int = 0
    done: int = 0
    shown: int = 0
    first_page: int | None = None

    @property
    def left(self) -> int:
        return self.total - self.done


@dataclass(frozen=True)
class _Row:
    """A report reduced to what the counts, the views and the order need."""

    pk: int
    submitted: bool
    reopened: bool
    status_id: int | None
    previous_status_id: int | None
    has_previous: bool
    focus_area_id: int
    order: tuple


@dataclass
class ReporterPage:
    period: ReportingPeriod
    reports: list[StatusReport]  # the rows shown, in the roadmap's order
    previous: dict[int, StatusReport]  # report pk → the previous period's report
    groups: list[FocusAreaGroup]  # the rows shown, grouped
    done: int  # the user's submitted reports in the period
    total: int  # the user's reports in the period
    show: str = SHOW_TODO
    counts: dict[str, int] = field(default_factory=dict)  # view → rows it holds
    areas: list[AreaProgress] = field(default_factory=list)
    page_number: int = 1
    page_count: int = 1
    shown_total: int = 0  # rows in the current view, over all pages

    @property
    def left(self) -> int:
        return self.total - self.done


def _light_rows(
    user: AbstractBaseUser, period: ReportingPeriod, previous: dict[tuple[int, Any], tuple]
) -> list[_Row]:
    """Every report of the user's organisations in the period, reduced, with
    its previous period's status (from ``previous``). One query."""
    values = StatusReport.objects.filter(
        period=period, organisation__in=user.organisations.all()
    ).values_list(
        "pk",
        "state",
        "reopened",
        "status_id",
        "organisation_id",
        "lineage_id",
        "organisation__name",
        "next_step_id",
        "next_step__need__focus_area_id",
        "next_step__need__focus_area__position",
        "next_step__need__position",
        "next_step__position",
        "city_action__need__focus_area_id",
        "city_action__need__focus_area__position",
        "city_action__need__position",
        "city_action__position",
    )
    rows = []
    for (
        pk,
        state,
        reopened,
        status_id,
        organisation_id,
        lineage_id,
        organisation_name,
        next_step_id,
        ns_area,
        ns_area_pos,
        ns_need_pos,
        ns_pos,
        ca_area,
        ca_area_pos,
        ca_need_pos,
        ca_pos,
    ) in values:
        if next_step_id:
            area, order = ns_area, (ns_area_pos, ns_need_pos, 0, ns_pos, organisation_name)
        else:
            area, order = ca_area, (ca_area_pos, ca_need_pos, 1, ca_pos, organisation_name)
        key = (organisation_id, lineage_id)
        rows.append(
            _Row(
                pk=pk,
                submitted=state == StatusReport.State.SUBMITTED,
                reopened=reopened,
                status_id=status_id,
                previous_status_id=previous.get(key, (None, None))[1],
                has_previous=key in previous,
                focus_area_id=area,
                order=(*order, pk),
            )
        )
    rows.sort(key=lambda row: row.order)
    return rows


def _previous_statuses(
    user: AbstractBaseUser, period: ReportingPeriod
) -> dict[tuple[int, Any], tuple[int, int | None]]:
    """(organisation, lineage) → (pk, status) of the user's organisations'
    submitted report in the latest earlier period, as ``previous_reports``
    chooses it. Two queries."""
    rank = _earlier_periods_ranked(period)
    if not rank:
        return {}
    best: dict[tuple[int, Any], tuple[int, int, int | None]] = {}
    candidates = (
        StatusReport.objects.submitted()
        .filter(period_id__in=rank, organisation__in=user.organisations.all())
        .values_list("organisation_id", "lineage_id", "period_id", "pk", "status_id")
    )
    for organisation_id, lineage_id, period_id, pk, status_id in candidates:
        key = (organisation_id, lineage_id)
        if key not in best or rank[period_id] < best[key][0]:
            best[key] = (rank[period_id], pk, status_id)
    return {key: (pk, status_id) for key, (_rank, pk, status_id) in best.items()}


def _in_view(row: _Row, show: str, problems: set[int]) -> bool:
    if show == SHOW_TODO:
        # A reopened report waits for its correction.
        return not row.submitted or row.reopened
    if show == SHOW_CHANGED:
        return row.status_id is not None and (
            not row.has_previous or row.status_id != row.previous_status_id
        )
    if show == SHOW_PROBLEMS:
        status = row.status_id if row.status_id is not None else row.previous_status_id
        return status in problems
    return True


def reporter_rows(
    *, user: AbstractBaseUser, period: ReportingPeriod, pks: Iterable[int]
) -> tuple[list[StatusReport], dict[int, StatusReport]]:
    """The user's organisations' reports in the period among ``pks``, loaded in
    full, and for each the previous period's report: what saving a posted page
    needs, without the counts of the whole period. A fixed number of queries."""
    reports = list(
        _report_queryset().filter(
            period=period, organisation__in=user.organisations.all(), pk__in=set(pks)
        )
    )
    if not reports:
        return [], {}
    previous = _previous_statuses(user, period)
    wanted = {}
    for report in reports:
        if found := previous.get((report.organisation_id, report.lineage_id)):
            wanted[report.pk] = found[0]
    loaded = StatusReport.objects.select_related("status", "period").in_bulk(set(wanted.values()))
    return reports, {pk: loaded[prev] for pk, prev in wanted.items() if prev in loaded}


def reporter_page(
    *,
    user: AbstractBaseUser,
    period: ReportingPeriod,
    show: str = SHOW_ALL,
    page: int | str | None = 1,
    per_page: int | None = None,
    only: Iterable[int] | None = None,
) -> ReporterPage:
    """The user's organisations' reports in the period: the counts over all of
    them, and the rows of one page of one view (``show``), in the roadmap's
    order. ``only`` shows exactly those reports instead (the rows a form
    posted), whatever the view. A fixed number of queries, and only the rows
    shown are loaded in full, so the page costs the same at ten times the data."""
    if show not in REPORTER_VIEWS:
        show = SHOW_TODO
    previous = _previous_statuses(user, period)
    rows = _light_rows(user, period, previous)
    problems = set(Status.objects.filter(is_problem=True).values_list("pk", flat=True))
    counts = {
        view: sum(1 for row in rows if _in_view(row, view, problems)) for view in REPORTER_VIEWS
    }
    in_view = [row for row in rows if _in_view(row, show, problems)]
    page_number, page_count = 1, 1
    if only is not None:
        wanted = set(only)
        shown = [row for row in rows if row.pk in wanted]
    else:
        per_page = per_page or settings.FOLLOWUP_REPORTS_PER_PAGE
        paginator = Paginator(in_view, per_page, allow_empty_first_page=True)
        current = paginator.get_page(page)
        page_number, page_count = current.number, paginator.num_pages
        shown = list(current.object_list)

    areas: dict[int, AreaProgress] = {}
    for row in rows:
        area = areas.setdefault(row.focus_area_id, AreaProgress(focus_area=None))
        area.total += 1
        area.done += row.submitted
    if only is None:
        for index, row in enumerate(in_view):
            area = areas[row.focus_area_id]
            area.shown += 1
            if area.first_page is None:
                area.first_page = index // per_page + 1
    focus_areas = FocusArea.objects.in_bulk(areas.keys())
    for pk, area in areas.items():
        area.focus_area = focus_areas[pk]

    order = {row.pk: i for i, row in enumerate(shown)}
    reports = sorted(_report_queryset().filter(pk__in=order), key=lambda r: order[r.pk])
    previous_pks = {}
    for report in reports:
        if found := previous.get((report.organisation_id, report.lineage_id)):
            previous_pks[report.pk] = found[0]
    loaded = StatusReport.objects.select_related("status", "period").in_bulk(
        set(previous_pks.values())
    )
    return ReporterPage(
        period=period,
        reports=reports,
        previous={pk: loaded[prev] for pk, prev in previous_pks.items() if prev in loaded},
        groups=group_reports(reports),
        done=sum(1 for row in rows if row.submitted),
        total=len(rows),
        show=show,
        counts=counts,
        areas=sorted(areas.values(), key=lambda a: a.focus_area.position),
        page_number=page_number,
        page_count=page_count,
        shown_total=len(in_view),
    )


# --- The editors' overview --------------------------------------------------------------


@dataclass
class ActionRow:
    action: NextStep | CityAction
    kind: str  # "next_step" | "city_action"
    cells: dict[int, StatusReport]  # organisation id → report
    distribution: list[tuple[Status | None, int]]
    due_year: int | None = None


@dataclass
class OrganisationCompletion:
    organisation: Organisation
    submitted: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.submitted / self.total) if self.total else 0


@dataclass
class Matrix:
    period: ReportingPeriod
    organisations: list[Organisation]
    rows: list[ActionRow]
    completion: list[OrganisationCompletion]
    focus_areas: list[FocusArea]
    statuses: list[Status]


def period_matrix(*, period: ReportingPeriod, focus_area_id: int | None = None) -> Matrix:
    """Actions × organisations for a period, with completion per organisation
    and the distribution of statuses per action (disagreement stays visible)."""
    reports = _report_queryset().filter(period=period)
    if focus_area_id:
        reports = reports.filter(
            Q(next_step__need__focus_area_id=focus_area_id)
            | Q(city_action__need__focus_area_id=focus_area_id)
        )
    reports = list(reports)
    statuses = list(Status.objects.all())
    org_by_id: dict[int, Organisation] = {}
    rows: dict[tuple[str, int], ActionRow] = {}
    totals: Counter = Counter()
    submitted: Counter = Counter()
    for report in sorted(reports, key=_action_order):
        org_by_id[report.organisation_id] = report.organisation
        key = (
            ("next_step", report.next_step_id)
            if report.next_step_id
            else (
                "city_action",
                report.city_action_id,
            )
        )
        if key not in rows:
            rows[key] = ActionRow(action=report.action, kind=key[0], cells={}, distribution=[])
        rows[key].cells[report.organisation_id] = report
        totals[report.organisation_id] += 1
        if report.is_submitted:
            submitted[report.organisation_id] += 1
    order = {s.pk: i for i, s in enumerate(statuses)}
    for row in rows.values():
        counts = Counter(r.status if r.is_submitted else None for r in row.cells.values())
        row.distribution = sorted(
            counts.items(), key=lambda item: order.get(item[0].pk, -1) if item[0] else 999
        )
        if row.kind == "next_step":
            row.due_year = row.action.due_year()
    organisations = sorted(
        org_by_id.values(),
        key=lambda o: (o.kind != Organisation.Kind.DISTRICT, o.name),
    )
    return Matrix(
        period=period,
        organisations=organisations,
        rows=list(rows.values()),
        completion=[
            OrganisationCompletion(o, submitted[o.pk], totals[o.pk]) for o in organisations
        ],
        focus_areas=list(
            FocusArea.objects.filter(revision_id=period.revision_id).order_by("position")
        ),
        statuses=statuses,
    )


@dataclass
class DriftRow:
    step: NextStep
    due_year: int
    not_done: list[tuple[Organisation, Status | None]]


def horizon_drift(*, period: ReportingPeriod, as_of_year: int | None = None) -> list[DriftRow]:
    """Next steps past their due year that some responsible organisation has
    not reported done in this period."""
    as_of_year = as_of_year or period.year
    steps = {
        s.pk: s
        for s in next_steps_with_due_year(revision=period.revision)
        if s.due is not None and s.due < as_of_year
    }
    if not steps:
        return []
    by_step: dict[int, list[tuple[Organisation, Status | None]]] = defaultdict(list)
    reports = (
        StatusReport.objects.filter(period=period, next_step_id__in=steps)
        .select_related("organisation", "status")
        .order_by("organisation__name")
    )
    for report in reports:
        done = report.is_submitted and report.status and report.status.counts_as_done
        if not done:
            by_step[report.next_step_id].append(
                (report.organisation, report.status if report.is_submitted else None)
            )
    return [
        DriftRow(step=steps[pk], due_year=steps[pk].due, not_done=by_step[pk])
        for pk in steps
        if by_step.get(pk)
    ]


# --- The roadmap page: each action's latest status -----------------------------------


@dataclass
class StatusCount:
    status: Status | None  # None: not submitted ("Missing")
    count: int


@dataclass
class LatestStatus:
    """The statuses the responsible organisations reported on one action in
    the latest period in which any of them submitted a report on it."""

    period: ReportingPeriod
    counts: list[StatusCount]  # in the order of the statuses, "Missing" last
    submitted: int
    total: int


def latest_status_by_lineage(lineage_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, LatestStatus]:
    """For each action (next step or city action, by ``lineage_id``, so across
    revisions): the latest opened period with a submitted report on it, and
    how many organisations reported each status there. Actions nobody has
    reported on are left out. Three queries, however many actions and reports:
    the periods, the statuses, and the reports counted by the database."""
    lineage_ids = set(lineage_ids)
    if not lineage_ids:
        return {}
    periods = {
        p.pk: p for p in ReportingPeriod.objects.exclude(state=ReportingPeriod.State.PLANNED)
    }
    if not periods:
        return {}
    statuses = {s.pk: s for s in Status.objects.all()}
    rows = (
        StatusReport.objects.filter(lineage_id__in=lineage_ids, period_id__in=periods)
        .values("lineage_id", "period_id", "state", "status_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counted: dict[uuid.UUID, dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for row in rows:
        submitted = row["state"] == StatusReport.State.SUBMITTED
        status_id = row["status_id"] if submitted else None
        counted[row["lineage_id"]][row["period_id"]][status_id] += row["n"]
    order = {pk: status.position for pk, status in statuses.items()}
    latest: dict[uuid.UUID, LatestStatus] = {}
    for lineage_id, by_period in counted.items():
        reported = [pk for pk, counts in by_period.items() if set(counts) - {None}]
        if not reported:
            continue
        period = max((periods[pk] for pk in reported), key=ReportingPeriod.sort_key)
        counts = by_period[period.pk]
        ordered = sorted(counts, key=lambda pk: (pk is None, order.get(pk, 0)))
        latest[lineage_id] = LatestStatus(
            period=period,
            counts=[StatusCount(statuses.get(pk) if pk else None, counts[pk]) for pk in ordered],
            submitted=sum(n for pk, n in counts.items() if pk is not None),
            total=sum(counts.values()),
        )
    return latest


EXPORT_COLUMNS = [
    "period",
    "focus_area",
    "need",
    "action_type",
    "action",
    "horizons",
    "organisation",
    "status",
    "comment",
    "planned_next_action",
    "expected_completion",
    "state",
    "submitted_at",
    "submitted_by",
    "lineage_id",
]


def period_export_rows(*, period: ReportingPeriod) -> list[dict[str, Any]]:
    rows = []
    for report in sorted(_report_queryset().filter(period=period), key=_action_order):
        action = report.action
        rows.append(
            {
                "period": str(period),
                "focus_area": action.need.focus_area.title,
                "need": action.need.title,
                "action_type": "next_step" if report.next_step_id else "city_action",
                "action": action.text,
                "horizons": report.next_step.horizon_label() if report.next_step_id else "",
                "organisation": report.organisation.name,
                "status": report.status.name if report.status else "",
                "comment": report.comment,
                "planned_next_action": report.planned_next_action,
                "expected_completion": report.expected_completion,
                "state": report.get_state_display(),
                "submitted_at": (
                    timezone.localtime(report.submitted_at).isoformat(timespec="minutes")
                    if report.submitted_at
                    else ""
                ),
                "submitted_by": (
                    report.submitted_by.get_full_name() or report.submitted_by.get_username()
                )
                if report.submitted_by
                else "",
                "lineage_id": str(report.lineage_id),
            }
        )
    return rows


# --- The overview pages: the list of periods and one report ---------------------------


def periods_with_completion() -> list[ReportingPeriod]:
    """Every period, newest first, each with ``reports_total`` and
    ``reports_submitted`` counted in the database. One query."""
    periods = ReportingPeriod.objects.select_related("revision").annotate(
        reports_total=Count("reports"),
        reports_submitted=Count("reports", filter=Q(reports__state=StatusReport.State.SUBMITTED)),
    )
    return sorted(periods, key=ReportingPeriod.sort_key, reverse=True)


@dataclass
class ReportDetail:
    report: StatusReport
    history: list[Any]  # simple-history records, newest first
    reopenings: list[Any]  # StatusReportReopening, newest first
    previous: StatusReport | None  # the same organisation's report in the period before


def report_detail(*, report_id: int) -> ReportDetail | None:
    """One report with its action, its history (who changed what, when), its
    reopenings and the previous period's report. None if there is no such report."""
    report = (
        _report_queryset()
        .select_related("period__revision", "updated_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        return None
    history = list(
        report.history.select_related("history_user", "status").order_by(
            "-history_date", "-history_id"
        )
    )
    reopenings = list(report.reopenings.select_related("reopened_by"))
    return ReportDetail(
        report=report,
        history=history,
        reopenings=reopenings,
        previous=previous_reports([report]).get(report.pk),
    )


# --- PDF reports ----------------------------------------------------------------------


def report_jobs_visible_to(user: AbstractBaseUser) -> QuerySet[ReportJob]:
    """The report jobs the user may see and download, newest first, with who
    requested them and the organisation (one query for any number of jobs).

    Everyone who reads the follow-up (``followup.view_followup``: editors,
    approvers, readers) sees every job; a reporter sees the period reports of
    their own organisations; anyone else sees none."""
    jobs = ReportJob.objects.select_related("requested_by", "organisation").order_by(
        "-created_at", "-pk"
    )
    if not user.is_authenticated:
        return jobs.none()
    if user.has_perm("followup.view_followup"):
        return jobs
    if user.has_perm("followup.report_status"):
        return jobs.filter(kind=ReportJob.Kind.PERIOD, organisation__in=user.organisations.all())
    return jobs.none()


@dataclass
class AnnualReportPanel:
    """What the "Reports" page says first: the latest annual follow-up report."""

    latest: ReportJob | None  # the newest finished report of the latest year with one
    year: int | None  # the year a fresh request is for; None: no follow-up yet
    pending: ReportJob | None  # a request for that year still queued or running

    @property
    def latest_year(self) -> int | None:
        return self.latest.parameters.get("year") if self.latest else None


# How many finished annual reports are looked at for one whose file is whole.
ANNUAL_CANDIDATES = 10


def annual_report_panel() -> AnnualReportPanel:
    """The latest finished annual follow-up report (of the latest year, the
    newest of that year whose file is whole), the year a fresh one would be
    of (that year, or a later one whose annual period is closed, else the
    latest year with an opened period), and a request for that year still
    being made. Three queries."""
    from django.db.models.fields.json import KT

    from .services import report_file_intact

    done = ReportJob.objects.filter(kind=ReportJob.Kind.ANNUAL, state=ReportJob.State.DONE)
    candidates = done.order_by(KT("parameters__year").desc(), "-finished_at", "-pk")
    latest = next((job for job in candidates[:ANNUAL_CANDIDATES] if report_file_intact(job)), None)
    opened = list(
        ReportingPeriod.objects.exclude(state=ReportingPeriod.State.PLANNED).values_list(
            "year", "kind", "state"
        )
    )
    closed_years = [
        year
        for year, kind, state in opened
        if kind == ReportingPeriod.Kind.VB and state == ReportingPeriod.State.CLOSED
    ]
    years = [y for y in (latest and latest.parameters.get("year"), *closed_years) if y]
    if not years:
        years = [year for year, _kind, _state in opened]
    year = max(years) if years else None
    pending = None
    if year is not None:
        pending = (
            ReportJob.objects.filter(
                kind=ReportJob.Kind.ANNUAL,
                parameters={"year": year},
                state__in=[ReportJob.State.QUEUED, ReportJob.State.RUNNING],
            )
            .order_by("-created_at", "-pk")
            .first()
        )
    return AnnualReportPanel(latest=latest, year=year, pending=pending)
