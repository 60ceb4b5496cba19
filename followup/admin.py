from operator import attrgetter

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fardplan.admin import (
    AuditedModelAdmin,
    SafeFormfieldsMixin,
    SafeInputAdminMixin,
    run_service_for_each,
)

from .models import ReportingPeriod, Status, StatusReport, StatusReportReopening
from .services import period_close, period_open


@admin.register(Status)
class StatusAdmin(SafeInputAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "symbol",
        "position",
        "counts_as_done",
        "is_problem",
        "requires_comment",
        "is_active",
    )
    list_filter = ("is_active", "counts_as_done", "is_problem")
    search_fields = ("name", "code")

    def has_delete_permission(self, request, obj=None):
        # Statuses are referenced by reports; retire them with "in use" instead.
        return False


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(AuditedModelAdmin):
    list_display = ("__str__", "kind", "year", "revision", "opens_on", "deadline", "state")
    list_filter = ("state", "kind", "year")
    list_select_related = ("revision",)
    actions = ("open_periods", "close_periods")
    fields = ("year", "kind", "revision", "opens_on", "deadline", "state", "opened_at", "closed_at")
    readonly_fields = ("state", "opened_at", "closed_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.state != ReportingPeriod.State.PLANNED:
            return ("year", "kind", "revision", *self.readonly_fields)
        return self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "revision":
            from roadmap.models import Revision

            kwargs["queryset"] = Revision.objects.filter(
                status__in=[Revision.Status.APPROVED, Revision.Status.SUPERSEDED]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        # A closed period never changes (the database refuses it too): its
        # form is shown read-only.
        if obj is not None and obj.state == ReportingPeriod.State.CLOSED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Open the selected periods"), permissions=["manage"])
    def open_periods(self, request: HttpRequest, queryset: QuerySet) -> TemplateResponse | None:
        # Opening a period while another is open (or two at once) is allowed,
        # but rarely meant: ask first, like Django's delete confirmation.
        if request.POST.get("confirm") != "yes":
            selected = list(queryset)
            to_open = [p for p in selected if p.state == ReportingPeriod.State.PLANNED]
            already_open = list(
                ReportingPeriod.objects.filter(state=ReportingPeriod.State.OPEN).exclude(
                    pk__in=[p.pk for p in selected]
                )
            )
            if to_open and len(already_open) + len(to_open) > 1:
                return self._confirm_open(request, queryset, to_open, already_open)
        run_service_for_each(
            self,
            request,
            queryset,
            period_open,
            gettext("%(period)s is open."),
            object_arg="period",
            label=attrgetter("label"),
        )

    @admin.action(description=_("Close the selected periods"), permissions=["manage"])
    def close_periods(self, request: HttpRequest, queryset: QuerySet) -> None:
        started = timezone.now()
        run_service_for_each(
            self,
            request,
            queryset,
            period_close,
            gettext("%(period)s is closed."),
            object_arg="period",
            label=attrgetter("label"),
        )
        # Closing an annual period queued the year's annual report (period_close).
        for year in queryset.filter(
            kind=ReportingPeriod.Kind.VB,
            state=ReportingPeriod.State.CLOSED,
            closed_at__gte=started,
        ).values_list("year", flat=True):
            self.message_user(
                request,
                gettext(
                    "The annual follow-up report %(year)s is being made. "
                    "It will be under Reports when it is ready."
                )
                % {"year": year},
                messages.INFO,
            )

    def _confirm_open(self, request, queryset, to_open, already_open) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Open a second reporting period?"),
            "opts": self.model._meta,
            "queryset": queryset,
            "to_open": to_open,
            "already_open": already_open,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/followup/reportingperiod/open_confirmation.html", context
        )

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("followup.manage_periods")


class ReopeningInline(SafeFormfieldsMixin, admin.TabularInline):
    model = StatusReportReopening
    extra = 0
    can_delete = False
    fields = ("reopened_at", "reopened_by", "reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StatusReport)
class StatusReportAdmin(AuditedModelAdmin):
    """Read-only: reports are written by the reporters on "Mina rapporter"."""

    list_display = ("period", "organisation", "action_text", "status", "state", "submitted_at")
    list_filter = ("period", "state", "status", "organisation")
    search_fields = ("next_step__text", "city_action__text", "comment")
    list_select_related = ("period", "organisation", "status", "next_step", "city_action")
    inlines = (ReopeningInline,)

    @admin.display(description=_("action"))
    def action_text(self, obj: StatusReport) -> str:
        return str(obj.action)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
