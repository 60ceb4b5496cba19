"""The editors' follow-up overview: the periods, the matrix, the exports, horizon
drift and one report with reopening. Who may see what, what the pages say, and
what they cost.

Access and most content tests use a small factory-built roadmap (quick to
build); drift and the query count use the real 2021 roadmap.
"""

import csv
import datetime
import io
import re
import time

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext
from simple_history.utils import bulk_create_with_history

from accounts import roles
from followup.models import ReportingPeriod, StatusReport, StatusReportReopening
from followup.selectors import EXPORT_COLUMNS
from followup.services import (
    ReportInput,
    period_close,
    period_create,
    period_open,
    status_report_save,
)
from followup.views_overview import organisation_abbreviation, status_abbreviation
from roadmap.models import NextStep, Organisation, Revision, TimeHorizon
from roadmap.selectors import next_steps_with_due_year
from tests.factories import (
    CityActionFactory,
    FocusAreaFactory,
    NeedFactory,
    NextStepFactory,
    RevisionFactory,
    approve,
)
from tests.helpers import ALL_WHO, parse_html

VIEWERS = ("editor", "approver", "reader")
MANAGERS = ("editor",)


# --- Fixtures --------------------------------------------------------------------------


@pytest.fixture
def small_revision(reference_data):
    """An approved revision with two focus areas: in the first, a short-term
    next step for all districts and a city action for KS; in the second, a
    medium-term next step for Äldrenämnden."""
    districts_step = NextStepFactory(
        text="Rekrytera fler undersköterskor i hemtjänsten",
        horizons=list(TimeHorizon.objects.filter(code="short")),
        all_districts=True,
    )
    revision = districts_step.revision
    CityActionFactory(
        need=districts_step.need,
        text="Kompetensutveckling via Äldreomsorgslyftet",
        responsible_organisations=list(Organisation.objects.filter(code="ks")),
    )
    second = FocusAreaFactory(revision=revision, title="Säkerställa grunduppdraget")
    NextStepFactory(
        need=NeedFactory(focus_area=second),
        text="Utveckla vård- och omsorgsboenden för personer med demenssjukdom",
        horizons=list(TimeHorizon.objects.filter(code="medium")),
        responsible_organisations=list(Organisation.objects.filter(code="aldrenamnden")),
    )
    return approve(revision)


@pytest.fixture
def small_period(small_revision, statuses, editor) -> ReportingPeriod:
    """2023 T1 on the small revision, open: 13 + 1 + 1 reports."""
    today = datetime.date.today()
    period = period_create(
        year=2023,
        kind="T1",
        revision=small_revision,
        actor=editor,
        opens_on=today - datetime.timedelta(days=10),
        deadline=today + datetime.timedelta(days=20),
    )
    return period_open(period=period, actor=editor)


def _after_deadline(period: ReportingPeriod) -> datetime.date:
    return period.deadline + datetime.timedelta(days=1)


@pytest.fixture
def closed_period(small_period, bromma_reporter, statuses, editor) -> ReportingPeriod:
    """The small period with Bromma's report on the district step submitted,
    then closed after its deadline."""
    _submit(_report(small_period, "bromma"), bromma_reporter, statuses["genomford"])
    return period_close(period=small_period, actor=editor, today=_after_deadline(small_period))


def _report(period: ReportingPeriod, org_code: str) -> StatusReport:
    """The organisation's report on the small revision's step for all districts."""
    return StatusReport.objects.select_related("period", "organisation").get(
        period=period, organisation__code=org_code, next_step__all_districts=True
    )


def _submit(report: StatusReport, actor, status, comment: str = "") -> StatusReport:
    return status_report_save(
        report=report,
        data=ReportInput(status=status, comment=comment),
        actor=actor,
        submit=True,
    )


def _urls(period: ReportingPeriod, report: StatusReport) -> dict[str, str]:
    return {
        "periods": reverse("followup:periods"),
        "matrix": reverse("followup:matrix", args=[period.pk]),
        "export_csv": reverse("followup:export_csv", args=[period.pk]),
        "export_xlsx": reverse("followup:export_xlsx", args=[period.pk]),
        "drift": reverse("followup:drift", args=[period.pk]),
        "report": reverse("followup:report", args=[report.pk]),
        "reopen": reverse("followup:reopen", args=[report.pk]),
    }


def _snapshot() -> tuple:
    """Everything a request to these pages could change."""
    return (
        list(StatusReport.objects.order_by("pk").values()),
        list(StatusReport.history.order_by("history_id").values_list("history_id", flat=True)),
        list(StatusReportReopening.objects.values()),
        list(ReportingPeriod.objects.order_by("pk").values()),
    )


# --- URLs and labels ---------------------------------------------------------------------


def test_overview_urls_are_under_uppfoljning():
    assert reverse("followup:periods") == "/uppfoljning/"
    assert reverse("followup:matrix", args=[3]) == "/uppfoljning/perioder/3/"
    assert reverse("followup:export_csv", args=[3]) == "/uppfoljning/perioder/3/export.csv"
    assert reverse("followup:export_xlsx", args=[3]) == "/uppfoljning/perioder/3/export.xlsx"
    assert reverse("followup:drift", args=[3]) == "/uppfoljning/perioder/3/drift/"
    assert reverse("followup:report", args=[7]) == "/uppfoljning/rapporter/7/"
    assert reverse("followup:reopen", args=[7]) == "/uppfoljning/rapporter/7/ateroppna/"


def test_labels_are_short_and_distinct():
    assert status_abbreviation("Genomförd") == "Genomförd"
    assert status_abbreviation("Pågår enligt plan") == "Pågår…"
    assert status_abbreviation("Ej påbörjad") == "Ej påb…"
    org = Organisation(name="Rinkeby-Kista stadsdelsnämnd", short_name="Rinkeby-Kista")
    assert organisation_abbreviation(org) == "R-K"
    assert organisation_abbreviation(Organisation(name="Bromma sdn", short_name="Bromma")) == (
        "Bromma"
    )
    assert organisation_abbreviation(Organisation(name="X", short_name="Kungsholmen")) == "Kun."


# --- Access: every URL × every role, both methods ---------------------------------------


def _expected(who: str, name: str, method: str) -> int:
    if who == "anonymous":
        return 302  # to the login page
    if who not in VIEWERS:
        return 403  # reporters and users without a role
    if name == "reopen":
        if method == "get":
            return 405
        return 302 if who in MANAGERS else 403
    return 200 if method == "get" else 405


@pytest.mark.parametrize("who", ALL_WHO)
def test_access_to_every_overview_url(who, closed_period, request, client_for):
    report = _report(closed_period, "farsta")
    user = request.getfixturevalue(who)
    client = client_for(user)
    urls = _urls(closed_period, report)
    for name, url in urls.items():
        for method in ("get", "post"):
            if (name, method) == ("reopen", "post") and who in MANAGERS:
                continue  # the one request that changes something: below
            before = _snapshot()
            if method == "get":
                response = client.get(url)
            else:
                response = client.post(url, {"reason": "Fel siffror"})
            expected = _expected(who, name, method)
            assert response.status_code == expected, (name, method)
            if expected == 302:
                assert response["Location"] == f"{reverse('login')}?next={url}", (name, method)
            assert _snapshot() == before, (name, method)

    if who in MANAGERS:
        response = client.post(urls["reopen"], {"reason": "Fel siffror"})
        assert response.status_code == _expected(who, "reopen", "post") == 302
        assert response["Location"] == urls["report"]
        report.refresh_from_db()
        assert report.reopened
    else:
        assert not StatusReport.objects.filter(reopened=True).exists()
        assert not StatusReportReopening.objects.exists()


def test_unknown_period_and_report_are_not_found(small_period, reader, editor, client_for):
    client = client_for(reader)
    for url in (
        reverse("followup:matrix", args=[9999]),
        reverse("followup:export_csv", args=[9999]),
        reverse("followup:export_xlsx", args=[9999]),
        reverse("followup:drift", args=[9999]),
        reverse("followup:report", args=[999999]),
    ):
        assert client.get(url).status_code == 404, url
    response = client_for(editor).post(reverse("followup:reopen", args=[999999]), {"reason": "x"})
    assert response.status_code == 404


# --- The list of periods -------------------------------------------------------------------


def test_periods_newest_first_with_state_and_completion(
    small_period, small_revision, editor, reader, bromma_reporter, statuses, client_for
):
    _submit(_report(small_period, "bromma"), bromma_reporter, statuses["genomford"])
    planned = period_create(year=2023, kind="T2", revision=small_revision, actor=editor)
    older = period_create(year=2022, kind="VB", revision=small_revision, actor=editor)

    response = client_for(reader).get(reverse("followup:periods"))
    assert response.status_code == 200
    assert list(response.context["periods"]) == [planned, small_period, older]
    html = response.content.decode()
    assert escape(gettext("Open")) in html and escape(gettext("Planned")) in html
    assert reverse("followup:matrix", args=[small_period.pk]) in html
    total = StatusReport.objects.filter(period=small_period).count()
    assert total == 15
    done = escape(gettext("%(submitted)s of %(total)s") % {"submitted": 1, "total": total})
    assert f"{done} (7&nbsp;%)" in html  # a non-breaking space before %
    # Only editors are pointed to the admin, where periods are created, opened, closed.
    admin_add = reverse("admin:followup_reportingperiod_add")
    assert admin_add not in html
    assert admin_add in client_for(editor).get(reverse("followup:periods")).content.decode()


# --- The matrix -----------------------------------------------------------------------------


def _cell(html: str, report: StatusReport) -> str:
    """The <td> of one report in the matrix."""
    url = reverse("followup:report", args=[report.pk])
    match = re.search(rf'<td class="([^"]*)"><a href="{re.escape(url)}"[^>]*>(.*?)</a></td>', html)
    assert match, f"no cell for {report}"
    return match.group(1) + " | " + match.group(2)


def test_matrix_shows_a_submitted_status_as_text_and_marks_missing_reports(
    small_period, bromma_reporter, reader, statuses, client_for
):
    done = statuses["genomford"]
    bromma = _submit(_report(small_period, "bromma"), bromma_reporter, done)
    farsta = _report(small_period, "farsta")

    response = client_for(reader).get(reverse("followup:matrix", args=[small_period.pk]))
    assert response.status_code == 200
    html = response.content.decode()

    cell = _cell(html, bromma)
    assert f"cell--status-{done.pk}" in cell
    assert done.symbol in cell  # the symbol, shown
    assert f'<span class="visually-hidden">{escape(done.name)}</span>' in cell  # the name
    assert "cell--missing" not in cell

    missing = _cell(html, farsta)
    assert missing == f"cell cell--missing | {escape(gettext('Missing'))}"

    # The colour is only a background, and it comes with the text.
    assert f".cell--status-{done.pk} {{ background-color: color-mix(in srgb, {done.colour}" in html
    # Districts first, then the others; column headers name the organisation in full.
    columns = [c.organisation.code for c in response.context["columns"]]
    districts = set(Organisation.objects.districts().values_list("code", flat=True))
    assert set(columns[:13]) == districts
    assert columns[13:] == ["ks", "aldrenamnden"]  # by name: Kommunstyrelsen, Äldrenämnden
    assert '<abbr title="Rinkeby-Kista stadsdelsnämnd" aria-hidden="true">R-K</abbr>' in html
    # Completion per organisation: Bromma 1 of 1, Farsta 0 of 1.
    completion = {c.organisation.code: c for _col, c in response.context["completion_rows"]}
    assert (completion["bromma"].submitted, completion["bromma"].total) == (1, 1)
    assert completion["bromma"].percent == 100
    assert (completion["farsta"].submitted, completion["farsta"].percent) == (0, 0)
    # Row headers and a caption.
    parsed = parse_html(html)
    assert parsed.text["caption"]
    row_headers = [a for tag, a in parsed.tags if tag == "th" and a.get("scope") == "row"]
    assert len(row_headers) >= 3
    assert "Rekrytera fler undersköterskor i hemtjänsten" in html
    # Links to the exports and to drift.
    for name in ("export_csv", "export_xlsx", "drift"):
        assert reverse(f"followup:{name}", args=[small_period.pk]) in html


def test_matrix_distribution_shows_disagreement_between_districts(
    small_period, bromma_reporter, farsta_reporter, reader, statuses, client_for
):
    done, late = statuses["genomford"], statuses["forsenad"]
    _submit(_report(small_period, "bromma"), bromma_reporter, done)
    _submit(_report(small_period, "farsta"), farsta_reporter, late, comment="Brist på personal")

    response = client_for(reader).get(reverse("followup:matrix", args=[small_period.pk]))
    html = response.content.decode()
    row = next(
        r
        for group in response.context["groups"]
        for r in group.rows
        if r.row.kind == "next_step" and r.row.action.all_districts
    )
    counts = [(label.status.code if label else None, n) for label, n in row.distribution]
    assert counts == [("forsenad", 1), ("genomford", 1), (None, 11)]
    assert row.disagreement
    # As text, in the order of the statuses: "Försenad 1 · Genomförd 1 · Saknas 11".
    missing = escape(gettext("Missing"))
    expected = (
        f'<span class="distribution-item">{escape(late.name)}&nbsp;1</span>'
        f'<span aria-hidden="true"> · </span>'
        f'<span class="distribution-item">{escape(done.name)}&nbsp;1</span>'
        f'<span aria-hidden="true"> · </span>'
        f'<span class="distribution-item">{missing}&nbsp;11</span>'
    )
    assert expected in html
    assert escape(gettext("Statuses differ")) in html
    # An action with a single report cannot disagree.
    others = [r for g in response.context["groups"] for r in g.rows if r is not row]
    assert others and not any(r.disagreement for r in others)


def test_matrix_filters_by_focus_area(small_period, small_revision, reader, client_for):
    first, second = small_revision.focus_areas.order_by("position")
    url = reverse("followup:matrix", args=[small_period.pk])
    client = client_for(reader)

    response = client.get(url, {"fokusomrade": second.pk})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Utveckla vård- och omsorgsboenden" in html
    assert "Rekrytera fler undersköterskor" not in html
    assert [g.focus_area for g in response.context["groups"]] == [second]
    assert f'<option value="{second.pk}" selected>' in html
    # Only Äldrenämnden reports in the second focus area.
    assert [c.organisation.code for c in response.context["columns"]] == ["aldrenamnden"]

    response = client.get(url, {"fokusomrade": ""})
    assert [g.focus_area for g in response.context["groups"]] == [first, second]

    for bad in ("abc", "999999"):
        response = client.get(url, {"fokusomrade": bad})
        assert response.status_code == 400, bad
        assert response.context["groups"] == []
        html = response.content.decode()
        assert 'class="error-summary"' in html
        assert 'id="id_fokusomrade_error"' in html


# --- One report, its history, reopening ---------------------------------------------------


def test_report_detail_shows_the_report_and_its_history(
    small_period, bromma_reporter, reader, statuses, client_for
):
    report = _report(small_period, "bromma")
    status_report_save(
        report=report,
        data=ReportInput(
            status=statuses["forsenad"],
            comment="Rekryteringen har dragit ut på tiden",
            planned_next_action="Ny annonsering i maj",
            expected_completion="T2 2023",
        ),
        actor=bromma_reporter,
        submit=True,
    )
    response = client_for(reader).get(reverse("followup:report", args=[report.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Rekrytera fler undersköterskor i hemtjänsten",
        "Bromma stadsdelsnämnd",
        "Försenad",
        "Rekryteringen har dragit ut på tiden",
        "Ny annonsering i maj",
        "T2 2023",
    ):
        assert escape(text) in html, text
    # Two history records: created when the period opened (by the editor), submitted by cecilia.
    history = response.context["detail"].history
    assert [h.history_user.username for h in history] == ["cecilia", "alice"]
    assert "cecilia" in html and "alice" in html
    # A reader may not reopen, and the period is open anyway: no form.
    assert response.context["reopen_form"] is None
    assert reverse("followup:reopen", args=[report.pk]) not in html


def test_editor_reopens_a_report_of_a_closed_period_with_a_reason(
    closed_period, editor, client_for
):
    report = _report(closed_period, "bromma")
    client = client_for(editor)
    page = client.get(reverse("followup:report", args=[report.pk]))
    assert page.context["reopen_form"] is not None
    assert reverse("followup:reopen", args=[report.pk]) in page.content.decode()

    response = client.post(
        reverse("followup:reopen", args=[report.pk]),
        {"reason": "Bromma rapporterade fel åtgärd"},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("followup:report", args=[report.pk]), 302)]
    report.refresh_from_db()
    assert report.reopened
    log = StatusReportReopening.objects.get(report=report)
    assert (log.reason, log.reopened_by) == ("Bromma rapporterade fel åtgärd", editor)
    html = response.content.decode()
    assert 'class="message message-success"' in html
    assert "Bromma rapporterade fel åtgärd" in html  # in the list of reopenings
    assert response.context["reopen_form"] is None  # already reopened
    assert report.history.first().history_change_reason == "Bromma rapporterade fel åtgärd"


def test_reopening_without_a_reason_is_refused_next_to_the_field(closed_period, editor, client_for):
    report = _report(closed_period, "bromma")
    before = _snapshot()
    response = client_for(editor).post(
        reverse("followup:reopen", args=[report.pk]), {"reason": "   "}
    )
    assert response.status_code == 400
    assert _snapshot() == before
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert '<a href="#id_reason">' in html
    assert 'id="id_reason_error"' in html
    assert escape(gettext("Give a reason for reopening the report.")) in html
    assert "<title>" + gettext("Error:") in html


def test_a_report_of_an_open_period_cannot_be_reopened(small_period, editor, client_for):
    report = _report(small_period, "bromma")
    before = _snapshot()
    response = client_for(editor).post(
        reverse("followup:reopen", args=[report.pk]), {"reason": "Fel"}
    )
    assert response.status_code == 400
    assert _snapshot() == before
    assert escape(gettext("Only reports of a closed period need reopening.")) in (
        response.content.decode()
    )


# --- Exports ------------------------------------------------------------------------------


@pytest.fixture
def reported_period(small_period, bromma_reporter, farsta_reporter, statuses):
    _submit(_report(small_period, "bromma"), bromma_reporter, statuses["genomford"])
    _submit(
        _report(small_period, "farsta"),
        farsta_reporter,
        statuses["forsenad"],
        comment='=HYPERLINK("http://example.com")',
    )
    return small_period


def test_csv_export_has_every_report(reported_period, reader, client_for):
    response = client_for(reader).get(reverse("followup:export_csv", args=[reported_period.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="uppfoljning-2023-T1.csv"'
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(content.removeprefix("\ufeff"))))
    assert list(rows[0]) == EXPORT_COLUMNS
    assert len(rows) == StatusReport.objects.filter(period=reported_period).count() == 15
    by_org = {r["organisation"]: r for r in rows if r["action_type"] == "next_step"}
    bromma = by_org["Bromma stadsdelsnämnd"]
    assert (bromma["status"], bromma["period"]) == ("Genomförd", "2023-T1")
    assert bromma["action"] == "Rekrytera fler undersköterskor i hemtjänsten"
    # A comment that a spreadsheet would run as a formula is made plain text.
    assert by_org["Farsta stadsdelsnämnd"]["comment"] == '\'=HYPERLINK("http://example.com")'
    assert by_org["Skärholmen stadsdelsnämnd"]["status"] == ""


def test_xlsx_export_has_every_report_under_a_bold_frozen_header(
    reported_period, reader, client_for
):
    response = client_for(reader).get(reverse("followup:export_xlsx", args=[reported_period.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="uppfoljning-2023-T1.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 15
    header = rows[0]
    assert len(header) == len(EXPORT_COLUMNS)
    assert header[EXPORT_COLUMNS.index("status")] == gettext("Status")
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["E"].width == 60  # the action
    col = {key: i for i, key in enumerate(EXPORT_COLUMNS)}
    by_org = {r[col["organisation"]]: r for r in rows[1:] if r[col["horizons"]]}
    bromma = by_org["Bromma stadsdelsnämnd"]
    assert bromma[col["status"]] == "Genomförd"
    assert bromma[col["action_type"]] == gettext("Next step")
    # Stays text, never a formula.
    farsta_row = next(
        r
        for r in sheet.iter_rows(min_row=2)
        if r[col["organisation"]].value.startswith("Farsta") and r[col["horizons"]].value
    )
    assert farsta_row[col["comment"]].data_type == "s"
    assert farsta_row[col["comment"]].value == '=HYPERLINK("http://example.com")'


# --- Horizon drift --------------------------------------------------------------------------


def test_drift_lists_an_overdue_step_until_every_organisation_reports_it_done(
    make_period, make_user, reader, statuses, client_for
):
    period = make_period(2023, "T1")
    revision = period.revision
    short = [
        s
        for s in next_steps_with_due_year(revision=revision)
        if s.due == 2022 and [h.code for h in s.horizons.all()] == ["short"]
    ]
    assert short, "the 2021 roadmap has short-term steps, due by the end of 2022"
    step = short[0]
    reports = list(StatusReport.objects.filter(period=period, next_step=step))
    assert reports
    url = reverse("followup:drift", args=[period.pk])
    client = client_for(reader)

    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert escape(step.text) in html
    row = next(r for r in response.context["rows"] if r.step == step)
    assert row.due_year == 2022
    assert {org.pk for org, _status in row.not_done} == {r.organisation_id for r in reports}
    assert escape(reports[0].organisation.name) in html
    assert escape(gettext("Missing")) in html

    # Everyone responsible reports it done: it is no longer drifting.
    everyone = make_user(
        "gustav",
        roles.REPORTER,
        tuple(
            Organisation.objects.filter(pk__in=[r.organisation_id for r in reports]).values_list(
                "code", flat=True
            )
        ),
    )
    for report in reports[:-1]:
        _submit(report, everyone, statuses["genomford"])
    # One left, reported as something else than done: still listed, with that status.
    _submit(reports[-1], everyone, statuses["pagar-enligt-plan"])
    response = client.get(url)
    row = next(r for r in response.context["rows"] if r.step == step)
    assert [(org.pk, s.code) for org, s in row.not_done] == [
        (reports[-1].organisation_id, "pagar-enligt-plan")
    ]
    status_report_save(
        report=StatusReport.objects.get(pk=reports[-1].pk),
        data=ReportInput(status=statuses["genomford"], comment="Klart"),
        actor=everyone,
        submit=True,
    )
    response = client.get(url)
    assert step not in [r.step for r in response.context["rows"]]
    assert escape(step.text) not in response.content.decode()


# --- Cost: the matrix runs a fixed number of queries ----------------------------------------


def _synthetic_revision(year: int, *, focus_areas=4, needs=11, steps=10) -> Revision:
    """An approved revision of focus_areas × needs × steps next steps, every
    one for all districts, short term; built in bulk (with history rows)."""
    revision = RevisionFactory(year=year)
    short = TimeHorizon.objects.get(code="short")
    aldrenamnden = list(Organisation.objects.filter(code="aldrenamnden"))
    rows = []
    for f in range(1, focus_areas + 1):
        focus_area = FocusAreaFactory(revision=revision, position=f)
        for n in range(1, needs + 1):
            need = NeedFactory(focus_area=focus_area, position=n)
            rows.extend(
                NextStep(
                    need=need,
                    revision=revision,
                    position=s,
                    text=f"Syntetiskt steg {f}.{n}.{s}",
                    all_districts=True,
                    horizon_set_year=year,
                )
                for s in range(1, steps + 1)
            )
        CityActionFactory(
            need=need, text=f"Syntetisk åtgärd {f}", responsible_organisations=aldrenamnden
        )
    created = bulk_create_with_history(rows, NextStep, batch_size=500)
    through = NextStep.horizons.through
    through.objects.bulk_create(
        [through(nextstep_id=step.pk, timehorizon_id=short.pk) for step in created]
    )
    return approve(revision)


def _count_queries(client, url: str) -> tuple[int, float, str]:
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    elapsed = time.perf_counter() - start
    assert response.status_code == 200
    return len(queries), elapsed, response.content.decode(errors="replace")


def test_overview_query_counts_do_not_grow_with_the_data(
    open_period, make_period, editor, reader, client_for, capsys
):
    # 1×: the 2021 roadmap (101 actions). 10×: 440 synthetic next steps for all
    # 13 districts. The synthetic steps are due in 2091, so a 2092 period has
    # them all drifting; on the 2021 roadmap a 2023 period has the short-term ones.
    large = _synthetic_revision(2090)
    large_period = period_open(
        period=period_create(year=2092, kind="T1", revision=large, actor=editor), actor=editor
    )
    small_period = open_period
    small_drift_period = make_period(2023, "T1")
    small_reports = StatusReport.objects.filter(period=small_period).count()
    large_reports = StatusReport.objects.filter(period=large_period).count()
    assert NextStep.objects.filter(revision=large).count() == 440
    assert large_reports == 440 * 13 + 4

    client = client_for(reader)
    client.get(reverse("followup:periods"))  # warm up: session, content types
    figures = {}
    pages = {
        "matrix": (small_period, large_period),
        "drift": (small_drift_period, large_period),
        # The XLSX reads the same rows (period_export_rows) and takes seconds more at 10×.
        "export_csv": (small_period, large_period),
    }
    html = {}
    for name, (small, big) in pages.items():
        small_count, small_time, html[name, 1] = _count_queries(
            client, reverse(f"followup:{name}", args=[small.pk])
        )
        large_count, large_time, html[name, 10] = _count_queries(
            client, reverse(f"followup:{name}", args=[big.pk])
        )
        figures[name] = (small_count, large_count, small_time, large_time)
    with capsys.disabled():
        print(f"\nfollow-up overview, 1× = {small_reports} reports, 10× = {large_reports}:")
        for name, (small_count, large_count, small_time, large_time) in figures.items():
            print(
                f"  {name}: queries 1× = {small_count}, 10× = {large_count}; "
                f"time 1× = {small_time:.2f} s, 10× = {large_time:.2f} s"
            )
    for name, (small_count, large_count, _s, _l) in figures.items():
        assert small_count == large_count, name
    # The pages really showed every report, and every drifting step.
    assert html["matrix", 10].count('<td class="cell cell--missing">') == large_reports
    assert html["matrix", 1].count('<td class="cell cell--missing">') == small_reports
    assert html["drift", 10].count("<tr>") == 1 + 440
    assert html["export_csv", 10].count("\n") == 1 + large_reports


def test_xlsx_export_has_no_formula_cells(reported_period, reader, client_for):
    response = client_for(reader).get(reverse("followup:export_xlsx", args=[reported_period.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert any(cell.value == '=HYPERLINK("http://example.com")' for cell in cells)
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []


def test_matrix_one_organisation_at_a_time_and_the_print_tables(
    small_period, bromma_reporter, reader, statuses, client_for
):
    done = statuses["genomford"]
    bromma = _submit(_report(small_period, "bromma"), bromma_reporter, done)
    client = client_for(reader)
    url = reverse("followup:matrix", args=[small_period.pk])

    # The whole matrix, and for print the same columns in tables of five, each
    # with the action column; every organisation is in one of them.
    response = client.get(url)
    html = response.content.decode()
    groups = response.context["column_groups"]
    assert [len(g.columns) for g in groups] == [5, 5, 5]
    assert html.count('<div class="print-matrix">') == 3
    printed = [c.organisation.code for g in groups for c in g.columns]
    assert printed == [c.organisation.code for c in response.context["columns"]]
    assert html.count("Pågår…") == 0 and html.count("Ej påb…") == 0

    # ?organisation=bromma: Bromma's reports as a list, no table.
    response = client.get(url, {"organisation": "bromma"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="matrix"' not in html
    assert reverse("followup:report", args=[bromma.pk]) in html
    assert escape(done.name) in html
    # An organisation that does not exist is a form error.
    assert client.get(url, {"organisation": "nowhere"}).status_code == 400
