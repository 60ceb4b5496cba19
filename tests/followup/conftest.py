"""Fixtures for the follow-up: statuses, periods on the 2021 roadmap."""

import datetime

import pytest

from followup.models import ReportingPeriod, Status
from followup.services import period_create, period_open
from roadmap.reference import reference_load_missing


@pytest.fixture
def statuses(db) -> dict[str, Status]:
    reference_load_missing("statuses")
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
