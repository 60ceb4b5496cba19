"""The data of each PDF report, read into plain dataclasses (selectors).

Every builder runs a fixed number of queries whatever the size of the roadmap
and the number of reports, and returns values only (strings, numbers, lists):
the renderer is a pure function of them, and their checksum tells whether a
report would come out the same as an earlier one.

The consolidated status of an action is the status most of its responsible
organisations reported; on a tie, the one that comes first in the list of
statuses (the less advanced). The distribution beside it keeps disagreement
visible.
"""

import datetime
import hashlib
import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from roadmap.models import Organisation, Revision
from roadmap.redline import revision_compare
from roadmap.selectors import revision_tree

from ..models import ReportingPeriod, ReportJob, Status, StatusReport
from ..selectors import horizon_drift, previous_reports
from .params import ReportRequest

# --- The values -----------------------------------------------------------------


@dataclass(frozen=True)
class StatusKey:
    """A status as the report shows it: always a symbol and a name, never
    colour alone. ``pattern`` picks the chart's fill pattern (greyscale)."""

    code: str
    name: str
    symbol: str
    colour: str
    pattern: int
    is_problem: bool = False
    counts_as_done: bool = False

    @property
    def is_missing(self) -> bool:
        return self.code == ""


@dataclass(frozen=True)
class Count:
    status: StatusKey
    count: int


@dataclass
class OrgReport:
    """One organisation's report on one action."""

    organisation: str
    status: StatusKey
    comment: str = ""
    planned_next_action: str = ""
    expected_completion: str = ""
    period: str = ""  # the period the status was reported in
    submitted_on: str = ""
    previous: StatusKey | None = None
    previous_period: str = ""
    is_district: bool = False


@dataclass
class ActionEntry:
    """A next step or a city action, with the reports on it."""

    kind: str  # "next_step" | "city_action"
    text: str
    data_note: str = ""
    horizon: str = ""
    responsible: str = ""
    due_year: int | None = None
    reports: list[OrgReport] = field(default_factory=list)
    consolidated: StatusKey | None = None
    distribution: list[Count] = field(default_factory=list)

    @property
    def problems(self) -> list[OrgReport]:
        """The reports whose status counts as a problem (Försenad, Avbruten)."""
        return [r for r in self.reports if r.status.is_problem]

    @property
    def reported(self) -> int:
        return sum(1 for r in self.reports if not r.status.is_missing)


@dataclass
class NeedSection:
    number: str
    title: str
    data_note: str
    national_initiatives: list[str] = field(default_factory=list)
    city_actions: list[ActionEntry] = field(default_factory=list)
    next_steps: list[ActionEntry] = field(default_factory=list)

    @property
    def actions(self) -> list[ActionEntry]:
        return [*self.next_steps, *self.city_actions]


@dataclass
class FocusAreaSection:
    number: str
    title: str
    needs: list[NeedSection] = field(default_factory=list)
    distribution: list[Count] = field(default_factory=list)


@dataclass
class DriftEntry:
    text: str
    need: str
    horizon: str
    due_year: int
    not_done: list[OrgReport]


@dataclass
class RedlineItem:
    kind: str
    item_type: str
    text: str
    details: str
    reason: str


@dataclass
class RedlineSummary:
    old_year: int
    new_year: int
    counts: list[tuple[str, int]]
    items: list[RedlineItem]


@dataclass
class ReportHeader:
    """What every report says on its cover and in its running header."""

    kind: str
    title: str
    subtitle: str
    period_label: str  # the running header: "2022", "Tertialrapport 1 2022"
    revision_label: str
    case_number: str
    decision: str
    author: str
    subject: str


@dataclass
class AnnualReport:
    header: ReportHeader
    year: int
    periods: list[str]
    statuses: list[StatusKey]
    totals: list[Count]
    action_total: int
    focus_areas: list[FocusAreaSection]
    drift: list[DriftEntry]
    drift_period: str
    redline: RedlineSummary | None
    districts: list[str]


@dataclass
class OrganisationCompletion:
    organisation: str
    submitted: int
    total: int


@dataclass
class PeriodReport:
    """One organisation's reports in one period (``organisation`` set), or
    every organisation's (citywide)."""

    header: ReportHeader
    period: str
    period_state: str
    deadline: str
    organisation: str
    statuses: list[StatusKey]
    totals: list[Count]
    submitted: int
    total: int
    focus_areas: list[FocusAreaSection]
    completion: list[OrganisationCompletion]


ReportData = AnnualReport | PeriodReport

AUTHOR = "Stockholms stad, äldreförvaltningen"


# --- Statuses -------------------------------------------------------------------


def _legend() -> tuple[list[StatusKey], dict[int, StatusKey], StatusKey]:
    """Every status in its order, by primary key, and the key for "not reported"."""
    statuses = list(Status.objects.order_by("position"))
    keys = [
        StatusKey(
            code=s.code,
            name=s.name,
            symbol=s.symbol,
            colour=s.colour,
            pattern=i,
            is_problem=s.is_problem,
            counts_as_done=s.counts_as_done,
        )
        for i, s in enumerate(statuses)
    ]
    by_pk = {s.pk: key for s, key in zip(statuses, keys, strict=True)}
    missing = StatusKey(
        code="", name=_("Not reported"), symbol="?", colour="#ffffff", pattern=len(keys)
    )
    return keys, by_pk, missing


def _distribution(statuses: list[StatusKey], legend: list[StatusKey]) -> list[Count]:
    counts = Counter(statuses)
    order = {key: i for i, key in enumerate(legend)}
    return [
        Count(key, n) for key, n in sorted(counts.items(), key=lambda kv: order.get(kv[0], 999))
    ]


def _consolidated(statuses: list[StatusKey], legend: list[StatusKey]) -> StatusKey | None:
    """The status most organisations reported; on a tie the earlier in the list."""
    reported = Counter(s for s in statuses if not s.is_missing)
    if not reported:
        return None
    order = {key: i for i, key in enumerate(legend)}
    return min(reported, key=lambda key: (-reported[key], order.get(key, 999)))


def _finish(entry: ActionEntry, legend: list[StatusKey], missing: StatusKey) -> None:
    statuses = [r.status for r in entry.reports]
    entry.consolidated = _consolidated(statuses, legend)
    entry.distribution = _distribution(statuses, [*legend, missing])


def _organisation_order(org: Organisation) -> tuple[bool, str]:
    """Districts first, then the others, each by name (as in the overview)."""
    return (org.kind != Organisation.Kind.DISTRICT, org.name)


# --- The roadmap's structure, with reports per action ----------------------------


def _sections(
    *,
    revision: Revision,
    reports: dict[tuple[str, uuid.UUID], list[OrgReport]],
    legend: list[StatusKey],
    missing: StatusKey,
    only_reported: bool = False,
) -> list[FocusAreaSection]:
    """Focus areas → needs → actions in the roadmap's order, each action with
    its reports. ``only_reported`` leaves out actions without reports (and
    needs and focus areas left empty): one organisation's report."""
    sections = []
    for fa_number, fa in enumerate(revision_tree(revision=revision), start=1):
        section = FocusAreaSection(number=str(fa_number), title=fa.title)
        for need_number, need in enumerate(fa.needs.all(), start=1):
            need_section = NeedSection(
                number=f"{fa_number}.{need_number}",
                title=need.title,
                data_note=need.data_note,
                national_initiatives=[item.text for item in need.national_initiatives.all()],
            )
            for kind, items, target in (
                ("next_step", need.next_steps.all(), need_section.next_steps),
                ("city_action", need.city_actions.all(), need_section.city_actions),
            ):
                for item in items:
                    entry = ActionEntry(
                        kind=kind,
                        text=item.text,
                        data_note=item.data_note,
                        horizon=item.horizon_label() if kind == "next_step" else "",
                        responsible=", ".join(item.responsible_names()),
                        due_year=item.due_year() if kind == "next_step" else None,
                        reports=reports.get((kind, item.lineage_id), []),
                    )
                    if only_reported and not entry.reports:
                        continue
                    _finish(entry, legend, missing)
                    target.append(entry)
            if only_reported and not need_section.actions:
                continue
            section.needs.append(need_section)
        if only_reported and not section.needs:
            continue
        section.distribution = _distribution(
            [e.consolidated or missing for n in section.needs for e in n.actions],
            [*legend, missing],
        )
        sections.append(section)
    return sections


_REPORT_FIELDS = (
    "period_id",
    "organisation_id",
    "lineage_id",
    "next_step_id",
    "status_id",
    "state",
    "comment",
    "planned_next_action",
    "expected_completion",
    "submitted_at",
)


def _date(value: datetime.datetime | None) -> str:
    """The day of a moment, as text is written: "10 maj 2022"."""
    return date_format(timezone.localtime(value).date()) if value else ""


def _decision(revision: Revision) -> str:
    parts = []
    if revision.decision_body_id:
        parts.append(revision.decision_body.name)
    if revision.decision_date:
        parts.append(date_format(revision.decision_date))
    if revision.decision_paragraph:
        parts.append(revision.decision_paragraph)
    return ", ".join(parts)


def _revision_label(revision: Revision) -> str:
    return _("%(title)s, revision %(year)s (%(status)s)") % {
        "title": revision.title,
        "year": revision.year,
        "status": revision.get_status_display().lower(),
    }


# --- (a) The annual follow-up ------------------------------------------------------


def annual_report_data(*, year: int) -> AnnualReport:
    """The follow-up of a year: every action of the revision the year's last
    period follows up, each responsible organisation with the status it
    reported last that year (VB, else T2, else T1)."""
    periods = sorted(
        ReportingPeriod.objects.filter(year=year)
        .exclude(state=ReportingPeriod.State.PLANNED)
        .select_related("revision__decision_body"),
        key=ReportingPeriod.sort_key,
    )
    if not periods:
        raise ValueError(f"no opened reporting period in {year}")
    frame = periods[-1]
    revision = frame.revision
    legend, by_pk, missing = _legend()
    organisations = {o.pk: o for o in Organisation.objects.all()}
    rank = {p.pk: i for i, p in enumerate(periods)}
    kind_of = {p.pk: p.kind for p in periods}

    obligations: dict[uuid.UUID, tuple[str, list[int]]] = {}
    latest: dict[tuple[uuid.UUID, int], dict[str, Any]] = {}
    rows = StatusReport.objects.filter(period__in=periods).values(*_REPORT_FIELDS)
    for row in rows:
        key = (row["lineage_id"], row["organisation_id"])
        if row["period_id"] == frame.pk:
            kind = "next_step" if row["next_step_id"] else "city_action"
            obligations.setdefault(row["lineage_id"], (kind, []))[1].append(row["organisation_id"])
        if row["state"] != StatusReport.State.SUBMITTED:
            continue
        if key not in latest or rank[row["period_id"]] > rank[latest[key]["period_id"]]:
            latest[key] = row

    reports: dict[tuple[str, uuid.UUID], list[OrgReport]] = {}
    for lineage_id, (kind, org_ids) in obligations.items():
        entries = []
        for org in sorted((organisations[pk] for pk in org_ids), key=_organisation_order):
            row = latest.get((lineage_id, org.pk))
            entries.append(
                OrgReport(
                    organisation=org.name,
                    status=by_pk[row["status_id"]] if row else missing,
                    comment=row["comment"] if row else "",
                    period=kind_of[row["period_id"]] if row else "",
                    is_district=org.kind == Organisation.Kind.DISTRICT,
                )
            )
        reports[(kind, lineage_id)] = entries

    focus_areas = _sections(revision=revision, reports=reports, legend=legend, missing=missing)
    actions = [e for fa in focus_areas for n in fa.needs for e in n.actions]

    drift = []
    for row in horizon_drift(period=frame, as_of_year=year + 1):
        drift.append(
            DriftEntry(
                text=row.step.text,
                need=row.step.need.title,
                horizon=row.step.horizon_label(),
                due_year=row.due_year,
                not_done=[
                    OrgReport(
                        organisation=org.name, status=by_pk.get(getattr(s, "pk", None), missing)
                    )
                    for org, s in row.not_done
                ],
            )
        )

    header = ReportHeader(
        kind=ReportJob.Kind.ANNUAL,
        title=_("Annual follow-up %(year)s") % {"year": year},
        subtitle=revision.title,
        period_label=str(year),
        revision_label=_revision_label(revision),
        case_number=revision.case_number,
        decision=_decision(revision),
        author=AUTHOR,
        subject=_(
            "Follow-up of the roadmap for the development of elderly care in %(year)s: "
            "status of every action, drifted time horizons and the year's revision."
        )
        % {"year": year},
    )
    return AnnualReport(
        header=header,
        year=year,
        periods=[p.label for p in periods],
        statuses=legend,
        totals=_distribution([e.consolidated or missing for e in actions], [*legend, missing]),
        action_total=len(actions),
        focus_areas=focus_areas,
        drift=drift,
        drift_period=frame.label,
        redline=_redline_summary(year),
        districts=sorted(
            o.name for o in organisations.values() if o.kind == Organisation.Kind.DISTRICT
        ),
    )


def _redline_summary(year: int) -> RedlineSummary | None:
    """What the revision approved for ``year`` changed against the one before."""
    revision = (
        Revision.objects.filter(
            year=year, status__in=[Revision.Status.APPROVED, Revision.Status.SUPERSEDED]
        )
        .exclude(based_on=None)
        .select_related("based_on")
        .first()
    )
    if revision is None:
        return None
    redline = revision_compare(new=revision)
    items = []
    for _fa, _need, item in redline.changes():
        for change in item.changes:
            items.append(
                RedlineItem(
                    kind=str(change.kind.label),
                    item_type=str(item.item_type.label),
                    text=item.text,
                    details=change.details,
                    reason=item.reason,
                )
            )
    return RedlineSummary(
        old_year=revision.based_on.year,
        new_year=revision.year,
        counts=[(str(kind.label), count) for kind, count in redline.summary.items()],
        items=items,
    )


# --- (b) and (c) The period reports ----------------------------------------------------


def period_report_data(
    *, period: ReportingPeriod, organisation: Organisation | None
) -> PeriodReport:
    """One organisation's reports in a period, with their comments and the
    status each had in the period before; or, without an organisation, every
    organisation's reports (the citywide period report)."""
    legend, by_pk, missing = _legend()
    organisations = {o.pk: o for o in Organisation.objects.all()}
    queryset = StatusReport.objects.filter(period=period)
    if organisation is not None:
        queryset = queryset.filter(organisation=organisation)
    rows = list(queryset.values("pk", *_REPORT_FIELDS))
    previous: dict[int, StatusReport] = {}
    if organisation is not None:
        previous = previous_reports(queryset.select_related("period"))

    by_action: dict[tuple[str, uuid.UUID], list[tuple[Organisation, OrgReport]]] = defaultdict(list)
    completion: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        org = organisations[row["organisation_id"]]
        submitted = row["state"] == StatusReport.State.SUBMITTED
        before = previous.get(row["pk"])
        report = OrgReport(
            organisation=org.name,
            status=by_pk[row["status_id"]] if submitted else missing,
            comment=row["comment"] if submitted else "",
            planned_next_action=row["planned_next_action"] if submitted else "",
            expected_completion=row["expected_completion"] if submitted else "",
            period=period.kind,
            submitted_on=_date(row["submitted_at"]) if submitted else "",
            previous=by_pk.get(before.status_id) if before else None,
            previous_period=before.period.label if before else "",
            is_district=org.kind == Organisation.Kind.DISTRICT,
        )
        kind = "next_step" if row["next_step_id"] else "city_action"
        by_action[(kind, row["lineage_id"])].append((org, report))
        completion[org.pk][1] += 1
        completion[org.pk][0] += submitted
    reports = {
        key: [r for _org, r in sorted(pairs, key=lambda p: _organisation_order(p[0]))]
        for key, pairs in by_action.items()
    }
    focus_areas = _sections(
        revision=period.revision,
        reports=reports,
        legend=legend,
        missing=missing,
        only_reported=True,
    )
    all_reports = [r for fa in focus_areas for n in fa.needs for e in n.actions for r in e.reports]
    revision = period.revision
    if organisation is not None:
        title = _("Period report %(period)s") % {"period": period.label}
        subtitle = organisation.name
        subject = _(
            "%(organisation)s: status of the roadmap's actions in %(period)s, with comments."
        ) % {"organisation": organisation.name, "period": period.label}
    else:
        title = _("Citywide period report %(period)s") % {"period": period.label}
        subtitle = _("All responsible organisations")
        subject = _(
            "Every responsible organisation's status on the roadmap's actions in %(period)s."
        ) % {"period": period.label}
    header = ReportHeader(
        kind=ReportJob.Kind.PERIOD if organisation else ReportJob.Kind.CITYWIDE,
        title=title,
        subtitle=subtitle,
        period_label=period.label,
        revision_label=_revision_label(revision),
        case_number=revision.case_number,
        decision=_decision(revision),
        author=f"Stockholms stad, {organisation.name}" if organisation else AUTHOR,
        subject=subject,
    )
    return PeriodReport(
        header=header,
        period=period.label,
        period_state=period.get_state_display(),
        deadline=date_format(period.deadline),
        organisation=organisation.name if organisation else "",
        statuses=legend,
        totals=_distribution([r.status for r in all_reports], [*legend, missing]),
        submitted=sum(1 for r in all_reports if not r.status.is_missing),
        total=len(all_reports),
        focus_areas=focus_areas,
        completion=[
            OrganisationCompletion(org.name, *completion[org.pk])
            for org in sorted((organisations[pk] for pk in completion), key=_organisation_order)
        ],
    )


def report_data_build(request: ReportRequest) -> ReportData:
    if request.kind == ReportJob.Kind.ANNUAL:
        return annual_report_data(year=request.year)
    organisation = request.organisation if request.kind == ReportJob.Kind.PERIOD else None
    return period_report_data(period=request.period, organisation=organisation)


# --- The checksum ------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, uuid.UUID | datetime.date):
        return str(value)
    raise TypeError(f"not serialisable: {type(value)!r}")


@cache
def _layout_digest() -> str:
    """The PDF templates and style sheet: a change of layout is a change of
    report, so a file rendered with the old layout is not reused."""
    digest = hashlib.sha256()
    roots = [settings.BASE_DIR / "templates" / "followup" / "pdf", Path(settings.PDF_ASSETS_DIR)]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in {".html", ".css", ".svg"}:
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def report_checksum(data: ReportData) -> str:
    """SHA-256 of the report's data and layout: equal checksums, equal reports."""
    payload = json.dumps(data, default=_plain, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(payload.encode())
    digest.update(_layout_digest().encode())
    return digest.hexdigest()
