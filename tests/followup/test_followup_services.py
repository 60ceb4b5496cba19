"""Follow-up services: opening, closing (locking), reopening and the rules of a report."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from followup.models import PeriodClosedError, ReportingPeriod, StatusReport, StatusReportReopening
from followup.services import (
    ReportInput,
    period_close,
    period_create,
    period_open,
    status_report_reopen,
    status_report_save,
)

DEADLINE = datetime.date(2022, 5, 10)


@pytest.fixture
def t1(make_period):
    return make_period(2022, "T1", opens_on=datetime.date(2022, 4, 1), deadline=DEADLINE)


def _bromma(period) -> StatusReport:
    return (
        StatusReport.objects.filter(period=period, organisation__code="bromma")
        .select_related("period", "organisation")
        .first()
    )


def test_opening_creates_one_report_per_action_and_organisation(t1):
    # 45 next steps and 56 city actions, each for ÄN, KS and the 13 districts.
    assert StatusReport.objects.filter(period=t1).count() == (45 + 56) * 15
    assert StatusReport.objects.filter(period=t1, organisation__code="bromma").count() == 101
    assert not StatusReport.objects.filter(period=t1, organisation__code="kf").exists()
    assert t1.state == ReportingPeriod.State.OPEN


def test_a_period_opens_once(t1, editor):
    with pytest.raises(ValidationError):
        period_open(period=t1, actor=editor)
    assert StatusReport.objects.filter(period=t1).count() == 1515


@pytest.mark.parametrize("role", ["approver", "bromma_reporter", "reader"])
def test_only_editors_manage_periods(roadmap_2021, statuses, request, role):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        period_create(year=2022, kind="T1", revision=roadmap_2021, actor=user)
    assert not ReportingPeriod.objects.exists()


def test_only_an_approved_revision_is_followed_up(draft_2022, statuses, editor):
    with pytest.raises(ValidationError):
        period_create(year=2023, kind="T1", revision=draft_2022, actor=editor)


def test_closing_before_the_deadline_is_refused(t1, editor):
    with pytest.raises(ValidationError) as refused:
        period_close(period=t1, actor=editor, today=DEADLINE)
    # The deadline as Swedish text (docs/sprakguide.md), not 2022-05-10.
    assert refused.value.messages == ["Perioden kan stängas först efter sista dagen, 10 maj 2022."]
    t1.refresh_from_db()
    assert t1.state == ReportingPeriod.State.OPEN


def test_closing_locks_every_report(t1, editor, bromma_reporter, statuses):
    period_close(period=t1, actor=editor, today=DEADLINE + datetime.timedelta(days=1))
    report = _bromma(t1)
    with pytest.raises(PeriodClosedError):
        status_report_save(
            report=report,
            data=ReportInput(status=statuses["paborjad"]),
            actor=bromma_reporter,
            submit=False,
        )
    report.comment = "Ändrat i efterhand"
    with pytest.raises(PeriodClosedError):
        report.save()
    assert StatusReport.objects.get(pk=report.pk).comment == ""


def test_an_editor_reopens_one_report_with_a_reason(t1, editor, bromma_reporter, statuses):
    period_close(period=t1, actor=editor, today=DEADLINE + datetime.timedelta(days=1))
    report = _bromma(t1)
    with pytest.raises(ValidationError):
        status_report_reopen(report=report, actor=editor, reason="  ")
    with pytest.raises(PermissionDenied):
        status_report_reopen(report=report, actor=bromma_reporter, reason="Vill ändra")
    status_report_reopen(report=report, actor=editor, reason="Felaktig status rapporterades.")
    log = StatusReportReopening.objects.get()
    assert (log.report, log.reopened_by) == (report, editor)

    report.refresh_from_db()
    status_report_save(
        report=report,
        data=ReportInput(status=statuses["genomford"], comment="Klart.", expected_version=None),
        actor=bromma_reporter,
        submit=True,
    )
    report.refresh_from_db()
    assert (report.state, report.reopened) == ("submitted", False)
    # Locked again once submitted.
    with pytest.raises(PeriodClosedError):
        status_report_save(
            report=report,
            data=ReportInput(status=statuses["paborjad"], comment="x"),
            actor=bromma_reporter,
            submit=True,
        )
    # The other reports stayed locked all along.
    other = StatusReport.objects.filter(period=t1, organisation__code="farsta").first()
    other.comment = "x"
    with pytest.raises(PeriodClosedError):
        other.save()


def test_a_reporter_reports_only_for_their_organisation(t1, farsta_reporter, statuses):
    report = _bromma(t1)
    with pytest.raises(PermissionDenied):
        status_report_save(
            report=report,
            data=ReportInput(status=statuses["paborjad"]),
            actor=farsta_reporter,
            submit=False,
        )
    assert StatusReport.objects.get(pk=report.pk).status is None


@pytest.mark.parametrize("code", ["forsenad", "avbruten"])
def test_delayed_and_cancelled_need_a_comment(t1, bromma_reporter, statuses, code):
    report = _bromma(t1)
    with pytest.raises(ValidationError) as exc:
        status_report_save(
            report=report,
            data=ReportInput(status=statuses[code]),
            actor=bromma_reporter,
            submit=True,
        )
    assert "comment" in exc.value.message_dict
    status_report_save(
        report=report,
        data=ReportInput(status=statuses[code], comment="Orsaken är ..."),
        actor=bromma_reporter,
        submit=True,
    )
    report.refresh_from_db()
    assert (report.state, report.submitted_by) == ("submitted", bromma_reporter)


def test_a_changed_status_since_last_period_needs_a_comment(
    t1, make_period, editor, bromma_reporter, statuses
):
    report = _bromma(t1)
    status_report_save(
        report=report,
        data=ReportInput(status=statuses["paborjad"], comment="Start."),
        actor=bromma_reporter,
        submit=True,
    )
    period_close(period=t1, actor=editor, today=DEADLINE + datetime.timedelta(days=1))
    t2 = make_period(2022, "T2")
    later = StatusReport.objects.select_related("period", "organisation").get(
        period=t2, organisation=report.organisation, lineage_id=report.lineage_id
    )
    report.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        status_report_save(
            report=later,
            data=ReportInput(status=statuses["pagar-enligt-plan"]),
            actor=bromma_reporter,
            submit=True,
            previous=report,
        )
    assert "comment" in exc.value.message_dict
    # The same status as last period needs no comment.
    status_report_save(
        report=later,
        data=ReportInput(status=statuses["paborjad"]),
        actor=bromma_reporter,
        submit=True,
        previous=report,
    )
