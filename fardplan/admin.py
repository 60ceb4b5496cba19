"""Helpers shared by the apps' admins."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest


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
            service(**{object_arg: obj}, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            text = "; ".join(getattr(exc, "messages", [str(exc)]))
            modeladmin.message_user(request, f"{label(obj)}: {text}", messages.ERROR)
        else:
            modeladmin.message_user(
                request, success_message % {object_arg: label(obj)}, messages.SUCCESS
            )
