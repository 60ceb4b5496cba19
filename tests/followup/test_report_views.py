"""The "Rapporter" pages: requesting a PDF report, following its job and
downloading the file. Who may see, request and download what, what the pages
say, and what the list costs.

Most jobs are made directly with the ORM in the state a test needs; only the
end-to-end test renders a PDF (the annual report of the small 2030 revision,
through the eager Celery task), with the fake renderer: the PDF itself is
tested in test_report_pdf.py, and a real worker renders one in
test_celery_worker.py.
"""

import datetime
import json

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext

from followup.models import ReportJob, StatusReport
from followup.selectors import organisations_reporting, report_jobs_visible_to
from followup.tasks import expire_report_jobs
from roadmap.models import Organisation
from tests.helpers import ALL_WHO, parse_html

pytestmark = pytest.mark.usefixtures("media_root")

VIEWERS = ("editor", "approver", "reader")  # see and download every job
REQUESTERS = ("editor", "bromma_reporter")  # may request Bromma's period report
REPORTER_ORGS = {"bromma_reporter": "bromma", "farsta_reporter": "farsta"}

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PERIOD = "2030-T1"  # the conftest's small_period


# --- Making jobs -----------------------------------------------------------------------


def _job(
    kind: str = "period",
    org: str | None = "bromma",
    state: str = "done",
    *,
    requested_by=None,
    title: str | None = None,
    **fields,
) -> ReportJob:
    """A job in the given state, made directly; a done job has a small PDF."""
    organisation = Organisation.objects.get(code=org) if kind == "period" else None
    if kind == "annual":
        parameters = {"year": 2030}
    elif kind == "period":
        parameters = {"period": PERIOD, "organisation": org}
    else:
        parameters = {"period": PERIOD}
    now = timezone.now()
    job = ReportJob(
        kind=kind,
        parameters=parameters,
        title=title or f"{kind} {org or 'stad'}",
        organisation=organisation,
        requested_by=requested_by,
        state=state,
        progress="Väntar på en arbetare" if state == "queued" else "",
    )
    if state in ("running", "done", "failed"):
        job.started_at = now
    if state in ("done", "failed"):
        job.finished_at = now
    if state == "done":
        job.file.save("rapport.pdf", ContentFile(PDF), save=False)
        job.file_size = len(PDF)
        job.page_count = 1
        job.input_checksum = "a" * 64
        job.progress = "Klar: 1 sida."
    if state == "failed":
        job.error = "Rapporten kunde inte göras: testfel"
    for name, value in fields.items():
        setattr(job, name, value)
    job.save()
    return job


@pytest.fixture
def jobs(small_period, editor) -> dict[str, ReportJob]:
    """A done job of every kind the reporters' access differs on."""
    return {
        "bromma": _job("period", "bromma", requested_by=editor, title="Period Bromma"),
        "farsta": _job("period", "farsta", requested_by=editor, title="Period Farsta"),
        "citywide": _job("citywide", None, requested_by=editor, title="Hela staden"),
        "annual": _job("annual", None, requested_by=editor, title="Årsuppföljning"),
    }


def _may_see(who: str, job: ReportJob) -> bool:
    if who in VIEWERS:
        return True
    org = REPORTER_ORGS.get(who)
    return org is not None and job.kind == "period" and job.organisation.code == org


def _job_urls(job: ReportJob) -> dict[str, str]:
    return {
        "report_job": reverse("followup:report_job", args=[job.pk]),
        "report_job_status": reverse("followup:report_job_status", args=[job.pk]),
        "report_job_file": reverse("followup:report_job_file", args=[job.pk]),
    }


def _body(response) -> bytes:
    """The whole body; reading a streamed response to the end closes its file."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def _bromma_request(**extra) -> dict[str, str]:
    return {"kind": "period", "period": PERIOD, "organisation": "bromma", **extra}


def _jobs_snapshot() -> list:
    return list(ReportJob.objects.order_by("pk").values())


# --- URLs ------------------------------------------------------------------------------


def test_report_urls_are_under_uppfoljning_pdf():
    assert reverse("followup:reports") == "/uppfoljning/pdf/"
    assert reverse("followup:report_job", args=[4]) == "/uppfoljning/pdf/4/"
    assert reverse("followup:report_job_status", args=[4]) == "/uppfoljning/pdf/4/status.json"
    assert reverse("followup:report_job_file", args=[4]) == "/uppfoljning/pdf/4/fil/"


# --- Access: every URL × every role, both methods ----------------------------------------


def _expected(who: str, name: str, method: str, job: ReportJob | None) -> int:
    if who == "anonymous":
        return 302  # to the login page
    if who == "no_role_user":
        return 403
    if name == "reports":
        if method == "get":
            return 200
        return 302 if who in REQUESTERS else 403  # to the new job's page
    if method == "post":
        return 405
    # A job the user may not see is not found, whether or not it exists.
    return 200 if _may_see(who, job) else 404


@pytest.mark.parametrize("who", ALL_WHO)
def test_access_to_every_report_url(who, jobs, request, client_for):
    user = request.getfixturevalue(who)
    client = client_for(user)
    checks = [("reports", reverse("followup:reports"), None)]
    for job in jobs.values():
        checks += [(name, url, job) for name, url in _job_urls(job).items()]

    for name, url, job in checks:
        for method in ("get", "post"):
            if (name, method) == ("reports", "post") and who in REQUESTERS:
                continue  # the one request that creates something: below
            before = _jobs_snapshot()
            send = client.get if method == "get" else client.post
            response = send(url, _bromma_request() if method == "post" else None)
            body = _body(response)
            expected = _expected(who, name, method, job)
            assert response.status_code == expected, (name, job, method)
            if expected == 302:
                assert response["Location"] == f"{reverse('login')}?next={url}", (name, method)
            if (name, expected) == ("report_job_file", 200):
                assert body == PDF
            assert _jobs_snapshot() == before, (name, job, method)

    if who in REQUESTERS:
        response = client.post(reverse("followup:reports"), _bromma_request())
        job = ReportJob.objects.exclude(pk__in=[j.pk for j in jobs.values()]).get()
        assert response.status_code == 302
        assert response["Location"] == reverse("followup:report_job", args=[job.pk])
        assert (job.kind, job.organisation.code, job.requested_by) == ("period", "bromma", user)
    else:
        assert ReportJob.objects.count() == len(jobs)


def test_unknown_job_is_not_found(small_period, editor, client_for):
    client = client_for(editor)
    for url in _job_urls(ReportJob(pk=999999)).values():
        assert client.get(url).status_code == 404, url


def test_nav_links_to_the_reports_for_readers_and_reporters(
    small_period, reader, bromma_reporter, no_role_user, client_for
):
    url = reverse("followup:reports")
    for user in (reader, bromma_reporter):
        html = parse_html(client_for(user).get(url).content)
        link = next(a for t, a in html.tags if t == "a" and a.get("href") == url)
        assert link.get("aria-current") == "page"
        other = client_for(user).get(reverse("roadmap:current")).content.decode()
        assert f'href="{url}"' in other
    assert f'href="{url}"' not in client_for(no_role_user).get("/").content.decode()


# --- The list page and its form --------------------------------------------------------


def _radio_values(html, name: str) -> list[str]:
    return [
        a["value"]
        for t, a in html.tags
        if t == "input" and a.get("type") == "radio" and a.get("name") == name
    ]


def _option_values(content: str, name: str) -> list[str]:
    start = content.index(f'<select name="{name}"')
    select = content[start : content.index("</select>", start)]
    return [
        a["value"]
        for t, a in parse_html(select.split(">", 1)[1]).tags
        if t == "option" and a["value"]
    ]


def _selected(html, tag: str, **attrs) -> list[dict]:
    return [a for t, a in html.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def test_editor_sees_every_kind_year_period_and_organisation(
    small_period, small_roadmap, editor, client_for
):
    from followup.services import period_create

    period_create(year=2031, kind="T1", revision=small_roadmap, actor=editor)  # planned
    response = client_for(editor).get(reverse("followup:reports"))
    assert response.status_code == 200
    content = response.content.decode()
    html = parse_html(content)
    assert html.text["h1"] == [gettext("Reports")]
    assert _radio_values(html, "kind") == ["annual", "period", "citywide"]
    # Only years and periods that have been opened: 2031-T1 is still planned.
    assert _option_values(content, "year") == ["2030"]
    assert _option_values(content, "period") == ["2030-T1"]
    # Every organisation that reports; outside bodies do not (admin2, point 3).
    assert len(_option_values(content, "organisation")) == organisations_reporting().count()
    assert _selected(html, "input", name="force", type="checkbox")
    # Every field has its label; the kind is a fieldset with a legend.
    for field in ("id_year", "id_period", "id_organisation", "id_force", "id_kind_0"):
        assert _selected(html, "label", **{"for": field}), field
    assert "<legend>" in content
    assert escape(gettext("No reports have been requested yet.")) in content


def test_reporter_sees_only_the_period_report_of_their_organisation(
    small_period, bromma_reporter, client_for
):
    response = client_for(bromma_reporter).get(reverse("followup:reports"))
    content = response.content.decode()
    html = parse_html(content)
    assert _radio_values(html, "kind") == ["period"]
    assert "checked" in _selected(html, "input", name="kind", value="period")[0]
    assert 'name="year"' not in content
    assert _option_values(content, "organisation") == ["bromma"]


@pytest.mark.parametrize("who", ["reader", "approver"])
def test_readers_and_approvers_are_offered_the_annual_report_only(who, jobs, request, client_for):
    response = client_for(request.getfixturevalue(who)).get(reverse("followup:reports"))
    content = response.content.decode()
    html = parse_html(content)
    assert _radio_values(html, "kind") == ["annual"]
    assert "checked" in _selected(html, "input", type="radio", name="kind", value="annual")[0]
    assert _option_values(content, "year") == ["2030"]
    # Nothing for the period reports, and no new rendering of unchanged data.
    for name in ("period", "organisation", "force"):
        assert not _selected(html, "select", name=name), name
        assert not _selected(html, "input", name=name), name
    assert len(response.context["rows"]) == len(jobs)


def test_list_shows_the_jobs_newest_first_with_their_state_as_text(
    small_period, editor, bromma_reporter, client_for
):
    editor.first_name, editor.last_name = "Alice", "Andersson"
    editor.save()
    old = _job("citywide", None, requested_by=editor, title="Gammal rapport")
    ReportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3)
    )
    failed = _job("citywide", None, "failed", requested_by=bromma_reporter, title="Misslyckad")
    queued = _job("period", "bromma", "queued", requested_by=None, title="Väntande")

    response = client_for(editor).get(reverse("followup:reports"))
    rows = response.context["rows"]
    assert [r.job for r in rows] == [queued, failed, old]
    assert [bool(r.download_url) for r in rows] == [False, False, True]
    content = response.content.decode()
    html = parse_html(content)
    assert html.text["caption"] == [gettext("Requested reports, newest first")]
    assert len(_selected(html, "th", scope="col")) == 7
    assert len(_selected(html, "th", scope="row")) == 3
    for state in ("Queued", "Failed", "Done"):
        assert escape(gettext(state)) in content
    assert "Alice Andersson" in content and "cecilia" in content
    assert escape(gettext("Not recorded")) in content
    assert f'href="{reverse("followup:report_job_file", args=[old.pk])}"' in content
    assert reverse("followup:report_job_file", args=[failed.pk]) not in content


def test_list_shows_stuck_jobs_failed_and_the_beat_task_marks_them(
    small_period, editor, client_for, settings
):
    stuck = _job("citywide", None, "running", requested_by=editor)
    ReportJob.objects.filter(pk=stuck.pk).update(
        started_at=timezone.now() - datetime.timedelta(seconds=settings.REPORT_TIME_LIMIT + 3600)
    )
    response = client_for(editor).get(reverse("followup:reports"))
    # The page shows the job failed; it writes nothing (test_get_writes_nothing.py),
    # the periodic task marks the job in the database.
    assert escape(gettext("Failed")) in response.content.decode()
    expire_report_jobs()
    stuck.refresh_from_db()
    assert stuck.state == ReportJob.State.FAILED and stuck.error


# --- Requesting a report -------------------------------------------------------------


def test_editor_requests_an_annual_report_and_downloads_the_pdf(
    small_period, editor, client_for, django_capture_on_commit_callbacks, fake_pdf
):
    client = client_for(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("followup:reports"), {"kind": "annual", "year": "2030"})
    job = ReportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("followup:report_job", args=[job.pk])
    assert (job.kind, job.parameters, job.requested_by) == ("annual", {"year": 2030}, editor)
    assert job.state == ReportJob.State.DONE, job.error

    page = client.get(response["Location"])
    assert page.status_code == 200
    content = page.content.decode()
    assert escape(gettext("Done")) in content
    assert escape(job.title) in content
    file_url = reverse("followup:report_job_file", args=[job.pk])
    assert f'href="{file_url}"' in content
    assert 'aria-live="polite"' in content
    assert "js/report_jobs.js" in content and "defer" in content
    assert 'http-equiv="refresh"' not in content

    download = client.get(file_url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == f'attachment; filename="{job.download_name()}"'
    assert _body(download).startswith(b"%PDF-")

    listed = client.get(reverse("followup:reports"))
    assert [r.job for r in listed.context["rows"]] == [job]
    assert listed.context["rows"][0].download_url == file_url


def test_an_identical_pending_request_leads_to_that_job(small_period, editor, client_for):
    client = client_for(editor)
    first = client.post(reverse("followup:reports"), {"kind": "citywide", "period": PERIOD})
    again = client.post(
        reverse("followup:reports"), {"kind": "citywide", "period": PERIOD}, follow=True
    )
    job = ReportJob.objects.get()  # queued: on_commit callbacks do not run here
    assert first["Location"] == reverse("followup:report_job", args=[job.pk])
    assert again.redirect_chain == [(first["Location"], 302)]
    assert len(list(again.context["messages"])) == 1

    forced = client.post(
        reverse("followup:reports"), {"kind": "citywide", "period": PERIOD, "force": "on"}
    )
    assert forced.status_code == 302
    assert ReportJob.objects.count() == 2
    assert ReportJob.objects.latest("pk").force


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "annual", "year": "1999"}, "year"),
        ({"kind": "annual", "year": "tjugo"}, "year"),
        ({"kind": "citywide", "period": "2030-X9"}, "period"),
        ({"kind": "period", "period": "2029-T2", "organisation": "bromma"}, "period"),
        ({"kind": "period", "period": PERIOD, "organisation": "micasa"}, "organisation"),
        ({"kind": "period", "period": PERIOD, "organisation": "ingen-sådan"}, "organisation"),
        ({"kind": "", "year": "2030"}, "kind"),
        ({"kind": "weekly", "year": "2030"}, "kind"),
    ],
)
def test_bad_input_is_refused_with_a_field_error_and_the_entries_kept(
    data, field, small_period, editor, client_for
):
    assert not StatusReport.objects.filter(period=small_period, organisation__code="micasa")
    response = client_for(editor).post(reverse("followup:reports"), data)

    assert response.status_code == 400
    assert not ReportJob.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == [field]
    content = response.content.decode()
    html = parse_html(content)
    # The error beside its field and in the summary at the top, linking to it.
    assert f'id="id_{field}_error"' in content
    summary = content[content.index('class="error-summary"') : content.index("<h1>")]
    target = "id_kind_0" if field == "kind" else f"id_{field}"
    assert f'href="#{target}"' in summary
    assert escape(form.errors[field][0]) in summary
    assert html.text["title"][0].startswith(gettext("Error:"))
    # What the user entered is still there.
    for name, value in data.items():
        if not value:
            continue
        if name == "kind":
            matches = _selected(html, "input", type="radio", name="kind", value=value)
            assert not matches or "checked" in matches[0]
        else:
            option = _selected(html, "option", value=value)
            assert option and "selected" in option[0], (name, value)


def test_bad_input_keeps_the_force_box_ticked(small_period, editor, client_for):
    response = client_for(editor).post(
        reverse("followup:reports"), {"kind": "annual", "year": "1999", "force": "on"}
    )
    assert response.status_code == 400
    box = _selected(parse_html(response.content), "input", name="force")[0]
    assert "checked" in box


# --- A reporter's reports ------------------------------------------------------------


def test_bromma_reporter_requests_bromma_s_period_report(small_period, bromma_reporter, client_for):
    client = client_for(bromma_reporter)
    response = client.post(reverse("followup:reports"), _bromma_request())
    job = ReportJob.objects.get()
    assert response["Location"] == reverse("followup:report_job", args=[job.pk])
    assert (job.kind, job.organisation.code, job.requested_by) == (
        "period",
        "bromma",
        bromma_reporter,
    )
    # Queued (no worker ran it here): the page says so and offers "Update".
    page = client.get(response["Location"]).content.decode()
    assert escape(gettext("Queued")) in page
    assert escape(gettext("Update")) in page
    assert reverse("followup:report_job_file", args=[job.pk]) not in page


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "period", "period": PERIOD, "organisation": "farsta"},
        {"kind": "annual", "year": "2030"},
        {"kind": "citywide", "period": PERIOD},
        {"kind": "annual", "year": "1999"},  # refused before the year is read
    ],
)
def test_bromma_reporter_cannot_request_other_reports(
    data, small_period, bromma_reporter, client_for
):
    response = client_for(bromma_reporter).post(reverse("followup:reports"), data)
    assert response.status_code == 403
    assert not ReportJob.objects.exists()


def test_bromma_reporter_cannot_see_or_download_farsta_s_job(jobs, bromma_reporter, client_for):
    client = client_for(bromma_reporter)
    response = client.get(reverse("followup:reports"))
    assert [r.job for r in response.context["rows"]] == [jobs["bromma"]]
    content = response.content.decode()
    assert "Period Farsta" not in content and "Hela staden" not in content
    for key in ("farsta", "citywide", "annual"):
        for url in _job_urls(jobs[key]).values():
            assert client.get(url).status_code == 404, (key, url)
    assert _body(client.get(_job_urls(jobs["bromma"])["report_job_file"])) == PDF


def test_visible_jobs_selector(jobs, bromma_reporter, reader, no_role_user, anonymous):
    assert set(report_jobs_visible_to(reader)) == set(jobs.values())
    assert list(report_jobs_visible_to(bromma_reporter)) == [jobs["bromma"]]
    assert not report_jobs_visible_to(no_role_user).exists()
    assert not report_jobs_visible_to(anonymous).exists()


# --- Downloads and the status ----------------------------------------------------------


def test_download_is_refused_unless_the_job_is_done_with_its_file_whole(
    small_period, editor, reader, client_for
):
    queued = _job("citywide", None, "queued", requested_by=editor)
    running = _job("citywide", None, "running", requested_by=editor)
    failed = _job("citywide", None, "failed", requested_by=editor)
    truncated = _job("citywide", None, "done", requested_by=editor)
    with open(truncated.file.path, "r+b") as file:
        file.truncate(10)
    missing = _job("citywide", None, "done", requested_by=editor)
    missing.file.storage.delete(missing.file.name)

    client = client_for(reader)
    for job in (queued, running, failed, truncated, missing):
        urls = _job_urls(job)
        assert client.get(urls["report_job_file"]).status_code == 404, job.state
        page = client.get(urls["report_job"])
        assert page.status_code == 200
        assert f'href="{urls["report_job_file"]}"' not in page.content.decode()
        status = client.get(urls["report_job_status"]).json()
        assert status["download_url"] is None
    failed_page = client.get(_job_urls(failed)["report_job"]).content.decode()
    assert escape(failed.error) in failed_page
    truncated_page = client.get(_job_urls(truncated)["report_job"]).content.decode()
    assert escape(gettext("Done")) in truncated_page


def test_status_json_gives_the_state_and_the_download_url_only_when_done(
    small_period, editor, reader, client_for
):
    client = client_for(reader)
    job = _job("citywide", None, "queued", requested_by=editor)
    url = reverse("followup:report_job_status", args=[job.pk])

    response = client.get(url)
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    assert json.loads(response.content) == {
        "state": "queued",
        "state_label": gettext("Queued"),
        "progress": "Väntar på en arbetare",
        "error": "",
        "download_url": None,
        "is_finished": False,
        "page_count": None,
        "started": "",
        "finished": "",
    }

    ReportJob.objects.filter(pk=job.pk).update(state="running", started_at=timezone.now())
    running = client.get(url).json()
    assert (running["state"], running["download_url"], running["is_finished"]) == (
        "running",
        None,
        False,
    )
    assert running["started"]

    job.file.save("rapport.pdf", ContentFile(PDF), save=False)
    ReportJob.objects.filter(pk=job.pk).update(
        state="done",
        file=job.file.name,
        file_size=len(PDF),
        page_count=1,
        input_checksum="b" * 64,
        finished_at=timezone.now(),
    )
    done = client.get(url).json()
    assert done["state"] == "done" and done["state_label"] == gettext("Done")
    assert done["download_url"] == reverse("followup:report_job_file", args=[job.pk])
    assert done["is_finished"] is True and done["page_count"] == 1


def test_job_page_tells_who_when_and_that_the_file_was_reused(
    small_period, editor, reader, client_for
):
    earlier = _job("citywide", None, requested_by=editor, title="Tidigare rapport")
    job = _job(
        "citywide",
        None,
        requested_by=editor,
        title="Ny rapport",
        file=earlier.file.name,
        reused_from=earlier,
    )
    content = client_for(reader).get(_job_urls(job)["report_job"]).content.decode()
    html = parse_html(content)
    assert html.text["h1"] == ["Ny rapport"]
    assert "alice" in content
    assert escape(gettext("The file is reused from an earlier report of the same data:")) in (
        content
    )
    assert f'href="{reverse("followup:report_job", args=[earlier.pk])}"' in content
    assert escape(gettext("Update")) not in content  # finished: nothing to wait for


def test_status_of_a_stuck_job_ends_as_failed(small_period, editor, reader, client_for):
    job = _job("citywide", None, "queued", requested_by=editor)
    ReportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=1)
    )
    status = client_for(reader).get(_job_urls(job)["report_job_status"]).json()
    assert status["state"] == "failed" and status["is_finished"] and status["error"]


# --- Queries -------------------------------------------------------------------------


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("followup:reports"))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["editor", "bromma_reporter", "reader"])
def test_list_query_count_does_not_grow_with_the_jobs(
    who, small_period, editor, bromma_reporter, request, client_for, django_assert_max_num_queries
):
    user = request.getfixturevalue(who)
    requesters = [editor, bromma_reporter, None]
    states = ["done", "failed", "queued", "running"]

    client = client_for(user)
    _job("period", "bromma", requested_by=editor)
    one = _list_queries(client)
    for i in range(9):
        # Annual reports too: the latest one heads the page, whatever their number.
        kind, org = ("annual", None) if i % 2 else ("period", "bromma")
        _job(kind, org, states[i % 4], requested_by=requesters[i % 3])
    assert ReportJob.objects.count() == 10
    with django_assert_max_num_queries(one):
        response = client.get(reverse("followup:reports"))
    # The reporter sees Bromma's period reports only: 6 of the 10.
    assert len(response.context["rows"]) == (6 if who == "bromma_reporter" else 10)
    assert _list_queries(client) == one
    print(f"\n{who}: list page, {one} queries with 1 job and with 10")
