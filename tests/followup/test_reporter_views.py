"""The reporter page for real workloads: which period it opens, its views,
progress per focus area, a page of rows at a time, partial submission, copying
every unchanged report from the previous period, and its cost at ten times the
rows.

cecilia reports for Bromma (101 obligations per period on the 2021 roadmap);
gustav reports for ten districts (1,010). Pages of 30 rows.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import roles
from followup.models import StatusReport
from followup.services import ReportInput, period_close, status_report_save
from tests.helpers import TEN_DISTRICTS

URL = reverse("followup:my_reports")
TODAY = datetime.date.today()


@pytest.fixture(autouse=True)
def thirty_a_page(settings):
    """The figures below count with 30 rows a page."""
    settings.FOLLOWUP_REPORTS_PER_PAGE = 30


def rows(response) -> list[StatusReport]:
    return response.context["page"].reports


def form_data(response, action: str = "draft", **changes) -> dict:
    """What the browser posts back: every row on the page as rendered, then
    ``changes`` by ``r<pk>``."""
    data: dict = {"report": [], "action": action}
    for report in rows(response):
        if report.form is None:
            continue
        data["report"].append(str(report.pk))
        for name in report.form.fields:
            value = report.form[name].value()
            data[report.form[name].html_name] = "" if value is None else str(value)
    for prefix, fields in changes.items():
        for name, value in fields.items():
            data[f"{prefix}-{name}"] = value
    return data


def submit(report, user, status, comment: str = "") -> None:
    fresh = StatusReport.objects.select_related("period", "organisation").get(pk=report.pk)
    status_report_save(
        report=fresh,
        data=ReportInput(status=status, comment=comment, expected_version=fresh.version),
        actor=user,
        submit=True,
    )


def bromma(period):
    return StatusReport.objects.filter(period=period, organisation__code="bromma")


# --- Which period -------------------------------------------------------------------


def test_two_open_periods_open_the_nearest_deadline_with_work_left(
    make_period, bromma_reporter, client_for, statuses
):
    near = make_period(
        2022, "T1", opens_on=TODAY - datetime.timedelta(days=30), deadline=TODAY + timedelta(21)
    )
    far = make_period(
        2022, "T2", opens_on=TODAY - datetime.timedelta(days=1), deadline=TODAY + timedelta(159)
    )
    client = client_for(bromma_reporter)
    response = client.get(URL)
    assert response.context["period"] == near
    # The other open period is linked, with its deadline and what is left in it.
    others = response.context["other_periods"]
    assert [other.period for other in others] == [far]
    assert others[0].left == 101
    assert f'href="{URL}?period={far.pk}"'.encode() in response.content

    # Once everything in the near period is submitted, the page opens the far one.
    for report in bromma(near):
        submit(report, bromma_reporter, statuses["ej-paborjad"])
    assert client.get(URL).context["period"] == far


def timedelta(days: int) -> datetime.timedelta:
    return datetime.timedelta(days=days)


# --- Views, progress and pages ------------------------------------------------------


def test_views_count_and_show_their_rows(open_period, bromma_reporter, client_for, statuses):
    reports = list(bromma(open_period).order_by("pk"))
    submit(reports[0], bromma_reporter, statuses["genomford"])
    submit(reports[1], bromma_reporter, statuses["forsenad"], "Väntar.")  # a problem
    client = client_for(bromma_reporter)
    response = client.get(URL)
    page = response.context["page"]
    assert page.show == "todo"
    # No earlier period: every row with a status counts as changed.
    assert page.counts == {"todo": 99, "all": 101, "changed": 2, "problems": 1}
    assert (page.page_count, page.shown_total) == (4, 99)
    assert len(rows(response)) == 30
    assert all(not report.is_submitted for report in rows(response))
    # The views are links with their counts; the current one is marked.
    html = response.content.decode()
    assert 'aria-current="page">Inte klara (99)' in html or 'aria-current="page">Not done' in html

    problems = client.get(f"{URL}?period={open_period.pk}&show=problems")
    assert [report.pk for report in rows(problems)] == [reports[1].pk]
    every = client.get(f"{URL}?period={open_period.pk}&show=all&page=4")
    assert every.context["page"].page_number == 4
    assert len(rows(every)) == 101 - 3 * 30
    # An unknown view or page number falls back; it is never an error.
    assert client.get(f"{URL}?show=nonsense&page=-3").status_code == 200
    assert client.get(f"{URL}?page=999").context["page"].page_number == 4


def test_progress_per_focus_area_links_to_where_its_rows_start(
    open_period, bromma_reporter, client_for, statuses
):
    client = client_for(bromma_reporter)
    response = client.get(URL)
    areas = response.context["page"].areas
    assert len(areas) == 4
    assert sum(area.total for area in areas) == 101
    assert all(area.done == 0 for area in areas)
    # The first area starts on page 1, the last on a later page.
    assert areas[0].first_page == 1 and areas[-1].first_page > 1
    last = client.get(areas[-1].link)
    assert rows(last)[-1].action.need.focus_area == areas[-1].focus_area
    # Submitting the first area's rows shows in its progress.
    first_area = areas[0].focus_area
    for report in bromma(open_period):
        if report.action.need.focus_area == first_area:
            submit(report, bromma_reporter, statuses["ej-paborjad"])
    areas = client.get(URL).context["page"].areas
    assert areas[0].done == areas[0].total and areas[0].left == 0
    assert areas[0].first_page is None  # nothing of it is left to do
    assert areas[0].link == ""


# --- Partial submission -------------------------------------------------------------


def test_submit_on_one_page_submits_its_complete_rows_and_says_what_is_left(
    open_period, bromma_reporter, client_for, statuses
):
    client = client_for(bromma_reporter)
    response = client.get(URL)
    shown = rows(response)
    complete = {f"r{report.pk}": {"status": statuses["pagar-enligt-plan"].pk} for report in shown}
    complete[f"r{shown[5].pk}"] = {"status": statuses["avbruten"].pk}  # needs a comment
    complete[f"r{shown[6].pk}"] = {"status": ""}
    submitted = client.post(
        response.context["form_action"], form_data(response, "submit", **complete)
    )
    assert submitted.status_code == 302
    assert bromma(open_period).filter(state=StatusReport.State.SUBMITTED).count() == 28
    response = client.get(submitted["Location"])
    message = str(next(iter(response.context["messages"])))
    assert "28" in message and "2" in message
    page = response.context["page"]
    assert (page.done, page.counts["todo"]) == (28, 73)
    left = {report.pk: report.left for report in rows(response) if report.left}
    assert set(left) == {shown[5].pk, shown[6].pk}
    assert "Avbruten" in left[shown[5].pk][0]


# --- Copy all unchanged from last period --------------------------------------------


@pytest.fixture
def t2_after_t1(make_period, editor, bromma_reporter, statuses):
    """2022 T1, where Bromma submitted every report (two with comments),
    closed; then 2022 T2, open."""
    t1 = make_period(
        2022, "T1", opens_on=datetime.date(2022, 4, 1), deadline=datetime.date(2022, 5, 10)
    )
    reports = list(bromma(t1).order_by("pk"))
    for index, report in enumerate(reports):
        status = statuses["forsenad"] if index < 2 else statuses["pagar-enligt-plan"]
        submit(report, bromma_reporter, status, "Väntar på regionen." if index < 2 else "")
    period_close(period=t1, actor=editor, today=datetime.date(2022, 5, 11))
    t2 = make_period(2022, "T2", opens_on=TODAY - timedelta(1), deadline=TODAY + timedelta(10))
    return t1, t2


def test_copy_all_fills_the_untouched_rows_and_keeps_the_edited_ones(
    t2_after_t1, bromma_reporter, client_for, statuses
):
    t1, t2 = t2_after_t1
    client = client_for(bromma_reporter)
    response = client.get(URL)
    shown = rows(response)
    # One row edited before (saved), one edited in the form now (not saved yet).
    edited = bromma(t2).order_by("pk").last()
    status_report_save(
        report=StatusReport.objects.select_related("period", "organisation").get(pk=edited.pk),
        data=ReportInput(status=statuses["genomford"], comment="Klart.", expected_version=1),
        actor=bromma_reporter,
        submit=False,
    )
    now_edited = shown[3]
    data = form_data(response, "copy_all", **{f"r{now_edited.pk}": {"comment": "Mitt utkast"}})
    copied = client.post(response.context["form_action"], data)
    assert copied.status_code == 302
    reports = {report.pk: report for report in bromma(t2).select_related("status")}
    # The two edited rows are as the user left them.
    assert (reports[edited.pk].status, reports[edited.pk].comment) == (
        statuses["genomford"],
        "Klart.",
    )
    assert (reports[now_edited.pk].status, reports[now_edited.pk].comment) == (None, "Mitt utkast")
    # Every other row has its T1 report, as a draft.
    rest = [report for pk, report in reports.items() if pk not in (edited.pk, now_edited.pk)]
    assert len(rest) == 99
    assert all(report.state == StatusReport.State.DRAFT for report in rest)
    assert all(report.status is not None for report in rest)
    assert sum(report.comment == "Väntar på regionen." for report in rest) == 2
    told = " ".join(str(m) for m in client.get(copied["Location"]).context["messages"])
    assert "99" in told and t1.label in told

    # Copying again copies nothing: every row is edited now.
    again = client.get(URL)
    client.post(again.context["form_action"], form_data(again, "copy_all"))
    assert {r.pk: r.version for r in bromma(t2)} == {pk: r.version for pk, r in reports.items()}

    # The copied rows are complete: "Submit" submits the first page but the
    # row the user started without a status.
    page = client.get(URL)
    assert now_edited.pk in {report.pk for report in rows(page)}
    client.post(page.context["form_action"], form_data(page, "submit"))
    assert bromma(t2).filter(state=StatusReport.State.SUBMITTED).count() == 29


def test_copy_all_is_refused_in_a_closed_period_and_for_others(
    t2_after_t1, bromma_reporter, farsta_reporter, client_for
):
    t1, t2 = t2_after_t1
    client = client_for(bromma_reporter)
    closed = client.post(f"{URL}?period={t1.pk}", {"action": "copy_all"})
    assert closed.status_code == 400
    # Farsta has nothing to copy from; Bromma's rows are never touched by it.
    before = {r.pk: r.version for r in bromma(t2)}
    response = client_for(farsta_reporter).post(f"{URL}?period={t2.pk}", {"action": "copy_all"})
    assert response.status_code == 302
    assert {r.pk: r.version for r in bromma(t2)} == before


# --- Cost ---------------------------------------------------------------------------


def _get(client, url=URL):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return len(queries), response


def test_the_default_view_costs_the_same_at_ten_times_the_rows(
    open_period, bromma_reporter, make_user, client_for
):
    one, small = _get(client_for(bromma_reporter))
    gustav = make_user("gustav", roles.REPORTER, TEN_DISTRICTS)
    ten, large = _get(client_for(gustav))
    assert small.context["page"].total == 101 and large.context["page"].total == 1010
    # The same number of queries and of forms: only a page of rows is built.
    assert one == ten
    assert len(rows(small)) == len(rows(large)) == 30
    assert small.content.count(b"<fieldset") == large.content.count(b"<fieldset") == 30
    # The default view's HTML stays within the budget (120 KB).
    assert len(small.content) < 120_000, len(small.content)
    sizes = f"{len(small.content)} bytes at 1x, {len(large.content)} at 10x"
    print(f"\ndefault view: {one} queries, {sizes}")


def test_the_fast_widgets_render_what_django_renders(open_period, bromma_reporter, statuses):
    """``report_widget`` is Django's widget HTML without the templates: the same
    for every field of a row, unbound and bound with errors."""
    import re

    from followup.forms import StatusReportForm
    from followup.templatetags.report_form_tags import report_widget

    report = bromma(open_period).select_related("status").first()
    active = [status for status in statuses.values() if status.is_active]
    unbound = StatusReportForm(report=report, statuses=active)
    prefix = StatusReportForm.prefix_for(report.pk)
    bound = StatusReportForm(
        {
            f"{prefix}-status": "9999",
            f"{prefix}-comment": "<b>“citat” & mer</b>\nrad två",
            f"{prefix}-planned_next_action": "x" * 5000,
            f"{prefix}-expected_completion": 'T2 "2022"',
            f"{prefix}-expected_version": "1",
        },
        report=report,
        statuses=active,
    )
    assert not bound.is_valid()

    def normal(html: str) -> str:
        return re.sub(r">\s+<", "><", str(html)).strip()

    for form in (unbound, bound):
        for field in form:
            assert normal(report_widget(field)) == normal(field.as_widget()), field.name
