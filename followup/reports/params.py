"""What a report is of, checked once for the web form, the command and the task."""

import re
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from roadmap.models import Organisation

from ..models import ReportingPeriod, ReportJob, StatusReport

PERIOD_CODE = re.compile(r"^\s*(\d{4})\s*-\s*(T1|T2|VB)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ReportRequest:
    """A validated request: the kind and the rows it is about."""

    kind: str
    year: int | None = None
    period: ReportingPeriod | None = None
    organisation: Organisation | None = None

    @property
    def parameters(self) -> dict[str, Any]:
        """The job's parameters: plain values that identify the report."""
        if self.kind == ReportJob.Kind.ANNUAL:
            return {"year": self.year}
        params: dict[str, Any] = {"period": str(self.period)}
        if self.kind == ReportJob.Kind.PERIOD:
            params["organisation"] = self.organisation.code
        return params

    @property
    def title(self) -> str:
        if self.kind == ReportJob.Kind.ANNUAL:
            return _("Annual follow-up %(year)s") % {"year": self.year}
        if self.kind == ReportJob.Kind.PERIOD:
            return _("Period report %(period)s: %(organisation)s") % {
                "period": self.period.label,
                "organisation": self.organisation.name,
            }
        return _("Citywide period report %(period)s") % {"period": self.period.label}


def period_by_code(code: str) -> ReportingPeriod:
    """The period "2022-T1" (case and spaces do not matter), opened at least once."""
    match = PERIOD_CODE.match(code or "")
    if match is None:
        raise ValidationError(
            {"period": _("Give the period as year and period, e.g. 2022-T1 (T1, T2 or VB).")}
        )
    year, kind = int(match[1]), match[2].upper()
    period = ReportingPeriod.objects.select_related("revision").filter(year=year, kind=kind).first()
    if period is None:
        raise ValidationError(
            {"period": _("There is no reporting period %(period)s.") % {"period": f"{year}-{kind}"}}
        )
    if period.state == ReportingPeriod.State.PLANNED:
        raise ValidationError(
            {
                "period": _("The period %(period)s has not been opened yet: it has no reports.")
                % {"period": period.label}
            }
        )
    return period


def organisation_by_name(name: str) -> Organisation:
    """An organisation by its code, name or short name (case does not matter)."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"organisation": _("Choose an organisation.")})
    matches = list(
        Organisation.objects.filter(
            Q(code__iexact=name) | Q(name__iexact=name) | Q(short_name__iexact=name)
        )
    )
    if len(matches) != 1:
        # iexact does not fold å, ä, ö on SQLite: compare in Python as well.
        folded = name.casefold()
        matches = [
            o
            for o in Organisation.objects.all()
            if folded in {o.code.casefold(), o.name.casefold(), o.short_name.casefold()}
        ]
    if len(matches) != 1:
        raise ValidationError(
            {"organisation": _("There is no organisation “%(name)s”.") % {"name": name}}
        )
    return matches[0]


def report_request_clean(
    *,
    kind: str,
    year: int | str | None = None,
    period: str | None = None,
    organisation: str | None = None,
) -> ReportRequest:
    """Check what a report is to be of; ValidationError with field errors
    (kind, year, period, organisation) in Swedish otherwise."""
    if kind not in ReportJob.Kind.values:
        raise ValidationError({"kind": _("Choose one of the kinds of report.")})
    if kind == ReportJob.Kind.ANNUAL:
        try:
            year = int(str(year).strip())
        except (TypeError, ValueError):
            raise ValidationError({"year": _("Give the year as four digits, e.g. 2022.")}) from None
        opened = ReportingPeriod.objects.filter(year=year).exclude(
            state=ReportingPeriod.State.PLANNED
        )
        if not opened.exists():
            raise ValidationError(
                {
                    "year": _(
                        "There is no follow-up for %(year)s: no reporting period of that "
                        "year has been opened."
                    )
                    % {"year": year}
                }
            )
        return ReportRequest(kind=kind, year=year)
    found = period_by_code(period or "")
    if kind == ReportJob.Kind.CITYWIDE:
        return ReportRequest(kind=kind, period=found)
    org = organisation_by_name(organisation or "")
    if not StatusReport.objects.filter(period=found, organisation=org).exists():
        raise ValidationError(
            {
                "organisation": _("%(organisation)s has no reports in %(period)s.")
                % {"organisation": org.name, "period": found.label}
            }
        )
    return ReportRequest(kind=kind, period=found, organisation=org)


def report_request_for_job(job: ReportJob) -> ReportRequest:
    """The job's request, checked again against the data as it is now."""
    params = job.parameters or {}
    return report_request_clean(
        kind=job.kind,
        year=params.get("year"),
        period=params.get("period"),
        organisation=params.get("organisation"),
    )
