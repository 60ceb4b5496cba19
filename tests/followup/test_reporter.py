"""The reporter page, "Mina rapporter" (followup:my_reports).

cecilia reports for Bromma and david for Farsta; alice the editor, bob the
approver and erik the reader have no ``followup.report_status`` and are
refused (403), as is frida without a role; anonymous visitors are sent to the
login page. A refused POST changes nothing.

The period is 2022 T1 on the 2021 roadmap: every district has 101
obligations. The tests post what a browser would post back from the page
(every row's fields, read from the rendered forms) with the user's changes.
"""

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext

from accounts import roles
from followup.models import PeriodClosedError, ReportingPeriod, Status, StatusReport
from followup.services import (
    ReportInput,
    period_close,
    status_report_reopen,
    status_report_save,
)
from followup.services import reporter as reporter_service
from tests.browser.conftest import axe_check, browser_page, login  # noqa: F401 - fixtures
from tests.helpers import TEN_DISTRICTS, parse_html

URL = reverse("followup:my_reports")
TODAY = datetime.date.today()


# --- Helpers ------------------------------------------------------------------------


def rows(response) -> list[StatusReport]:
    """The rows on the page, in the order the selector loads them."""
    return response.context["page"].reports


def form_data(response, action: str = "draft", **changes: dict) -> dict:
    """What the browser posts back from the page: every editable row's fields
    as rendered (bound values after a re-render), then ``changes``, keyed by
    report pk as ``r<pk>`` → {field: value}."""
    data: dict = {"report": [], "action": action}
    for report in rows(response):
        form = report.form
        if form is None:
            continue
        data["report"].append(str(report.pk))
        for name in form.fields:
            value = form[name].value()
            data[form[name].html_name] = "" if value is None else str(value)
    for prefix, fields in changes.items():
        for name, value in fields.items():
            data[f"{prefix}-{name}"] = value
    return data


def snapshot(period: ReportingPeriod) -> list[tuple]:
    """Everything a save could change, to show that a refusal changed nothing."""
    return list(
        StatusReport.objects.filter(period=period)
        .order_by("pk")
        .values_list(
            "pk",
            "version",
            "status_id",
            "comment",
            "planned_next_action",
            "expected_completion",
            "state",
        )
    )


def r(report: StatusReport) -> str:
    return f"r{report.pk}"


@pytest.fixture(autouse=True)
def one_page(settings):
    """All of a district's 101 rows on one page: these tests post the whole
    period at once. (Paging has its own tests in test_reporter_views.py.)"""
    settings.FOLLOWUP_REPORTS_PER_PAGE = 1000


@pytest.fixture
def bromma_page(open_period, bromma_reporter, client_for):
    client = client_for(bromma_reporter)
    response = client.get(URL)
    assert response.status_code == 200
    return client, response


# --- The Bromma reporter's journey --------------------------------------------------


def test_reporter_journey_save_draft_fix_errors_and_submit(bromma_page, open_period, statuses):
    client, response = bromma_page
    page = response.context["page"]
    assert page.total == 101 and page.done == 0
    assert all(report.organisation.code == "bromma" for report in page.reports)
    html = parse_html(response.content)
    assert "Mina rapporter" in html.text["title"][0] or "My reports" in html.text["title"][0]
    assert len(html.text["h1"]) == 1
    assert b'id="report-progress"' in response.content
    progress = response.content.split(b'id="report-progress">')[1].split(b"<")[0].decode()
    assert "0" in progress and "101" in progress
    # One fieldset per obligation; every visible field has a label.
    assert response.content.count(b"<fieldset") == 101
    labels = {a.get("for") for tag, a in html.tags if tag == "label"}
    fields = [
        a
        for tag, a in html.tags
        if tag in ("select", "textarea") or (tag == "input" and a.get("type") == "text")
    ]
    assert len(fields) == 101 * 4
    assert all(a["id"] in labels for a in fields)

    # Save a draft of three rows; the others are left alone.
    first, second, third, *_ = rows(response)
    data = form_data(
        response,
        **{
            r(first): {"status": statuses["paborjad"].pk},
            r(second): {"status": statuses["genomford"].pk, "comment": "Klart i mars."},
            r(third): {"planned_next_action": "Workshop i juni", "expected_completion": "T2"},
        },
    )
    response = client.post(f"{URL}?period={open_period.pk}", data)
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?period={open_period.pk}"
    saved = {s.pk: s for s in StatusReport.objects.filter(pk__in=[first.pk, second.pk, third.pk])}
    assert saved[first.pk].status == statuses["paborjad"]
    assert saved[second.pk].comment == "Klart i mars."
    assert saved[third.pk].planned_next_action == "Workshop i juni"
    assert all(s.state == StatusReport.State.DRAFT and s.version == 2 for s in saved.values())
    untouched = StatusReport.objects.filter(period=open_period, organisation__code="bromma")
    assert untouched.filter(version=1).count() == 98

    # A bad status: nothing saved, the error at the field and in the summary,
    # and the user's other entries kept.
    response = client.get(response["Location"])
    assert response.context["page"].done == 0
    fourth, fifth = rows(response)[3], rows(response)[4]
    before = snapshot(open_period)
    data = form_data(
        response,
        **{
            r(fourth): {"status": "9999"},
            r(fifth): {"comment": "En kommentar som ska finnas kvar"},
        },
    )
    response = client.post(f"{URL}?period={open_period.pk}", data)
    assert response.status_code == 400
    assert snapshot(open_period) == before
    assert "En kommentar som ska finnas kvar" in response.content.decode()
    html = parse_html(response.content)
    assert any(tag == "div" and a.get("role") == "alert" for tag, a in html.tags)
    assert f'href="#id_{r(fourth)}-status"'.encode() in response.content
    select = next(a for tag, a in html.tags if a.get("id") == f"id_{r(fourth)}-status")
    assert select["aria-invalid"] == "true"
    assert f"id_{r(fourth)}-status_error" in select["aria-describedby"]
    assert html.text["title"][0].startswith(("Fel", "Error"))

    # "Submit" submits the complete rows; the others stay drafts, their
    # changes saved, and each says what it lacks (once, after the redirect).
    data = form_data(response, action="submit", **{r(fourth): {"status": ""}})
    response = client.post(f"{URL}?period={open_period.pk}", data)
    assert response.status_code == 302
    reports = StatusReport.objects.filter(period=open_period, organisation__code="bromma")
    submitted = reports.filter(state=StatusReport.State.SUBMITTED)
    assert set(submitted.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert reports.get(pk=fifth.pk).comment == "En kommentar som ska finnas kvar"
    assert reports.get(pk=fifth.pk).state == StatusReport.State.DRAFT
    response = client.get(response["Location"])
    page = response.context["page"]
    assert (page.done, page.total) == (2, 101)
    message = next(iter(response.context["messages"]))
    assert "2" in str(message) and "99" in str(message)
    # The default view shows what is left to do: the 99 drafts, each with its note.
    left = rows(response)
    assert len(left) == 99 and {first.pk, second.pk}.isdisjoint(rep.pk for rep in left)
    assert all(rep.left for rep in left)
    assert f'id="report-{fifth.pk}-left"'.encode() in response.content
    assert b'class="report-left"' not in client.get(response.request["PATH_INFO"]).content

    # Give every row a status and submit: all submitted, the count changes.
    changes = {r(report): {"status": statuses["pagar-enligt-plan"].pk} for report in left}
    response = client.post(
        f"{URL}?period={open_period.pk}", form_data(response, action="submit", **changes)
    )
    assert response.status_code == 302
    reports = StatusReport.objects.filter(period=open_period, organisation__code="bromma")
    assert reports.filter(state=StatusReport.State.SUBMITTED).count() == 101
    assert reports.get(pk=fifth.pk).comment == "En kommentar som ska finnas kvar"
    response = client.get(response["Location"])
    page = response.context["page"]
    assert (page.done, page.total) == (101, 101)
    progress = response.content.split(b'id="report-progress">')[1].split(b"<")[0].decode()
    assert progress.count("101") == 2
    assert b"message-success" in response.content


def test_submitted_rows_stay_editable_and_are_submitted_again(
    bromma_page, open_period, statuses, farsta_reporter
):
    client, response = bromma_page
    changes = {r(report): {"status": statuses["ej-paborjad"].pk} for report in rows(response)}
    client.post(f"{URL}?period={open_period.pk}", form_data(response, "submit", **changes))
    response = client.get(f"{URL}?show=all")
    row = rows(response)[0]
    first_submission = StatusReport.objects.get(pk=row.pk).submitted_at

    # "Save draft" on a submitted row submits the change: the submit rules apply.
    late = {r(row): {"status": statuses["forsenad"].pk}}
    refused = client.post(f"{URL}?period={open_period.pk}", form_data(response, **late))
    assert refused.status_code == 400
    assert f'href="#id_{r(row)}-comment"'.encode() in refused.content
    late[r(row)]["comment"] = "Upphandlingen drog ut på tiden."
    saved = client.post(f"{URL}?period={open_period.pk}", form_data(response, **late))
    assert saved.status_code == 302
    row = StatusReport.objects.get(pk=row.pk)
    assert row.state == StatusReport.State.SUBMITTED
    assert row.status == statuses["forsenad"]
    assert row.submitted_at > first_submission


def test_saving_without_changes_saves_nothing(bromma_page, open_period):
    client, response = bromma_page
    before = snapshot(open_period)
    response = client.post(f"{URL}?period={open_period.pk}", form_data(response), follow=True)
    assert response.status_code == 200
    assert snapshot(open_period) == before
    assert b"message-info" in response.content


# --- Who may see and post the page --------------------------------------------------


NOT_REPORTERS = ("editor", "approver", "reader", "no_role_user")


def test_reporters_see_only_their_own_organisation(
    open_period, bromma_reporter, farsta_reporter, client_for
):
    for user, code in ((bromma_reporter, "bromma"), (farsta_reporter, "farsta")):
        response = client_for(user).get(URL)
        assert response.status_code == 200
        reports = rows(response)
        assert len(reports) == 101
        assert {report.organisation.code for report in reports} == {code}
        assert not response.context["several_organisations"]


def test_only_reporters_may_see_or_post_the_page(
    request, bromma_page, open_period, client_for, statuses
):
    _, response = bromma_page
    data = form_data(
        response, **{r(report): {"status": statuses["avbruten"].pk} for report in rows(response)}
    )
    before = snapshot(open_period)
    for role in NOT_REPORTERS:
        client = client_for(request.getfixturevalue(role))
        assert client.get(URL).status_code == 403, role
        assert client.post(f"{URL}?period={open_period.pk}", data).status_code == 403, role
    anonymous = client_for(request.getfixturevalue("anonymous"))
    for response in (anonymous.get(URL), anonymous.post(f"{URL}?period={open_period.pk}", data)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert snapshot(open_period) == before


def test_farsta_reporter_cannot_touch_bromma_reports(
    bromma_page, open_period, farsta_reporter, client_for, statuses
):
    _, bromma = bromma_page
    client = client_for(farsta_reporter)
    farsta = client.get(URL)
    bromma_row, farsta_row = rows(bromma)[0], rows(farsta)[0]
    status = {"status": statuses["genomford"].pk}
    before = snapshot(open_period)

    # Bromma's whole page posted by Farsta's reporter.
    assert client.post(URL, form_data(bromma, **{r(bromma_row): status})).status_code == 403
    # Farsta's own page with one Bromma row listed: refused as a whole.
    mixed = form_data(farsta, **{r(farsta_row): status})
    mixed["report"].append(str(bromma_row.pk))
    mixed[f"{r(bromma_row)}-status"] = statuses["genomford"].pk
    mixed[f"{r(bromma_row)}-expected_version"] = "1"
    assert client.post(URL, mixed).status_code == 403
    # A Bromma field smuggled in without being listed, or a copy button.
    smuggled = form_data(farsta, **{r(farsta_row): status})
    smuggled[f"{r(bromma_row)}-status"] = statuses["genomford"].pk
    assert client.post(URL, smuggled).status_code == 403
    assert client.post(URL, {**form_data(farsta), f"copy-{bromma_row.pk}": "1"}).status_code == 403
    assert snapshot(open_period) == before

    # Both sides: Farsta's own row is saved.
    own = client.post(URL, form_data(farsta, **{r(farsta_row): status}))
    assert own.status_code == 302
    assert StatusReport.objects.get(pk=farsta_row.pk).status == statuses["genomford"]


def test_reports_of_another_period_cannot_be_posted(
    bromma_page, open_period, make_period, statuses
):
    client, response = bromma_page
    later = make_period(2022, "T2", deadline=TODAY + datetime.timedelta(days=30))
    before = snapshot(open_period)
    data = form_data(response, **{r(rows(response)[0]): {"status": statuses["paborjad"].pk}})
    assert client.post(f"{URL}?period={later.pk}", data).status_code == 403
    assert snapshot(open_period) == before


# --- Periods ------------------------------------------------------------------------


def test_no_open_period_gives_a_friendly_page(statuses, bromma_reporter, client_for):
    response = client_for(bromma_reporter).get(URL)
    assert response.status_code == 200
    assert response.context["page"] is None
    assert len(parse_html(response.content).text["h1"]) == 1


def test_unknown_or_planned_period_is_not_found(
    open_period, make_period, bromma_reporter, client_for
):
    planned = make_period(2022, "T2", open=False)
    client = client_for(bromma_reporter)
    assert client.get(f"{URL}?period={planned.pk}").status_code == 404
    assert client.get(f"{URL}?period=999999").status_code == 404
    assert client.get(f"{URL}?period=abc").status_code == 404


def test_a_closed_period_is_read_only_and_refuses_posts(bromma_page, open_period, editor, statuses):
    client, response = bromma_page
    data = form_data(response, **{r(rows(response)[0]): {"status": statuses["paborjad"].pk}})
    period_close(
        period=open_period, actor=editor, today=open_period.deadline + datetime.timedelta(1)
    )
    before = snapshot(open_period)
    refused = client.post(f"{URL}?period={open_period.pk}", data)
    assert refused.status_code == 400
    assert str(PeriodClosedError().message) in refused.content.decode()
    assert b'role="alert"' in refused.content
    assert snapshot(open_period) == before

    shown = client.get(f"{URL}?period={open_period.pk}")
    assert shown.status_code == 200
    assert not shown.context["editable"]
    assert b'method="post" action="/uppfoljning' not in shown.content
    assert b'<select name="r' not in shown.content
    assert shown.content.count(b'class="report report--draft"') == 101


def test_a_reopened_report_of_a_closed_period_can_be_corrected(
    bromma_page, open_period, editor, statuses
):
    client, response = bromma_page
    changes = {r(report): {"status": statuses["ej-paborjad"].pk} for report in rows(response)}
    client.post(URL, form_data(response, "submit", **changes))
    period_close(
        period=open_period, actor=editor, today=open_period.deadline + datetime.timedelta(1)
    )
    row = StatusReport.objects.filter(period=open_period, organisation__code="bromma").first()
    status_report_reopen(report=row, actor=editor, reason="Fel status angiven")

    page = client.get(f"{URL}?period={open_period.pk}")
    assert [rep.pk for rep in rows(page) if rep.form is not None] == [row.pk]
    fixed = client.post(
        f"{URL}?period={open_period.pk}",
        form_data(page, **{r(row): {"status": statuses["genomford"].pk, "comment": "Klart."}}),
    )
    assert fixed.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.state, row.reopened) == (
        statuses["genomford"],
        StatusReport.State.SUBMITTED,
        False,
    )
    # Submitted again, it is locked with the rest of the period.
    assert client.post(f"{URL}?period={open_period.pk}", form_data(page)).status_code == 400


# --- Field rules --------------------------------------------------------------------


def test_an_inactive_status_is_refused(bromma_page, open_period, statuses):
    client, response = bromma_page
    Status.objects.filter(pk=statuses["ej-aktuell"].pk).update(is_active=False)
    row = rows(response)[0]
    before = snapshot(open_period)
    refused = client.post(
        f"{URL}?period={open_period.pk}",
        form_data(response, **{r(row): {"status": statuses["ej-aktuell"].pk}}),
    )
    assert refused.status_code == 400
    assert refused.context["page"].reports[0].form.errors["status"]
    assert snapshot(open_period) == before


def test_submitting_a_status_that_needs_a_comment_without_one(bromma_page, open_period, statuses):
    client, response = bromma_page
    changes = {r(report): {"status": statuses["ej-paborjad"].pk} for report in rows(response)}
    late = rows(response)[7]
    changes[r(late)] = {"status": statuses["forsenad"].pk, "comment": "   "}
    submitted = client.post(
        f"{URL}?period={open_period.pk}", form_data(response, "submit", **changes)
    )
    # The complete rows are submitted; the delayed row without a comment is
    # saved as a draft, and the page says what it lacks.
    assert submitted.status_code == 302
    reports = StatusReport.objects.filter(period=open_period, organisation__code="bromma")
    assert reports.filter(state=StatusReport.State.SUBMITTED).count() == 100
    late = reports.get(pk=late.pk)
    assert (late.state, late.status) == (StatusReport.State.DRAFT, statuses["forsenad"])
    response = client.get(submitted["Location"])
    assert [rep.pk for rep in rows(response)] == [late.pk]
    (reason,) = rows(response)[0].left
    assert "Försenad" in reason
    # A draft may still lack the comment.
    saved = client.post(
        f"{URL}?period={open_period.pk}",
        form_data(response, **{r(late): {"planned_next_action": "Ny tidplan i maj"}}),
    )
    assert saved.status_code == 302
    assert StatusReport.objects.get(pk=late.pk).state == StatusReport.State.DRAFT


# --- The previous period ------------------------------------------------------------


@pytest.fixture
def t2_after_t1(make_period, editor, bromma_reporter, statuses):
    """2022 T1, where Bromma submitted its first two reports, closed; then
    2022 T2, open, on the same roadmap."""
    t1 = make_period(
        2022, "T1", opens_on=datetime.date(2022, 4, 1), deadline=datetime.date(2022, 5, 10)
    )
    reports = list(
        StatusReport.objects.filter(period=t1, organisation__code="bromma")
        .select_related("period", "organisation")
        .order_by("pk")[:2]
    )
    for report, code, comment in zip(
        reports, ["forsenad", "pagar-enligt-plan"], ["Väntar på regionen.", ""], strict=True
    ):
        status_report_save(
            report=report,
            data=ReportInput(status=statuses[code], comment=comment, expected_version=1),
            actor=bromma_reporter,
            submit=True,
        )
    period_close(period=t1, actor=editor, today=datetime.date(2022, 5, 11))
    t2 = make_period(2022, "T2", opens_on=TODAY - datetime.timedelta(days=1), deadline=TODAY)
    return t1, t2, {report.lineage_id: report for report in reports}


def test_previous_report_is_shown_and_copied(t2_after_t1, bromma_reporter, client_for, statuses):
    t1, t2, earlier = t2_after_t1
    client = client_for(bromma_reporter)
    response = client.get(URL)
    assert response.context["period"] == t2
    content = response.content.decode()
    assert "Väntar på regionen." in content
    late = next(rep for rep in rows(response) if rep.lineage_id in earlier and rep.previous.comment)
    assert late.previous.status == statuses["forsenad"]
    assert content.count('name="copy-') == 2

    before = snapshot(t2)
    copied = client.post(
        f"{URL}?period={t2.pk}",
        {
            **form_data(response, **{r(rows(response)[-1]): {"comment": "Behåll mig"}}),
            f"copy-{late.pk}": "1",
        },
    )
    assert copied.status_code == 200
    assert snapshot(t2) == before  # nothing saved
    form = next(rep.form for rep in rows(copied) if rep.pk == late.pk)
    assert form["status"].value() == str(statuses["forsenad"].pk)
    assert form["comment"].value() == "Väntar på regionen."
    html = copied.content.decode()
    assert f'<option value="{statuses["forsenad"].pk}" selected>Försenad</option>' in html
    assert "Behåll mig" in html  # the user's other entries are kept
    assert copied.context["page_errors"] == [] and copied.context["error_summary"] == []

    # The copy is saved with the next save.
    saved = client.post(f"{URL}?period={t2.pk}", form_data(copied))
    assert saved.status_code == 302
    assert StatusReport.objects.get(pk=late.pk).comment == "Väntar på regionen."


def test_a_changed_status_needs_a_comment_to_submit(
    t2_after_t1, bromma_reporter, client_for, statuses
):
    _, t2, earlier = t2_after_t1
    client = client_for(bromma_reporter)
    response = client.get(URL)
    on_plan = next(
        rep for rep in rows(response) if rep.lineage_id in earlier and not rep.previous.comment
    )
    changes = {r(rep): {"status": statuses["pagar-enligt-plan"].pk} for rep in rows(response)}
    changes[r(on_plan)] = {"status": statuses["genomford"].pk}
    changes.update(
        {
            r(rep): {"status": statuses["forsenad"].pk, "comment": "Fortfarande försenad."}
            for rep in rows(response)
            if rep.lineage_id in earlier and rep.previous.comment
        }
    )
    submitted = client.post(f"{URL}?period={t2.pk}", form_data(response, "submit", **changes))
    assert submitted.status_code == 302
    # Every row but the one whose status changed without a comment.
    left = StatusReport.objects.filter(period=t2, organisation__code="bromma").exclude(
        state=StatusReport.State.SUBMITTED
    )
    assert list(left.values_list("pk", flat=True)) == [on_plan.pk]
    response = client.get(submitted["Location"])
    (row,) = rows(response)
    assert row.pk == on_plan.pk and "Pågår enligt plan" in row.left[0]
    changes = {r(on_plan): {"status": statuses["genomford"].pk, "comment": "Klart före plan."}}
    assert (
        client.post(f"{URL}?period={t2.pk}", form_data(response, "submit", **changes)).status_code
        == 302
    )
    assert StatusReport.objects.get(pk=on_plan.pk).state == StatusReport.State.SUBMITTED


def test_closed_period_reports_are_shown_read_only(t2_after_t1, bromma_reporter, client_for):
    t1, _, _ = t2_after_t1
    response = client_for(bromma_reporter).get(f"{URL}?period={t1.pk}")
    assert response.status_code == 200
    assert response.context["page"].done == 2
    assert "Väntar på regionen." in response.content.decode()
    assert not response.context["editable"]


# --- Concurrent edits ---------------------------------------------------------------


def test_a_row_changed_by_someone_else_is_a_conflict(bromma_page, open_period, statuses):
    client, tab_a = bromma_page
    tab_b = client.get(URL)
    row, other = rows(tab_a)[0], rows(tab_a)[5]
    saved = client.post(
        URL, form_data(tab_a, **{r(row): {"status": statuses["paborjad"].pk, "comment": "A"}})
    )
    assert saved.status_code == 302
    before = snapshot(open_period)

    data = form_data(
        tab_b,
        **{
            r(row): {"status": statuses["genomford"].pk, "comment": "B"},
            r(other): {"comment": "B:s andra rad"},
        },
    )
    refused = client.post(URL, data)
    assert refused.status_code == 400
    assert snapshot(open_period) == before  # nothing saved, not even the other row
    form = next(rep.form for rep in rows(refused) if rep.pk == row.pk)
    assert form.non_field_errors()
    assert "Påbörjad" in form.non_field_errors()[0]  # what is saved now
    assert form["status"].value() == str(statuses["genomford"].pk)  # B's entries kept
    assert "B:s andra rad" in refused.content.decode()
    assert f'href="#report-{row.pk}"'.encode() in refused.content

    # Having seen the conflict, B saves again and knowingly replaces A's version.
    again = client.post(URL, form_data(refused))
    assert again.status_code == 302
    row = StatusReport.objects.get(pk=row.pk)
    assert (row.status, row.comment) == (statuses["genomford"], "B")


def test_a_row_only_someone_else_changed_is_left_alone_by_a_draft_save(
    bromma_page, open_period, statuses
):
    client, tab_a = bromma_page
    tab_b = client.get(URL)
    row, other = rows(tab_a)[0], rows(tab_a)[5]
    client.post(URL, form_data(tab_a, **{r(row): {"status": statuses["paborjad"].pk}}))
    saved = client.post(URL, form_data(tab_b, **{r(other): {"status": statuses["genomford"].pk}}))
    assert saved.status_code == 302
    assert StatusReport.objects.get(pk=row.pk).status == statuses["paborjad"]
    assert StatusReport.objects.get(pk=other.pk).status == statuses["genomford"]


def test_a_race_during_the_save_rolls_everything_back(
    bromma_page, open_period, statuses, monkeypatch
):
    """Another save slips in between the checks and the saves: the
    compare-and-set catches it and nothing of the POST is kept."""
    client, response = bromma_page
    first, second = rows(response)[0], rows(response)[1]
    real_save = reporter_service.status_report_save

    def save_after_someone_else(*, report, **kwargs):
        if report.pk == second.pk:
            StatusReport.objects.filter(pk=second.pk).update(version=F("version") + 1)
        return real_save(report=report, **kwargs)

    monkeypatch.setattr(reporter_service, "status_report_save", save_after_someone_else)
    before = snapshot(open_period)
    status = {"status": statuses["paborjad"].pk}
    refused = client.post(URL, form_data(response, **{r(first): status, r(second): status}))
    assert refused.status_code == 400
    assert snapshot(open_period) == before
    form = next(rep.form for rep in rows(refused) if rep.pk == second.pk)
    assert form.non_field_errors()


# --- Queries ------------------------------------------------------------------------


@pytest.fixture
def ten_districts_reporter(make_user, open_period):
    """gustav reports for ten districts: ten times the rows of one."""
    return make_user("gustav", roles.REPORTER, TEN_DISTRICTS)


def _count(client, method: str, *args) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(*args)
    return len(queries), response


def test_the_page_runs_a_fixed_number_of_queries(bromma_page, ten_districts_reporter, client_for):
    client, _ = bromma_page
    one, response = _count(client, "get", URL)
    assert response.context["page"].total == 101
    ten, response = _count(client_for(ten_districts_reporter), "get", URL)
    assert response.context["page"].total == 1010
    assert response.context["several_organisations"]
    print(f"\nGET queries: {one} for 101 rows, {ten} for 1010 rows")
    assert one == ten
    assert one <= 16


def test_saving_costs_the_same_per_row(open_period, make_user, client_for, statuses, settings):
    """N changed rows cost a fixed number of queries plus the same number per
    row; checking the rows costs nothing per row."""
    user = make_user("gustav", roles.REPORTER, ("bromma", "farsta"))
    client = client_for(user)
    saves, refusals = {}, {}
    offset = 0
    for n in (22, 44, 88):
        page = client.get(URL)
        chosen = rows(page)[offset : offset + n]
        offset += n
        # Refused: N rows with an unknown status. Nothing is saved.
        bad = form_data(page, **{r(rep): {"status": "9999"} for rep in chosen})
        refusals[n], response = _count(client, "post", URL, bad)
        assert response.status_code == 400
        assert len(response.context["error_summary"]) == n
        # Saved: N rows get a status.
        good = form_data(page, **{r(rep): {"status": statuses["paborjad"].pk} for rep in chosen})
        saves[n], response = _count(client, "post", URL, good)
        assert response.status_code == 302
    per_row = (saves[44] - saves[22]) / 22
    print(f"\nPOST save draft, queries by rows saved: {saves}; per row {per_row}")
    print(f"POST refused, queries by rows in error: {refusals}")
    assert per_row == (saves[88] - saves[44]) / 44 == int(per_row)
    assert saves[22] - 22 * per_row < 20  # the fixed part
    assert refusals[22] == refusals[44] == refusals[88]


def test_a_reporter_of_two_districts_can_save_the_whole_page(
    open_period, make_user, client_for, statuses
):
    user = make_user("helga", roles.REPORTER, ("bromma", "farsta"))
    client = client_for(user)
    page = client.get(URL)
    assert page.context["page"].total == 202
    row = rows(page)[0]
    response = client.post(URL, form_data(page, **{r(row): {"status": statuses["paborjad"].pk}}))
    assert response.status_code == 302


# --- In a real browser, checked with axe-core (layer 4) -----------------------------


@pytest.mark.django_db(transaction=True)
def test_reporter_page_in_the_browser(
    browser_page,  # noqa: F811
    login,  # noqa: F811
    axe_check,  # noqa: F811
    live_server,
    t2_after_t1,
    bromma_reporter,
):
    _, t2, _ = t2_after_t1
    page = browser_page
    login(page, bromma_reporter)
    page.goto(f"{live_server.url}{URL}")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.locator("h1").count() == 1
    axe_check(page)

    # "Same as last period" fills in the row, saves nothing, and comes back at the row.
    page.get_by_role("button", name=gettext("Same as last period")).first.click()
    page.wait_for_load_state()
    assert "#report-" in page.url
    row = page.url.rsplit("#report-", 1)[1]
    assert page.locator(f"#id_r{row}-comment").input_value() == "Väntar på regionen."
    axe_check(page)

    # "Submit" submits the complete row and keeps the others as drafts, each
    # saying what it lacks; the view of what is left no longer shows the row.
    page.get_by_role("button", name=gettext("Submit")).first.click()
    page.wait_for_load_state()
    assert page.locator(".message-success").is_visible()
    assert StatusReport.objects.get(pk=int(row)).state == StatusReport.State.SUBMITTED
    assert page.locator(f"#report-{row}").count() == 0
    assert page.locator(".report-left").count() == 100
    axe_check(page)

    # Enter in a text field presses the first button of the form: Save draft.
    other = page.locator("fieldset.report").first.get_attribute("id").removeprefix("report-")
    page.locator(f"#id_r{other}-expected_completion").fill("December")
    page.locator(f"#id_r{other}-expected_completion").press("Enter")
    page.wait_for_load_state()
    assert page.locator(".message-success").is_visible()
    report = StatusReport.objects.get(pk=int(other))
    assert report.expected_completion == "December"
    assert report.state == StatusReport.State.DRAFT and report.period == t2
