"""The admin: where äldreförvaltningen's editors edit the draft revision.

Content is editable only while its revision is a draft; approved and superseded
revisions show read-only. Every edit form carries the row's version, so two
people editing the same item cannot overwrite each other silently.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import models
from django.db.models import QuerySet
from django.forms.formsets import DELETION_FIELD_NAME
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fardplan.admin import (
    AuditedModelAdmin,
    SafeFormfieldsMixin,
    SafeInputAdminMixin,
    run_service_for_each,
)
from fardplan.inputs import is_valid_value

from .forms import VersionedModelForm
from .models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    RevisionEvent,
    TimeHorizon,
)
from .services import positions_make_room, revision_submit

# The admin carries the site's name (templates/admin/base_site.html shows it,
# linking back to the site) and its colours (static/css/admin.css).
admin.site.site_header = _("Roadmap for elderly care")
admin.site.site_title = _("Roadmap administration")
admin.site.index_title = _("Administration")

TEXTAREA = forms.Textarea(attrs={"rows": 3, "cols": 60})
TEXT_WIDGETS = {models.TextField: {"widget": TEXTAREA}}


def _editable(revision: Revision | None) -> bool:
    return revision is None or revision.status == Revision.Status.DRAFT


def _revision_of(obj) -> Revision | None:
    if obj is None:
        return None
    return obj if isinstance(obj, Revision) else obj.revision


def revision_label(revision: Revision) -> str:
    """E.g. "Revidering 2025 (utkast)"."""
    return gettext("Revision %(year)s (%(status)s)") % {
        "year": revision.year,
        "status": revision.get_status_display().lower(),
    }


def with_year(obj) -> str:
    """A focus area or need labelled with its revision's year, e.g.
    "2025: Fokusområde 1 …", so that the copies in two revisions differ."""
    return f"{obj.revision.year}: {obj}"


def _draft() -> Revision | None:
    return Revision.objects.filter(status=Revision.Status.DRAFT).first()


def _carried_over_lineages(model, revision_id: int | None) -> set:
    """The lineage ids of ``model``'s rows in the revision that the revision
    ``revision_id`` is based on: the rows that came with the copy."""
    based_on = (
        Revision._base_manager.filter(pk=revision_id).values_list("based_on_id", flat=True).first()
        if revision_id is not None
        else None
    )
    if based_on is None:
        return set()
    return set(
        model._base_manager.filter(revision_id=based_on).values_list("lineage_id", flat=True)
    )


def is_carried_over(item) -> bool:
    """Whether the row came with the copy of the revision its revision is
    based on (its lineage exists there), rather than being added in it."""
    if item is None or item.pk is None or not hasattr(item, "lineage_id"):
        return False
    based_on = (
        Revision._base_manager.filter(pk=item.revision_id)
        .values_list("based_on_id", flat=True)
        .first()
    )
    return (
        based_on is not None
        and type(item)
        ._base_manager.filter(revision_id=based_on, lineage_id=item.lineage_id)
        .exists()
    )


RETIRE_HELP = _(
    "Retired: the item stays in the history and in the comparisons, but is no longer "
    "part of the plan; give the reason in “reason for change”. Delete only rows that "
    "were added in this draft: a row carried over from the approved revision can only "
    "be retired."
)
DELETE_REFUSED_HELP = _(
    "Carried over from the approved revision: it cannot be deleted, only retired."
)


class RevisionListFilter(admin.SimpleListFilter):
    """Filter by revision. Without a choice, the open draft (if there is one)
    is shown; "All" must be chosen explicitly."""

    title = _("revision")
    parameter_name = "revision__id__exact"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [
            (str(r.pk), f"{r.year} ({r.get_status_display().lower()})")
            for r in Revision.objects.order_by("-year")
        ]

    def value(self):
        value = super().value()
        if value is None:
            draft = _draft()
            return str(draft.pk) if draft is not None else None
        return value

    def queryset(self, request, queryset):
        value = self.value()
        if value in (None, self.ALL):
            return queryset
        if not is_valid_value(Revision._meta.pk, value):
            raise IncorrectLookupParameters(value)
        return queryset.filter(revision_id=value)

    def choices(self, changelist):
        value = self.value()
        yield {
            "selected": value in (None, self.ALL),
            "query_string": changelist.get_query_string({self.parameter_name: self.ALL}),
            "display": gettext("All"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class YearLabelledFilter(admin.RelatedOnlyFieldListFilter):
    """A focus area or need filter whose choices carry the revision year."""

    def field_choices(self, field, request, model_admin):
        pks = (
            model_admin.get_queryset(request)
            .distinct()
            .values_list(f"{self.field_path}__pk", flat=True)
        )
        model = field.related_model
        rows = (
            model._default_manager.filter(pk__in=pks)
            .select_related("revision")
            .order_by("-revision__year", "position")
        )
        return [(obj.pk, with_year(obj)) for obj in rows]


class RevisionColumnMixin:
    """A revision column, and the change form saying which revision it edits."""

    @admin.display(description=_("revision"), ordering="revision__year")
    def revision_column(self, obj) -> str:
        return f"{obj.revision.year} ({obj.revision.get_status_display().lower()})"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        revision = obj.revision if obj is not None else _draft()
        if revision is not None:
            label = revision_label(revision)
            subtitle = context.get("subtitle")
            context["subtitle"] = f"{label}: {subtitle}" if subtitle else label
        return super().render_change_form(request, context, add, change, form_url, obj)


class DraftOnlyMixin:
    """Content can be added, changed and deleted only in a draft revision.

    Editable forms also carry the hidden ``expected_version`` of
    ``VersionedModelForm``. ``draft_parent`` (field name, model) limits the
    parent a row can be put under to the draft's, labelled with its year.
    """

    draft_parent: tuple[str, type] | None = None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if self.draft_parent is None or db_field.name != self.draft_parent[0]:
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs["queryset"] = (
            self.draft_parent[1]
            .objects.filter(revision__status=Revision.Status.DRAFT)
            .select_related("revision")
        )
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None:
            formfield.label_from_instance = with_year
        return formfield

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets
        (name, options), *rest = fieldsets
        options = {**options, "fields": (*options["fields"], "expected_version")}
        return [(name, options), *rest]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and _editable(_revision_of(obj))

    def has_delete_permission(self, request, obj=None):
        if not (super().has_delete_permission(request, obj) and _editable(_revision_of(obj))):
            return False
        # Only rows added in the draft may be deleted; carried-over rows are
        # retired, so that the history and the comparisons keep them. (An
        # inline gets the parent here: its rows are checked by the formset.)
        if isinstance(self, admin.options.InlineModelAdmin):
            return True
        return not is_carried_over(obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "retired" and formfield is not None:
            formfield.help_text = RETIRE_HELP
        return formfield

    # A save that loses a race in the instant after the form's version check,
    # or that a lock refuses, becomes a message: see AuditedModelAdmin. The
    # history pages are read-only for everyone (AuditedModelAdmin too).

    def has_add_permission(self, request, obj=None):
        # Inlines get the parent object; model admins get no obj.
        args = (request, obj) if isinstance(self, admin.options.InlineModelAdmin) else (request,)
        return super().has_add_permission(*args) and _editable(_revision_of(obj))


class PositionedInlineFormSet(BaseInlineFormSet):
    """Rejects duplicate positions with a readable message, and lets editors
    swap positions in one save although the database keeps them unique."""

    def clean(self) -> None:
        # Before super().clean(): Django's own unique check would otherwise
        # raise first, with a generic message away from the field.
        seen: dict[int, int] = {}
        for index, form in enumerate(self.forms):
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            position = form.cleaned_data.get("position")
            if position is None:
                continue
            if position in seen:
                form.add_error(
                    "position",
                    _("Position %(position)s is used twice. Each row needs its own position.")
                    % {"position": position},
                )
            seen[position] = index
        super().clean()

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        if (
            DELETION_FIELD_NAME in form.fields
            and form.instance.pk is not None
            and form.instance.lineage_id in self._carried_over
        ):
            field = form.fields[DELETION_FIELD_NAME]
            field.disabled = True
            field.help_text = DELETE_REFUSED_HELP

    @property
    def _carried_over(self) -> set:
        if not hasattr(self, "_carried_over_cache"):
            parent = self.instance
            revision_id = parent.pk if isinstance(parent, Revision) else parent.revision_id
            self._carried_over_cache = _carried_over_lineages(self.model, revision_id)
        return self._carried_over_cache

    def save(self, commit: bool = True):
        if commit:
            changed = [
                form.instance
                for form in self.initial_forms
                if form.has_changed() and "position" in form.changed_data
            ]
            deleted = [form.instance for form in self.deleted_forms if form.instance.pk]
            positions_make_room(changed=changed, deleted=deleted)
        return super().save(commit)


class PositionedInline(SafeFormfieldsMixin, DraftOnlyMixin, admin.StackedInline):
    form = VersionedModelForm
    formset = PositionedInlineFormSet
    extra = 0
    show_change_link = True
    formfield_overrides = TEXT_WIDGETS


class NationalInitiativeInline(PositionedInline):
    model = NationalInitiative
    fields = ("position", "text", "change_reason", "retired", "data_note")


class CheckboxesMixin:
    """Time horizons and responsible organisations as checkboxes: a short list
    each (27 organisations at most), every option labelled, and no script.
    (The admin's select2 autocomplete, in its multiple mode, leaves its search
    field without a label and puts a <span> into a <ul>: WCAG 1.3.1, 4.1.2.)"""

    CHECKBOX_FIELDS = ("horizons", "responsible_organisations")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name in self.CHECKBOX_FIELDS:
            kwargs["widget"] = forms.CheckboxSelectMultiple(attrs={"class": "checkbox-columns"})
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class CityActionInline(CheckboxesMixin, PositionedInline):
    model = CityAction
    fields = (
        "position",
        "text",
        "all_districts",
        "responsible_organisations",
        "change_reason",
        "retired",
        "data_note",
    )


class NextStepInline(CheckboxesMixin, PositionedInline):
    model = NextStep
    fields = (
        "position",
        "text",
        "horizons",
        "horizon_note",
        "all_districts",
        "responsible_organisations",
        "change_reason",
        "retired",
        "data_note",
    )


class NeedInline(PositionedInline):
    model = Need
    fields = ("position", "title", "change_reason", "retired", "data_note")


class FocusAreaInline(PositionedInline):
    model = FocusArea
    fields = ("position", "title", "change_reason", "retired", "data_note")


class RevisionEventInline(SafeFormfieldsMixin, admin.TabularInline):
    """The revision's timeline: read-only, written by the lifecycle services."""

    model = RevisionEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "from_status", "to_status", "actor_name", "comment")
    readonly_fields = fields
    verbose_name_plural = _("timeline")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TimeHorizon)
class TimeHorizonAdmin(SafeInputAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "definition", "years_until_due", "is_ongoing", "position")
    search_fields = ("name", "code")


@admin.register(Organisation)
class OrganisationAdmin(SafeInputAdminMixin, admin.ModelAdmin):
    list_display = ("name", "short_name", "code", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "short_name", "code")
    filter_horizontal = ("members",)


class RevisionAdminForm(VersionedModelForm):
    def _get_validation_exclusions(self):
        # The status is read-only here (the lifecycle services move it), so
        # Django would leave the one-draft rule unchecked and the database
        # would refuse a second draft with a server error. Check it, so that
        # the form says why instead.
        exclude = super()._get_validation_exclusions()
        exclude.discard("status")
        return exclude


@admin.register(Revision)
class RevisionAdmin(DraftOnlyMixin, AuditedModelAdmin):
    form = RevisionAdminForm
    list_display = ("year", "title", "status", "case_number", "decision_body", "decision_date")
    list_filter = ("status",)
    search_fields = ("title", "case_number")
    list_select_related = ("decision_body",)
    inlines = (FocusAreaInline, RevisionEventInline)
    actions = ("submit_for_review",)
    readonly_fields = (
        "status",
        "based_on",
        "decision_body",
        "decision_date",
        "case_number",
        "decision_paragraph",
        "lifecycle_link",
    )
    fieldsets = (
        (None, {"fields": ("year", "title", "status", "based_on", "lifecycle_link", "summary")}),
        (
            _("Decision"),
            {
                "fields": (
                    "decision_body",
                    "decision_date",
                    "case_number",
                    "decision_paragraph",
                    "decision_note",
                )
            },
        ),
    )

    @admin.display(description=_("review and approval"))
    def lifecycle_link(self, obj: Revision) -> str:
        if obj.pk is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("roadmap:detail", args=[obj.year]),
            gettext("Open the revision page (submit, return, approve, compare)"),
        )

    @admin.action(description=_("Submit the selected drafts for review"))
    def submit_for_review(self, request: HttpRequest, queryset: QuerySet) -> None:
        run_service_for_each(
            self,
            request,
            queryset,
            revision_submit,
            gettext("%(revision)s was submitted for review."),
            object_arg="revision",
        )


@admin.register(FocusArea)
class FocusAreaAdmin(RevisionColumnMixin, DraftOnlyMixin, AuditedModelAdmin):
    form = VersionedModelForm
    list_display = ("title", "position", "retired", "revision_column")
    list_filter = (RevisionListFilter, "retired")
    search_fields = ("title",)
    list_select_related = ("revision",)
    fields = (
        "revision",
        "position",
        "title",
        "change_reason",
        "retired",
        "data_note",
    )
    inlines = (NeedInline,)
    formfield_overrides = TEXT_WIDGETS

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "revision":
            kwargs["queryset"] = Revision.objects.filter(status=Revision.Status.DRAFT)
            formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
            if formfield is not None:
                formfield.label_from_instance = revision_label
            return formfield
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # A focus area stays in its revision.
        if obj is not None:
            return ("revision", *self.readonly_fields)
        return self.readonly_fields

    def get_search_results(self, request, queryset, search_term):
        # When a need's "focus area" autocomplete asks, offer only the draft's.
        results, dup = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") == "focus_area":
            results = results.filter(revision__status=Revision.Status.DRAFT)
        return results, dup


@admin.register(Need)
class NeedAdmin(RevisionColumnMixin, DraftOnlyMixin, AuditedModelAdmin):
    form = VersionedModelForm
    list_display = ("__str__", "focus_area", "position", "retired", "revision_column")
    list_filter = (RevisionListFilter, ("focus_area", YearLabelledFilter), "retired")
    search_fields = ("title", "data_note")
    list_select_related = ("focus_area", "revision")
    autocomplete_fields = ("focus_area",)
    fields = (
        "focus_area",
        "position",
        "title",
        "change_reason",
        "retired",
        "data_note",
    )
    inlines = (NationalInitiativeInline, CityActionInline, NextStepInline)
    formfield_overrides = TEXT_WIDGETS

    # Its focus area: one of the draft's, labelled with its year.
    draft_parent = ("focus_area", FocusArea)

    def get_search_results(self, request, queryset, search_term):
        # When an item's "need" autocomplete asks, offer only needs in the draft.
        results, dup = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") == "need":
            results = results.filter(revision__status=Revision.Status.DRAFT)
        return results, dup


class NeedItemAdmin(RevisionColumnMixin, DraftOnlyMixin, AuditedModelAdmin):
    form = VersionedModelForm
    list_display = ("__str__", "need", "position", "retired", "revision_column")
    search_fields = ("text", "need__title")
    list_select_related = ("need", "need__focus_area", "revision")
    autocomplete_fields = ("need",)
    formfield_overrides = TEXT_WIDGETS

    def get_list_filter(self, request: HttpRequest):
        return (RevisionListFilter, ("need__focus_area", YearLabelledFilter), "retired")

    # Its need: one of the draft's, labelled with its year.
    draft_parent = ("need", Need)


@admin.register(NationalInitiative)
class NationalInitiativeAdmin(NeedItemAdmin):
    fields = ("need", "position", "text", "change_reason", "retired", "data_note")


@admin.register(CityAction)
class CityActionAdmin(CheckboxesMixin, NeedItemAdmin):
    fields = (
        "need",
        "position",
        "text",
        "all_districts",
        "responsible_organisations",
        "change_reason",
        "retired",
        "data_note",
    )

    def get_list_filter(self, request: HttpRequest):
        return (*super().get_list_filter(request), "all_districts", "responsible_organisations")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("responsible_organisations")


@admin.register(NextStep)
class NextStepAdmin(CheckboxesMixin, NeedItemAdmin):
    list_display = ("__str__", "need", "position", "horizon_label", "retired", "revision_column")
    fields = (
        "need",
        "position",
        "text",
        "horizons",
        "horizon_note",
        "all_districts",
        "responsible_organisations",
        "change_reason",
        "retired",
        "data_note",
        "horizon_set_year",
    )
    readonly_fields = ("horizon_set_year",)

    def get_list_filter(self, request: HttpRequest):
        return (
            *super().get_list_filter(request),
            "horizons",
            "all_districts",
            "responsible_organisations",
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("horizons")

    @admin.display(description=_("time horizon"))
    def horizon_label(self, obj: NextStep) -> str:
        return obj.horizon_label()
