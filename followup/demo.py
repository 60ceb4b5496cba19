"""Demo data for the follow-up: the 2022 periods (closed) and an open period
this year, with plausible reports from several districts. Every comment says
it is demo data. Never used in production."""

import datetime
import hashlib
from collections import defaultdict

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from roadmap.models import Revision

from .models import ReportingPeriod, Status, StatusReport
from .services import period_close, period_create, period_open

DEMO_YEAR = 2022
# Organisations that leave some reports unsubmitted, so the overview has gaps.
LATE = {"skarholmen", "spanga-tensta"}
# This year: who has reported already. Bromma is left for the demo reporter.
REPORTED_THIS_YEAR = {"farsta", "sodermalm", "ostermalm", "enskede-arsta-vantor", "aldrenamnden"}

# Status codes per period kind: the plausible progress through the year.
PROGRESS = {
    "T1": ["ej-paborjad", "paborjad", "paborjad", "pagar-enligt-plan"],
    "T2": ["paborjad", "pagar-enligt-plan", "pagar-enligt-plan", "forsenad"],
    "VB": ["pagar-enligt-plan", "genomford", "genomford", "forsenad", "ej-aktuell"],
}
COMMENTS = {
    "ej-paborjad": "Demodata: arbetet har inte startat ännu.",
    "paborjad": "Demodata: arbetet har påbörjats.",
    "pagar-enligt-plan": "Demodata: arbetet pågår enligt plan.",
    "forsenad": "Demodata: försenat på grund av bemanningsläget; ny plan tas fram.",
    "genomford": "Demodata: genomfört under året.",
    "ej-aktuell": "Demodata: inte aktuellt för nämnden.",
    "avbruten": "Demodata: avbrutet efter omprioritering.",
}


def _draw(report: StatusReport, kind: str) -> int:
    """A stable pseudo-random byte per report and period kind."""
    key = f"{report.lineage_id}:{report.organisation_id}:{kind}".encode()
    return hashlib.sha256(key).digest()[0]


def _pick(report: StatusReport, kind: str) -> str:
    options = PROGRESS[kind]
    return options[_draw(report, kind) % len(options)]


def _fill(period: ReportingPeriod, *, organisations: set[str] | None, actor, skip_share: int):
    statuses = {s.code: s for s in Status.objects.all()}
    reports = list(StatusReport.objects.filter(period=period).select_related("organisation"))
    now = timezone.now()
    filled = []
    for report in reports:
        code = report.organisation.code
        if organisations is not None and code not in organisations:
            continue
        # Late organisations leave every `skip_share`-th report unsubmitted.
        if code in LATE and _draw(report, "late") % skip_share == 0:
            continue
        status = _pick(report, period.kind)
        report.status = statuses[status]
        report.comment = COMMENTS[status]
        report.state = StatusReport.State.SUBMITTED
        report.submitted_at = now
        # Demo reports have no real reporter behind them.
        report.updated_by = None
        report.submitted_by = None
        # A save, as far as the version goes: the UPDATE below bumps it, and
        # the history row must name the version it describes, or the reporter
        # page (which looks up the version a user loaded in the history)
        # finds the empty obligation instead and reports a false conflict.
        report.version += 1
        filled.append(report)
    # One UPDATE per distinct (status, comment) instead of a bulk_update, whose
    # CASE expressions over thousands of rows cost seconds; then the history
    # rows, as bulk_update_with_history would write them. Each UPDATE bumps
    # the version as VersionedModel's save would (the rows were loaded above,
    # inside the caller's transaction, so the instances' versions match).
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for report in filled:
        groups[report.status_id, report.comment].append(report.pk)
    for (status_id, comment), pks in groups.items():
        StatusReport.objects.filter(pk__in=pks).update(
            status_id=status_id,
            comment=comment,
            state=StatusReport.State.SUBMITTED,
            submitted_at=now,
            updated_by=None,
            submitted_by=None,
            version=F("version") + 1,
        )
    StatusReport.history.bulk_history_create(
        filled,
        batch_size=500,
        update=True,
        default_user=actor,
        default_change_reason="Demodata",
    )
    return len(filled)


def demo_followup_build(*, actor: AbstractBaseUser, today: datetime.date | None = None) -> int:
    """Create the demo periods unless any period exists. Returns the number of
    periods created."""
    if ReportingPeriod.objects.exists():
        return 0
    revision = Revision.objects.filter(year=2021).first()
    if revision is None or revision.status not in ("approved", "superseded"):
        return 0
    if not Status.objects.exists():
        return 0
    today = today or timezone.localdate()
    created = 0
    with transaction.atomic():
        for kind in ("T1", "T2", "VB"):
            period = period_create(year=DEMO_YEAR, kind=kind, revision=revision, actor=actor)
            period = period_open(period=period, actor=actor)
            _fill(period, organisations=None, actor=actor, skip_share=3)
            period_close(
                period=period, actor=actor, today=period.deadline + datetime.timedelta(days=1)
            )
            created += 1
        if today.year > DEMO_YEAR:
            kind = "T1" if today.month <= 4 else "T2" if today.month <= 8 else "VB"
            period = period_create(
                year=today.year,
                kind=kind,
                revision=revision,
                actor=actor,
                opens_on=today - datetime.timedelta(days=7),
                deadline=today + datetime.timedelta(days=21),
            )
            period = period_open(period=period, actor=actor)
            _fill(period, organisations=REPORTED_THIS_YEAR, actor=actor, skip_share=2)
            created += 1
    return created
