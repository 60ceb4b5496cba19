"""Report jobs: requesting, rendering in the (eager) Celery task, reusing a
file from the same data, and every way a job ends as failed, never stuck."""

import datetime

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from followup.models import ReportJob, StatusReport
from followup.reports import render as render_module
from followup.reports.params import report_request_clean
from followup.services import (
    ReportInput,
    report_file_intact,
    report_job_request,
    report_job_run,
    report_jobs_expire,
    status_report_save,
)
from followup.tasks import render_report
from tests.helpers import pdf_text

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.fixture(autouse=True)
def _renderer(request) -> None:
    """The PDF itself is tested in test_report_pdf.py: here reports render with
    the fake, except in the tests marked ``weasyprint``, which break
    WeasyPrint's own steps."""
    if request.node.get_closest_marker("weasyprint") is None:
        request.getfixturevalue("fake_pdf")


def _request(capture, actor, *, force=False, **params):
    params.setdefault("kind", "citywide")
    if params["kind"] != "annual":
        params.setdefault("period", "2030-T1")
    with capture(execute=True):
        job = report_job_request(request=report_request_clean(**params), actor=actor, force=force)
    job.refresh_from_db()
    return job


def _read(job: ReportJob) -> bytes:
    with job.file.open("rb") as handle:
        return handle.read()


def _files(media_root) -> list:
    return sorted(p for p in media_root.rglob("*") if p.is_file())


@pytest.fixture
def renderings(monkeypatch, fake_pdf):
    """Counts the renderings (the fake renderer's run)."""
    calls = []
    real = render_module.html_to_pdf

    def counting(html):
        calls.append(html)
        return real(html)

    monkeypatch.setattr(render_module, "html_to_pdf", counting)
    return calls


def test_request_renders_and_stores_a_whole_pdf(
    small_period, editor, django_capture_on_commit_callbacks, media_root
):
    job = _request(django_capture_on_commit_callbacks, editor)

    assert job.state == ReportJob.State.DONE
    assert job.requested_by == editor
    assert job.parameters == {"period": "2030-T1"}
    assert job.started_at <= job.finished_at
    assert len(job.input_checksum) == 64
    data = _read(job)
    assert data.startswith(b"%PDF-") and job.file_size == len(data)
    assert job.page_count >= 3
    assert report_file_intact(job)
    assert "Bemanningen räcker inte." in pdf_text(data)
    assert [p.name for p in _files(media_root)] == [job.file.name.rsplit("/", 1)[1]]


def test_same_request_while_one_is_pending_returns_that_job(small_period, editor):
    request = report_request_clean(kind="citywide", period="2030-T1")
    first = report_job_request(request=request, actor=editor)  # queued: on_commit not run
    assert report_job_request(request=request, actor=editor) == first
    assert ReportJob.objects.count() == 1
    forced = report_job_request(request=request, actor=editor, force=True)
    assert forced != first and ReportJob.objects.count() == 2


def test_same_data_reuses_the_file_without_rendering(
    small_period, editor, django_capture_on_commit_callbacks, renderings, media_root
):
    first = _request(django_capture_on_commit_callbacks, editor)
    second = _request(django_capture_on_commit_callbacks, editor)

    assert len(renderings) == 1
    assert second.state == ReportJob.State.DONE and second.pk != first.pk
    assert second.reused_from == first
    assert second.file.name == first.file.name
    assert second.input_checksum == first.input_checksum
    assert "reused" in second.progress or "återanvänds" in second.progress
    assert len(_files(media_root)) == 1


def test_forced_request_renders_anew(
    small_period, editor, django_capture_on_commit_callbacks, renderings, media_root
):
    first = _request(django_capture_on_commit_callbacks, editor)
    again = _request(django_capture_on_commit_callbacks, editor, force=True)

    assert len(renderings) == 2
    assert again.reused_from is None
    assert again.file.name != first.file.name
    assert again.input_checksum == first.input_checksum
    assert len(_files(media_root)) == 2


def test_changed_data_renders_anew(
    small_period,
    editor,
    farsta_reporter,
    statuses,
    django_capture_on_commit_callbacks,
    renderings,
):
    first = _request(django_capture_on_commit_callbacks, editor)
    report = StatusReport.objects.get(
        period=small_period, organisation__code="farsta", next_step__isnull=False
    )
    status_report_save(
        report=report,
        data=ReportInput(status=statuses["genomford"], comment="Klart."),
        actor=farsta_reporter,
        submit=True,
    )
    second = _request(django_capture_on_commit_callbacks, editor)

    assert len(renderings) == 2
    assert second.input_checksum != first.input_checksum
    assert second.reused_from is None
    assert "Klart." in pdf_text(_read(second))


def test_running_the_task_twice_changes_nothing(
    small_period, editor, django_capture_on_commit_callbacks, renderings
):
    job = _request(django_capture_on_commit_callbacks, editor)
    finished = job.finished_at

    assert render_report.delay(job.pk).get() == ReportJob.State.DONE
    job.refresh_from_db()
    assert job.finished_at == finished and len(renderings) == 1


def test_task_has_time_limits_and_acknowledges_late(settings):
    assert render_report.acks_late is True
    assert render_report.soft_time_limit == settings.REPORT_SOFT_TIME_LIMIT
    assert render_report.time_limit == settings.REPORT_TIME_LIMIT
    assert render_report.time_limit > render_report.soft_time_limit


def test_task_for_a_missing_job_does_nothing(db):
    assert render_report.delay(987654).get() is None


# --- Failures --------------------------------------------------------------------------


def _job(editor, **params) -> ReportJob:
    return ReportJob.objects.create(
        kind=params.pop("kind", "citywide"),
        parameters=params,
        title="Test",
        requested_by=editor,
    )


def test_job_whose_period_is_gone_fails_with_the_reason(small_period, editor, media_root):
    job = _job(editor, period="1999-T1")
    job = report_job_run(job_id=job.pk)

    assert job.state == ReportJob.State.FAILED
    assert "1999-T1" in job.error
    assert not job.file and _files(media_root) == []


@pytest.mark.weasyprint
def test_renderer_error_fails_the_job_and_stores_nothing(
    small_period, editor, monkeypatch, media_root
):
    def broken(self, *args, **kwargs):
        raise RuntimeError("Pango could not load a font")

    monkeypatch.setattr("weasyprint.HTML.render", broken)
    job = report_job_run(job_id=_job(editor, period="2030-T1").pk)

    assert job.state == ReportJob.State.FAILED
    assert "RuntimeError: Pango could not load a font" in job.error
    assert job.finished_at is not None and not job.file
    assert _files(media_root) == []
    job.refresh_from_db()
    assert job.state == ReportJob.State.FAILED


@pytest.mark.weasyprint
def test_incomplete_pdf_is_never_marked_done(small_period, editor, monkeypatch, media_root):
    real = render_module.HTML.render

    def truncated(self, *args, **kwargs):
        document = real(self, *args, **kwargs)
        write = document.write_pdf
        document.write_pdf = lambda *a, **k: write(*a, **k)[:2000]
        return document

    monkeypatch.setattr(render_module.HTML, "render", truncated)
    job = report_job_run(job_id=_job(editor, period="2030-T1").pk)

    assert job.state == ReportJob.State.FAILED
    assert job.error and not job.file
    assert _files(media_root) == []


@pytest.mark.weasyprint
def test_soft_time_limit_fails_the_job_with_the_limit(small_period, editor, monkeypatch, settings):
    def slow(self, *args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("weasyprint.HTML.render", slow)
    job = report_job_run(job_id=_job(editor, period="2030-T1").pk)

    assert job.state == ReportJob.State.FAILED
    assert str(settings.REPORT_SOFT_TIME_LIMIT) in job.error


def test_stuck_jobs_are_marked_failed(editor, settings):
    now = timezone.now()
    limit = datetime.timedelta(seconds=settings.REPORT_TIME_LIMIT + 61)
    stuck = _job(editor, period="2030-T1")
    ReportJob.objects.filter(pk=stuck.pk).update(state="running", started_at=now - limit)
    busy = _job(editor, period="2030-T2")
    ReportJob.objects.filter(pk=busy.pk).update(state="running", started_at=now)
    waiting = _job(editor, period="2030-VB")
    never = _job(editor, period="2031-T1")
    ReportJob.objects.filter(pk=never.pk).update(
        created_at=now - datetime.timedelta(seconds=settings.REPORT_QUEUE_TIMEOUT + 1)
    )

    assert report_jobs_expire(now=now) == 2

    states = dict(ReportJob.objects.values_list("pk", "state"))
    assert states == {
        stuck.pk: "failed",
        busy.pk: "running",
        waiting.pk: "queued",
        never.pk: "failed",
    }
    assert str(settings.REPORT_TIME_LIMIT) in ReportJob.objects.get(pk=stuck.pk).error
    assert report_jobs_expire(now=now) == 0


# --- Who may request ----------------------------------------------------------------


def test_reporter_requests_only_their_own_period_report(
    small_period, bromma_reporter, farsta_reporter, reader, editor
):
    bromma = report_request_clean(kind="period", period="2030-T1", organisation="bromma")
    assert report_job_request(request=bromma, actor=bromma_reporter).organisation.code == "bromma"
    for actor, request in (
        (farsta_reporter, bromma),
        (bromma_reporter, report_request_clean(kind="citywide", period="2030-T1")),
        (reader, bromma),
    ):
        with pytest.raises(PermissionDenied):
            report_job_request(request=request, actor=actor, force=True)
    assert ReportJob.objects.count() == 1
    assert report_job_request(request=bromma, actor=editor, force=True)
