"""Fixtures for the follow-up: statuses, periods on the 2021 roadmap."""

import datetime

import pytest

from followup.models import ReportingPeriod, Status
from followup.services import period_create, period_open


@pytest.fixture
def statuses(db) -> dict[str, Status]:
    """The statuses the app ships (loaded once per session, tests/conftest.py)."""
    return {s.code: s for s in Status.objects.all()}


@pytest.fixture
def make_period(roadmap_2021, statuses, editor):
    """make_period(year, kind, open=True, opens_on=..., deadline=...)."""

    def make(year: int = 2022, kind: str = "T1", *, open: bool = True, **dates):
        period = period_create(year=year, kind=kind, revision=roadmap_2021, actor=editor, **dates)
        if open:
            period = period_open(period=period, actor=editor)
        return period

    return make


@pytest.fixture
def open_period(make_period) -> ReportingPeriod:
    """2022 T1 on the 2021 roadmap, open, deadline in the future."""
    today = datetime.date.today()
    return make_period(
        2022,
        "T1",
        opens_on=today - datetime.timedelta(days=10),
        deadline=today + datetime.timedelta(days=20),
    )


@pytest.fixture
def small_period(small_roadmap, statuses, editor, bromma_reporter):
    """2030-T1, open, on the small revision (one next step for äldrenämnden and
    all districts, one city action for kommunstyrelsen): Bromma has reported
    the step as delayed, nobody else has reported. Quick to render."""
    from followup.models import StatusReport
    from followup.services import ReportInput, status_report_save

    period = period_create(year=2030, kind="T1", revision=small_roadmap, actor=editor)
    period = period_open(period=period, actor=editor)
    report = StatusReport.objects.get(
        period=period, organisation__code="bromma", next_step__isnull=False
    )
    status_report_save(
        report=report,
        data=ReportInput(status=statuses["forsenad"], comment="Bemanningen räcker inte."),
        actor=bromma_reporter,
        submit=True,
    )
    return period
