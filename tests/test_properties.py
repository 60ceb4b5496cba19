"""Property-based tests (Hypothesis) of the app's forms and services: whatever
a user types — long text, NUL bytes, control characters, right-to-left marks,
emoji, huge and negative numbers — ends as a field error or a success, never
as an exception or a server error.

Each example runs in a savepoint that is rolled back, so the examples do not
depend on each other. Hypothesis keeps no example database in the repository
(``database=None``); the profile is registered here, not in conftest.py.
"""

import datetime
from contextlib import contextmanager

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fardplan import limits
from followup.forms import StatusReportForm
from followup.models import ReportingPeriod, Status, StatusReport
from followup.services import (
    BatchRow,
    ReportInput,
    period_close,
    period_create,
    period_open,
    status_report_batch_save,
    status_report_reopen,
    status_report_save,
)
from followup.views_overview import ReopenForm
from roadmap.forms import ApproveForm, ReturnForm, SubmitForm
from roadmap.models import NextStep, Organisation, Revision
from roadmap.services import revision_approve, revision_return, revision_start, revision_submit

settings.register_profile(
    "fardplan",
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.load_profile("fardplan")

EXAMPLES = {"total": 0}

# --- Strategies -----------------------------------------------------------------------

NASTY = [
    "\x00",  # NUL
    "\x01",
    "\x1b[31m",  # control characters
    "\r\n",
    "\t",
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\ufeff",  # byte order mark
    "😀",
    "👩‍👩‍👧",  # emoji with joiners
    "ÅÄÖ åäö",
    "=1+1",
    "<script>alert(1)</script>",
    "%00",
    "' OR 1=1 --",
]

nasty_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=20)), max_size=8).map(
    "".join
)
long_text = st.sampled_from([100, 101, 200, 201, 2000, 2001, 4000, 4001, 10001, 20000]).flatmap(
    lambda n: st.sampled_from(["x", "å", "😀", "\u200f"]).map(lambda c: c * n)
)
texts = st.one_of(st.just(""), st.text(), nasty_text, long_text)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([0, -1, 1, 2**15, 2**31, 2**63, 10**20]),
)
number_inputs = st.one_of(numbers.map(str), texts)


def _count() -> None:
    EXAMPLES["total"] += 1


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _refused_or_done(call) -> None:
    """Runs a service call: a ValidationError or PermissionDenied is a refusal
    with a message; anything else that is raised fails the test."""
    try:
        call()
    except (ValidationError, PermissionDenied) as error:
        assert str(error)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _assert_handled(response) -> None:
    assert response.status_code < 500, response.status_code


@pytest.fixture(autouse=True)
def _print_examples(request, capsys):
    before = EXAMPLES["total"]
    yield
    with capsys.disabled():
        print(
            f"\n{request.node.name}: {EXAMPLES['total'] - before} Hypothesis examples "
            f"(total in this process: {EXAMPLES['total']})",
            end="",
        )


# --- Data ---------------------------------------------------------------------------


@pytest.fixture
def statuses(db) -> dict[str, Status]:
    return {s.code: s for s in Status.objects.all()}


@pytest.fixture
def period(small_roadmap, statuses, editor) -> ReportingPeriod:
    today = datetime.date.today()
    period = period_create(
        year=2030,
        kind="T1",
        revision=small_roadmap,
        actor=editor,
        opens_on=today - datetime.timedelta(days=5),
        deadline=today + datetime.timedelta(days=20),
    )
    return period_open(period=period, actor=editor)


@pytest.fixture
def bromma_report(period, bromma_reporter) -> StatusReport:
    return StatusReport.objects.filter(period=period, organisation__code="bromma").first()


@pytest.fixture
def closed_report(small_roadmap, statuses, editor) -> StatusReport:
    period = period_create(year=2029, kind="VB", revision=small_roadmap, actor=editor)
    period = period_open(period=period, actor=editor)
    period_close(period=period, actor=editor, today=period.deadline + datetime.timedelta(days=1))
    return StatusReport.objects.filter(period=period).first()


statuses_or_junk = st.one_of(
    st.sampled_from(["", "1", "2", "3", "4", "5", "6", "7"]), number_inputs
)
report_fields = st.fixed_dictionaries(
    {
        "status": statuses_or_junk,
        "comment": texts,
        "planned_next_action": texts,
        "expected_completion": texts,
        "expected_version": number_inputs,
    }
)


# --- The reporter page -----------------------------------------------------------------


@given(fields=report_fields, submit=st.booleans())
def test_reporter_page_post(bromma_report, bromma_reporter, fields, submit):
    _count()
    prefix = StatusReportForm.prefix_for(bromma_report.pk)
    data = {f"{prefix}-{k}": v for k, v in fields.items()}
    data["report"] = str(bromma_report.pk)
    data["action"] = "submit" if submit else "draft"
    with rolled_back():
        response = _client(bromma_reporter).post(reverse("followup:my_reports"), data)
        _assert_handled(response)
        if any(len(v) > limits.REPORT_COMMENT for v in fields.values()):
            assert response.status_code == 400


@given(fields=report_fields, submit=st.booleans())
def test_status_report_form_and_batch_service(
    bromma_report, bromma_reporter, statuses, fields, submit
):
    _count()
    prefix = StatusReportForm.prefix_for(bromma_report.pk)
    data = {f"{prefix}-{k}": v for k, v in fields.items()}
    with rolled_back():
        report = StatusReport.objects.select_related("period", "organisation").get(
            pk=bromma_report.pk
        )
        form = StatusReportForm(data, report=report, statuses=list(statuses.values()))
        if not form.is_valid():
            assert form.errors
            return
        result = status_report_batch_save(
            rows=[BatchRow(report=report, data=form.report_input())],
            actor=bromma_reporter,
            submit=submit,
        )
        assert result.ok or result.errors or result.conflicts


@given(
    comment=texts,
    planned=texts,
    expected=texts,
    status=st.sampled_from([None, "paborjad", "forsenad", "genomford"]),
    submit=st.booleans(),
)
def test_status_report_save_service(
    bromma_report, bromma_reporter, statuses, comment, planned, expected, status, submit
):
    """The service itself, without the form in front: its own checks hold."""
    _count()
    data = ReportInput(
        status=statuses.get(status) if status else None,
        comment=comment,
        planned_next_action=planned,
        expected_completion=expected,
    )
    with rolled_back():
        report = StatusReport.objects.select_related("period", "organisation").get(
            pk=bromma_report.pk
        )
        _refused_or_done(
            lambda: status_report_save(
                report=report, data=data, actor=bromma_reporter, submit=submit
            )
        )


# --- Reopening a report -----------------------------------------------------------------


@given(reason=texts)
def test_reopen_reason(closed_report, editor, reason):
    _count()
    form = ReopenForm({"reason": reason})
    if len(reason.strip()) > limits.REOPEN_REASON:
        assert not form.is_valid() and "reason" in form.errors
    with rolled_back():
        _refused_or_done(
            lambda: status_report_reopen(report=closed_report, actor=editor, reason=reason)
        )
    with rolled_back():
        response = _client(editor).post(
            reverse("followup:reopen", args=[closed_report.pk]), {"reason": reason}
        )
        _assert_handled(response)


# --- The report request form -------------------------------------------------------------


@given(
    kind=st.one_of(st.sampled_from(["annual", "period", "citywide"]), texts),
    year=number_inputs,
    period_value=st.one_of(st.sampled_from(["2030-T1", "2029-VB"]), texts),
    organisation=st.one_of(st.sampled_from(["bromma", "farsta", "ks"]), texts),
    force=st.sampled_from(["", "on", "abc"]),
)
def test_report_request_form(
    period, editor, fake_pdf, media_root, kind, year, period_value, organisation, force
):
    _count()
    data = {
        "kind": kind,
        "year": year,
        "period": period_value,
        "organisation": organisation,
        "force": force,
    }
    with rolled_back():
        _assert_handled(_client(editor).post(reverse("followup:reports"), data))


# --- Roadmap content in the admin ----------------------------------------------------------


@pytest.fixture
def draft_step(small_roadmap, editor) -> NextStep:
    draft = revision_start(actor=editor)
    return NextStep.objects.filter(revision=draft).first()


@given(
    text=texts,
    change_reason=texts,
    data_note=texts,
    horizon_note=texts,
    position=number_inputs,
    need=number_inputs,
    organisations=st.lists(number_inputs, max_size=3),
    horizons=st.lists(number_inputs, max_size=3),
    retired=st.sampled_from(["", "on"]),
)
def test_admin_next_step_form(
    draft_step,
    editor,
    text,
    change_reason,
    data_note,
    horizon_note,
    position,
    need,
    organisations,
    horizons,
    retired,
):
    _count()
    data = {
        "need": need,
        "position": position,
        "text": text,
        "change_reason": change_reason,
        "data_note": data_note,
        "horizon_note": horizon_note,
        "responsible_organisations": organisations,
        "horizons": horizons,
        "retired": retired,
        "expected_version": str(draft_step.version),
    }
    url = reverse("admin:roadmap_nextstep_change", args=[draft_step.pk])
    with rolled_back():
        response = _client(editor).post(url, data)
        _assert_handled(response)
        values = [
            v for value in data.values() for v in ([value] if isinstance(value, str) else value)
        ]
        if len(text) > limits.ITEM_TEXT and not any("\x00" in v for v in values):
            assert response.status_code == 200  # the form again, with the error
            assert "Högst" in response.content.decode() or "som mest" in (response.content.decode())


@given(title=texts, summary=texts, decision_note=texts, year=number_inputs)
def test_admin_revision_form(draft_step, editor, title, summary, decision_note, year):
    _count()
    revision = draft_step.revision
    data = {
        "year": year,
        "title": title,
        "summary": summary,
        "decision_note": decision_note,
        "expected_version": str(revision.version),
        "focus_areas-TOTAL_FORMS": "0",
        "focus_areas-INITIAL_FORMS": "0",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
    }
    url = reverse("admin:roadmap_revision_change", args=[revision.pk])
    with rolled_back():
        _assert_handled(_client(editor).post(url, data))


# --- The revision lifecycle ----------------------------------------------------------------


@given(comment=texts)
def test_submit_and_return_comments(draft_step, editor, approver, comment):
    _count()
    revision = draft_step.revision
    for form_class in (SubmitForm, ReturnForm):
        form = form_class({"comment": comment})
        if len(comment) > limits.EVENT_COMMENT:
            assert not form.is_valid()
    with rolled_back():
        _refused_or_done(lambda: revision_submit(revision=revision, actor=editor, comment=comment))
        _refused_or_done(
            lambda: revision_return(revision=revision, actor=approver, comment=comment)
        )
    with rolled_back():
        client = _client(editor)
        _assert_handled(
            client.post(reverse("roadmap:submit", args=[revision.year]), {"comment": comment})
        )
        _assert_handled(
            _client(approver).post(
                reverse("roadmap:return", args=[revision.year]), {"comment": comment}
            )
        )


@given(
    decision_body=number_inputs,
    decision_date=st.one_of(
        st.dates().map(str), texts, st.sampled_from(["2024-02-30", "99999-01-01"])
    ),
    case_number=texts,
    decision_paragraph=texts,
    comment=texts,
)
def test_approve_decision_fields(
    draft_step,
    editor,
    approver,
    decision_body,
    decision_date,
    case_number,
    decision_paragraph,
    comment,
):
    _count()
    revision = draft_step.revision
    data = {
        "decision_body": decision_body,
        "decision_date": decision_date,
        "case_number": case_number,
        "decision_paragraph": decision_paragraph,
        "comment": comment,
    }
    form = ApproveForm(data)
    with rolled_back():
        revision_submit(revision=revision, actor=editor)
        _assert_handled(
            _client(approver).post(reverse("roadmap:approve", args=[revision.year]), data)
        )
    with rolled_back():
        revision_submit(revision=revision, actor=editor)
        _refused_or_done(
            lambda: revision_approve(
                revision=Revision.objects.get(pk=revision.pk),
                actor=approver,
                decision_body=Organisation.objects.get(code="ks"),
                decision_date=datetime.date(2024, 1, 1),
                case_number=case_number,
                decision_paragraph=decision_paragraph,
                comment=comment,
            )
        )
    assert form.is_valid() or form.errors


# --- Periods -------------------------------------------------------------------------------


@given(
    year=numbers,
    kind=st.one_of(st.sampled_from(["T1", "T2", "VB"]), texts),
    opens_on=st.one_of(st.none(), st.dates()),
    deadline=st.one_of(st.none(), st.dates()),
)
def test_period_create_service(small_roadmap, editor, year, kind, opens_on, deadline):
    _count()
    with rolled_back():
        _refused_or_done(
            lambda: period_create(
                year=year,
                kind=kind,
                revision=small_roadmap,
                actor=editor,
                opens_on=opens_on,
                deadline=deadline,
            )
        )


@given(
    year=number_inputs,
    kind=st.one_of(st.sampled_from(["T1", "T2", "VB"]), texts),
    revision=number_inputs,
    opens_on=st.one_of(st.dates().map(str), texts),
    deadline=st.one_of(st.dates().map(str), texts),
)
def test_admin_period_add_form(small_roadmap, editor, year, kind, revision, opens_on, deadline):
    _count()
    data = {
        "year": year,
        "kind": kind,
        "revision": revision,
        "opens_on": opens_on,
        "deadline": deadline,
    }
    with rolled_back():
        _assert_handled(_client(editor).post(reverse("admin:followup_reportingperiod_add"), data))


def test_a_version_beyond_the_column_range_is_a_row_error(bromma_report, bromma_reporter):
    """Found by the properties above: a huge hidden version reached the history
    query (OverflowError on SQLite)."""
    prefix = StatusReportForm.prefix_for(bromma_report.pk)
    data = {f"{prefix}-expected_version": "9" * 30, f"{prefix}-comment": "Ändrad"}
    form = StatusReportForm(data, report=bromma_report, statuses=list(Status.objects.all()))
    assert not form.is_valid() and form.non_field_errors()
