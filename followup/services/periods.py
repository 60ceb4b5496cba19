"""Reporting periods: planned → open (one empty report per obligation) → closed."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from roadmap.models import CityAction, NextStep, Organisation, Revision

from ..models import ReportingPeriod, StatusReport
from ._auth import require_perm as _require
from .report_jobs import report_job_queue_annual

# Default opening dates and deadlines of the ILS periods.
PERIOD_DEFAULTS = {
    ReportingPeriod.Kind.T1: ((4, 1), (5, 10)),
    ReportingPeriod.Kind.T2: ((8, 15), (9, 10)),
    ReportingPeriod.Kind.VB: ((12, 1), (1, 20)),  # the deadline falls in the next year
}


# The years a period can be for: the default dates must be real dates.
YEAR_RANGE = (2000, 2999)


def period_default_dates(*, year: int, kind: str) -> tuple[datetime.date, datetime.date]:
    (om, od), (dm, dd) = PERIOD_DEFAULTS[ReportingPeriod.Kind(kind)]
    deadline_year = year + 1 if kind == ReportingPeriod.Kind.VB else year
    return datetime.date(year, om, od), datetime.date(deadline_year, dm, dd)


def period_create(
    *,
    year: int,
    kind: str,
    revision: Revision,
    actor: AbstractBaseUser,
    opens_on: datetime.date | None = None,
    deadline: datetime.date | None = None,
) -> ReportingPeriod:
    """A planned period following up an approved (or since superseded) revision."""
    _require(actor, "followup.manage_periods")
    if revision.status not in (Revision.Status.APPROVED, Revision.Status.SUPERSEDED):
        raise ValidationError({"revision": _("Only an approved revision can be followed up.")})
    errors = {}
    if kind not in ReportingPeriod.Kind.values:
        errors["kind"] = _("Choose one of the listed periods.")
    if not isinstance(year, int) or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        errors["year"] = _("Give a year from %(first)s to %(last)s.") % {
            "first": YEAR_RANGE[0],
            "last": YEAR_RANGE[1],
        }
    if errors:
        raise ValidationError(errors)
    default_open, default_deadline = period_default_dates(year=year, kind=kind)
    period = ReportingPeriod(
        year=year,
        kind=kind,
        revision=revision,
        opens_on=opens_on or default_open,
        deadline=deadline or default_deadline,
    )
    period.full_clean()
    period._history_user = actor  # type: ignore[attr-defined]
    period.save()
    return period


def obligations_for(revision: Revision) -> list[tuple[NextStep | CityAction, Organisation]]:
    """Every pair of action (next step or city action) and responsible
    organisation in the revision, with "alla stadsdelsnämnder" expanded."""
    districts = list(Organisation.objects.districts())
    pairs: list[tuple[NextStep | CityAction, Organisation]] = []
    for model in (NextStep, CityAction):
        actions = (
            model.objects.active()
            .filter(revision=revision, need__retired=False, need__focus_area__retired=False)
            .prefetch_related("responsible_organisations")
            .order_by("need__focus_area__position", "need__position", "position")
        )
        for action in actions:
            organisations = {org.pk: org for org in action.responsible_organisations.all()}
            if action.all_districts:
                organisations.update({org.pk: org for org in districts})
            pairs.extend((action, org) for org in organisations.values())
    return pairs


def period_open(*, period: ReportingPeriod, actor: AbstractBaseUser) -> ReportingPeriod:
    """Planned → open: creates one empty report per action and organisation."""
    _require(actor, "followup.manage_periods")
    with transaction.atomic():
        period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
        if period.state != ReportingPeriod.State.PLANNED:
            raise ValidationError(_("Only a planned period can be opened."), code="invalid_state")
        reports = [
            StatusReport(
                period=period,
                organisation=org,
                next_step=action if isinstance(action, NextStep) else None,
                city_action=action if isinstance(action, CityAction) else None,
                lineage_id=action.lineage_id,
            )
            for action, org in obligations_for(period.revision)
        ]
        bulk_create_with_history(
            reports,
            StatusReport,
            batch_size=500,
            default_user=actor,
            default_change_reason=_("Period opened"),
        )
        period.state = ReportingPeriod.State.OPEN
        period.opened_at = timezone.now()
        period._history_user = actor  # type: ignore[attr-defined]
        period.save()
    return period


def period_close(
    *, period: ReportingPeriod, actor: AbstractBaseUser, today: datetime.date | None = None
) -> ReportingPeriod:
    """Open → closed, once the deadline has passed. Locks every report.

    Closing the annual period (VB) queues the year's annual follow-up report,
    rendered once the close commits, so that the latest annual report is
    always there; if one for the year is already queued or running, that one
    stands and no second is queued."""
    _require(actor, "followup.manage_periods")
    today = today or timezone.localdate()
    with transaction.atomic():
        period = ReportingPeriod.objects.select_for_update().get(pk=period.pk)
        if period.state != ReportingPeriod.State.OPEN:
            raise ValidationError(_("Only an open period can be closed."), code="invalid_state")
        if today <= period.deadline:
            raise ValidationError(
                _("The period can be closed after its deadline, %(deadline)s.")
                % {"deadline": date_format(period.deadline)},
                code="before_deadline",
            )
        period.state = ReportingPeriod.State.CLOSED
        period.closed_at = timezone.now()
        period._history_user = actor  # type: ignore[attr-defined]
        period.save()
        if period.kind == ReportingPeriod.Kind.VB:
            report_job_queue_annual(year=period.year, actor=actor)
    return period
