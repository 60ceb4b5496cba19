"""The reporter page's batch as a service (``status_report_batch_save``):
all or nothing, conflicts with someone else's save, and its queries.

cecilia reports for Bromma and loads her rows; ulla, a second Bromma
reporter, saves some of them in between; david reports for Farsta. The period
is 2022 T1 on the 2021 roadmap (101 obligations per district).
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import roles
from fardplan import limits
from followup.models import PeriodClosedError, ReportingPeriod, StatusReport
from followup.selectors import reporter_page
from followup.services import (
    BatchRow,
    ReportInput,
    status_report_batch_save,
    status_report_save,
)


@pytest.fixture
def ulla(make_user):
    return make_user("ulla", roles.REPORTER, ("bromma",))


def loaded_rows(user, period: ReportingPeriod) -> list[StatusReport]:
    """The user's rows as the reporter page loads them."""
    page = reporter_page(user=user, period=period, per_page=1000)
    for report in page.reports:
        report.period = period
    return page.reports


def row(report: StatusReport, status=None, comment: str = "", **kwargs) -> BatchRow:
    """The row as posted: the user's entries and the version they loaded."""
    kwargs.setdefault("expected_version", report.version)
    return BatchRow(report=report, data=ReportInput(status=status, comment=comment, **kwargs))


def unchanged(report: StatusReport, *, now: StatusReport | None = None) -> BatchRow:
    """The row posted back as it was loaded (``report``); ``now``: the row as
    loaded again when the POST arrives, if someone saved it in between."""
    return BatchRow(
        report=now or report,
        data=ReportInput(
            status=report.status,
            comment=report.comment,
            planned_next_action=report.planned_next_action,
            expected_completion=report.expected_completion,
            expected_version=report.version,
        ),
    )


def reload(user, period: ReportingPeriod) -> dict[int, StatusReport]:
    """The rows as the POST loads them again, by pk."""
    return {report.pk: report for report in loaded_rows(user, period)}


def snapshot(period: ReportingPeriod) -> list[tuple]:
    return list(
        StatusReport.objects.filter(period=period)
        .order_by("pk")
        .values_list("pk", "version", "status_id", "comment", "state")
    )


def save_as(user, report: StatusReport, status, comment: str = "") -> None:
    """Someone else saves the row (a fresh copy, as their own page would)."""
    fresh = StatusReport.objects.select_related("period", "organisation").get(pk=report.pk)
    status_report_save(
        report=fresh, data=ReportInput(status=status, comment=comment), actor=user, submit=False
    )


# --- All or nothing -----------------------------------------------------------------


def test_an_error_in_one_row_saves_no_row(open_period, bromma_reporter, statuses):
    first, second = loaded_rows(bromma_reporter, open_period)[:2]
    before = snapshot(open_period)
    result = status_report_batch_save(
        rows=[
            row(first, statuses["paborjad"]),
            row(second, statuses["forsenad"], "x" * (limits.REPORT_COMMENT + 1)),
        ],
        actor=bromma_reporter,
        submit=True,
    )
    assert not result.ok
    assert list(result.errors) == [second.pk]
    assert "comment" in result.errors[second.pk].message_dict
    assert result.saved == [] and not result.conflicts
    assert snapshot(open_period) == before


def test_submitting_submits_the_complete_rows_and_keeps_the_others_as_drafts(
    open_period, bromma_reporter, statuses
):
    first, second, third, fourth = loaded_rows(bromma_reporter, open_period)[:4]
    result = status_report_batch_save(
        rows=[
            row(first, statuses["paborjad"]),
            row(second, statuses["forsenad"]),  # delayed needs a comment to submit
            row(third),  # no status: left alone, nothing to save
            row(fourth, None, "Halvvägs"),  # no status, but a change: saved as a draft
        ],
        actor=bromma_reporter,
        submit=True,
    )
    assert result.ok and not result.rolled_back
    assert result.submitted == [first.pk]
    assert set(result.left) == {second.pk, third.pk, fourth.pk}
    assert list(result.left[second.pk]) == ["comment"]
    assert list(result.left[third.pk]) == list(result.left[fourth.pk]) == ["status"]
    assert {report.pk for report in result.saved} == {first.pk, second.pk, fourth.pk}
    now = StatusReport.objects.in_bulk([first.pk, second.pk, third.pk, fourth.pk])
    assert now[first.pk].state == StatusReport.State.SUBMITTED
    assert now[second.pk].state == StatusReport.State.DRAFT
    assert now[second.pk].status == statuses["forsenad"]
    assert now[third.pk].version == 1  # untouched
    assert (now[fourth.pk].state, now[fourth.pk].comment) == (StatusReport.State.DRAFT, "Halvvägs")


def test_an_unreadable_row_saves_no_row(open_period, bromma_reporter, statuses):
    first, second = loaded_rows(bromma_reporter, open_period)[:2]
    before = snapshot(open_period)
    result = status_report_batch_save(
        rows=[row(first, statuses["paborjad"]), BatchRow(report=second, data=None)],
        actor=bromma_reporter,
        submit=False,
    )
    assert not result.ok and result.unreadable == [second.pk]
    assert snapshot(open_period) == before


def test_a_valid_batch_saves_every_changed_row(open_period, bromma_reporter, statuses):
    first, second, third = loaded_rows(bromma_reporter, open_period)[:3]
    result = status_report_batch_save(
        rows=[
            row(first, statuses["paborjad"]),
            row(second, statuses["forsenad"], "Bemanningen räcker inte."),
            unchanged(third),
        ],
        actor=bromma_reporter,
        submit=False,
    )
    assert result.ok and [r.pk for r in result.saved] == [first.pk, second.pk]
    saved = StatusReport.objects.in_bulk([first.pk, second.pk, third.pk])
    assert saved[first.pk].status == statuses["paborjad"]
    assert saved[second.pk].comment == "Bemanningen räcker inte."
    assert saved[third.pk].version == third.version  # not touched
    assert all(saved[pk].state == StatusReport.State.DRAFT for pk in saved)


def test_reporter_cannot_save_another_organisations_rows(
    open_period, bromma_reporter, farsta_reporter, statuses
):
    bromma_row = loaded_rows(bromma_reporter, open_period)[0]
    farsta_row = loaded_rows(farsta_reporter, open_period)[0]
    before = snapshot(open_period)
    with pytest.raises(PermissionDenied):
        status_report_batch_save(
            rows=[row(farsta_row, statuses["paborjad"]), row(bromma_row, statuses["paborjad"])],
            actor=farsta_reporter,
            submit=False,
        )
    assert snapshot(open_period) == before
    # Farsta's own row alone is allowed.
    result = status_report_batch_save(
        rows=[row(farsta_row, statuses["paborjad"])], actor=farsta_reporter, submit=False
    )
    assert result.ok and len(result.saved) == 1


def test_a_closed_period_is_refused(open_period, bromma_reporter, statuses):
    report = loaded_rows(bromma_reporter, open_period)[0]
    ReportingPeriod.objects.filter(pk=open_period.pk).update(state=ReportingPeriod.State.CLOSED)
    report.period.state = ReportingPeriod.State.CLOSED
    with pytest.raises(PeriodClosedError):
        status_report_batch_save(
            rows=[row(report, statuses["paborjad"])], actor=bromma_reporter, submit=False
        )
    assert StatusReport.objects.get(pk=report.pk).version == report.version


# --- Someone else saved a row since it was loaded -----------------------------------


def test_a_row_both_changed_is_a_conflict_and_nothing_is_saved(
    open_period, bromma_reporter, ulla, statuses
):
    loaded, other = loaded_rows(bromma_reporter, open_period)[:2]
    save_as(ulla, loaded, statuses["genomford"], "Klart.")
    now = reload(bromma_reporter, open_period)
    before = snapshot(open_period)
    result = status_report_batch_save(
        rows=[
            row(now[loaded.pk], statuses["paborjad"], expected_version=loaded.version),
            row(now[other.pk], statuses["paborjad"]),
        ],
        actor=bromma_reporter,
        submit=False,
    )
    assert not result.ok and list(result.conflicts) == [loaded.pk]
    assert not result.rolled_back  # found by the checks, before any save
    conflict = result.conflicts[loaded.pk]
    assert conflict.user_changed
    assert conflict.saved_by == "ulla"
    assert (conflict.report.status, conflict.report.comment) == (statuses["genomford"], "Klart.")
    assert conflict.report.version == loaded.version + 1
    assert snapshot(open_period) == before  # not even the other row

    # Having seen the conflict, the user saves again with the version now
    # saved, and knowingly replaces ulla's.
    result = status_report_batch_save(
        rows=[row(conflict.report, statuses["paborjad"]), row(now[other.pk], statuses["paborjad"])],
        actor=bromma_reporter,
        submit=False,
    )
    assert result.ok and len(result.saved) == 2
    assert StatusReport.objects.get(pk=loaded.pk).status == statuses["paborjad"]


def test_a_draft_save_leaves_another_users_version_alone(
    open_period, bromma_reporter, ulla, statuses
):
    theirs, mine = loaded_rows(bromma_reporter, open_period)[:2]
    save_as(ulla, theirs, statuses["genomford"], "Klart.")
    now = reload(bromma_reporter, open_period)
    result = status_report_batch_save(
        rows=[unchanged(theirs, now=now[theirs.pk]), row(now[mine.pk], statuses["paborjad"])],
        actor=bromma_reporter,
        submit=False,
    )
    assert result.ok and [r.pk for r in result.saved] == [mine.pk]
    theirs_now = StatusReport.objects.get(pk=theirs.pk)
    assert (theirs_now.status, theirs_now.comment, theirs_now.updated_by) == (
        statuses["genomford"],
        "Klart.",
        ulla,
    )
    assert theirs_now.version == theirs.version + 1  # ulla's save only
    assert StatusReport.objects.get(pk=mine.pk).status == statuses["paborjad"]


def test_submitting_a_row_only_someone_else_changed_is_a_conflict(
    open_period, bromma_reporter, ulla, statuses
):
    """Submitting would submit what ulla saved, unseen: the user must look first."""
    theirs = loaded_rows(bromma_reporter, open_period)[0]
    save_as(ulla, theirs, statuses["genomford"])
    now = reload(bromma_reporter, open_period)
    before = snapshot(open_period)
    result = status_report_batch_save(
        rows=[unchanged(theirs, now=now[theirs.pk])], actor=bromma_reporter, submit=True
    )
    assert not result.ok and not result.conflicts[theirs.pk].user_changed
    assert snapshot(open_period) == before


def test_a_save_slipping_in_after_the_checks_rolls_everything_back(
    open_period, bromma_reporter, ulla, statuses
):
    """The rows were checked as loaded, then ulla saves one before the batch
    writes it: the compare-and-set catches it and the rows already written are
    undone."""
    first, second = loaded_rows(bromma_reporter, open_period)[:2]
    save_as(ulla, second, statuses["genomford"])  # after the batch loaded `second`
    before = snapshot(open_period)
    result = status_report_batch_save(
        rows=[row(first, statuses["paborjad"]), row(second, statuses["paborjad"])],
        actor=bromma_reporter,
        submit=False,
    )
    assert not result.ok and result.rolled_back
    assert list(result.conflicts) == [second.pk] and result.saved == []
    assert result.conflicts[second.pk].saved_by == "ulla"
    assert snapshot(open_period) == before


# --- Queries ------------------------------------------------------------------------


def _queries(**kwargs) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        result = status_report_batch_save(**kwargs)
    return len(queries), result


def test_a_batch_costs_a_fixed_number_plus_a_constant_per_saved_row(
    open_period, bromma_reporter, ulla, statuses
):
    """Saving N rows costs a fixed number of queries plus the same number per
    row; checking rows (errors, conflicts, rows left alone) costs nothing per row."""
    bromma_reporter.has_perm("followup.report_status")  # as a view has already asked
    saves, refusals, conflicts = {}, {}, {}
    offset = 0
    for n in (5, 10, 20):
        reports = loaded_rows(bromma_reporter, open_period)
        chosen = reports[offset : offset + n]
        offset += n
        # Refused: N rows with a comment too long.
        too_long = "x" * (limits.REPORT_COMMENT + 1)
        refusals[n], result = _queries(
            rows=[row(r, statuses["paborjad"], too_long) for r in chosen],
            actor=bromma_reporter,
            submit=True,
        )
        assert not result.ok and len(result.errors) == n
        # Saved: N rows get a status; every other row is posted unchanged.
        changed = {r.pk for r in chosen}
        rows = [row(r, statuses["paborjad"]) if r.pk in changed else unchanged(r) for r in reports]
        saves[n], result = _queries(rows=rows, actor=bromma_reporter, submit=False)
        assert result.ok and len(result.saved) == n
        # Conflicts: ulla saved the N rows since; the user changed them too.
        for report in chosen:
            save_as(ulla, report, statuses["genomford"])
        now = {r.pk: r for r in loaded_rows(bromma_reporter, open_period)}
        conflicts[n], result = _queries(
            rows=[
                row(now[r.pk], statuses["forsenad"], "x", expected_version=r.version)
                for r in chosen
            ],
            actor=bromma_reporter,
            submit=False,
        )
        assert len(result.conflicts) == n and not result.saved
    per_row = (saves[10] - saves[5]) / 5
    print(f"\nbatch save, queries by rows saved: {saves}; per row {per_row}")
    print(f"refused: {refusals}; conflicts: {conflicts}")
    assert per_row == (saves[20] - saves[10]) / 10 == int(per_row)
    assert saves[5] - 5 * per_row <= 5  # the fixed part
    assert refusals[5] == refusals[10] == refusals[20] <= 2
    assert conflicts[5] == conflicts[10] == conflicts[20] <= 4
