"""The database gate of the follow-up (followup/locks.py): a closed period and
its reports never change, except through the reopen service; a period's
state moves only planned → open → closed. Whatever path the write takes,
down to raw SQL.

Run on SQLite and on PostgreSQL: the triggers are written for each.
"""

import datetime

import pytest
from django.contrib.messages import constants as message_levels
from django.core.exceptions import ValidationError
from django.core.management.sql import emit_post_migrate_signal
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import translation

from fardplan.locks import lock_error
from followup import locks
from followup.models import PeriodClosedError, ReportingPeriod, StatusReport
from followup.services import (
    ReportInput,
    period_close,
    period_create,
    period_open,
    status_report_reopen,
    status_report_save,
)
from tests.helpers import (
    change_form_data,
    history_form_data,
    installed_triggers,
    parse_html,
    refused_sql,
)

SAVE_BUTTONS = {"_save", "_continue", "_addanother", "_saveasnew"}
CLOSED = "fardplan:closed-period"


def refused(statement, params=(), marker=CLOSED) -> IntegrityError:
    return refused_sql(statement, params, marker=marker)


def snapshot(period: ReportingPeriod) -> dict:
    return {
        "period": ReportingPeriod.objects.filter(pk=period.pk).values().get(),
        "reports": list(StatusReport.objects.filter(period=period).order_by("pk").values()),
    }


def _bromma(period) -> StatusReport:
    return StatusReport.objects.filter(period=period, organisation__code="bromma").first()


@pytest.fixture
def closed_period(small_period, editor) -> ReportingPeriod:
    """small_period (Bromma has submitted its step), closed after its deadline."""
    return period_close(
        period=small_period, actor=editor, today=small_period.deadline + datetime.timedelta(1)
    )


# --- The triggers are there -----------------------------------------------------------


def test_every_trigger_exists_after_migrate(db):
    expected = locks.trigger_names(connection.vendor)
    assert expected <= installed_triggers()
    assert {table for table, _ in expected} == {
        ReportingPeriod._meta.db_table,
        StatusReport._meta.db_table,
    }


def test_a_lost_trigger_comes_back_with_the_next_migrate(db):
    for table, name in locks.trigger_names(connection.vendor):
        on = "" if connection.vendor == "sqlite" else f' ON "{table}"'
        with connection.cursor() as cursor:
            cursor.execute(f'DROP TRIGGER "{name}"{on}')
    assert not locks.trigger_names(connection.vendor) & installed_triggers()
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    assert locks.trigger_names(connection.vendor) <= installed_triggers()


# --- A closed period's reports: raw SQL, update(), bulk_create(), save() --------------


def test_raw_sql_update_of_a_closed_periods_report_is_refused(closed_period):
    report = _bromma(closed_period)
    before = snapshot(closed_period)
    error = refused(
        "UPDATE followup_statusreport SET comment = %s, state = 'draft' WHERE id = %s",
        ["Ändrat i SQL", report.pk],
    )
    assert isinstance(lock_error(error), PeriodClosedError)
    refused("DELETE FROM followup_statusreport WHERE id = %s", [report.pk])
    assert snapshot(closed_period) == before


def test_queryset_update_and_delete_of_closed_reports_are_refused(closed_period):
    before = snapshot(closed_period)
    with pytest.raises(IntegrityError, match=CLOSED), transaction.atomic():
        StatusReport.objects.filter(period=closed_period).update(comment="Ändrat med update()")
    with pytest.raises(IntegrityError, match=CLOSED), transaction.atomic():
        StatusReport.objects.filter(period=closed_period).update(reopened=True)
    with pytest.raises(IntegrityError, match=CLOSED), transaction.atomic():
        StatusReport.objects.filter(period=closed_period).delete()
    assert snapshot(closed_period) == before


def test_bulk_create_into_a_closed_period_is_refused(closed_period):
    template = _bromma(closed_period)
    before = snapshot(closed_period)
    with pytest.raises(IntegrityError, match=CLOSED), transaction.atomic():
        StatusReport.objects.bulk_create(
            [
                StatusReport(
                    period=closed_period,
                    organisation_id=template.organisation_id,
                    city_action=StatusReport.objects.filter(city_action__isnull=False)
                    .first()
                    .city_action,
                    lineage_id=template.lineage_id,
                )
            ]
        )
    assert snapshot(closed_period) == before


def test_a_report_cannot_be_moved_into_a_closed_period(closed_period, make_period, editor):
    other = period_create(year=2031, kind="T1", revision=closed_period.revision, actor=editor)
    other = period_open(period=other, actor=editor)
    report = _bromma(other)
    refused(
        "UPDATE followup_statusreport SET period_id = %s WHERE id = %s",
        [closed_period.pk, report.pk],
    )


def test_saving_a_closed_report_says_why_in_swedish(closed_period):
    report = _bromma(closed_period)
    report.comment = "Ändrat"
    with pytest.raises(PeriodClosedError) as excinfo:
        report.save()
    with translation.override("sv"):
        assert "stängd" in " ".join(excinfo.value.messages)


def test_a_trigger_refusal_in_a_save_is_readable(closed_period, monkeypatch):
    """Should the model's own check miss the lock (a race), the save still
    ends in PeriodClosedError, not a bare database error."""
    monkeypatch.setattr(StatusReport, "_editable_after_close", lambda self: True)
    report = _bromma(closed_period)
    before = snapshot(closed_period)
    report.comment = "Ändrat"
    with pytest.raises(PeriodClosedError), transaction.atomic():
        report.save()
    assert snapshot(closed_period) == before


def test_reporter_cannot_submit_into_a_closed_period(closed_period, bromma_reporter, statuses):
    report = _bromma(closed_period)
    before = snapshot(closed_period)
    with pytest.raises(PeriodClosedError):
        status_report_save(
            report=report,
            data=ReportInput(status=statuses["genomford"], comment="Klart."),
            actor=bromma_reporter,
            submit=True,
        )
    assert snapshot(closed_period) == before


# --- The closed period itself, and the state's moves ----------------------------------


def test_a_closed_period_row_is_locked(closed_period):
    before = snapshot(closed_period)
    pk = closed_period.pk
    refused("UPDATE followup_reportingperiod SET state = 'open' WHERE id = %s", [pk])
    refused("UPDATE followup_reportingperiod SET deadline = opens_on WHERE id = %s", [pk])
    refused("DELETE FROM followup_reportingperiod WHERE id = %s", [pk])
    with pytest.raises(IntegrityError, match=CLOSED), transaction.atomic():
        ReportingPeriod.objects.filter(pk=pk).update(closed_at=None)
    closed_period.deadline += datetime.timedelta(days=30)
    with pytest.raises(PeriodClosedError), transaction.atomic():
        closed_period.save()
    assert snapshot(closed_period) == before


def test_an_open_period_cannot_go_back_to_planned(small_period):
    before = snapshot(small_period)
    refused(
        "UPDATE followup_reportingperiod SET state = 'planned' WHERE id = %s",
        [small_period.pk],
        marker="fardplan:period-state",
    )
    small_period.state = ReportingPeriod.State.PLANNED
    with pytest.raises(ValidationError) as excinfo, transaction.atomic():
        small_period.save()
    with translation.override("sv"):
        assert "öppnas och sedan stängs" in " ".join(excinfo.value.messages)
    assert snapshot(small_period) == before


def test_a_planned_period_cannot_jump_to_closed(small_roadmap, statuses, editor):
    period = period_create(year=2030, kind="T2", revision=small_roadmap, actor=editor)
    refused(
        "UPDATE followup_reportingperiod SET state = 'closed' WHERE id = %s",
        [period.pk],
        marker="fardplan:period-state",
    )


# --- What legitimately writes still works ---------------------------------------------


def test_opening_and_closing_still_work(small_roadmap, statuses, editor):
    period = period_create(year=2030, kind="T2", revision=small_roadmap, actor=editor)
    period = period_open(period=period, actor=editor)
    assert StatusReport.objects.filter(period=period).exists()
    period = period_close(
        period=period, actor=editor, today=period.deadline + datetime.timedelta(1)
    )
    assert period.state == ReportingPeriod.State.CLOSED


def test_the_reopen_service_still_works(closed_period, editor, bromma_reporter, statuses):
    report = _bromma(closed_period)
    other = StatusReport.objects.filter(period=closed_period).exclude(pk=report.pk).first()
    status_report_reopen(report=report, actor=editor, reason="Fel status rapporterades.")
    report.refresh_from_db()
    assert report.reopened
    # The lock was lifted for the reopening only: the other reports stay locked.
    refused("UPDATE followup_statusreport SET comment = 'x' WHERE id = %s", [other.pk])
    # The reporter corrects the reopened report and submits it ...
    status_report_save(
        report=report,
        data=ReportInput(
            status=statuses["genomford"], comment="Klart.", expected_version=report.version
        ),
        actor=bromma_reporter,
        submit=True,
    )
    report.refresh_from_db()
    assert (report.state, report.reopened, report.comment) == ("submitted", False, "Klart.")
    # ... which locks it again, down to raw SQL.
    refused("UPDATE followup_statusreport SET comment = 'y' WHERE id = %s", [report.pk])


def test_a_failed_reopening_leaves_the_lock_in_place(closed_period, editor):
    report = _bromma(closed_period)
    status_report_reopen(report=report, actor=editor, reason="Första gången.")
    with pytest.raises(ValidationError):  # already reopened
        status_report_reopen(report=report, actor=editor, reason="Andra gången.")
    other = StatusReport.objects.filter(period=closed_period, reopened=False).first()
    refused("UPDATE followup_statusreport SET comment = 'x' WHERE id = %s", [other.pk])


# --- The admin ----------------------------------------------------------------------


def _history_url(obj) -> str:
    record = obj.history.order_by("history_id").first()
    name = f"admin:followup_{obj._meta.model_name}_simple_history"
    return reverse(name, args=[obj.pk, record.history_id])


@pytest.mark.parametrize("who", ["editor", "approver"])
def test_history_revert_of_an_open_periods_report_is_refused(
    small_period, who, request, client_for
):
    report = _bromma(small_period)
    client = client_for(request.getfixturevalue(who))
    url = _history_url(report)
    response = client.get(url)
    assert response.status_code == 200
    names = {attrs.get("name") for _tag, attrs in parse_html(response.content).tags}
    assert not names & SAVE_BUTTONS
    before = snapshot(small_period)
    data = history_form_data(response)
    data.update({"comment": "Ändrat via historiken", "state": "draft"})
    assert client.post(url, data).status_code == 403
    assert snapshot(small_period) == before


def test_history_revert_of_a_closed_report_is_refused_not_a_server_error(
    closed_period, editor, client_for
):
    report = _bromma(closed_period)
    client = client_for(editor)
    url = _history_url(report)
    response = client.get(url)
    assert response.status_code == 200
    before = snapshot(closed_period)
    assert client.post(url, history_form_data(response)).status_code == 403
    assert snapshot(closed_period) == before


def test_history_revert_cannot_reopen_a_closed_period(
    closed_period, editor, bromma_reporter, statuses, client_for
):
    client = client_for(editor)
    open_version = closed_period.history.filter(state="open").order_by("history_id").first()
    url = reverse(
        "admin:followup_reportingperiod_simple_history",
        args=[closed_period.pk, open_version.history_id],
    )
    response = client.get(url)
    assert response.status_code == 200
    before = snapshot(closed_period)
    assert client.post(url, history_form_data(response)).status_code == 403
    assert snapshot(closed_period) == before
    with pytest.raises(PeriodClosedError):
        status_report_save(
            report=_bromma(closed_period),
            data=ReportInput(status=statuses["genomford"], comment="Klart."),
            actor=bromma_reporter,
            submit=True,
        )


def test_history_revert_cannot_set_an_open_period_back_to_planned(small_period, editor, client_for):
    client = client_for(editor)
    planned = small_period.history.filter(state="planned").order_by("history_id").first()
    url = reverse(
        "admin:followup_reportingperiod_simple_history",
        args=[small_period.pk, planned.history_id],
    )
    response = client.get(url)
    assert response.status_code == 200
    assert client.post(url, history_form_data(response)).status_code == 403
    small_period.refresh_from_db()
    assert small_period.state == ReportingPeriod.State.OPEN
    # The "open" action on it then says why, rather than failing.
    response = client.post(
        reverse("admin:followup_reportingperiod_changelist"),
        {"action": "open_periods", "_selected_action": [str(small_period.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert [m.level for m in response.context["messages"]] == [message_levels.ERROR]


def test_a_closed_periods_change_form_is_read_only(closed_period, editor, client_for):
    client = client_for(editor)
    url = reverse("admin:followup_reportingperiod_change", args=[closed_period.pk])
    response = client.get(url)
    assert response.status_code == 200
    names = {attrs.get("name") for _tag, attrs in parse_html(response.content).tags}
    assert not names & ({"opens_on", "deadline"} | SAVE_BUTTONS)
    before = snapshot(closed_period)
    response = client.post(
        url,
        {
            "opens_on": "2030-01-01",
            "deadline": "2030-12-31",
            "expected_version": "",
            "_save": "Spara",
        },
    )
    assert response.status_code == 403
    assert snapshot(closed_period) == before


def test_lifecycle_fields_are_not_in_the_period_form(small_roadmap, statuses, editor, client_for):
    period = period_create(year=2030, kind="T2", revision=small_roadmap, actor=editor)
    client = client_for(editor)
    url = reverse("admin:followup_reportingperiod_change", args=[period.pk])
    data = change_form_data(client.get(url))
    assert not {"state", "opened_at", "closed_at"} & set(data)
    data["state"] = "closed"
    assert client.post(url, data).status_code == 302
    period.refresh_from_db()
    assert period.state == ReportingPeriod.State.PLANNED


def test_close_action_on_a_closed_period_is_a_message(closed_period, editor, client_for):
    response = client_for(editor).post(
        reverse("admin:followup_reportingperiod_changelist"),
        {"action": "close_periods", "_selected_action": [str(closed_period.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    assert [m.level for m in response.context["messages"]] == [message_levels.ERROR]
