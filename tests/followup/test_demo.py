"""seed_demo's follow-up data: closed 2022 periods and an open one this year."""

import datetime

from followup.demo import demo_followup_build
from followup.models import ReportingPeriod, StatusReport


def test_demo_periods_and_reports(roadmap_2021, statuses, editor):
    today = datetime.date(2026, 11, 22)
    assert demo_followup_build(actor=editor, today=today) == 4

    periods = {str(p): p for p in ReportingPeriod.objects.all()}
    assert set(periods) == {"2022-T1", "2022-T2", "2022-VB", "2026-VB"}
    assert {periods[k].state for k in ("2022-T1", "2022-T2", "2022-VB")} == {"closed"}
    current = periods["2026-VB"]
    assert current.state == "open" and current.opens_on <= today <= current.deadline

    submitted = StatusReport.objects.filter(state="submitted")
    assert submitted.exists()
    # Every demo report says it is demo data, and follows the comment rules.
    assert set(submitted.values_list("comment", flat=True)) == {
        c for c in submitted.values_list("comment", flat=True) if c.startswith("Demodata:")
    }
    assert not submitted.filter(status__requires_comment=True, comment="").exists()
    # Several districts reported in 2022; some left gaps, so the overview has some.
    t1 = periods["2022-T1"]
    late = StatusReport.objects.filter(period=t1, organisation__code="skarholmen")
    assert 0 < late.filter(state="submitted").count() < late.count()
    # Bromma's reports this year are left for the demo reporter.
    assert not StatusReport.objects.filter(
        period=current, organisation__code="bromma", state="submitted"
    ).exists()
    assert StatusReport.objects.filter(
        period=current, organisation__code="farsta", state="submitted"
    ).exists()


def test_demo_periods_are_built_once(roadmap_2021, statuses, editor):
    assert demo_followup_build(actor=editor) > 0
    assert demo_followup_build(actor=editor) == 0
