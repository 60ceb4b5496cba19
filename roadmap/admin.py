from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    CityAction,
    FocusArea,
    NationalInitiative,
    Need,
    NextStep,
    Organisation,
    Revision,
    TimeHorizon,
)
from .services import positions_make_room

admin.site.site_header = _("Roadmap for elderly care: administration")
admin.site.site_title = _("Roadmap administration")
admin.site.index_title = _("Administration")

TEXTAREA = forms.Textarea(attrs={"rows": 2, "cols": 60})


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


class PositionedInline(admin.StackedInline):
    formset = PositionedInlineFormSet
    extra = 0
    show_change_link = True
    readonly_fields = ("lineage_id",)
    formfield_overrides = {
        # Long texts from the source: a small textarea per row.
        models.TextField: {"widget": TEXTAREA},
    }


class NationalInitiativeInline(PositionedInline):
    model = NationalInitiative
    fields = ("position", "text", "data_note", "lineage_id")


class CityActionInline(PositionedInline):
    model = CityAction
    fields = (
        "position",
        "text",
        "all_districts",
        "responsible_organisations",
        "data_note",
        "lineage_id",
    )
    autocomplete_fields = ("responsible_organisations",)


class NextStepInline(PositionedInline):
    model = NextStep
    fields = (
        "position",
        "text",
        "horizons",
        "horizon_note",
        "all_districts",
        "responsible_organisations",
        "data_note",
        "lineage_id",
    )
    autocomplete_fields = ("responsible_organisations",)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "horizons":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class NeedInline(PositionedInline):
    model = Need
    fields = ("position", "title", "data_note", "lineage_id")


class FocusAreaInline(PositionedInline):
    model = FocusArea
    fields = ("position", "title", "data_note", "lineage_id")


@admin.register(TimeHorizon)
class TimeHorizonAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "definition", "years_until_due", "is_ongoing", "position")
    search_fields = ("name", "code")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "code", "kind")
    list_filter = ("kind",)
    search_fields = ("name", "short_name", "code")
    filter_horizontal = ("members",)


@admin.register(Revision)
class RevisionAdmin(SimpleHistoryAdmin):
    list_display = ("year", "title", "status", "case_number", "decision_body", "decision_date")
    list_filter = ("status",)
    search_fields = ("title", "case_number")
    list_select_related = ("decision_body",)
    autocomplete_fields = ("decision_body",)
    raw_id_fields = ("based_on",)
    inlines = (FocusAreaInline,)
    fieldsets = (
        (None, {"fields": ("year", "title", "status", "based_on", "summary")}),
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


@admin.register(FocusArea)
class FocusAreaAdmin(SimpleHistoryAdmin):
    list_display = ("title", "position", "revision")
    list_filter = ("revision",)
    search_fields = ("title",)
    list_select_related = ("revision",)
    readonly_fields = ("lineage_id",)
    fields = ("revision", "position", "title", "data_note", "lineage_id")
    inlines = (NeedInline,)


@admin.register(Need)
class NeedAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "focus_area", "position", "revision")
    list_filter = ("revision", "focus_area")
    search_fields = ("title", "data_note")
    list_select_related = ("focus_area", "revision")
    autocomplete_fields = ("focus_area",)
    readonly_fields = ("lineage_id",)
    fields = ("focus_area", "position", "title", "data_note", "lineage_id")
    inlines = (NationalInitiativeInline, CityActionInline, NextStepInline)


class NeedItemAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "need", "position")
    search_fields = ("text", "need__title")
    list_select_related = ("need", "need__focus_area")
    autocomplete_fields = ("need",)
    readonly_fields = ("lineage_id",)
    formfield_overrides = PositionedInline.formfield_overrides

    def get_list_filter(self, request: HttpRequest):
        return ("revision", ("need__focus_area", admin.RelatedOnlyFieldListFilter))


@admin.register(NationalInitiative)
class NationalInitiativeAdmin(NeedItemAdmin):
    fields = ("need", "position", "text", "data_note", "lineage_id")


@admin.register(CityAction)
class CityActionAdmin(NeedItemAdmin):
    fields = (
        "need",
        "position",
        "text",
        "all_districts",
        "responsible_organisations",
        "data_note",
        "lineage_id",
    )
    autocomplete_fields = ("need", "responsible_organisations")

    def get_list_filter(self, request: HttpRequest):
        return (*super().get_list_filter(request), "all_districts", "responsible_organisations")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("responsible_organisations")


@admin.register(NextStep)
class NextStepAdmin(NeedItemAdmin):
    list_display = ("__str__", "need", "position", "horizon_label")
    fields = (
        "need",
        "position",
        "text",
        "horizons",
        "horizon_note",
        "all_districts",
        "responsible_organisations",
        "data_note",
        "lineage_id",
    )
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

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "horizons":
            kwargs["widget"] = forms.CheckboxSelectMultiple
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("time horizon"))
    def horizon_label(self, obj: NextStep) -> str:
        return obj.horizon_label()
