"""Helpers shared by the apps' admins."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from .locks import lock_error


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


class AuditedModelAdmin(SimpleHistoryAdmin):
    """The admin of a model with history.

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
