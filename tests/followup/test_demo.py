"""seed_demo's follow-up data: closed 2022 periods and an open one this year."""

import datetime

import pytest
from django.urls import reverse

from accounts import roles
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


# --- The demo reports carry proper versions ----------------------------------------


def _post_back(response, **changes: dict) -> dict:
    """What the browser posts back from "Mina rapporter" (every editable row's
    fields as rendered), with ``changes`` keyed by report pk."""
    data: dict = {"report": [], "action": "draft"}
    for report in response.context["page"].reports:
        form = report.form
        if form is None:
            continue
        data["report"].append(str(report.pk))
        for name in form.fields:
            value = form[name].value()
            data[form[name].html_name] = "" if value is None else str(value)
    for pk, fields in changes.items():
        for name, value in fields.items():
            data[f"{pk}-{name}"] = value
    return data


@pytest.fixture
def demo(roadmap_2021, statuses, editor):
    assert demo_followup_build(actor=editor, today=datetime.date.today()) == 4
    return ReportingPeriod.objects.get(state="open")


def test_demo_reports_are_versioned_like_saved_reports(demo):
    filled = StatusReport.objects.filter(period=demo, state="submitted")
    assert filled.exists() and not filled.exclude(version=2).exists()
    assert not StatusReport.objects.filter(period=demo, state="draft").exclude(version=1).exists()
    # Each version of a report has one history row, which shows that version.
    report = filled.first()
    history = list(report.history.order_by("history_id").values_list("version", "state"))
    assert history == [(1, "draft"), (2, "submitted")]
    # The demo names no submitter: the pages say so without failing.
    assert report.submitted_by is None


def test_farsta_reporter_saves_a_demo_report_without_conflict(demo, farsta_reporter, client_for):
    client = client_for(farsta_reporter)
    url = reverse("followup:my_reports")
    # Farsta has submitted everything: the default view has nothing left, "all" has it.
    assert client.get(url).context["page"].reports == []
    response = client.get(f"{url}?show=all")
    assert response.status_code == 200
    report = next(r for r in response.context["page"].reports if r.is_submitted)
    assert response.context["page"].period == demo
    data = _post_back(response, **{f"r{report.pk}": {"comment": "Demodata: ändrad."}})
    response = client.post(f"{url}?period={demo.pk}", data)
    assert response.status_code == 302, response.context and response.context["error_summary"]
    report.refresh_from_db()
    assert report.comment == "Demodata: ändrad." and report.version == 3
    # The history row of the demo's version is still found by its version.
    assert report.history.filter(version=2).get().comment.startswith("Demodata:")


def test_two_farsta_reporters_on_demo_reports_get_no_false_conflict(
    demo, farsta_reporter, make_user, client_for
):
    """Both load the page; one changes a row, then the other saves another row.
    The first row is not the second one's conflict: they did not touch it. (With
    the demo's history claiming version 1, the page took the empty obligation
    for what the second user had loaded, and refused the save.)"""
    url = reverse("followup:my_reports")
    other = make_user("gustav", roles.REPORTER, ("farsta",))
    first, second = client_for(farsta_reporter), client_for(other)
    first_page, second_page = first.get(f"{url}?show=all"), second.get(f"{url}?show=all")
    a, b = [r for r in first_page.context["page"].reports if r.is_submitted][:2]
    data = _post_back(first_page, **{f"r{a.pk}": {"comment": "Demodata: först."}})
    assert first.post(f"{url}?period={demo.pk}", data).status_code == 302
    data = _post_back(second_page, **{f"r{b.pk}": {"comment": "Demodata: sedan."}})
    response = second.post(f"{url}?period={demo.pk}", data)
    assert response.status_code == 302
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.comment, b.comment) == ("Demodata: först.", "Demodata: sedan.")


def test_report_pages_show_demo_reports_without_a_submitter(demo, editor, client_for):
    report = StatusReport.objects.filter(period=demo, state="submitted").first()
    response = client_for(editor).get(reverse("followup:report", args=[report.pk]))
    assert response.status_code == 200
