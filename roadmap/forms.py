"""Forms shared by the admin and the site's pages."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Model, When
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fardplan import limits
from fardplan.limits import with_limit_help_text

from .models import Organisation, Revision


def _display(value) -> str:
    if isinstance(value, (list, tuple, set)):
        return ", ".join(sorted(str(v) for v in value)) or "–"
    if value in (None, ""):
        return "–"
    return str(value)


class VersionedModelForm(forms.ModelForm):
    """Optimistic locking for a versioned model.

    The form carries the version the user loaded. If someone else saved the
    row in the meantime, the form is refused with a message that lists what
    the other person changed, the user's own input stays in the form, and the
    save itself is a compare-and-set (see ``VersionedModel``), so a race
    between validation and saving cannot overwrite either. A change without
    the version (a client that leaves the hidden field out) is refused the
    same way: it cannot be told from a stale one.
    """

    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        expected = cleaned.get("expected_version")
        if self.instance.pk is None:
            return cleaned
        if expected is None:
            # Without the version the user loaded, a save could overwrite
            # someone else's: refuse it as a possible conflict.
            raise ValidationError(
                gettext(
                    "The form was sent without the version of the item you opened, so "
                    "someone else may have changed it in the meantime. Your changes were "
                    "not saved. Reload the page and make your change again."
                ),
                code="concurrent_edit",
            )
        model = type(self.instance)
        current = model._base_manager.filter(pk=self.instance.pk).first()
        if current is None:
            raise ValidationError(gettext("Someone else has deleted this item."))
        if current.version != expected:
            raise ValidationError(self._conflict_message(current, expected), code="concurrent_edit")
        self.instance.expected_version = expected
        return cleaned

    @staticmethod
    def _changed_since(current: Model, expected: int) -> set[str] | None:
        """The fields changed since the version the user loaded, from the
        item's history. (The bound form's ``initial`` cannot tell: it is built
        from the row as it is now.) None when the history does not know."""
        history = getattr(current, "history", None)
        if history is None:
            return None
        records = history.order_by("-history_id")
        loaded, latest = records.filter(version=expected).first(), records.first()
        if loaded is None or latest is None:
            return None
        return {change.field for change in latest.diff_against(loaded).changes}

    def _conflict_message(self, current: Model, expected: int) -> str:
        changed = self._changed_since(current, expected)
        changes = []
        for name, field in self.fields.items():
            if name == "expected_version":
                continue
            try:
                model_field = current._meta.get_field(name)
            except Exception:  # noqa: BLE001 - a form-only field
                continue
            if model_field.primary_key:
                continue
            if model_field.many_to_many:
                now = {str(obj) for obj in getattr(current, name).all()}
                before_pks = {getattr(v, "pk", v) for v in (self.initial.get(name) or [])}
                before = {
                    str(obj) for obj in model_field.related_model.objects.filter(pk__in=before_pks)
                }
            else:
                now = getattr(current, model_field.attname)
                before = self.initial.get(name)
                if hasattr(before, "pk"):
                    before = before.pk
            differs = name in changed if changed is not None else now != before
            if differs:
                if model_field.is_relation and not model_field.many_to_many:
                    now = getattr(current, name)
                changes.append(
                    gettext("%(field)s is now “%(value)s”")
                    % {"field": field.label, "value": _display(now)}
                )
        message = gettext(
            "Someone else saved changes to this item after you opened it. "
            "Your changes were not saved; they are still in the form."
        )
        if changes:
            message += " " + gettext("Their changes: %(changes)s.") % {
                "changes": "; ".join(changes)
            }
        message += " " + gettext(
            "Reload the page to see the current version and make your change again."
        )
        return message


class ApproveForm(forms.Form):
    """The political decision that approves a revision."""

    title = with_limit_help_text(
        forms.CharField(
            label=_("Title"),
            max_length=200,
            required=False,
            help_text=_(
                "The title the revision is adopted with. Correct it here if needed; "
                "left empty, the title stays as it is."
            ),
        )
    )
    decision_body = forms.ModelChoiceField(
        label=_("Deciding body"),
        # Only the bodies that adopt the roadmap: kommunfullmäktige and
        # kommunstyrelsen first, then äldrenämnden.
        queryset=Organisation.objects.deciding_bodies().order_by(
            Case(
                When(kind=Organisation.Kind.COUNCIL, then=0),
                When(kind=Organisation.Kind.EXECUTIVE, then=1),
                When(kind=Organisation.Kind.COMMITTEE, then=2),
                default=3,
            ),
            "name",
        ),
    )
    decision_date = forms.DateField(
        label=_("Decision date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    case_number = with_limit_help_text(
        forms.CharField(
            label=_("Case number (Dnr)"), max_length=50, help_text=_("E.g. KS 2021/1462")
        )
    )
    decision_paragraph = with_limit_help_text(
        forms.CharField(label=_("Protocol paragraph"), max_length=50, required=False)
    )
    comment = with_limit_help_text(
        forms.CharField(
            label=_("Comment"),
            max_length=limits.EVENT_COMMENT,
            widget=forms.Textarea(attrs={"rows": 3}),
            required=False,
        )
    )

    def clean_decision_date(self):
        value = self.cleaned_data["decision_date"]
        if value > timezone.localdate():
            raise ValidationError(_("The decision date cannot be in the future."))
        return value


class ReturnForm(forms.Form):
    comment = with_limit_help_text(
        forms.CharField(
            label=_("What should be changed?"),
            max_length=limits.EVENT_COMMENT,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
    )


class SubmitForm(forms.Form):
    comment = with_limit_help_text(
        forms.CharField(
            label=_("Comment (optional)"),
            max_length=limits.EVENT_COMMENT,
            widget=forms.Textarea(attrs={"rows": 3}),
            required=False,
        )
    )


class StartRevisionForm(forms.Form):
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2999)
    title = with_limit_help_text(forms.CharField(label=_("Title"), max_length=200, required=False))

    def __init__(self, *args, base: Revision | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if base is not None:
            self.fields["year"].initial = base.year + 1
            self.fields["title"].initial = base.title
