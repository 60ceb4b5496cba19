"""Helpers shared by the apps' admins."""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin

from .inputs import is_valid_value
from .limits import with_limit_help_text
from .locks import lock_error
from .middleware import bad_request


def run_service_for_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: Iterable[Any],
    service: Callable[..., Any],
    success_message: str,
    *,
    object_arg: str,
    label: Callable[[Any], str] = str,
) -> None:
    """Run ``service(<object_arg>=obj, actor=request.user)`` for each selected object.

    An admin action's body. Each object gets its own message: success_message
    formatted with ``{object_arg: label(obj)}``, or the object's label and why
    the service refused. A refusal (ValidationError, including the domain
    errors derived from it, or PermissionDenied) does not stop the others.
    """
    for obj in queryset:
        try:
            try:
                service(**{object_arg: obj}, actor=request.user)
            except DatabaseError as exc:
                # The database gate (fardplan/locks.py) refused: say why.
                error = lock_error(exc)
                if error is None:
                    raise
                raise error from exc
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(getattr(exc, "messages", [str(exc)]))
            modeladmin.message_user(request, f"{label(obj)}: {text}", messages.ERROR)
        else:
            modeladmin.message_user(
                request, success_message % {object_arg: label(obj)}, messages.SUCCESS
            )


# --- Bad input: a 4xx with a message, never a server error ----------------------------


def _target_field(db_field: models.Field) -> models.Field:
    remote = db_field.remote_field
    opts = remote.model._meta
    return opts.get_field(getattr(remote, "field_name", None) or opts.pk.name)


class _ValidChoicesOnly:
    """An autocomplete widget renders the selected options by looking them up
    in the database; a posted value of the wrong type (``abc`` for an id) made
    that lookup raise. Such a value is dropped from the rendering: the form
    already says it is not a valid choice."""

    def optgroups(self, name, value, attr=None):
        target = _target_field(self.field)
        value = [v for v in value if is_valid_value(target, v)]
        return super().optgroups(name, value, attr)


class SafeAutocompleteSelect(_ValidChoicesOnly, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_ValidChoicesOnly, AutocompleteSelectMultiple):
    pass


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses values that are no ids (a number too large for the column, too)
    before they reach the database, whose ``__in`` lookup would raise."""

    def _check_values(self, value):
        key = self.to_field_name or "pk"
        field = self.queryset.model._meta.get_field(key) if key != "pk" else None
        field = field or self.queryset.model._meta.pk
        for pk in value if isinstance(value, (list, tuple, set, frozenset)) else []:
            if not is_valid_value(field, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class SafeFormfieldsMixin:
    """For model admins and inlines: autocomplete widgets that survive junk
    values, and the length limit of every text field shown as help text."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        kwargs.setdefault("form_class", SafeModelMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(formfield, forms.CharField):
            with_limit_help_text(formfield)
        return formfield


class SafeInputAdminMixin(SafeFormfieldsMixin):
    """For model admins: ids in history URLs and selected rows of an action
    that are no ids give 404 and 400, not a server error."""

    def history_view(self, request, object_id, extra_context=None):
        if not is_valid_value(self.model._meta.pk, unquote(object_id)):
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        opts = self.model._meta
        history_model = getattr(self.model, opts.simple_history_manager_attribute).model
        if not (
            is_valid_value(self.model._meta.pk, unquote(object_id))
            and is_valid_value(history_model._meta.pk, version_id)
        ):
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)

    def response_action(self, request: HttpRequest, queryset) -> HttpResponse | None:
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if not all(is_valid_value(self.model._meta.pk, value) for value in selected):
            return bad_request(
                request,
                gettext(
                    "The selection contains rows that do not exist. Reload the list, "
                    "select the rows again and try again."
                ),
            )
        return super().response_action(request, queryset)


class AuditedModelAdmin(SafeInputAdminMixin, SimpleHistoryAdmin):
    """The admin of a model with history.

    * Bad input (ids that are no ids, junk in autocomplete fields and in an
      action's selection) gives a 4xx, never a server error
      (``SafeInputAdminMixin``).
    * History pages are for reading. ``SIMPLE_HISTORY_REVERT_DISABLED`` only
      hides the "revert" button: django-simple-history (3.13) still saves
      whatever a POST to the history form sends, lifecycle fields included,
      on read-only and locked models alike. So a POST there is refused here,
      for every user. Changes go through the change form or the services.
    * A refusal raised while saving or deleting (a lock, a concurrent edit,
      the database gate of ``fardplan/locks.py``) becomes a message on the
      page the user came from, never a server error; nothing is saved, as the
      admin's own transaction is rolled back.
    """

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True

    def _refusal_as_message(self, request, view, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except DatabaseError as exc:
            error = lock_error(exc)
            if error is None:
                raise
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The forms refuse what they can with a message at the field; a lock or
        # a race that only the save (or the database) sees lands here.
        return self._refusal_as_message(
            request, super().changeform_view, object_id, form_url, extra_context
        )

    def delete_view(self, request, object_id, extra_context=None):
        return self._refusal_as_message(request, super().delete_view, object_id, extra_context)

    def changelist_view(self, request, extra_context=None):
        return self._refusal_as_message(request, super().changelist_view, extra_context)
