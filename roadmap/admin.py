"""The admin: where äldreförvaltningen's editors edit the draft revision.

Content is editable only while its revision is a draft; approved and superseded
revisions show read-only. Every edit form carries the row's version, so two
people editing the same item cannot overwrite each other silently.
"""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
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

admin.site.site_header = _("Roadmap for elderly care: administration")
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


class DraftOnlyMixin:
    """Content can be added, changed and deleted only in a draft revision.

    Editable forms also carry the hidden ``expected_version`` of
    ``VersionedModelForm``.
    """

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
        return super().has_delete_permission(request, obj) and _editable(_revision_of(obj))

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
    readonly_fields = ("lineage_id",)
    formfield_overrides = TEXT_WIDGETS


class NationalInitiativeInline(PositionedInline):
    model = NationalInitiative
    fields = ("position", "text", "change_reason", "retired", "data_note", "lineage_id")


class CityActionInline(PositionedInline):
    model = CityAction
    fields = (
        "position",
        "text",
        "all_districts",
        "responsible_organisations",
        "change_reason",
        "retired",
        "data_note",
        "lineage_id",
    )
    autocomplete_fields = ("responsible_organisations",)


class HorizonCheckboxesMixin:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "horizons":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class NextStepInline(HorizonCheckboxesMixin, PositionedInline):
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
        "lineage_id",
    )
    autocomplete_fields = ("responsible_organisations",)


class NeedInline(PositionedInline):
    model = Need
    fields = ("position", "title", "change_reason", "retired", "data_note", "lineage_id")


class FocusAreaInline(PositionedInline):
    model = FocusArea
    fields = ("position", "title", "change_reason", "retired", "data_note", "lineage_id")


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
class FocusAreaAdmin(DraftOnlyMixin, AuditedModelAdmin):
    form = VersionedModelForm
    list_display = ("title", "position", "retired", "revision")
    list_filter = ("revision", "retired")
    search_fields = ("title",)
    list_select_related = ("revision",)
    readonly_fields = ("lineage_id",)
    fields = (
        "revision",
        "position",
        "title",
        "change_reason",
        "retired",
        "data_note",
        "lineage_id",
    )
    inlines = (NeedInline,)
    formfield_overrides = TEXT_WIDGETS

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "revision":
            kwargs["queryset"] = Revision.objects.filter(status=Revision.Status.DRAFT)
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
class NeedAdmin(DraftOnlyMixin, AuditedModelAdmin):
    form = VersionedModelForm
    list_display = ("__str__", "focus_area", "position", "retired", "revision")
    list_filter = ("revision", "focus_area", "retired")
    search_fields = ("title", "data_note")
    list_select_related = ("focus_area", "revision")
    autocomplete_fields = ("focus_area",)
    readonly_fields = ("lineage_id",)
    fields = (
        "focus_area",
        "position",
        "title",
        "change_reason",
        "retired",
        "data_note",
        "lineage_id",
    )
    inlines = (NationalInitiativeInline, CityActionInline, NextStepInline)
    formfield_overrides = TEXT_WIDGETS

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "focus_area":
            kwargs["queryset"] = FocusArea.objects.filter(revision__status=Revision.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        # When an item's "need" autocomplete asks, offer only needs in the draft.
        results, dup = super().get_search_results(request, queryset, search_term)
        if request.GET.get("field_name") == "need":
            results = results.filter(revision__status=Revision.Status.DRAFT)
        return results, dup


class NeedItemAdmin(DraftOnlyMixin, AuditedModelAdmin):
    form = VersionedModelForm
    list_display = ("__str__", "need", "position", "retired")
    search_fields = ("text", "need__title")
    list_select_related = ("need", "need__focus_area")
    autocomplete_fields = ("need",)
    readonly_fields = ("lineage_id",)
    formfield_overrides = TEXT_WIDGETS

    def get_list_filter(self, request: HttpRequest):
        return ("revision", ("need__focus_area", admin.RelatedOnlyFieldListFilter), "retired")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "need":
            kwargs["queryset"] = Need.objects.filter(revision__status=Revision.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(NationalInitiative)
class NationalInitiativeAdmin(NeedItemAdmin):
    fields = ("need", "position", "text", "change_reason", "retired", "data_note", "lineage_id")


@admin.register(CityAction)
class CityActionAdmin(NeedItemAdmin):
    fields = (
        "need",
        "position",
        "text",
        "all_districts",
        "responsible_organisations",
        "change_reason",
        "retired",
        "data_note",
        "lineage_id",
    )
    autocomplete_fields = ("need", "responsible_organisations")

    def get_list_filter(self, request: HttpRequest):
        return (*super().get_list_filter(request), "all_districts", "responsible_organisations")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("responsible_organisations")


@admin.register(NextStep)
class NextStepAdmin(HorizonCheckboxesMixin, NeedItemAdmin):
    list_display = ("__str__", "need", "position", "horizon_label", "retired")
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
        "lineage_id",
        "horizon_set_year",
    )
    readonly_fields = ("lineage_id", "horizon_set_year")
    autocomplete_fields = ("need", "responsible_organisations")

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
