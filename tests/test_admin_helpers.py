"""fardplan.admin: the admin actions that run a service for each selected object."""

from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError

from fardplan.admin import run_service_for_each


class RecordingAdmin:
    def __init__(self):
        self.messages = []

    def message_user(self, request, message, level):
        self.messages.append((level, message))


def test_each_object_gets_its_own_message_and_a_refusal_stops_no_other():
    actor = object()
    request = SimpleNamespace(user=actor)
    calls = []

    def service(*, thing, actor):
        calls.append((thing, actor))
        if thing == "b":
            raise ValidationError(["Not now.", "Not ever."])
        if thing == "c":
            raise PermissionDenied("Not you.")

    modeladmin = RecordingAdmin()
    run_service_for_each(
        modeladmin,
        request,
        ["a", "b", "c", "d"],
        service,
        "%(thing)s is done.",
        object_arg="thing",
        label=str.upper,
    )
    assert calls == [("a", actor), ("b", actor), ("c", actor), ("d", actor)]
    assert modeladmin.messages == [
        (messages.SUCCESS, "A is done."),
        (messages.ERROR, "B: Not now.; Not ever."),
        (messages.ERROR, "C: Not you."),
        (messages.SUCCESS, "D is done."),
    ]
