"""Opening a reporting period while another is open asks for confirmation first."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from followup.models import ReportingPeriod
from followup.services import period_create

CHANGELIST = "admin:followup_reportingperiod_changelist"
WARNING = (
    "Another reporting period would then be open at the same time. The reporters would see "
    "two periods to report in, and reminders go out for both."
)


@pytest.fixture
def planned(small_roadmap, editor) -> ReportingPeriod:
    return period_create(year=2030, kind="T2", revision=small_roadmap, actor=editor)


def _open(client, *periods, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": "open_periods", "_selected_action": [str(p.pk) for p in periods], **extra},
    )


def test_opening_a_second_period_shows_a_confirmation_page(
    small_period, planned, editor, client_for
):
    response = _open(client_for(editor), planned)
    assert response.status_code == 200
    assert "admin/followup/reportingperiod/open_confirmation.html" in [
        t.name for t in response.templates
    ]
    content = response.content.decode()
    assert gettext(WARNING) in content
    assert small_period.label in content  # the period already open is named
    assert 'name="confirm" value="yes"' in content
    assert f'name="_selected_action" value="{planned.pk}"' in content
    planned.refresh_from_db()
    assert planned.state == ReportingPeriod.State.PLANNED


def test_the_warning_is_in_swedish():
    with translation.override("sv"):
        assert gettext(WARNING) != WARNING
        assert "samtidigt" in gettext(WARNING)


def test_confirming_opens_the_second_period(small_period, planned, editor, client_for):
    response = _open(client_for(editor), planned, confirm="yes")
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.state == ReportingPeriod.State.OPEN
    assert ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN).count() == 2


def test_opening_the_only_period_needs_no_confirmation(planned, editor, client_for):
    response = _open(client_for(editor), planned)
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.state == ReportingPeriod.State.OPEN


def test_opening_two_periods_at_once_asks_too(planned, small_roadmap, editor, client_for):
    other = period_create(year=2030, kind="VB", revision=small_roadmap, actor=editor)
    response = _open(client_for(editor), planned, other)
    assert response.status_code == 200
    assert ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN).count() == 0


def test_reopening_an_open_period_still_says_why_without_confirmation(
    small_period, editor, client_for
):
    response = _open(client_for(editor), small_period)
    assert response.status_code == 302  # the service's refusal, as a message
