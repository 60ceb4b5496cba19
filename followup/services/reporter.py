"""The reporter page's batch ("Mina rapporter"): every row the user posted,
checked together and saved all or nothing; and copying the previous period's
reports into the rows nobody has touched yet.

A row is one status report with the user's entries and the version of the row
the user loaded (``ReportInput.expected_version``). For each row:

* A row someone else saved since the user loaded it is stale. It is a
  conflict if the user changed it too, or if the user submits and the row is
  not submitted yet; the conflict carries the row as saved now and who saved
  it, so that saving again replaces it knowingly. If only the other person
  changed it, a draft save leaves their version alone.
* Otherwise the row is saved if the user changed it, or if the user submits
  and the row is still a draft. A row that is already submitted stays
  submitted: a change to it is checked and submitted again.
* A row to save is checked with the same rules as a single save
  (``status_report_validate``). Submitting submits the complete rows: a draft
  that is not complete yet (no status, or no comment where one is needed)
  stays a draft, with its changes saved, and the result says what it lacks
  (``left``). That is not an error; an entry that cannot be saved at all (too
  long, a status out of use) is.

If any row has an error or a conflict (or could not be read at all), nothing
is saved and the result says which rows and why. Otherwise every row is saved
in one transaction; each save is a compare-and-set, so a race after the checks
(someone saving in between) rolls everything back and is reported as a
conflict (or error) on that row, with ``rolled_back`` set.

Queries: checking is a fixed number of queries whatever the number of rows
(the rows, their periods and the previous reports come loaded; the history of
stale rows and the names of whoever caused conflicts are one query each);
saving costs ``status_report_save``'s constant number per saved row. Rows
without changes cost nothing.
"""

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import ConcurrentEditError, PeriodClosedError, ReportingPeriod, StatusReport
from ..selectors import previous_reports
from .status_reports import (
    EMPTY_VALUES,
    ReportInput,
    input_values,
    report_values,
    status_report_editable,
    status_report_save,
    status_report_validate,
)


@dataclass(frozen=True)
class BatchRow:
    """One row as posted. ``report`` comes loaded with its period; ``data`` is
    None if the caller could not read the row's input (its form has errors):
    the batch then saves nothing."""

    report: StatusReport
    data: ReportInput | None
    previous: StatusReport | None = None  # the previous period's report, if any


@dataclass(frozen=True)
class RowConflict:
    """Someone else saved the row after the user loaded it."""

    report: StatusReport  # the row as saved now
    saved_by: str  # their name, "" if unknown
    user_changed: bool  # the user changed the row too


@dataclass
class BatchResult:
    saved: list[StatusReport] = field(default_factory=list)
    submitted: list[int] = field(default_factory=list)  # drafts submitted now
    resubmitted: list[int] = field(default_factory=list)  # changes to submitted rows
    # Drafts the user submitted that are not complete: report pk → field → what is missing.
    left: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    errors: dict[int, ValidationError] = field(default_factory=dict)  # report pk → errors
    conflicts: dict[int, RowConflict] = field(default_factory=dict)  # report pk → conflict
    unreadable: list[int] = field(default_factory=list)  # rows given without input
    # A race during the save undid it: the rows handed in are stale.
    rolled_back: bool = False

    @property
    def ok(self) -> bool:
        return not (self.errors or self.conflicts or self.unreadable)


def status_report_batch_save(
    *, rows: Sequence[BatchRow], actor: AbstractBaseUser, submit: bool
) -> BatchResult:
    """Check every row, then save all of them or none (see the module's
    docstring). ``submit=False`` saves drafts.

    Raises PermissionDenied if a row is not one of the actor's organisation's,
    and PeriodClosedError if a row can no longer be saved (its period closed);
    nothing is saved then. Row errors and conflicts are returned, not raised."""
    unique: dict[int, BatchRow] = {}
    for row in rows:
        unique.setdefault(row.report.pk, row)  # a row posted twice counts once
    rows = list(unique.values())
    _check_reporter(actor, [row.report for row in rows])
    if not all(status_report_editable(row.report) for row in rows):
        raise PeriodClosedError()

    result = BatchResult(unreadable=[row.report.pk for row in rows if row.data is None])
    readable = [row for row in rows if row.data is not None]
    stale = {
        row.report.pk: row.data.expected_version
        for row in readable
        if row.data.expected_version != row.report.version
        and input_values(row.data) != report_values(row.report)
    }
    loaded = _loaded_values(stale)

    plan: list[tuple[BatchRow, ReportInput, bool]] = []
    conflicts: list[tuple[StatusReport, bool]] = []
    for row in readable:
        report, values = row.report, input_values(row.data)
        if report.pk in stale:
            user_changed = loaded.get(report.pk) != values
            if user_changed or (submit and not report.is_submitted):
                conflicts.append((report, user_changed))
            # Else only someone else changed it: a draft save leaves it alone.
            continue
        # The row as saved now is either the version the user loaded or the
        # same as the user's entries: saving it overwrites nobody.
        changed = values != report_values(report)
        is_draft = not report.is_submitted
        if not (changed or (submit and is_draft)):
            continue
        # A submitted row stays submitted: its change must be complete.
        errors = status_report_validate(
            report=report, data=row.data, previous=row.previous, submit=not is_draft
        )
        if errors:
            result.errors[report.pk] = ValidationError(errors)
            continue
        row_submit = not is_draft
        if row_submit:
            result.resubmitted.append(report.pk)
        elif submit:
            missing = status_report_validate(
                report=report, data=row.data, previous=row.previous, submit=True
            )
            if missing:
                result.left[report.pk] = missing
            else:
                row_submit = True
                result.submitted.append(report.pk)
        if changed or row_submit:
            data = dataclasses.replace(row.data, expected_version=report.version)
            plan.append((row, data, row_submit))
    if conflicts:
        names = _user_names(report.updated_by_id for report, _changed in conflicts)
        for report, user_changed in conflicts:
            result.conflicts[report.pk] = RowConflict(
                report=report,
                saved_by=names.get(report.updated_by_id, ""),
                user_changed=user_changed,
            )
    if not result.ok:
        return result

    current: BatchRow | None = None
    try:
        with transaction.atomic():
            for row, data, row_submit in plan:
                current = row
                status_report_save(
                    report=row.report,
                    data=data,
                    actor=actor,
                    submit=row_submit,
                    previous=row.previous,
                )
                result.saved.append(row.report)
    except ConcurrentEditError:
        # Someone saved the row between the checks and the save.
        report = StatusReport.objects.select_related("status").get(pk=current.report.pk)
        name = _user_names([report.updated_by_id]).get(report.updated_by_id, "")
        return BatchResult(
            conflicts={report.pk: RowConflict(report=report, saved_by=name, user_changed=True)},
            rolled_back=True,
        )
    except PeriodClosedError:
        raise
    except ValidationError as error:
        return BatchResult(errors={current.report.pk: error}, rolled_back=True)
    return result


@dataclass
class CopyForwardResult:
    copied: int = 0  # rows filled in from the previous period, as drafts
    kept: int = 0  # rows already edited or submitted: left as they are
    without_previous: int = 0  # untouched rows with no earlier report to copy
    status_retired: int = 0  # untouched rows whose earlier status is out of use
    previous_period: str = ""  # the period copied from (the latest, if several)


def status_report_copy_forward(
    *, actor: AbstractBaseUser, period: ReportingPeriod
) -> CopyForwardResult:
    """Fill every untouched report of the actor's organisations in the period
    (a draft with no status and no text) with the previous period's report:
    status, comment, planned next action and expected completion, as a draft
    for the reporter to check and submit. Rows already edited or submitted
    are kept as they are. All or nothing: if someone saves one of the rows
    meanwhile, nothing is copied (ConcurrentEditError). Raises PermissionDenied
    for a non-reporter, PeriodClosedError if the period is not open.

    Queries: a fixed number, plus ``status_report_save``'s per copied row."""
    if not (actor.is_authenticated and actor.has_perm("followup.report_status")):
        raise PermissionDenied(_("You can only report for your own organisation."))
    if period.state != ReportingPeriod.State.OPEN:
        raise PeriodClosedError()
    reports = list(
        StatusReport.objects.filter(
            period=period, organisation__in=actor.organisations.all()
        ).select_related("period", "organisation")
    )
    untouched = [
        report
        for report in reports
        if not report.is_submitted and report_values(report) == EMPTY_VALUES
    ]
    result = CopyForwardResult(kept=len(reports) - len(untouched))
    previous = previous_reports(untouched)
    plan = []
    for report in untouched:
        earlier = previous.get(report.pk)
        if earlier is None:
            result.without_previous += 1
        elif earlier.status is not None and not earlier.status.is_active:
            result.status_retired += 1
        else:
            plan.append((report, earlier))
    if plan:
        latest = max((earlier.period for _report, earlier in plan), key=ReportingPeriod.sort_key)
        result.previous_period = latest.label
    with transaction.atomic():
        for report, earlier in plan:
            status_report_save(
                report=report,
                data=ReportInput(
                    status=earlier.status,
                    comment=earlier.comment,
                    planned_next_action=earlier.planned_next_action,
                    expected_completion=earlier.expected_completion,
                    expected_version=report.version,
                ),
                actor=actor,
                submit=False,
                previous=earlier,
            )
            result.copied += 1
    return result


def _check_reporter(actor: AbstractBaseUser, reports: Sequence[StatusReport]) -> None:
    """Every report is one of the actor's organisations'. One query."""
    organisations = {report.organisation_id for report in reports}
    if not organisations:
        return
    allowed = (
        actor.is_authenticated
        and actor.has_perm("followup.report_status")
        and actor.organisations.filter(pk__in=organisations).count() == len(organisations)
    )
    if not allowed:
        raise PermissionDenied(_("You can only report for your own organisation."))


def _loaded_values(stale: dict[int, int]) -> dict[int, tuple]:
    """The values of each stale row as the user loaded it (by the version the
    user's input carries), from the report history. One query."""
    if not stale:
        return {}
    records = StatusReport.history.filter(id__in=stale.keys(), version__in=set(stale.values()))
    return {
        record.id: report_values(record) for record in records if stale[record.id] == record.version
    }


def _user_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in={pk for pk in user_ids if pk})
    return {u.pk: u.get_full_name() or u.get_username() for u in users}
