"""Forms for the follow-up pages.

The reporter page ("Mina rapporter") shows one ``StatusReportForm`` per status
report, prefixed by the report's primary key (``r<pk>-status`` …), so that a
page of a hundred obligations is one HTML form and one POST. The forms only
check the shape of the input; the rules of reporting (which statuses, when a
comment is required, the period, the version) are the service's
(``followup.services.status_report_validate`` / ``status_report_save``, and
``status_report_batch_save`` for the whole page).

A form never queries the database: the statuses and the report are loaded in
bulk by the view and handed in.
"""

from collections.abc import Sequence

from django import forms
from django.utils.text import capfirst, get_text_list
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fardplan import limits
from fardplan.limits import with_limit_help_text

from .models import Status, StatusReport
from .services import ReportInput

# The fields a reporter fills in, in the order of the page.
REPORT_FIELDS = ("status", "comment", "planned_next_action", "expected_completion")


def _label(name: str):
    """The model field's own (translated) name, capitalised."""
    return capfirst(StatusReport._meta.get_field(name).verbose_name)


class StatusReportForm(forms.Form):
    """One row of the reporter page: one organisation's report on one action."""

    status = forms.TypedChoiceField(label=_("Status"), required=False, coerce=int, empty_value=None)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=limits.REPORT_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    planned_next_action = forms.CharField(
        label=_label("planned_next_action"),
        required=False,
        max_length=limits.PLANNED_NEXT_ACTION,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    expected_completion = forms.CharField(
        label=_label("expected_completion"),
        required=False,
        max_length=100,
        help_text=StatusReport._meta.get_field("expected_completion").help_text,
    )
    # The version of the row the user loaded: saving is a compare-and-set.
    # (A number beyond the column's range is no version: refused here, before
    # the service compares it with the history.)
    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1
    )

    def __init__(
        self, data=None, *, report: StatusReport, statuses: Sequence[Status], **kwargs
    ) -> None:
        self.report = report
        initial = {name: getattr(report, name) for name in REPORT_FIELDS if name != "status"}
        initial["status"] = report.status_id
        initial["expected_version"] = report.version
        super().__init__(data, prefix=self.prefix_for(report.pk), initial=initial, **kwargs)
        self.statuses = {s.pk: s for s in statuses}
        choices: list[tuple[object, str]] = [("", gettext("– No status yet –"))]
        choices += [(s.pk, s.name) for s in statuses]
        current = report.status
        if current is not None and current.pk not in self.statuses:
            # A status taken out of use since the row was saved: shown, so the
            # row still reads right, but the service refuses to save it again.
            self.statuses[current.pk] = current
            choices.append(
                (current.pk, gettext("%(status)s (no longer in use)") % {"status": current.name})
            )
        self.fields["status"].choices = choices
        needing = [s.name for s in statuses if s.requires_comment]
        if needing:
            self.fields["comment"].help_text = gettext(
                "Needed to submit if the status is %(statuses)s, or if it has changed "
                "since the previous period."
            ) % {"statuses": get_text_list([f"“{name}”" for name in needing], gettext("or"))}
        # The longest text each field takes, beside the field.
        for name in ("comment", "planned_next_action", "expected_completion"):
            with_limit_help_text(self.fields[name])

    @staticmethod
    def prefix_for(pk: int) -> str:
        return f"r{pk}"

    def clean(self):
        cleaned = super().clean()
        # The hidden version is not the user's to fix: say so at the row.
        if "expected_version" in self._errors or cleaned.get("expected_version") is None:
            self._errors.pop("expected_version", None)
            self.add_error(
                None,
                gettext(
                    "This row was not sent complete. Reload the page and enter your changes again."
                ),
            )
        return cleaned

    # --- After validation -----------------------------------------------------------

    @property
    def status_object(self) -> Status | None:
        pk = self.cleaned_data.get("status")
        return self.statuses.get(pk) if pk is not None else None

    def report_input(self, *, expected_version: int | None = None) -> ReportInput:
        return ReportInput(
            status=self.status_object,
            comment=self.cleaned_data.get("comment", ""),
            planned_next_action=self.cleaned_data.get("planned_next_action", ""),
            expected_completion=self.cleaned_data.get("expected_completion", ""),
            expected_version=expected_version or self.cleaned_data.get("expected_version"),
        )
